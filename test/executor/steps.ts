/**
 * One step of a job, as the runner runs it:
 * - `run:` is written to a script file and run in the step's shell (default `bash -e {0}`: no
 *   pipefail; `shell: bash` adds `--noprofile --norc -eo pipefail`), in `working-directory`, with
 *   the file commands GITHUB_OUTPUT / GITHUB_ENV / GITHUB_PATH / GITHUB_STEP_SUMMARY and the
 *   workflow commands of its output (parsed by the runner harness's one parser);
 * - `uses:` of this repository's actions runs the committed bundle through the runner harness,
 *   with every input of action.yml: given ones from `with:`, the others from their defaults,
 *   evaluated as expressions (`${{ github.token }}`);
 * - `uses:` of a third-party action goes to its double.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseFileCommand, parseWorkflowCommands, runActionBundle, type Annotation } from '../harness/runner';
import { spawnLight } from '../harness/spawn-light';
import type { ActionDouble } from './doubles/types';
import { evaluateStrings, evaluateToken, toText, type Contexts, type EvaluationOptions } from './expressions';
import type { Result, StepRun } from './model';
import { field, isString, loadAction, type MappingToken, type Sources, type UsesSite } from './parser';
import type { Permissions } from './permissions';

/** What a step leaves behind for the ones after it. */
export interface StepEffects {
  outcome: Result;
  outputs: Record<string, string>;
  env: Record<string, string>;
  path: string[];
  masks: string[];
  log: string;
  annotations: Annotation[];
  summary: string;
  /** The step was killed at the host's timeoutMs. */
  timedOut?: boolean;
  /** The step was stopped because its job was cancelled (host.signal). */
  cancelled?: boolean;
  /** Where one of our actions resolved (repository, path, ref, tree). */
  action?: StepRun['action'];
}

/** What a step needs from its job. */
export interface StepHost {
  sources: Sources;
  /** The workflow the step is written in (where `$/` resolves). */
  site: UsesSite;
  contexts: Contexts;
  evaluation: EvaluationOptions;
  /** The step's full environment (runner, GITHUB_*, workflow/job/exported/step env). */
  env: Record<string, string>;
  workspace: string;
  runnerDir: string;
  defaultsRun?: { shell?: string; 'working-directory'?: string };
  actions: Record<string, ActionDouble>;
  job: { environment?: string; permissions: Permissions; workflowRef: string; oidcIssuerUrl?: string };
  /** Kill the step after this long (the step's timeout-minutes, or what is left of the job's). */
  timeoutMs?: number;
  /** The job is cancelled (its concurrency group, its run's): the step's process gets SIGINT, as the runner sends it. */
  signal?: AbortSignal;
}

const SUMMARY_LIMIT = 1024 * 1024;

/** The argv for a `shell:` value (workflow syntax: jobs.<id>.steps[*].shell). */
export function shellCommand(shell: string | undefined, script: string): string[] {
  switch (shell) {
    case undefined:
    case '':
      return ['bash', '-e', script];
    case 'bash':
      return ['bash', '--noprofile', '--norc', '-eo', 'pipefail', script];
    case 'sh':
      return ['sh', '-e', script];
    case 'python':
      return ['python3', script];
    default: {
      if (!shell.includes('{0}')) throw new Error(`shell '${shell}' is not supported here (a custom shell needs {0})`);
      return shell.split(/\s+/).map((part) => part.replace('{0}', script));
    }
  }
}

function fileCommandFiles(runnerDir: string) {
  const stamp = randomUUID();
  const files = {
    GITHUB_OUTPUT: join(runnerDir, 'files', `output-${stamp}`),
    GITHUB_ENV: join(runnerDir, 'files', `env-${stamp}`),
    GITHUB_PATH: join(runnerDir, 'files', `path-${stamp}`),
    GITHUB_STEP_SUMMARY: join(runnerDir, 'files', `summary-${stamp}`),
    GITHUB_STATE: join(runnerDir, 'files', `state-${stamp}`),
  };
  for (const f of Object.values(files)) writeFileSync(f, '');
  return files;
}

/**
 * Cancelling a step as the runner does: SIGINT to its process, SIGKILL if it has not stopped
 * after the grace period (the runner waits 7.5 s, then SIGTERM, then kills).
 */
export function cancelOnAbort(child: { kill(signal: NodeJS.Signals): boolean }, signal: AbortSignal | undefined, onCancel: () => void): () => void {
  if (!signal) return () => undefined;
  let grace: NodeJS.Timeout | undefined;
  const stop = () => {
    onCancel();
    child.kill('SIGINT');
    grace = setTimeout(() => child.kill('SIGKILL'), CANCEL_GRACE_MS);
  };
  if (signal.aborted) stop();
  else signal.addEventListener('abort', stop, { once: true });
  return () => {
    signal.removeEventListener('abort', stop);
    if (grace) clearTimeout(grace);
  };
}

const CANCEL_GRACE_MS = 7_500;

function spawnLogged(argv: string[], cwd: string, env: Record<string, string>, timeoutMs?: number, signal?: AbortSignal): Promise<{ code: number; output: string; timedOut: boolean; cancelled: boolean }> {
  return new Promise((done, reject) => {
    // Through the spawn helper: the worker's fork would copy its page tables (spawn-light.ts).
    const child = spawnLight(argv[0]!, argv.slice(1), { cwd, env });
    let cancelled = false;
    const detach = cancelOnAbort(child, signal, () => (cancelled = true));
    const chunks: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.stderr.on('data', (d: Buffer) => chunks.push(d));
    let timedOut = false;
    const timer = timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, timeoutMs)
      : undefined;
    child.on('error', reject);
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      detach();
      done({ code: code ?? 1, output: Buffer.concat(chunks).toString('utf8'), timedOut, cancelled });
    });
  });
}

function summaryOf(text: string, annotations: Annotation[]): string {
  if (Buffer.byteLength(text) <= SUMMARY_LIMIT) return text;
  annotations.push({ level: 'error', message: `$GITHUB_STEP_SUMMARY upload aborted, supports content up to a size of 1024k, got ${Math.ceil(Buffer.byteLength(text) / 1024)}k.`, props: {} });
  return '';
}

/** A `run:` step. */
export async function runScript(step: MappingToken, run: string, host: StepHost): Promise<StepEffects> {
  const shellToken = field(step, 'shell');
  const shell = shellToken ? toText(await evaluateToken(shellToken, host.contexts, host.evaluation)) : host.defaultsRun?.shell;
  const dirToken = field(step, 'working-directory');
  const dir = dirToken ? toText(await evaluateToken(dirToken, host.contexts, host.evaluation)) : host.defaultsRun?.['working-directory'];
  const script = join(host.runnerDir, 'temp', `${randomUUID()}.sh`);
  writeFileSync(script, run);
  const files = fileCommandFiles(host.runnerDir);
  const { code, output, timedOut, cancelled } = await spawnLogged(shellCommand(shell, script), resolve(host.workspace, dir ?? '.'), { ...host.env, ...files }, host.timeoutMs, host.signal);
  const parsed = parseWorkflowCommands(output);
  const annotations = [...parsed.annotations];
  if (code !== 0 && !timedOut && !cancelled) annotations.push({ level: 'error', message: `Process completed with exit code ${code}.`, props: {} });
  return {
    timedOut,
    cancelled,
    outcome: code === 0 ? 'success' : 'failure',
    outputs: parseFileCommand(readFileSync(files.GITHUB_OUTPUT, 'utf8')),
    env: parseFileCommand(readFileSync(files.GITHUB_ENV, 'utf8')),
    path: readFileSync(files.GITHUB_PATH, 'utf8').split('\n').filter(Boolean),
    masks: parsed.masks,
    log: parsed.log,
    annotations,
    summary: summaryOf(readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'), annotations),
  };
}

/** The action's owner/name, without path and ref: the key of the doubles. */
export function actionName(uses: string): string {
  return uses.split('@')[0]!.split('/').slice(0, 2).join('/');
}

/** A `uses:` step. */
export async function runUses(step: MappingToken, uses: string, host: StepHost): Promise<StepEffects> {
  const given = await evaluateStrings(field(step, 'with'), host.contexts, host.evaluation);
  const own = loadAction(uses, host.sources, host.site);
  if (own) return { ...(await runOwnAction(own, given, host)), action: own.resolved };
  const double = host.actions[actionName(uses)];
  if (!double) throw new Error(`Unable to resolve action ${uses}: the executor has no double for ${actionName(uses)} (known: ${Object.keys(host.actions).join(', ') || 'none'})`);
  const r = await double({
    with: given,
    env: host.env,
    workspace: host.workspace,
    runnerTemp: join(host.runnerDir, 'temp'),
    github: host.contexts.github as Record<string, unknown>,
    job: host.job,
  });
  const annotations: Annotation[] = r.error ? [{ level: 'error', message: r.error, props: {} }] : [];
  return { outcome: r.outcome, outputs: r.outputs, env: r.exportEnv, path: r.path ?? [], masks: r.addMask, log: r.log.join('\n'), annotations, summary: '' };
}

async function runOwnAction(action: NonNullable<ReturnType<typeof loadAction>>, given: Record<string, string>, host: StepHost): Promise<StepEffects> {
  const declared = action.template.inputs ?? [];
  const names = new Set(declared.map((i) => i.id.toLowerCase()));
  const annotations: Annotation[] = [];
  const unexpected = Object.keys(given).filter((k) => !names.has(k.toLowerCase()));
  if (unexpected.length) {
    annotations.push({ level: 'warning', message: `Unexpected input(s) '${unexpected.join("', '")}', valid inputs are ['${declared.map((i) => i.id).join("', '")}']`, props: {} });
  }
  const inputs: Record<string, string> = {};
  for (const input of declared) {
    const value = Object.entries(given).find(([k]) => k.toLowerCase() === input.id.toLowerCase())?.[1];
    if (value !== undefined) inputs[input.id] = value;
    else if (input.default !== undefined) inputs[input.id] = toText(await evaluateToken(input.default, host.contexts, host.evaluation));
  }
  const github = host.contexts.github as Record<string, unknown>;
  let cancelled = false;
  let detach = () => undefined as void;
  const r = await runActionBundle({
    action: action.folder,
    root: action.root,
    with: inputs,
    env: host.env,
    eventName: String(github.event_name),
    event: github.event,
    workspace: host.workspace,
    runnerDir: host.runnerDir,
    timeoutMs: host.timeoutMs,
    onStart: (child) => {
      detach = cancelOnAbort(child, host.signal, () => (cancelled = true));
    },
  });
  detach();
  annotations.push(...r.annotations);
  const log = [r.log.trimEnd(), r.stderr.trim()].filter(Boolean).join('\n');
  return { outcome: r.exitCode === 0 ? 'success' : 'failure', timedOut: r.timedOut, cancelled, outputs: r.outputs, env: r.env, path: r.path, masks: r.masks, log, annotations, summary: summaryOf(r.summary, annotations) };
}

/** The run: text of a step, when it is one (a string or an expression already evaluated). */
export function isRunStep(step: MappingToken): boolean {
  return field(step, 'run') !== undefined;
}

export function usesOf(step: MappingToken): string | undefined {
  const uses = field(step, 'uses');
  return uses && isString(uses) ? uses.value : undefined;
}
