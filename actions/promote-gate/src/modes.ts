/**
 * Chooses the inputs and logic of the mode asked for: gate modes (record, verify), query modes
 * (status, last-validated, fail) or the release card. Only the inputs are read here; each mode's
 * logic (Octokit, the AWS clients, helm) is imported when that mode runs, so ncc puts it in a
 * chunk of its own.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { runContextFrom, type ActionLogic, type Inputs as Raw, type RunContext } from '@deploy-actions/action-kit';
import { getCardInputs, type CardInputs } from './card/inputs';
import { getInputs, type Inputs } from './inputs';
import { checkModeInputs } from './mode-inputs';
import { loadPipelineParser } from './pipeline';
import { getQueryInputs, isQueryMode, type QueryInputs } from './query-inputs';

export type AnyInputs = { query: QueryInputs } | { gate: Inputs } | { card: CardInputs };

export function getAnyInputs(i: Raw, env: NodeJS.ProcessEnv = process.env, run: RunContext = runContextFrom(env)): AnyInputs {
  const mode = checkModeInputs(i);
  // The card's own inputs are refused like every mode's (one line naming the input, exit 1): a
  // workflow's mistake is not the card's data. Only what it cannot read (GitHub, ECR, KMS, the
  // chart's history) becomes a card that says so (card/mode.ts). deploy.yml's deploy job runs
  // whatever became of the card job; the evidence then records that no card was shown.
  if (mode === 'card') return { card: getCardInputs(i, run, env) };
  return isQueryMode(mode) ? { query: getQueryInputs(i, run, env) } : { gate: getInputs(i, env, run) };
}

/**
 * The entry's reader: getAnyInputs, with the environments file's parser (YAML, its own chunk)
 * loaded first when the file is there. Without the file (the default pipeline), or on an input
 * refused before it is read, no YAML is loaded: the bad-input path stays small (issue 25).
 */
export async function readAnyInputs(i: Raw, env: NodeJS.ProcessEnv = process.env, run: RunContext = runContextFrom(env)): Promise<AnyInputs> {
  const file = i.string('environments-file');
  if (file !== '' && existsSync(resolve(env.GITHUB_WORKSPACE || process.cwd(), file))) await loadPipelineParser();
  return getAnyInputs(i, env, run);
}

/** The inputs of one mode, for the logic loaded for it (never called with another mode's). */
function of<K extends 'query' | 'gate' | 'card'>(inputs: AnyInputs, mode: K): Extract<AnyInputs, Record<K, unknown>>[K] {
  if (!(mode in inputs)) throw new Error(`internal: ${mode} logic given the inputs of another mode`);
  return (inputs as Record<K, unknown>)[mode] as Extract<AnyInputs, Record<K, unknown>>[K];
}

/** The logic of the mode `inputs` are for, loaded on demand. */
export async function loadMode(inputs: AnyInputs): Promise<ActionLogic<AnyInputs, unknown>> {
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
