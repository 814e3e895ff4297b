/** Chooses the inputs, logic and dependencies of the mode asked for: gate modes (record, verify), query modes, or the release card. */
import { context } from '@actions/github';
import type { ActionIO, Inputs as Raw, Outputs, RunContext } from '@deploy-actions/action-kit';
import { getCardInputs, realCardDeps, runCard, type CardInputs, type CardModeDeps } from './card/mode';
import { getInputs, type Inputs } from './inputs';
import { getQueryInputs, isQueryMode, realQueryDeps, runQuery, type QueryDeps, type QueryInputs } from './query';
import { realDeps, run, type Deps } from './run';

type Any = { query: QueryInputs } | { gate: Inputs } | { card: CardInputs };
type AnyDeps = { query: QueryDeps } | { gate: Deps } | { card: CardModeDeps };

export function getAnyInputs(i: Raw, env: NodeJS.ProcessEnv = process.env, run: RunContext = context): Any {
  const mode = i.string('mode');
  if (mode.toLowerCase() === 'card') return { card: getCardInputs(i, run, env) };
  return isQueryMode(mode) ? { query: getQueryInputs(i, run, env) } : { gate: getInputs(i, env, run) };
}

export function runAny(inputs: Any, deps: AnyDeps): Promise<Outputs> {
  if ('query' in inputs && 'query' in deps) return runQuery(inputs.query, deps.query);
  if ('gate' in inputs && 'gate' in deps) return run(inputs.gate, deps.gate);
  if ('card' in inputs && 'card' in deps) return runCard(inputs.card, deps.card);
  throw new Error('internal: inputs and dependencies of different modes');
}

export function realAnyDeps(io: ActionIO, inputs: Any): AnyDeps {
  if ('card' in inputs) return { card: realCardDeps(io, inputs.card) };
  return 'query' in inputs ? { query: realQueryDeps(io, inputs.query) } : { gate: realDeps(io, inputs.gate) };
}
