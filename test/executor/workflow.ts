/**
 * A workflow run: `on:` filters, then a check of the whole call tree before any job starts
 * (files valid, nesting depth, nested permissions within what each caller grants), then the jobs
 * in `needs` order. A job's success() looks at every job it needs, directly or not; a reusable
 * workflow call evaluates `with:` against the called workflow's typed inputs, runs the called
 * jobs with the caller's github context, and maps their outputs through `on.workflow_call.outputs`.
 */
import picomatch from 'picomatch';
import { repoRoot } from '../harness/runner';
import { evaluateCondition, evaluateStrings, evaluateToken, toText, type Contexts, type Json } from './expressions';
import { runJob, runnerDirsRemoved, type PassedSecrets } from './job';
import type { ExecutorOptions, JobConcurrency, JobRun, Result, WorkflowRun } from './model';
import {
  field,
  isMapping,
  jobToken,
  loadWorkflow,
  resolveReference,
  siteOf,
  WorkflowInvalid,
  type Job,
  type LoadedWorkflow,
  type ReusableWorkflowJob,
  type Sources,
  type TemplateToken,
  type WorkflowJob,
} from './parser';
import { defaultPermissions, exceeds, readPermissions, type Permissions } from './permissions';
import { pinningRefusal, unpinned } from './policy';
import { ConcurrencyGroups, readConcurrency } from './concurrency';

/** Top-level caller plus nine levels of called workflows (github.com, reuse-workflows docs). */
export const MAX_WORKFLOW_LEVELS = 10;

interface CallTree {
  workflow: LoadedWorkflow;
  /** Effective permissions of each job of this workflow. */
  permissions: Map<string, Permissions>;
  /** Called workflows of the reusable jobs. */
  calls: Map<string, CallTree>;
}

function location(workflow: LoadedWorkflow, token: TemplateToken | undefined): string {
  return `${workflow.path}${token?.line !== undefined ? ` (Line: ${token.line}, Col: ${token.col})` : ''}`;
}

/** Loads the whole call tree and checks what GitHub checks before the run starts. */
async function loadTree(workflow: LoadedWorkflow, grant: Permissions | undefined, level: number, options: ExecutorOptions, sources: Sources): Promise<CallTree> {
  const tree: CallTree = { workflow, permissions: new Map(), calls: new Map() };
  const workflowPermissions = readPermissions(field(workflow.root, 'permissions'));
  for (const job of workflow.template.jobs ?? []) {
    const id = job.id.value;
    const asked = readPermissions(field(jobToken(workflow, id), 'permissions')) ?? workflowPermissions;
    let effective: Permissions;
    if (grant === undefined) effective = asked ?? defaultPermissions(options.defaultPermissions ?? 'restricted');
    else {
      effective = asked ?? grant;
      const over = exceeds(effective, grant);
      if (over) {
        throw new WorkflowInvalid(
          `Error calling workflow '${workflow.workflowRef}'. The nested job '${id}' is requesting '${over.scope}: ${over.requested}', but is only allowed '${over.scope}: ${over.allowed}'.`,
        );
      }
    }
    tree.permissions.set(id, effective);
    if (job.type !== 'reusableWorkflowJob') continue;
    const ref = (job as ReusableWorkflowJob).ref.value;
    const refused = options.policy?.requireShaPinning ? unpinned([ref]) : [];
    if (refused.length) throw new WorkflowInvalid(pinningRefusal(refused, options.repository.name, 'workflow'));
    if (level + 1 > MAX_WORKFLOW_LEVELS) {
      throw new WorkflowInvalid(`${location(workflow, (job as ReusableWorkflowJob).ref)}: job '${id}' calls ${ref}: more than ${MAX_WORKFLOW_LEVELS} levels of workflows`);
    }
    const file = resolveReference(ref, sources, '', siteOf(workflow));
    if (!file) throw new WorkflowInvalid(`${location(workflow, (job as ReusableWorkflowJob).ref)}: Unable to find reusable workflow '${ref}'`);
    const callee = await loadWorkflow(file);
    if (!callee.template.events?.workflow_call) throw new WorkflowInvalid(`${location(workflow, (job as ReusableWorkflowJob).ref)}: workflow_call key is not defined in the referenced workflow.`);
    await bindInputs(job as ReusableWorkflowJob, callee, workflow, async (token) => (token.isExpression ? undefined : evaluateToken(token, {})), {});
    checkRequiredSecrets(job as ReusableWorkflowJob, callee, workflow);
    tree.calls.set(id, await loadTree(callee, effective, level + 1, options, sources));
  }
  return tree;
}

function matches(patterns: string[] | undefined, value: string): boolean {
  if (!patterns) return false;
  let result = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (picomatch.isMatch(value, p.slice(1), { dot: true })) result = false;
    } else if (picomatch.isMatch(value, p, { dot: true })) result = true;
  }
  return result;
}

type RefFilters = { branches?: string[]; 'branches-ignore'?: string[]; tags?: string[]; 'tags-ignore'?: string[] };

/** Whether `on:` triggers for the event (branch and tag filters; path filters are not modelled). */
export function triggers(workflow: LoadedWorkflow, event: ExecutorOptions['event']): boolean {
  const events = workflow.template.events ?? {};
  if (!(event.name in events)) return false;
  const filters = (events[event.name] ?? {}) as RefFilters;
  if (event.name === 'workflow_dispatch') return true;
  const ref = event.name === 'pull_request' ? `refs/heads/${toText((event.payload.pull_request as Record<string, Record<string, Json>>).base!.ref!)}` : event.ref;
  const branch = /^refs\/heads\/(.+)$/.exec(ref)?.[1];
  const tag = /^refs\/tags\/(.+)$/.exec(ref)?.[1];
  const name = branch ?? tag;
  const [only, ignore, other, otherIgnore] = branch !== undefined ? ['branches', 'branches-ignore', 'tags', 'tags-ignore'] as const : ['tags', 'tags-ignore', 'branches', 'branches-ignore'] as const;
  if (name === undefined) return true;
  if (filters[only]) return matches(filters[only], name);
  if (filters[ignore]) return !matches(filters[ignore], name);
  // Only the other kind is filtered: this kind does not trigger (push with branches only ignores tags).
  return !(filters[other] || filters[otherIgnore]);
}

/** Typed reusable-workflow inputs: booleans stay booleans, a mismatch fails as GitHub fails it. */
export function typedInput(type: string, value: Json, where: string): Json {
  const shown = toText(value);
  if (type === 'boolean') {
    if (typeof value === 'boolean') return value;
    throw new WorkflowInvalid(`The template is not valid. ${where}: ${typeof value === 'string' && value !== '' ? `Unexpected value '${shown}'` : `Unexpected type of value '${shown}', expected type: Boolean.`}`);
  }
  if (type === 'number') {
    if (typeof value === 'number') return value;
    throw new WorkflowInvalid(`The template is not valid. ${where}: Unexpected value '${shown}'`);
  }
  return shown;
}

interface Level {
  options: ExecutorOptions;
  sources: Sources;
  tree: CallTree;
  github: Record<string, Json>;
  inputs: Record<string, Json>;
  secrets: Record<string, string>;
  /**
   * The secret names this workflow was passed: 'all' for the top-level workflow (and through
   * `secrets: inherit` from it), else the names its caller passed. Only these names take the
   * value of the job's environment secret (docs "Reuse workflows", revised 2026-10-07).
   */
  passedSecrets: PassedSecrets;
  path: string[];
  names: string[];
  runs: JobRun[];
  /** Aborted when the run, or the job calling this workflow, is cancelled by a concurrency group. */
  signal: AbortSignal;
}

function ancestors(jobs: WorkflowJob[], id: string, seen = new Set<string>()): Set<string> {
  const job = jobs.find((j) => j.id.value === id);
  for (const need of job?.needs ?? []) {
    if (seen.has(need.value)) continue;
    seen.add(need.value);
    ancestors(jobs, need.value, seen);
  }
  return seen;
}

/** What the jobs that need a job, and the run's conclusion, see of it: a failure under job-level continue-on-error is success. */
export function effectiveResult(run: JobRun): Result {
  return run.result === 'failure' && run.continueOnError ? 'success' : run.result;
}

/** Runs the jobs of one workflow; returns each job's result and outputs. */
async function runLevel(level: Level): Promise<Record<string, { result: Result; outputs: Record<string, string> }>> {
  const { workflow } = level.tree;
  const jobs = workflow.template.jobs ?? [];
  const done: Record<string, { result: Result; outputs: Record<string, string> }> = {};
  const vars = level.options.vars ?? {};
  while (Object.keys(done).length < jobs.length) {
    const next = jobs.find((j) => !(j.id.value in done) && (j.needs ?? []).every((n) => n.value in done));
    if (!next) throw new WorkflowInvalid(`${workflow.path}: the jobs' needs form a cycle`);
    const id = next.id.value;
    const upstream = [...ancestors(jobs, id)].map((a) => done[a]!.result);
    const needs = Object.fromEntries((next.needs ?? []).map((n) => [n.value, done[n.value]!]));
    const contexts: Contexts = { github: level.github, inputs: level.inputs, vars, secrets: level.secrets, needs };
    const scope = {
      options: level.options,
      sources: level.sources,
      workflow,
      contexts,
      needsFailed: upstream.some((r) => r === 'failure' || r === 'cancelled'),
      needsSkipped: upstream.some((r) => r === 'skipped'),
      passedSecrets: level.passedSecrets,
      permissions: level.tree.permissions.get(id)!,
      path: [...level.path, id],
      names: [...level.names, id],
      signal: level.signal,
    };
    if (next.type === 'reusableWorkflowJob') {
      done[id] = await runCall(next as ReusableWorkflowJob, scope, level);
    } else {
      const run = await runJob(next as Job, scope);
      level.runs.push(run);
      done[id] = { result: effectiveResult(run), outputs: run.outputs };
    }
  }
  return done;
}

/**
 * A secret the called workflow declares `required: true` must be passed (by name or by
 * `secrets: inherit`), else the run fails at start. It checks the name only, not a value.
 */
function checkRequiredSecrets(job: ReusableWorkflowJob, callee: LoadedWorkflow, caller: LoadedWorkflow): void {
  if (job['inherit-secrets']) return;
  const declared = field(callee.root, 'on', 'workflow_call', 'secrets');
  if (!declared || !isMapping(declared)) return;
  const given = job['secret-values'];
  const names = new Set<string>();
  if (given && isMapping(given)) for (let i = 0; i < given.count; i++) names.add(given.get(i).key.assertString('secret').value.toLowerCase());
  for (let i = 0; i < declared.count; i++) {
    const pair = declared.get(i);
    const name = pair.key.assertString('secret').value;
    const required = field(pair.value, 'required');
    if (required && required.assertBoolean('required').value && !names.has(name.toLowerCase())) {
      throw new WorkflowInvalid(`The workflow is not valid. ${location(caller, job.ref)}: Secret ${name} is required, but not provided while calling.`);
    }
  }
}

/** on.workflow_call.inputs from the tokens (the converted model drops `type: number` and its defaults). */
function callInputs(workflow: LoadedWorkflow): Record<string, { type: string; required: boolean; default?: TemplateToken }> {
  const result: Record<string, { type: string; required: boolean; default?: TemplateToken }> = {};
  const inputs = field(workflow.root, 'on', 'workflow_call', 'inputs');
  if (!inputs || !isMapping(inputs)) return result;
  for (let i = 0; i < inputs.count; i++) {
    const pair = inputs.get(i);
    const type = field(pair.value, 'type');
    const required = field(pair.value, 'required');
    result[pair.key.assertString('input').value] = {
      type: type ? type.assertString('type').value : 'string',
      required: required ? required.assertBoolean('required').value : false,
      default: field(pair.value, 'default'),
    };
  }
  return result;
}

/**
 * The called workflow's inputs from a caller's `with:`: declared ones only, required ones given,
 * types as declared, defaults applied. Before the run starts, `value` gives literals only
 * (expressions wait for the job), as GitHub validates a literal of the wrong type at start-up.
 */
async function bindInputs(
  job: ReusableWorkflowJob,
  callee: LoadedWorkflow,
  caller: LoadedWorkflow,
  value: (token: TemplateToken) => Promise<Json | undefined>,
  github: Record<string, Json>,
): Promise<Record<string, Json>> {
  const definitions = callInputs(callee);
  const values = job['input-values'];
  const given: Record<string, Json | undefined> = {};
  if (values && isMapping(values)) {
    for (let i = 0; i < values.count; i++) {
      const pair = values.get(i);
      const name = pair.key.assertString('input name').value;
      const def = Object.entries(definitions).find(([k]) => k.toLowerCase() === name.toLowerCase());
      if (!def) throw new WorkflowInvalid(`The workflow is not valid. ${location(caller, pair.key)}: Invalid input, ${name} is not defined in the referenced workflow.`);
      const v = await value(pair.value);
      given[def[0]] = v === undefined ? undefined : typedInput(def[1].type, v, location(caller, pair.value));
    }
  }
  const inputs: Record<string, Json> = {};
  for (const [name, def] of Object.entries(definitions)) {
    if (name in given) inputs[name] = given[name] ?? null;
    else if (def.required) throw new WorkflowInvalid(`The workflow is not valid. ${location(caller, job.ref)}: Input ${name} is required, but not provided while calling.`);
    else if (def.default !== undefined) inputs[name] = typedInput(def.type, await evaluateToken(def.default, { github }), location(callee, def.default));
    else inputs[name] = def.type === 'boolean' ? false : def.type === 'number' ? 0 : '';
  }
  return inputs;
}

async function runCall(job: ReusableWorkflowJob, scope: Parameters<typeof runJob>[1], level: Level): Promise<{ result: Result; outputs: Record<string, string> }> {
  const id = job.id.value;
  const callee = level.tree.calls.get(id)!;
  const record: JobRun = { path: scope.path, names: scope.names, workflowRef: callee.workflow.workflowRef, result: 'skipped', outputs: {}, steps: [], permissions: scope.permissions, calls: callee.workflow.workflowRef };
  level.runs.push(record);
  const status = { failed: scope.needsFailed, skipped: scope.needsSkipped, cancelled: level.signal.aborted };
  if (!(await evaluateCondition(job.if.expression, scope.contexts, { status }))) {
    level.options.log?.(`○ ${record.names.join(' / ')}: skipped`);
    return record;
  }
  record.names = [...scope.names.slice(0, -1), job.name ? toText(await evaluateToken(job.name, scope.contexts)) : id];
  level.options.log?.(`▶ ${record.names.join(' / ')} → ${callee.workflow.workflowRef}`);

  const inputs = await bindInputs(job, callee.workflow, level.tree.workflow, (token) => evaluateToken(token, scope.contexts), level.github);
  record.inputs = inputs;
  const secrets = job['inherit-secrets'] ? { ...level.secrets } : await evaluateStrings(job['secret-values'], scope.contexts);
  const passedSecrets: PassedSecrets = job['inherit-secrets'] ? level.passedSecrets : new Set(Object.keys(secrets).map((k) => k.toLowerCase()));

  // The called workflow's own workflow-level concurrency group, held for the whole call.
  const held = await holdWorkflowGroup(callee.workflow, { github: level.github, inputs, vars: level.options.vars ?? {} }, level, record.names.at(-1)!);
  if (!held.admitted) {
    record.result = 'cancelled';
    record.error = held.message;
    level.options.log?.(`  ✗ ${held.message}`);
    return record;
  }
  if (held.concurrency) record.concurrency = held.concurrency;
  let done: Awaited<ReturnType<typeof runLevel>>;
  try {
    done = await runLevel({ ...level, tree: callee, inputs, secrets, passedSecrets, path: scope.path, names: record.names, signal: held.signal });
  } finally {
    held.release();
  }
  record.result = Object.values(done).some((d) => d.result === 'failure') ? 'failure' : Object.values(done).some((d) => d.result === 'cancelled') ? 'cancelled' : 'success';
  const outputs = field(callee.workflow.root, 'on', 'workflow_call', 'outputs');
  if (outputs && isMapping(outputs)) {
    const jobsContext = Object.fromEntries(Object.entries(done).map(([k, v]) => [k, { result: v.result, outputs: v.outputs }]));
    for (let i = 0; i < outputs.count; i++) {
      const pair = outputs.get(i);
      record.outputs[pair.key.assertString('output').value] = toText(await evaluateToken(field(pair.value, 'value'), { github: level.github, inputs, jobs: jobsContext, vars: level.options.vars ?? {} }));
    }
  }
  return record;
}

function githubContext(options: ExecutorOptions, workflow: LoadedWorkflow): Record<string, Json> {
  const { event } = options;
  const [owner] = options.repository.name.split('/');
  const server = 'https://github.com';
  const name = field(workflow.root, 'name');
  const pr = event.payload.pull_request as Record<string, Record<string, Json>> | undefined;
  const refName = event.ref.replace(/^refs\/(heads|tags)\//, '');
  return {
    action: '',
    actor: event.actor ?? 'octocat',
    actor_id: '583231',
    api_url: options.apiUrl ?? 'https://api.github.com',
    base_ref: pr ? toText(pr.base!.ref!) : '',
    event: event.payload,
    event_name: event.name,
    event_path: '',
    graphql_url: `${options.apiUrl ?? 'https://api.github.com'}/graphql`,
    head_ref: pr ? toText(pr.head!.ref!) : '',
    job: '',
    ref: event.ref,
    ref_name: event.name === 'pull_request' ? `${(event.payload.number as number) ?? ''}/merge` : refName,
    ref_protected: false,
    ref_type: event.ref.startsWith('refs/tags/') ? 'tag' : 'branch',
    repository: options.repository.name,
    repository_id: options.repository.id ?? '1296269',
    repository_owner: owner!,
    repository_owner_id: options.repository.ownerId ?? '1',
    repositoryUrl: `git://github.com/${options.repository.name}.git`,
    retention_days: '90',
    run_id: String(1_000_000 + Math.floor(Math.random() * 1_000_000)),
    run_number: '1',
    run_attempt: '1',
    secret_source: 'Actions',
    server_url: server,
    sha: event.sha,
    token: '',
    triggering_actor: event.actor ?? 'octocat',
    workflow: name ? toText((name as { value?: string }).value ?? '') : workflow.path,
    workflow_ref: workflow.workflowRef,
    workflow_sha: event.sha,
    workspace: '',
  };
}

/** workflow_dispatch inputs: choices within their options, required ones given, typed. */
function dispatchInputs(workflow: LoadedWorkflow, given: Record<string, string | boolean | number>): Record<string, Json> {
  const defs = workflow.template.events.workflow_dispatch?.inputs ?? {};
  const inputs: Record<string, Json> = {};
  for (const key of Object.keys(given)) if (!(key in defs)) throw new WorkflowInvalid(`Unexpected inputs provided: ["${key}"]`);
  for (const [name, def] of Object.entries(defs)) {
    const value = given[name] ?? def.default;
    if (value === undefined || value === '') {
      if (def.required) throw new WorkflowInvalid(`Required input '${name}' not provided`);
      inputs[name] = def.type === 'boolean' ? false : '';
      continue;
    }
    if (def.type === 'choice' && !(def.options ?? []).includes(String(value))) throw new WorkflowInvalid(`Provided value '${value}' for input '${name}' not in the list of allowed values`);
    if (def.type === 'boolean') inputs[name] = value === true || value === 'true';
    else if ((def.type as string) === 'number') inputs[name] = Number(value);
    else inputs[name] = String(value);
  }
  return inputs;
}

/** A job cancelled by a concurrency group (not by its timeout): the run is cancelled, not failed. */
function byGroup(run: JobRun): boolean {
  return run.error?.startsWith('Canceling since') ?? false;
}

type Held = { admitted: true; concurrency?: JobConcurrency; signal: AbortSignal; release: () => void } | { admitted: false; message: string };

/**
 * A workflow's own `concurrency:` (top level, or a called workflow's): held until its jobs are
 * done; a newer run with cancel-in-progress aborts `signal`, which cancels the running job and
 * the jobs not started yet.
 */
async function holdWorkflowGroup(workflow: LoadedWorkflow, contexts: Contexts, level: Level, job: string): Promise<Held> {
  const concurrency = await readConcurrency(field(workflow.root, 'concurrency'), contexts, workflow.path);
  const cancel = new AbortController();
  const signal = AbortSignal.any([cancel.signal, level.signal]);
  if (!concurrency) return { admitted: true, signal, release: () => undefined };
  const github = contexts.github as Record<string, Json>;
  const admission = await level.options.concurrency!.acquire({
    ...concurrency,
    who: `${toText(github.workflow)} #${toText(github.run_id)}${level.names.length ? ` / ${level.names.join(' / ')}` : ''}`,
    run: toText(github.run_id),
    job,
    onCancel: (m) => cancel.abort(m),
  });
  if (!admission.admitted) return admission;
  return { admitted: true, concurrency: { ...concurrency, ...(admission.waited ? { waited: true } : {}) }, signal, release: admission.release };
}

/** Runs a workflow for an event, as GitHub would; its jobs' runner directories are gone when it returns. */
export async function runWorkflow(given: ExecutorOptions): Promise<WorkflowRun> {
  try {
    return await runWorkflowOnce(given);
  } finally {
    await runnerDirsRemoved();
  }
}

async function runWorkflowOnce(given: ExecutorOptions): Promise<WorkflowRun> {
  const options: ExecutorOptions = { ...given, concurrency: given.concurrency ?? new ConcurrencyGroups() };
  const sources: Sources = {
    self: options.self ?? 'org/deploy-actions',
    selfRoot: options.selfRoot ?? repoRoot,
    selfAt: options.selfAt,
    overrides: options.overrides,
    callerRoot: options.repository.root,
    callerRepository: options.repository.name,
    callerRef: options.event.ref,
  };
  const runs: JobRun[] = [];
  try {
    const text = options.workflow.text ?? resolveReference(`./${options.workflow.path}`, sources, '')?.text;
    if (text === undefined) throw new WorkflowInvalid(`${options.workflow.path} does not exist in ${options.repository.root}`);
    const top = await loadWorkflow({ repository: options.repository.name, path: options.workflow.path, ref: options.event.ref, text, root: options.repository.root });
    if (!triggers(top, options.event)) return { conclusion: 'skipped', jobs: [], outputs: {}, notTriggered: true };
    const tree = await loadTree(top, undefined, 1, options, sources);
    const github = githubContext(options, top);
    const inputs = options.event.name === 'workflow_dispatch' ? dispatchInputs(top, options.event.inputs ?? {}) : {};
    if (options.event.name === 'workflow_dispatch') github.event = { ...options.event.payload, inputs: Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, toText(v)])) };
    const root = { options, sources, tree, github, inputs, secrets: { ...options.secrets }, passedSecrets: 'all' as const, path: [], names: [], runs, signal: new AbortController().signal };
    // The run's workflow-level group: the whole run is pending until it holds it.
    const held = await holdWorkflowGroup(top, { github, inputs, vars: options.vars ?? {} }, root, 'top level workflow');
    if (!held.admitted) {
      options.log?.(`✗ ${held.message}`);
      return { conclusion: 'cancelled', jobs: [], outputs: {}, error: held.message };
    }
    try {
      await runLevel({ ...root, signal: held.signal });
    } finally {
      held.release();
    }
    // A call's record sums up its jobs (listed too): a job cancelled at its timeout fails the run.
    const failed = runs.some((r) => effectiveResult(r) === 'failure' || (r.result === 'cancelled' && !r.calls && !byGroup(r)));
    const cancelled = held.signal.aborted || runs.some((r) => r.result === 'cancelled');
    return { conclusion: failed ? 'failure' : cancelled ? 'cancelled' : 'success', jobs: runs, outputs: {}, ...(held.concurrency ? { concurrency: held.concurrency } : {}) };
  } catch (err) {
    if (!(err instanceof WorkflowInvalid)) throw err;
    options.log?.(`✗ ${err.message}`);
    return { conclusion: 'failure', jobs: runs, outputs: {}, error: err.message };
  }
}
