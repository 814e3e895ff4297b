/**
 * Chooses the inputs and logic of the mode asked for: gate modes (record, verify) or query modes
 * (status, last-validated, fail). Only the inputs are read here; each mode's logic (Octokit, the
 * AWS clients) is imported when that mode runs, so ncc puts it in a chunk of its own.
 */
import { runContextFrom, type ActionLogic, type Inputs as Raw, type RunContext } from '@deploy-actions/action-kit';
import { getInputs, type Inputs } from './inputs';
import { getQueryInputs, isQueryMode, type QueryInputs } from './query-inputs';

export type AnyInputs = { query: QueryInputs } | { gate: Inputs };

export function getAnyInputs(i: Raw, env: NodeJS.ProcessEnv = process.env, run: RunContext = runContextFrom(env)): AnyInputs {
  return isQueryMode(i.string('mode')) ? { query: getQueryInputs(i, run, env) } : { gate: getInputs(i, env, run) };
}

function queryOf(inputs: AnyInputs): QueryInputs {
  if (!('query' in inputs)) throw new Error('internal: query logic given gate inputs');
  return inputs.query;
}

function gateOf(inputs: AnyInputs): Inputs {
  if (!('gate' in inputs)) throw new Error('internal: gate logic given query inputs');
  return inputs.gate;
}

/** The logic of the mode `inputs` are for, loaded on demand. */
export async function loadMode(inputs: AnyInputs): Promise<ActionLogic<AnyInputs, unknown>> {
  if ('query' in inputs) {
    const { runQuery, realQueryDeps } = await import('./query');
    type Deps = ReturnType<typeof realQueryDeps>;
    return { run: (i, deps) => runQuery(queryOf(i), deps as Deps), realDeps: (io, i) => realQueryDeps(io, queryOf(i)) };
  }
  const { run, realDeps } = await import('./run');
  type Deps = ReturnType<typeof realDeps>;
  return { run: (i, deps) => run(gateOf(i), deps as Deps), realDeps: (io, i) => realDeps(io, gateOf(i)) };
}
