/**
 * One job (not a reusable-workflow call): environment gate, token, env, then its steps in order
 * with their `if:` (implicit success() already added by the parser), continue-on-error, outputs,
 * masks; then the job's outputs (an output holding a masked value is dropped, as on GitHub) and
 * the environment url.
 */
import { appendFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { newRunnerDir } from '../harness/runner';
import { evaluateCondition, evaluateStrings, evaluateToken, isTruthy, toText, type Contexts, type Json } from './expressions';
import type { ExecutorOptions, JobRun, StepRun } from './model';
import { field, isMapping, isString, jobToken, siteOf, stepToken, type Job, type LoadedWorkflow, type MappingToken, type RunStep, type Sources } from './parser';
import { granted, type Permissions } from './permissions';
import { CANCELED, jobTimeoutMessage, stepLimit, stepTimeoutMessage } from './timeouts';
import { pinningRefusal, unpinned } from './policy';
import { readConcurrency } from './concurrency';
import { isRunStep, runScript, runUses, usesOf, type StepEffects, type StepHost } from './steps';

/** Secret names a workflow was passed (lower case), or 'all'. */
export type PassedSecrets = 'all' | Set<string>;

/**
 * The job's secrets once its environment is entered. An environment secret takes precedence over
 * a repository or organization secret of the same name; in a called workflow only for the names
 * its caller passed (`secrets: inherit` or by name, even a name that exists only in the
 * environment): any other name stays what the caller passed, or empty (docs "Reuse workflows",
 * revised 2026-10-07: "The caller workflow must still pass the secret").
 */
export function environmentSecrets(secrets: Record<string, string>, environment: Record<string, string>, passed: PassedSecrets): Record<string, string> {
  const out = { ...secrets };
  for (const [name, value] of Object.entries(environment)) {
    if (passed !== 'all' && !passed.has(name.toLowerCase())) continue;
    const existing = Object.keys(out).find((k) => k.toLowerCase() === name.toLowerCase());
    if (existing !== undefined) delete out[existing];
    out[name] = value;
  }
  return out;
}

/** What the workflow level hands a job. */
export interface JobScope {
  options: ExecutorOptions;
  sources: Sources;
  workflow: LoadedWorkflow;
  /** github, inputs, vars, secrets, needs of this job. */
  contexts: Contexts;
  /** Status of the jobs it needs (transitively), for the job's if:. */
  needsFailed: boolean;
  needsSkipped: boolean;
  /** The secret names the job's workflow was passed ('all' at the top level). */
  passedSecrets: PassedSecrets;
  permissions: Permissions;
  path: string[];
  names: string[];
  /** The run (or a calling job) was cancelled: by its concurrency group's cancel-in-progress. */
  signal: AbortSignal;
}

function mask(text: string, secrets: string[]): string {
  let out = text;
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) if (s) out = out.split(s).join('***');
  return out;
}

function runnerContext(runnerDir: string, toolCache?: string): Record<string, string> {
  return { os: 'Linux', arch: 'X64', name: 'deploy-actions-executor', environment: 'self-hosted', temp: join(runnerDir, 'temp'), tool_cache: toolCache ?? join(runnerDir, 'tool-cache') };
}

/** GITHUB_* and RUNNER_* variables of a step, from the contexts (runner's default variables). */
function defaultVariables(github: Record<string, Json>, runner: Record<string, string>, workspace: string): Record<string, string> {
  const g = (k: string) => toText(github[k] ?? '');
  return {
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_ACTOR: g('actor'),
    GITHUB_API_URL: g('api_url'),
    GITHUB_BASE_REF: g('base_ref'),
    GITHUB_EVENT_NAME: g('event_name'),
    GITHUB_HEAD_REF: g('head_ref'),
    GITHUB_JOB: g('job'),
    GITHUB_REF: g('ref'),
    GITHUB_REF_NAME: g('ref_name'),
    GITHUB_REF_TYPE: g('ref_type'),
    GITHUB_REPOSITORY: g('repository'),
    GITHUB_REPOSITORY_OWNER: g('repository_owner'),
    GITHUB_RUN_ATTEMPT: g('run_attempt'),
    GITHUB_RUN_ID: g('run_id'),
    GITHUB_RUN_NUMBER: g('run_number'),
    GITHUB_SERVER_URL: g('server_url'),
    GITHUB_SHA: g('sha'),
    GITHUB_TRIGGERING_ACTOR: g('triggering_actor'),
    GITHUB_WORKFLOW: g('workflow'),
    GITHUB_WORKFLOW_REF: g('workflow_ref'),
    GITHUB_WORKSPACE: workspace,
    RUNNER_ARCH: runner.arch!,
    RUNNER_NAME: runner.name!,
    RUNNER_OS: runner.os!,
    RUNNER_TEMP: runner.temp!,
    RUNNER_TOOL_CACHE: runner.tool_cache!,
  };
}

/**
 * GITHUB_ACTION (the step's id, or the one the runner generates) and, for `uses:`, the action's
 * repository and ref (`$/`: the workflow's own repository, at the ref the workflow runs at).
 */
function actionVariables(id: string, uses: string | undefined, workflow: LoadedWorkflow): Record<string, string> {
  if (!uses) return { GITHUB_ACTION: id };
  if (uses.startsWith('$/')) return { GITHUB_ACTION: id, GITHUB_ACTION_REPOSITORY: workflow.repository, GITHUB_ACTION_REF: workflow.ref };
  const [path, ref] = uses.split('@');
  return { GITHUB_ACTION: id, GITHUB_ACTION_REPOSITORY: path!.split('/').slice(0, 2).join('/'), GITHUB_ACTION_REF: ref ?? '' };
}

/**
 * The test run's Node compile cache (test/suite/run-temp-dir.ts) for every step's processes
 * (action bundles, node in run: steps), when the run has one. Not a runner variable: the runner's
 * env, the workflow's and the step's win over it.
 */
function compileCacheEnv(): Record<string, string> {
  const dir = process.env.NODE_COMPILE_CACHE;
  return dir ? { NODE_COMPILE_CACHE: dir } : {};
}

/** The UI's name of a step without `name:`. */
function stepName(uses: string | undefined, run: string): string {
  return uses ? `Run ${uses}` : `Run ${run.trim().split('\n')[0]}`;
}

export async function runJob(job: Job, scope: JobScope): Promise<JobRun> {
  const { options, workflow } = scope;
  const raw = jobToken(workflow, job.id.value);
  const log = options.log ?? (() => undefined);
  const run: JobRun = { path: scope.path, names: scope.names, workflowRef: workflow.workflowRef, result: 'success', outputs: {}, steps: [], permissions: scope.permissions };
  // A job that has not started when its run is cancelled sees cancelled() (always() jobs still run).
  const needsStatus = { failed: scope.needsFailed, skipped: scope.needsSkipped, cancelled: scope.signal.aborted };
  const base: Contexts = { ...scope.contexts, strategy: { 'fail-fast': true, 'job-index': 0, 'job-total': 1, 'max-parallel': 1 }, matrix: {} };

  if (!(await evaluateCondition(job.if.expression, base, { status: needsStatus }))) {
    run.result = 'skipped';
    log(`○ ${run.names.join(' / ')}: skipped`);
    return run;
  }
  // No workflow here uses `strategy` (matrix, fail-fast, max-parallel): refused rather than ignored.
  if (field(raw, 'strategy')) throw new Error(`job ${job.id.value}: strategy (matrix, fail-fast, max-parallel) is not modelled by this executor`);
  // Job-level continue-on-error: a failure of this job does not fail the run, and the jobs that
  // need it see `success` (needs.<id>.result), while the job itself shows failed.
  if (isTruthy(await evaluateToken(field(raw, 'continue-on-error'), base))) run.continueOnError = true;
  const github: Record<string, Json> = { ...(scope.contexts.github as Record<string, Json>), job: job.id.value };
  base.github = github;
  run.names = [...scope.names.slice(0, -1), job.name ? toText(await evaluateToken(job.name, base)) : job.id.value];
  run.runsOn = await evaluateToken(job['runs-on'], base);

  // GitHub's order: the job joins its concurrency group (pending while another job or run holds
  // it), then its environment's deployment is created and the protection rules decide (a job
  // waiting for approval holds the group), then the job is sent to a runner.
  const concurrency = await readConcurrency(job.concurrency, base, `${workflow.path} (job ${job.id.value})`);
  const cancel = new AbortController();
  // A job that starts after its run was cancelled (an always() job) runs; one running then stops.
  const signal = scope.signal.aborted ? cancel.signal : AbortSignal.any([cancel.signal, scope.signal]);
  let release = () => undefined as void;
  if (concurrency) {
    run.concurrency = concurrency;
    const waiting = options.concurrency!.acquire({
      ...concurrency,
      who: `${toText(github.workflow)} #${toText(github.run_id)} / ${run.names.join(' / ')}`,
      run: toText(github.run_id),
      job: run.names.at(-1)!,
      onCancel: (m) => cancel.abort(m),
    });
    const admission = await Promise.race([waiting, whenAborted(signal)]);
    if (!admission.admitted) {
      run.result = 'cancelled';
      run.error = admission.message;
      log(`▶ ${run.names.join(' / ')}\n  ✗ ${run.error}`);
      void waiting.then((late) => late.admitted && late.release());
      return run;
    }
    if (admission.waited) run.concurrency.waited = true;
    release = admission.release;
  }
  try {
    return await admitted(job, scope, run, raw, base, github, signal);
  } finally {
    release();
  }
}

/** Resolves (never rejects) when the signal aborts, with the abort's reason as the message. */
function whenAborted(signal: AbortSignal): Promise<{ admitted: false; message: string }> {
  return new Promise((resolve) => {
    const done = () => resolve({ admitted: false, message: String(signal.reason) });
    if (signal.aborted) done();
    else signal.addEventListener('abort', done, { once: true });
  });
}

/** The job once it holds its concurrency group: environment, deployment, token, steps. */
async function admitted(job: Job, scope: JobScope, run: JobRun, raw: MappingToken, base: Contexts, github: Record<string, Json>, signal: AbortSignal): Promise<JobRun> {
  const { options, workflow } = scope;
  const log = options.log ?? (() => undefined);
  let vars = (scope.contexts.vars ?? {}) as Record<string, string>;
  let secrets = (scope.contexts.secrets ?? {}) as Record<string, string>;
  let deployment: Awaited<ReturnType<NonNullable<ExecutorOptions['deployments']>['actionsJob']>> | undefined;
  if (job.environment) {
    const name = toText(await evaluateToken(isMapping(job.environment) ? field(job.environment, 'name') : job.environment, base));
    run.environment = { name, approvals: [] };
    // The deployment exists while the job waits on the protection rules (a `waiting` job carries it:
    // changelog 2022-11-22); it ends failed when they refuse the job or it is cancelled.
    deployment = name ? await options.deployments?.actionsJob({ environment: name, sha: toText(github.sha), repository: toText(github.repository) }) : undefined;
    if (options.environments && name) {
      // Waiting for approval holds the group: a newer job with cancel-in-progress cancels it here.
      const answer = await Promise.race([options.environments.enter({ name, ref: toText(github.ref), actor: toText(github.triggering_actor), runId: toText(github.run_id) }), whenAborted(signal)]);
      const decision = 'admitted' in answer ? { ok: false as const, cancelled: answer.message } : answer;
      if (!decision.ok) {
        run.result = 'cancelled' in decision ? 'cancelled' : 'failure';
        run.error = 'cancelled' in decision ? decision.cancelled : decision.error;
        log(`▶ ${run.names.join(' / ')}  (environment: ${name})\n  ✗ ${run.error}`);
        await deployment?.finish('failure');
        return run;
      }
      run.environment.approvals = decision.approvedBy ? [decision.approvedBy] : [];
      vars = { ...vars, ...decision.vars };
      secrets = environmentSecrets(secrets, decision.secrets, scope.passedSecrets);
    }
  }
  const token = options.mintToken?.(scope.permissions, { workflowRef: workflow.workflowRef, job: job.id.value }) ?? `ghs_${Math.random().toString(36).slice(2)}`;
  github.token = token;
  secrets = { ...secrets, GITHUB_TOKEN: token };
  const jobIdentity = { environment: run.environment?.name, permissions: granted(scope.permissions), workflowRef: workflow.workflowRef, oidcIssuerUrl: options.oidcIssuerUrl };
  const idTokenEnv = options.idTokens?.jobEnv({ github, job: jobIdentity }) ?? {};
  const masks: string[] = Object.values(secrets).filter((s) => s.length > 0);
  const runnerDir = newRunnerDir();
  const workspace = join(runnerDir, 'workspace');
  const runner = runnerContext(runnerDir, options.toolCache);
  const contexts: Contexts = { ...base, github, vars, secrets, runner, job: { status: 'success' }, steps: {} };
  const workflowEnv = await evaluateStrings(workflow.template.env, contexts);
  const jobEnv = await evaluateStrings(job.env, { ...contexts, env: workflowEnv });
  let exported: Record<string, string> = {};
  const pathAdds: string[] = [];
  const stepsContext: Record<string, { outcome: string; conclusion: string; outputs: Record<string, string> }> = {};
  // defaults.run merges per setting: the job's shell or working-directory over the workflow's.
  const workflowDefaults = (await evaluateToken(field(workflow.root, 'defaults', 'run'), contexts)) as StepHost['defaultsRun'] | null;
  const jobDefaults = (await evaluateToken(field(raw, 'defaults', 'run'), contexts)) as StepHost['defaultsRun'] | null;
  const defaultsRun = { ...(workflowDefaults ?? {}), ...(jobDefaults ?? {}) };
  // The steps' status functions look at this job's steps only.
  const status = { failed: false };
  const minuteMs = options.minuteMs ?? 60_000;
  const jobMinutes = Number(toText(await evaluateToken(field(raw, 'timeout-minutes'), contexts)) || 360);
  const jobDeadline = Date.now() + jobMinutes * minuteMs;
  let jobTimedOut = false;
  log(`▶ ${run.names.join(' / ')}${run.environment ? `  (environment: ${run.environment.name}${run.environment.approvals.length ? `, approved by ${run.environment.approvals.join(', ')}` : ''})` : ''}`);

  // Set up job: the runner resolves the job's actions; the SHA-pinning policy refuses here.
  const refused = options.policy?.requireShaPinning ? unpinned(job.steps.map((_, i) => usesOf(stepToken(raw, i))).filter((u): u is string => u !== undefined)) : [];
  if (refused.length) {
    run.result = 'failure';
    run.error = pinningRefusal(refused, options.repository.name);
    log(`  ✗ ${run.error}`);
    await deployment?.finish('failure');
    discard(runnerDir);
    return run;
  }

  for (const [index, step] of job.steps.entries()) {
    const stepRaw = stepToken(raw, index);
    if (jobTimedOut || signal.aborted) {
      // The job was cancelled (at its timeout, or by its concurrency group): later steps do not run.
      run.steps.push({ name: step.name && isString(step.name) ? step.name.value : '', id: step.id, outcome: 'skipped', conclusion: 'skipped', outputs: {}, log: '', annotations: [], summary: '', durationMs: 0 });
      continue;
    }
    const env = { ...workflowEnv, ...jobEnv, ...exported };
    const stepContexts: Contexts = { ...contexts, env, steps: stepsContext, job: { status: status.failed ? 'failure' : 'success' } };
    const started = Date.now();
    const uses = usesOf(stepRaw);
    const record: StepRun = { name: '', id: step.id, outcome: 'skipped', conclusion: 'skipped', outputs: {}, log: '', annotations: [], summary: '', durationMs: 0 };
    let effects: StepEffects | undefined;
    let limit = { ms: 0, byJob: true };
    try {
      record.name = step.name ? toText(await evaluateToken(step.name, stepContexts)) : '';
      const runText = isRunStep(stepRaw) ? toText(await evaluateToken(field(stepRaw, 'run'), stepContexts)) : '';
      record.name ||= stepName(uses, runText);
      if (await evaluateCondition(step.if!.expression, stepContexts, { status, workspace })) {
        const stepEnv = { ...env, ...(await evaluateStrings((step as RunStep).env, stepContexts)) };
        const stepMinutes = field(stepRaw, 'timeout-minutes') ? Number(toText(await evaluateToken(field(stepRaw, 'timeout-minutes'), stepContexts))) : undefined;
        limit = stepLimit(jobDeadline, Date.now(), stepMinutes, minuteMs);
        const host: StepHost = {
          sources: scope.sources,
          site: siteOf(workflow),
          contexts: { ...stepContexts, env: stepEnv },
          evaluation: { status, workspace },
          env: { ...compileCacheEnv(), ...options.runnerEnv, PATH: [...pathAdds, options.runnerEnv?.PATH ?? process.env.PATH].join(':'), HOME: join(runnerDir, 'home'), ...defaultVariables(github, runner, workspace), ...actionVariables(step.id, uses, workflow), ...idTokenEnv, ...stepEnv },
          workspace,
          runnerDir,
          defaultsRun,
          actions: options.actions ?? {},
          job: jobIdentity,
          timeoutMs: limit.ms,
          signal,
        };
        effects = uses ? await runUses(stepRaw, uses, host) : await runScript(stepRaw, runText, host);
        if (effects.cancelled) {
          effects = { ...effects, outcome: 'cancelled', annotations: [...effects.annotations, { level: 'error', message: CANCELED, props: {} }] };
        } else if (effects.timedOut && limit.byJob) {
          jobTimedOut = true;
          effects = { ...effects, outcome: 'cancelled', annotations: [...effects.annotations, { level: 'error', message: CANCELED, props: {} }] };
        } else if (effects.timedOut) {
          effects = { ...effects, annotations: [...effects.annotations, { level: 'error', message: stepTimeoutMessage(record.name, stepMinutes!), props: {} }] };
        }
      }
    } catch (err) {
      effects = { outcome: 'failure', outputs: {}, env: {}, path: [], masks: [], log: '', annotations: [{ level: 'error', message: (err as Error).message, props: {} }], summary: '' };
    }
    if (effects) {
      masks.push(...effects.masks.filter(Boolean));
      const continueOnError = step['continue-on-error'] === undefined ? false : isTruthy(typeof step['continue-on-error'] === 'boolean' ? step['continue-on-error'] : await evaluateToken(step['continue-on-error'], stepContexts));
      record.outcome = effects.outcome;
      record.conclusion = effects.outcome === 'failure' && continueOnError ? 'success' : effects.outcome;
      record.outputs = effects.outputs;
      if (effects.action) record.action = effects.action;
      record.log = mask(effects.log, masks);
      record.annotations = effects.annotations.map((a) => ({ ...a, message: mask(a.message, masks) }));
      record.summary = mask(effects.summary, masks);
      exported = { ...exported, ...effects.env };
      pathAdds.unshift(...effects.path.reverse());
      if (record.conclusion === 'failure') status.failed = true;
    }
    record.durationMs = Date.now() - started;
    if (process.env.DA_STEP_TIMES) appendFileSync(process.env.DA_STEP_TIMES, `${JSON.stringify({ job: run.names.join(' / '), step: record.name, uses: uses ?? 'run', ms: record.durationMs, rss: Math.round(process.memoryUsage().rss / 1e6) })}\n`);
    if (step.id && !step.id.startsWith('__')) stepsContext[step.id] = { outcome: record.outcome, conclusion: record.conclusion, outputs: record.outputs };
    run.steps.push(record);
    log(`  ${record.conclusion === 'success' ? '✓' : record.conclusion === 'skipped' ? '○' : '✗'} ${record.name}${record.outcome !== record.conclusion ? ` (${record.outcome}, continue-on-error)` : ''}`);
    for (const a of record.annotations.filter((x) => x.level === 'error' || x.level === 'warning')) log(`      ${a.level === 'error' ? 'Error' : 'Warning'}: ${a.message.split('\n')[0]}`);
    if (options.logSummaries && record.summary.trim()) for (const line of record.summary.trimEnd().split('\n')) log(`      | ${line}`);
  }

  run.result = jobTimedOut || signal.aborted ? 'cancelled' : status.failed ? 'failure' : 'success';
  if (jobTimedOut) run.error = jobTimeoutMessage(jobMinutes);
  else if (signal.aborted) run.error = String(signal.reason);
  const final: Contexts = { ...contexts, steps: stepsContext, env: { ...workflowEnv, ...jobEnv } };
  if (job.outputs && isMapping(job.outputs)) {
    for (const [name, value] of Object.entries(await evaluateStrings(job.outputs, final))) {
      if (masks.some((m) => m && value.includes(m))) log(`  Warning: Skip output '${name}' since it may contain secret.`);
      else run.outputs[name] = value;
    }
  }
  if (run.environment && job.environment && isMapping(job.environment)) {
    const url = field(job.environment, 'url');
    if (url) run.environment.url = toText(await evaluateToken(url, final));
  }
  await deployment?.finish(run.result === 'success' ? 'success' : 'failure');
  log(`  ${run.result === 'success' ? '✓' : '✗'} job ${run.names.join(' / ')}: ${run.result}`);
  discard(runnerDir);
  return run;
}

/**
 * A job's runner directory (workspace, home, temp, file commands) goes when the job ends, as a
 * hosted runner's does; removed in the background, so the next job need not wait, and gone
 * when runWorkflow returns. Whatever is left (a job that threw) goes with the run's temp
 * directory (test/suite/run-temp-dir.ts).
 */
function discard(runnerDir: string): void {
  const removal = rm(runnerDir, { recursive: true, force: true, maxRetries: 2 }).catch(() => undefined);
  removals.add(removal);
  void removal.finally(() => removals.delete(removal));
}
const removals = new Set<Promise<void>>();

/** Resolves when every runner directory of a finished job is gone (runWorkflow waits for it). */
export async function runnerDirsRemoved(): Promise<void> {
  await Promise.all([...removals]);
}
