/** Chooses the inputs, logic and dependencies of the mode asked for: gate modes (record, verify) or query modes. */
import { context } from '@actions/github';
import type { ActionIO, Inputs as Raw, Outputs, RunContext } from '@deploy-actions/action-kit';
import { getInputs, type Inputs } from './inputs';
import { getQueryInputs, isQueryMode, realQueryDeps, runQuery, type QueryDeps, type QueryInputs } from './query';
import { realDeps, run, type Deps } from './run';

type Any = { query: QueryInputs } | { gate: Inputs };

export function getAnyInputs(i: Raw, env: NodeJS.ProcessEnv = process.env, run: RunContext = context): Any {
  return isQueryMode(i.string('mode')) ? { query: getQueryInputs(i, run, env) } : { gate: getInputs(i, env, run) };
}

export function runAny(inputs: Any, deps: { query: QueryDeps } | { gate: Deps }): Promise<Outputs> {
  if ('query' in inputs && 'query' in deps) return runQuery(inputs.query, deps.query);
  if ('gate' in inputs && 'gate' in deps) return run(inputs.gate, deps.gate);
  throw new Error('internal: inputs and dependencies of different modes');
}

export function realAnyDeps(io: ActionIO, inputs: Any): { query: QueryDeps } | { gate: Deps } {
  return 'query' in inputs ? { query: realQueryDeps(io, inputs.query) } : { gate: realDeps(io, inputs.gate) };
}
