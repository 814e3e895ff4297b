/** The workflow executor: runs this repository's workflow files the way GitHub does (see test/README.md). */
export { runWorkflow, triggers, typedInput, MAX_WORKFLOW_LEVELS } from './workflow';
export { evaluateExpression, evaluateCondition, toText, type Contexts, type Json } from './expressions';
export { shellCommand } from './steps';
export type * from './model';
export type { ActionDouble, ActionDoubleContext, ActionDoubleResult } from './doubles/types';
