/**
 * Chooses the inputs and logic of the mode asked for: gate modes (record, verify), query modes
 * (status, last-validated, fail) or the release card. Only the inputs are read here; each mode's
 * logic (Octokit, the AWS clients, helm) is imported when that mode runs, so ncc puts it in a
 * chunk of its own.
 */
import { InputError, runContextFrom, type ActionIO, type ActionLogic, type Inputs as Raw, type RunContext } from '@deploy-actions/action-kit';
import { getCardInputs, type CardInputs, type CardRefused } from './card/inputs';
import { getInputs, type Inputs } from './inputs';
import { getQueryInputs, isQueryMode, type QueryInputs } from './query-inputs';

export type AnyInputs = { query: QueryInputs } | { gate: Inputs } | { card: CardInputs } | { cardRefused: CardRefused };

export function getAnyInputs(i: Raw, env: NodeJS.ProcessEnv = process.env, run: RunContext = runContextFrom(env)): AnyInputs {
  const mode = i.string('mode');
  if (mode.toLowerCase() === 'card') {
    // A card never stops a deploy: what it cannot accept (an unknown environment, missing keys) the
    // deploy job's gate refuses in its own words; the card says it could not be made.
    try {
      return { card: getCardInputs(i, run, env) };
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      return { cardRefused: { release: i.string('release'), environment: i.string('environment'), why: err.message } };
    }
  }
  return isQueryMode(mode) ? { query: getQueryInputs(i, run, env) } : { gate: getInputs(i, env, run) };
}

/** The inputs of one mode, for the logic loaded for it (never called with another mode's). */
function of<K extends 'query' | 'gate' | 'card' | 'cardRefused'>(inputs: AnyInputs, mode: K): Extract<AnyInputs, Record<K, unknown>>[K] {
  if (!(mode in inputs)) throw new Error(`internal: ${mode} logic given the inputs of another mode`);
  return (inputs as Record<K, unknown>)[mode] as Extract<AnyInputs, Record<K, unknown>>[K];
}

/** The logic of the mode `inputs` are for, loaded on demand. */
export async function loadMode(inputs: AnyInputs): Promise<ActionLogic<AnyInputs, unknown>> {
  if ('cardRefused' in inputs) {
    const { noCard } = await import('./card/mode');
    return { run: (i, io) => noCard(of(i, 'cardRefused'), io as ActionIO), realDeps: (io) => io };
  }
  if ('card' in inputs) {
    const { runCard, realCardDeps } = await import('./card/mode');
    type Deps = ReturnType<typeof realCardDeps>;
    return { run: (i, deps) => runCard(of(i, 'card'), deps as Deps), realDeps: (io, i) => realCardDeps(io, of(i, 'card')) };
  }
  if ('query' in inputs) {
    const { runQuery, realQueryDeps } = await import('./query');
    type Deps = ReturnType<typeof realQueryDeps>;
    return { run: (i, deps) => runQuery(of(i, 'query'), deps as Deps), realDeps: (io, i) => realQueryDeps(io, of(i, 'query')) };
  }
  const { run, realDeps } = await import('./run');
  type Deps = ReturnType<typeof realDeps>;
  return { run: (i, deps) => run(of(i, 'gate'), deps as Deps), realDeps: (io, i) => realDeps(io, of(i, 'gate')) };
}
