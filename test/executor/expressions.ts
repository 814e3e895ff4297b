/**
 * `${{ }}` evaluation with GitHub's own expression engine (@actions/expressions), plus what the
 * engine leaves to its host: the status functions success(), failure(), always(), cancelled()
 * and hashFiles() (through @actions/glob, the toolkit code the runner's hashFiles uses).
 *
 * Template tokens come from @actions/workflow-parser: a value like `deploy-${{ a }}-${{ b }}` is
 * already one expression `format('deploy-{0}-{1}', a, b)`, exactly as GitHub evaluates it.
 */
import { Evaluator, Lexer, Parser, data, type Expr } from '@actions/expressions';
import { FunctionCall } from '@actions/expressions/ast';
import type { FunctionDefinition } from '@actions/expressions/funcs/info';
import { truthy } from '@actions/expressions/result';
import { hashFiles } from '@actions/glob';
import { join } from 'node:path';
import {
  isBasicExpression,
  isBoolean,
  isLiteral,
  isMapping,
  isNumber,
  isSequence,
  isString,
  type TemplateToken,
} from './parser';

/** A JSON value as contexts, inputs and outputs hold them. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** The contexts of one evaluation; absent ones are not available where it happens. */
export type Contexts = Partial<
  Record<'github' | 'env' | 'vars' | 'secrets' | 'inputs' | 'needs' | 'steps' | 'job' | 'jobs' | 'runner' | 'matrix' | 'strategy', Json>
>;

/** The state the status functions read: of the job's earlier steps, or of the jobs a job needs. */
export interface Status {
  /** Something earlier (a step, or a needed job and its own needs) failed. */
  failed: boolean;
  /** Something earlier was skipped (a needed job); success() is then false too. */
  skipped?: boolean;
  cancelled?: boolean;
}

export interface EvaluationOptions {
  status?: Status;
  /** GITHUB_WORKSPACE, for hashFiles(). */
  workspace?: string;
}

const STATUS_FUNCTIONS = ['success', 'failure', 'always', 'cancelled'] as const;
const HOST_FUNCTIONS = [
  ...STATUS_FUNCTIONS.map((name) => ({ name, minArgs: 0, maxArgs: 0 })),
  { name: 'hashfiles', minArgs: 1, maxArgs: 255 },
];
const CONTEXT_NAMES = ['github', 'env', 'vars', 'secrets', 'inputs', 'needs', 'steps', 'job', 'jobs', 'runner', 'matrix', 'strategy'];

export class ExpressionFailure extends Error {}

function parse(expression: string): Expr {
  try {
    return new Parser(new Lexer(expression).lex().tokens, CONTEXT_NAMES, HOST_FUNCTIONS).parse();
  } catch (err) {
    throw new ExpressionFailure(`The expression is not valid: ${expression}: ${(err as Error).message}`);
  }
}

function toData(contexts: Contexts): data.Dictionary {
  return JSON.parse(JSON.stringify(contexts), data.reviver) as data.Dictionary;
}

function functionsFor(status: Status | undefined, hashes: Map<string, string>): Map<string, FunctionDefinition> {
  const s = status ?? { failed: false };
  const fn = (name: string, call: (...args: data.ExpressionData[]) => data.ExpressionData): FunctionDefinition => ({
    name,
    minArgs: 0,
    maxArgs: 255,
    call,
  });
  return new Map([
    ['success', fn('success', () => new data.BooleanData(!s.failed && !s.skipped && !s.cancelled))],
    ['failure', fn('failure', () => new data.BooleanData(s.failed && !s.cancelled))],
    ['always', fn('always', () => new data.BooleanData(true))],
    ['cancelled', fn('cancelled', () => new data.BooleanData(Boolean(s.cancelled)))],
    ['hashfiles', fn('hashFiles', (...args) => new data.StringData(hashes.get(hashKey(args)) ?? ''))],
  ]);
}

const hashKey = (args: data.ExpressionData[]) => args.map((a) => a.coerceString()).join('\n');

/** hashFiles() is asynchronous (it reads files); its calls are computed before the sync evaluation. */
async function precomputeHashes(tree: Expr, dict: data.Dictionary, opts: EvaluationOptions): Promise<Map<string, string>> {
  const hashes = new Map<string, string>();
  const calls: FunctionCall[] = [];
  const walk = (node: unknown) => {
    if (!node || typeof node !== 'object') return;
    if (node instanceof FunctionCall && node.functionName.lexeme.toLowerCase() === 'hashfiles') calls.push(node);
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) value.forEach(walk);
      else if (value && typeof value === 'object' && 'accept' in value) walk(value);
    }
  };
  walk(tree);
  for (const call of calls) {
    const args = call.args.map((a) => new Evaluator(a, dict, functionsFor(opts.status, hashes)).evaluate());
    const key = hashKey(args);
    if (!opts.workspace) throw new ExpressionFailure('hashFiles() needs a workspace');
    // Patterns are rooted at the workspace (the runner runs hashFiles there); files outside it never count.
    const ws = opts.workspace;
    const rooted = key.split('\n').map((p) => (p.startsWith('!') ? `!${join(ws, p.slice(1))}` : join(ws, p)));
    hashes.set(key, await hashFiles(rooted.join('\n'), ws, {}, false));
  }
  return hashes;
}

function fromData(d: data.ExpressionData): Json {
  return JSON.parse(JSON.stringify(d, data.replacer)) as Json;
}

/** Evaluates one expression (the text inside `${{ }}`) to a JSON value. */
export async function evaluateExpression(expression: string, contexts: Contexts, opts: EvaluationOptions = {}): Promise<Json> {
  return fromData(await evaluateData(expression, contexts, opts));
}

async function evaluateData(expression: string, contexts: Contexts, opts: EvaluationOptions): Promise<data.ExpressionData> {
  const tree = parse(expression);
  const dict = toData(contexts);
  const hashes = await precomputeHashes(tree, dict, opts);
  try {
    return new Evaluator(tree, dict, functionsFor(opts.status, hashes)).evaluate();
  } catch (err) {
    throw new ExpressionFailure(`Error evaluating ${expression}: ${(err as Error).message}`);
  }
}

/** A condition (`if:`) the parser already completed with its implicit success(). */
export async function evaluateCondition(expression: string, contexts: Contexts, opts: EvaluationOptions = {}): Promise<boolean> {
  return truthy(await evaluateData(expression, contexts, opts));
}

/** Whether an expression result is truthy by GitHub's rules (null, false, 0, NaN and '' are not). */
export function isTruthy(value: Json): boolean {
  return truthy(JSON.parse(JSON.stringify(value), data.reviver) as data.ExpressionData);
}

/** A value as GitHub turns it into a string (inputs of actions, env, outputs). */
export function toText(value: Json | undefined): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value, null, 2);
  return (JSON.parse(JSON.stringify(value), data.reviver) as data.ExpressionData).coerceString();
}

/** Evaluates a template token (scalar, mapping or sequence, expressions anywhere) to JSON. */
export async function evaluateToken(token: TemplateToken | undefined, contexts: Contexts, opts: EvaluationOptions = {}): Promise<Json> {
  if (token === undefined) return null;
  if (isBasicExpression(token)) return evaluateExpression(token.expression, contexts, opts);
  if (isString(token)) return token.value;
  if (isBoolean(token)) return token.value;
  if (isNumber(token)) return token.value;
  if (isSequence(token)) {
    const items: Json[] = [];
    for (let i = 0; i < token.count; i++) items.push(await evaluateToken(token.get(i), contexts, opts));
    return items;
  }
  if (isMapping(token)) {
    const result: Record<string, Json> = {};
    for (let i = 0; i < token.count; i++) {
      const pair = token.get(i);
      result[toText(await evaluateToken(pair.key, contexts, opts))] = await evaluateToken(pair.value, contexts, opts);
    }
    return result;
  }
  if (isLiteral(token)) return null;
  throw new ExpressionFailure(`unsupported template token ${token.typeName()}`);
}

/** A mapping token evaluated to name -> string (env:, with: of an action step, outputs:). */
export async function evaluateStrings(token: TemplateToken | undefined, contexts: Contexts, opts: EvaluationOptions = {}): Promise<Record<string, string>> {
  const value = await evaluateToken(token, contexts, opts);
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new ExpressionFailure(`expected a mapping, got ${toText(value)}`);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toText(v)]));
}
