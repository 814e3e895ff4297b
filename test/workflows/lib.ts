// Checks over GitHub Actions workflow files, read from the files themselves. Each check returns a
// list of problems (empty = fine), so a test can feed a broken workflow and see the check fail.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { register } from 'node:module';
import { join } from 'node:path';
import { Evaluator, Lexer, Parser, data } from '@actions/expressions';
import { parse as parseYaml } from 'yaml';

export const repoRoot = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');

/** The owner/name service repositories use for this repository's actions and workflows. */
export const SELF = 'org/deploy-actions';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Obj = Record<string, any>;

export interface WorkflowFile {
  /** Path relative to the repository root. */
  path: string;
  text: string;
  doc: Obj;
}

export function readWorkflow(path: string): WorkflowFile {
  const text = readFileSync(join(repoRoot, path), 'utf8');
  return { path, text, doc: parseYaml(text) as Obj };
}

/** A workflow from text (for tests that feed broken workflows). */
export function workflowFromText(path: string, text: string): WorkflowFile {
  return { path, text, doc: parseYaml(text) as Obj };
}

export function listWorkflows(dir: string): string[] {
  const abs = join(repoRoot, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs)
    .filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'))
    .sort()
    .map((f) => `${dir}/${f}`);
}

// ---------------------------------------------------------------------------------------------
// @actions/workflow-parser

let hookRegistered = false;

/** Schema errors from GitHub's own workflow parser (@actions/workflow-parser), one line each. */
export async function workflowParserErrors(path: string, text: string): Promise<string[]> {
  if (!hookRegistered) {
    // The parser's ESM imports its JSON schema without an import attribute; see the hook.
    register(new URL('./json-module-hook.mjs', import.meta.url));
    hookRegistered = true;
  }
  const { parseWorkflow, convertWorkflowTemplate, NoOperationTraceWriter } = await import('@actions/workflow-parser');
  const parsed = parseWorkflow({ name: path, content: text }, new NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors().map((e) => e.message);
  if (errors.length === 0 && parsed.value) {
    const template = await convertWorkflowTemplate(parsed.context, parsed.value);
    for (const e of template.errors ?? []) errors.push(e.Message);
  }
  return errors;
}

// ---------------------------------------------------------------------------------------------
// Expressions (evaluated with GitHub's expression engine, @actions/expressions)

const CONTEXTS = ['github', 'inputs', 'vars', 'env', 'needs', 'steps', 'jobs', 'secrets', 'runner', 'job', 'matrix', 'strategy'];

/** Evaluates one expression (without ${{ }}) against `ctx` (plain JSON). */
export function evaluate(expr: string, ctx: Obj): data.ExpressionData {
  const lexed = new Lexer(expr).lex();
  const tree = new Parser(lexed.tokens, CONTEXTS, STATUS_FUNCTIONS).parse();
  const dict = JSON.parse(JSON.stringify(ctx), data.reviver) as data.Dictionary;
  return new Evaluator(tree, dict, new Map(STATUS_FUNCTIONS.map((f) => [f.name, f]))).evaluate();
}

/** The job status functions, as for a run in which every job so far succeeded. */
const STATUS_FUNCTIONS = Object.entries({ always: true, success: true, failure: false, cancelled: false }).map(([name, value]) => ({
  name,
  minArgs: 0,
  maxArgs: 0,
  call: () => new data.BooleanData(value),
}));
/** An if: that runs its job whatever happened to the jobs it needs. */
const RUNS_ANYWAY = /\b(always|failure|cancelled)\(\)/;

function truthy(d: data.ExpressionData): boolean {
  switch (d.kind) {
    case data.Kind.Null:
      return false;
    case data.Kind.Boolean:
      return (d as data.BooleanData).value;
    case data.Kind.Number:
      return (d as data.NumberData).value !== 0 && !Number.isNaN((d as data.NumberData).value);
    case data.Kind.String:
      return (d as data.StringData).value !== '';
    default:
      return true;
  }
}

/** A value that is exactly one `${{ expression }}`. */
const WHOLE_EXPRESSION = /^\$\{\{((?:(?!\}\})[\s\S])*)\}\}$/;

/** A job or step `if:` (with or without ${{ }}); absent means true. */
export function evaluateIf(condition: unknown, ctx: Obj): boolean {
  if (condition === undefined || condition === null) return true;
  if (typeof condition === 'boolean') return condition;
  let text = String(condition).trim();
  const whole = WHOLE_EXPRESSION.exec(text);
  if (whole) text = whole[1]!;
  return truthy(evaluate(text, ctx));
}

/** A value with ${{ }} parts, rendered to a string as the runner would. */
export function render(value: unknown, ctx: Obj): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') return String(value);
  return value.replace(/\$\{\{([\s\S]*?)\}\}/g, (_m, expr: string) => evaluate(expr, ctx).coerceString());
}

// ---------------------------------------------------------------------------------------------
// Structure helpers

export function jobsOf(doc: Obj): Array<[string, Obj]> {
  return Object.entries((doc.jobs ?? {}) as Obj) as Array<[string, Obj]>;
}

export function stepsOf(job: Obj): Obj[] {
  return Array.isArray(job.steps) ? (job.steps as Obj[]) : [];
}

/** The name of one of this repository's actions a `uses:` refers to (`$/<name>` or `org/deploy-actions/<name>@ref`), or undefined. */
export function ownAction(uses: unknown): string | undefined {
  if (typeof uses !== 'string') return undefined;
  const m = /^\$\/([a-z0-9-]+)$/.exec(uses) ?? new RegExp(`^${SELF}/([a-z0-9-]+)@[^/]+$`).exec(uses);
  return m ? m[1] : undefined;
}

/** The file in this repository a job-level `uses:` (reusable workflow call) refers to, or undefined. */
export function calledWorkflowPath(uses: unknown): string | undefined {
  if (typeof uses !== 'string') return undefined;
  const local = /^(?:\.|\$)\/(\.github\/workflows\/[^@/]+\.ya?ml)$/.exec(uses);
  if (local) return local[1];
  const remote = new RegExp(`^${SELF}/(\\.github/workflows/[^@/]+\\.ya?ml)@[^/]+$`).exec(uses);
  return remote ? remote[1] : undefined;
}

/** Whether a step uses the action `owner/name` (any ref). */
export function usesAction(step: Obj, action: string): boolean {
  return typeof step.uses === 'string' && step.uses.startsWith(`${action}@`);
}

function needsList(job: Obj): string[] {
  if (job.needs === undefined) return [];
  return Array.isArray(job.needs) ? (job.needs as string[]) : [String(job.needs)];
}

// ---------------------------------------------------------------------------------------------
// Check: third-party actions pinned by full commit SHA, with a version comment

const SHA_PIN = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+(\/[^@\s]+)?@[0-9a-f]{40}$/;

export function checkPins(wf: WorkflowFile): string[] {
  const problems: string[] = [];
  const on = wf.doc.on;
  const reusable = on === 'workflow_call' || (Array.isArray(on) ? on.includes('workflow_call') : typeof on === 'object' && on !== null && 'workflow_call' in on);
  const lines = wf.text.split('\n');
  const check = (where: string, uses: string, kind: 'step' | 'job'): void => {
    // A starter is copied into a service repository: there `$/` and `./` name the service's own files.
    const starter = !wf.path.startsWith('.github/');
    if (uses.startsWith('./')) {
      // Inside a workflow another repository runs (a reusable one, or a starter copied into a
      // service repo), GitHub resolves ./ against the caller's repository, not this one.
      if (kind === 'step') problems.push(`${where}: local action ${uses} would resolve in the caller's repository; use $/${uses.slice(2)}`);
      else if (reusable) problems.push(`${where}: local workflow ${uses} would resolve in the caller's repository; use $/${uses.slice(2)}`);
      return;
    }
    if (uses.startsWith('$/')) {
      if (starter) problems.push(`${where}: ${uses} would resolve in the service repository that copies this starter; use ${SELF}/${uses.slice(2)}@v1`);
      return; // this repository at the running commit
    }
    if (ownAction(uses) || calledWorkflowPath(uses)) {
      // Inside this repository's workflows an own reference names the commit that runs ($/), never a ref
      // that could name another commit (a moved tag, a branch) or fail a SHA-pinning policy.
      if (!starter) problems.push(`${where}: ${uses} names a ref of this repository; use $/${uses.replace(new RegExp(`^${SELF}/`), '').replace(/@[^@]*$/, '')} (the running commit)`);
      return;
    }
    if (uses.startsWith('docker://')) {
      if (!/@sha256:[0-9a-f]{64}$/.test(uses)) problems.push(`${where}: docker image ${uses} is not pinned by digest`);
      return;
    }
    if (!SHA_PIN.test(uses)) {
      problems.push(`${where}: ${uses} is not pinned by a full 40-hex commit SHA`);
      return;
    }
    const line = lines.find((l) => l.includes(`uses: ${uses}`));
    if (!line || !/#\s*v\d+\.\d+\.\d+\b/.test(line)) problems.push(`${where}: ${uses} has no '# vX.Y.Z' comment naming the release`);
  };
  for (const [id, job] of jobsOf(wf.doc)) {
    if (typeof job.uses === 'string') check(`${wf.path} job ${id}`, job.uses, 'job');
    stepsOf(job).forEach((s, i) => {
      if (typeof s.uses === 'string') check(`${wf.path} job ${id} step ${s.name ?? i}`, s.uses, 'step');
    });
  }
  return problems;
}

/** Third-party actions pinned to different commits in different workflows (one line per action). */
export function checkPinsAgree(wfs: readonly WorkflowFile[]): string[] {
  const seen = new Map<string, Map<string, string[]>>();
  for (const wf of wfs) {
    for (const [, job] of jobsOf(wf.doc)) {
      for (const s of stepsOf(job)) {
        const uses = typeof s.uses === 'string' ? s.uses : '';
        if (!SHA_PIN.test(uses) || ownAction(uses)) continue;
        const [action, ref] = uses.split('@') as [string, string];
        const refs = seen.get(action) ?? new Map<string, string[]>();
        refs.set(ref, [...(refs.get(ref) ?? []), wf.path]);
        seen.set(action, refs);
      }
    }
  }
  return [...seen]
    .filter(([, refs]) => refs.size > 1)
    .map(([action, refs]) => `${action} is pinned to ${refs.size} commits: ${[...refs].map(([ref, files]) => `${ref} in ${[...new Set(files)].join(', ')}`).join('; ')}`);
}

// ---------------------------------------------------------------------------------------------
// Check: no ${{ }} inside run: scripts (values reach scripts through env:)

export function checkNoExpressionsInRun(wf: WorkflowFile): string[] {
  const problems: string[] = [];
  for (const [id, job] of jobsOf(wf.doc)) {
    stepsOf(job).forEach((s, i) => {
      if (typeof s.run === 'string' && s.run.includes('${{')) {
        problems.push(`${wf.path} job ${id} step ${s.name ?? i}: run: contains a \${{ }} expression; pass it through env:`);
      }
    });
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Check: least permissions

type Perms = Record<string, string>;

function permsOf(value: unknown): Perms | string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  return { ...(value as Perms) };
}

/** The permissions a job with steps needs, from what its steps use. */
export function neededPermissions(job: Obj): Perms {
  const need: Perms = {};
  for (const s of stepsOf(job)) {
    if (usesAction(s, 'actions/checkout')) need.contents = 'read';
    if (usesAction(s, 'aws-actions/configure-aws-credentials')) need['id-token'] = 'write';
    if (ownAction(s.uses) === 'promote-gate') {
      const mode = String(s.with?.mode ?? '');
      if (mode === 'record' || mode === 'fail') need.deployments = 'write';
      else if (need.deployments !== 'write') need.deployments = 'read';
      if (mode === 'status') need.actions = 'read'; // who approved: the runs' review history
      if (mode === 'card') {
        need.actions = 'read'; // who approved: the review history of the runs in the evidence
        need['pull-requests'] = 'read'; // GET /commits/{sha}/pulls (a private repository)
      }
    }
    // A run: step that reads a run's review history.
    if (typeof s.run === 'string' && /\/actions\/runs\/[^/]+\/approvals/.test(JSON.stringify(s.env ?? {}))) need.actions = 'read';
  }
  return need;
}

const LEVEL: Record<string, number> = { none: 0, read: 1, write: 2 };

function mergePerms(into: Perms, more: Perms): void {
  for (const [k, v] of Object.entries(more)) {
    if ((LEVEL[v] ?? 0) > (LEVEL[into[k] ?? 'none'] ?? 0)) into[k] = v;
  }
}

function samePerms(a: Perms, b: Perms): boolean {
  const clean = (p: Perms): string =>
    JSON.stringify(
      Object.entries(p)
        .filter(([, v]) => v !== 'none')
        .sort(([x], [y]) => x.localeCompare(y)),
    );
  return clean(a) === clean(b);
}

export type WorkflowResolver = (path: string) => WorkflowFile | undefined;

export const resolveFromRepo: WorkflowResolver = (path) => (existsSync(join(repoRoot, path)) ? readWorkflow(path) : undefined);

/** What a workflow's jobs need together (for a job that calls it). */
export function workflowPermissions(wf: WorkflowFile, resolve: WorkflowResolver, depth = 0): Perms {
  const all: Perms = {};
  for (const [, job] of jobsOf(wf.doc)) {
    const called = calledWorkflowPath(job.uses);
    if (called) {
      const callee = depth < 4 ? resolve(called) : undefined;
      if (callee) mergePerms(all, workflowPermissions(callee, resolve, depth + 1));
    } else mergePerms(all, neededPermissions(job));
  }
  return all;
}

export function checkPermissions(wf: WorkflowFile, resolve: WorkflowResolver = resolveFromRepo): string[] {
  const problems: string[] = [];
  const top = permsOf(wf.doc.permissions);
  if (top === undefined || typeof top === 'string' || Object.keys(top).length > 0) {
    problems.push(`${wf.path}: top-level permissions must be {} (each job declares its own); got ${JSON.stringify(wf.doc.permissions)}`);
  }
  for (const [id, job] of jobsOf(wf.doc)) {
    const where = `${wf.path} job ${id}`;
    const have = permsOf(job.permissions);
    if (have === undefined) {
      problems.push(`${where}: declares no permissions (it would get the repository default)`);
      continue;
    }
    if (typeof have === 'string') {
      problems.push(`${where}: permissions '${have}' is not least privilege`);
      continue;
    }
    const called = calledWorkflowPath(job.uses);
    let need: Perms;
    if (called) {
      const callee = resolve(called);
      if (!callee) {
        problems.push(`${where}: calls ${String(job.uses)}, which is not in this repository`);
        continue;
      }
      need = workflowPermissions(callee, resolve);
    } else need = neededPermissions(job);
    if (!samePerms(have, need)) {
      problems.push(`${where}: permissions ${JSON.stringify(have)} differ from what it uses ${JSON.stringify(need)}`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Check: this repository's actions and reusable workflows are called with inputs they declare

export interface ActionMeta {
  inputs: Record<string, { required?: boolean; default?: unknown }>;
  outputs: Record<string, unknown>;
}

export type ActionResolver = (name: string) => ActionMeta | undefined;

export const actionFromRepo: ActionResolver = (name) => {
  const file = join(repoRoot, name, 'action.yml');
  if (!existsSync(file)) return undefined;
  const doc = parseYaml(readFileSync(file, 'utf8')) as Obj;
  return { inputs: (doc.inputs ?? {}) as ActionMeta['inputs'], outputs: (doc.outputs ?? {}) as ActionMeta['outputs'] };
};

function outputRefs(text: string, prefix: string): Array<[string, string]> {
  const re = new RegExp(`${prefix.replace(/\./g, '\\.')}\\.([A-Za-z0-9_-]+)\\.outputs\\.([A-Za-z0-9_-]+)`, 'g');
  return [...text.matchAll(re)].map((m) => [m[1]!, m[2]!]);
}

export function checkActionInputs(wf: WorkflowFile, resolve: ActionResolver = actionFromRepo): string[] {
  const problems: string[] = [];
  for (const [id, job] of jobsOf(wf.doc)) {
    const stepAction = new Map<string, string>();
    stepsOf(job).forEach((s, i) => {
      const name = ownAction(s.uses);
      if (!name) return;
      const where = `${wf.path} job ${id} step ${s.name ?? i}`;
      const meta = resolve(name);
      if (!meta) {
        problems.push(`${where}: ${name}/action.yml does not exist`);
        return;
      }
      if (typeof s.id === 'string') stepAction.set(s.id, name);
      const given = Object.keys((s.with ?? {}) as Obj);
      for (const key of given) {
        if (!(key in meta.inputs)) problems.push(`${where}: ${name} has no input '${key}'`);
      }
      for (const [key, def] of Object.entries(meta.inputs)) {
        if (def?.required === true && def.default === undefined && !given.includes(key)) {
          problems.push(`${where}: required input '${key}' of ${name} is not given`);
        }
      }
    });
    // steps.<id>.outputs.<name> of our actions must be declared outputs.
    for (const [stepId, output] of outputRefs(JSON.stringify(job), 'steps')) {
      const name = stepAction.get(stepId);
      if (!name) continue;
      const meta = resolve(name);
      if (meta && !(output in meta.outputs)) problems.push(`${wf.path} job ${id}: ${name} has no output '${output}' (steps.${stepId}.outputs.${output})`);
    }
  }
  return problems;
}

function callInputs(callee: WorkflowFile): Record<string, Obj> {
  return (callee.doc.on?.workflow_call?.inputs ?? {}) as Record<string, Obj>;
}

function callOutputs(callee: WorkflowFile): Record<string, Obj> {
  return (callee.doc.on?.workflow_call?.outputs ?? {}) as Record<string, Obj>;
}

export function checkWorkflowCalls(wf: WorkflowFile, resolve: WorkflowResolver = resolveFromRepo): string[] {
  const problems: string[] = [];
  const jobs = Object.fromEntries(jobsOf(wf.doc));
  for (const [id, job] of jobsOf(wf.doc)) {
    const where = `${wf.path} job ${id}`;
    const called = calledWorkflowPath(job.uses);
    if (typeof job.uses === 'string' && !called) {
      problems.push(`${where}: calls ${job.uses}, not a workflow of this repository`);
      continue;
    }
    if (called) {
      const callee = resolve(called);
      if (!callee) {
        problems.push(`${where}: ${called} does not exist`);
        continue;
      }
      const inputs = callInputs(callee);
      const given = Object.keys((job.with ?? {}) as Obj);
      for (const key of given) if (!(key in inputs)) problems.push(`${where}: ${called} has no input '${key}'`);
      for (const [key, def] of Object.entries(inputs)) {
        if (def.required === true && !given.includes(key)) problems.push(`${where}: required input '${key}' of ${called} is not given`);
      }
    }
    // needs.<job>.outputs.<name>: <job> is a direct need and declares that output.
    for (const [dep, output] of outputRefs(JSON.stringify({ ...job, steps: job.steps }), 'needs')) {
      if (!needsList(job).includes(dep)) {
        problems.push(`${where}: uses needs.${dep}.outputs.${output} but does not need ${dep}`);
        continue;
      }
      const depJob = jobs[dep] as Obj | undefined;
      const depCalled = depJob ? calledWorkflowPath(depJob.uses) : undefined;
      const declared = depCalled ? Object.keys(callOutputs(resolve(depCalled) ?? { path: '', text: '', doc: {} })) : Object.keys((depJob?.outputs ?? {}) as Obj);
      if (!declared.includes(output)) problems.push(`${where}: job ${dep} has no output '${output}'`);
    }
  }
  // A reusable workflow's outputs come from outputs its jobs declare.
  for (const [name, out] of Object.entries(callOutputs(wf))) {
    for (const [jobId, output] of outputRefs(String(out.value ?? ''), 'jobs')) {
      const job = jobs[jobId] as Obj | undefined;
      const called = job ? calledWorkflowPath(job.uses) : undefined;
      const declared = called ? callOutputs(resolve(called) ?? { path: '', text: '', doc: {} }) : ((job?.outputs ?? {}) as Obj);
      if (!job || !(output in declared)) {
        problems.push(`${wf.path}: workflow output '${name}' refers to jobs.${jobId}.outputs.${output}, which is not declared`);
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Check: deploy jobs (environment, concurrency, promotion gate)

/**
 * Every job that runs helm-deploy-eks declares its environment (name and url) and a concurrency
 * group per repository and environment that never cancels a deploy in progress.
 */
export function checkDeployJobs(wf: WorkflowFile): string[] {
  const problems: string[] = [];
  for (const [id, job] of jobsOf(wf.doc)) {
    if (!stepsOf(job).some((s) => ownAction(s.uses) === 'helm-deploy-eks')) continue;
    const where = `${wf.path} job ${id}`;
    const env = job.environment as Obj | string | undefined;
    if (env === undefined || typeof env === 'string') {
      problems.push(`${where}: deploys without environment: {name, url} (no approval gate)`);
    } else {
      if (!env.name) problems.push(`${where}: environment has no name`);
      if (!env.url || !/steps\.[A-Za-z0-9_-]+\.outputs\./.test(String(env.url))) problems.push(`${where}: environment url must come from a step output`);
    }
    const conc = (job.concurrency ?? wf.doc.concurrency) as Obj | string | undefined;
    if (conc === undefined || typeof conc === 'string') {
      problems.push(`${where}: no concurrency group with cancel-in-progress: false`);
    } else {
      // false, or a boolean input defaulting to false (deploy.yml: the caller's rollback sets it).
      const cancel = conc['cancel-in-progress'];
      const input = /^\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}$/.exec(String(cancel))?.[1];
      const def: Obj | undefined = input ? (wf.doc.on as Obj | undefined)?.workflow_call?.inputs?.[input] : undefined;
      if (cancel !== false && !(def && def.type === 'boolean' && def.default === false)) {
        problems.push(`${where}: concurrency must set cancel-in-progress: false (or a boolean input defaulting to false)`);
      }
      const group = String(conc.group ?? '');
      const a = render(group, { github: { repository: 'acme/a' }, inputs: { environment: 'qa' } });
      const b = render(group, { github: { repository: 'acme/a' }, inputs: { environment: 'production' } });
      const c = render(group, { github: { repository: 'acme/b' }, inputs: { environment: 'qa' } });
      if (a === b || a === c) problems.push(`${where}: concurrency group '${group}' is not per repository and environment`);
    }
  }
  return problems;
}

export interface GateResult {
  /** Whether the verify step runs before the deploy step. */
  verifies: boolean;
  requireEnvironment: string;
  targetEnvironment: string;
}

/**
 * Simulates the steps of a deploy job for given workflow inputs: does a promote-gate verify step
 * run before helm-deploy-eks, and with which environments?
 */
export function gateFor(job: Obj, inputs: Obj): GateResult {
  const ctx = { inputs, github: { ref: 'refs/heads/main', repository: 'acme/svc' }, vars: {} };
  for (const s of stepsOf(job)) {
    const name = ownAction(s.uses);
    if (name === 'helm-deploy-eks') break;
    if (name !== 'promote-gate' || !evaluateIf(s.if, ctx)) continue;
    if (render(s.with?.mode, ctx) !== 'verify') continue;
    return {
      verifies: true,
      requireEnvironment: render(s.with?.['require-environment'] ?? 'preprod', ctx),
      targetEnvironment: render(s.with?.['target-environment'] ?? 'production', ctx),
    };
  }
  return { verifies: false, requireEnvironment: '', targetEnvironment: '' };
}

/** Defaults of a reusable workflow's inputs, overridden by `given`. */
export function callInputValues(callee: WorkflowFile, given: Obj, ctx: Obj): Obj {
  const values: Obj = {};
  for (const [key, def] of Object.entries(callInputs(callee))) values[key] = def.default ?? (def.type === 'boolean' ? false : '');
  for (const [key, v] of Object.entries(given)) {
    const whole = typeof v === 'string' ? WHOLE_EXPRESSION.exec(v.trim()) : null;
    values[key] = whole ? evaluate(whole[1]!, ctx).coerceString() : render(v, ctx);
  }
  return values;
}

/**
 * In the deploy workflow, a production deploy always verifies preprod evidence first, whatever the
 * caller passes; other environments only when asked.
 */
export function checkProductionGate(deploy: WorkflowFile): string[] {
  const problems: string[] = [];
  const deployJobs = jobsOf(deploy.doc).filter(([, j]) => stepsOf(j).some((s) => ownAction(s.uses) === 'helm-deploy-eks'));
  if (deployJobs.length === 0) problems.push(`${deploy.path}: no job runs helm-deploy-eks`);
  for (const [id, job] of deployJobs) {
    for (const require of ['', 'qa', 'preprod']) {
      const inputs = callInputValues(deploy, { environment: 'production', 'require-environment': require }, {});
      const g = gateFor(job, inputs);
      if (!g.verifies) problems.push(`${deploy.path} job ${id}: production deploy (require-environment '${require}') runs no promote-gate verify before helm-deploy-eks`);
      else if (g.requireEnvironment !== 'preprod' || g.targetEnvironment !== 'production') {
        problems.push(`${deploy.path} job ${id}: production gate requires '${g.requireEnvironment}' for target '${g.targetEnvironment}', not preprod for production`);
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Check: the pipeline's job graph

export interface PipelineExpectation {
  /** ref -> jobs that run, each with the environment it deploys to ('' for build). */
  runs: Record<string, Record<string, string>>;
}

/** Jobs that run for a ref (by their if: and their needs), with the environment each deploys to. */
export function jobsRunningFor(wf: WorkflowFile, ref: string, resolve: WorkflowResolver = resolveFromRepo): Record<string, string> {
  const ctx = { github: { ref, event_name: 'push', repository: 'acme/svc' }, inputs: {}, vars: {} };
  const running: Record<string, string> = {};
  const all = Object.fromEntries(jobsOf(wf.doc));
  const decided = new Map<string, boolean>();
  const runs = (id: string, seen: string[] = []): boolean => {
    if (decided.has(id)) return decided.get(id)!;
    const job = all[id] as Obj | undefined;
    let ok = job !== undefined && !seen.includes(id);
    // Without always()/failure() in if:, a job runs only when every job it needs succeeded (ran).
    if (ok && !RUNS_ANYWAY.test(String(job!.if ?? ''))) ok = needsList(job!).every((n) => runs(n, [...seen, id]));
    // An if: that reads needs.<job>.result (with !cancelled()) sees success for a job that runs, skipped otherwise.
    const needs = ok ? Object.fromEntries(needsList(job!).map((n) => [n, { result: runs(n, [...seen, id]) ? 'success' : 'skipped', outputs: {} }])) : {};
    if (ok) ok = evaluateIf(job!.if, { ...ctx, needs });
    decided.set(id, ok);
    return ok;
  };
  for (const [id, job] of jobsOf(wf.doc)) {
    if (!runs(id)) continue;
    const called = calledWorkflowPath(job.uses);
    let env = typeof job.environment === 'string' ? job.environment : String(job.environment?.name ?? '');
    if (called && resolve(called) && job.with?.environment !== undefined) env = render(job.with.environment, ctx);
    running[id] = env;
  }
  return running;
}

/** Whether `from` needs `to`, directly or through other jobs. */
export function dependsOn(wf: WorkflowFile, from: string, to: string): boolean {
  const all = Object.fromEntries(jobsOf(wf.doc));
  const stack = [...needsList((all[from] ?? {}) as Obj)];
  const seen = new Set<string>();
  while (stack.length) {
    const n = stack.pop()!;
    if (n === to) return true;
    if (seen.has(n)) continue;
    seen.add(n);
    stack.push(...needsList((all[n] ?? {}) as Obj));
  }
  return false;
}

/**
 * The release flow: develop -> build, qa; main -> build, preprod, production; nothing else on other
 * refs. Each deploy stage needs the one before, deploys build's image-ref, and production runs the
 * promote-gate verify of preprod before helm-deploy-eks.
 */
export function checkPipeline(wf: WorkflowFile, resolve: WorkflowResolver = resolveFromRepo): string[] {
  const problems: string[] = [];
  const expected: Record<string, Record<string, string>> = {
    'refs/heads/develop': { build: '', qa: 'qa', status: '' },
    'refs/heads/main': { build: '', preprod: 'preprod', production: 'production', status: '' },
    'refs/heads/feature/x': {},
    'refs/tags/v1.0.0': {},
  };
  for (const [ref, want] of Object.entries(expected)) {
    const got = jobsRunningFor(wf, ref, resolve);
    if (JSON.stringify(Object.entries(got).sort()) !== JSON.stringify(Object.entries(want).sort())) {
      problems.push(`${wf.path}: on ${ref} runs ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
    }
  }
  const chain: Array<[string, string]> = [
    ['qa', 'build'],
    ['preprod', 'build'],
    ['production', 'preprod'],
    ['production', 'build'],
  ];
  for (const [from, to] of chain) {
    if (!dependsOn(wf, from, to)) problems.push(`${wf.path}: job ${from} does not need ${to}`);
  }
  const all = Object.fromEntries(jobsOf(wf.doc));
  // Each stage carries its own ref condition too, not only through the stage it needs.
  const ownRef: Record<string, string> = { qa: 'refs/heads/develop', preprod: 'refs/heads/main', production: 'refs/heads/main' };
  for (const [stage, only] of Object.entries(ownRef)) {
    const job = all[stage] as Obj | undefined;
    if (!job) continue;
    for (const ref of Object.keys(expected)) {
      // The jobs it needs succeeded (an if: with !cancelled() may read their results).
      const needs = Object.fromEntries(needsList(job).map((n) => [n, { result: 'success', outputs: {} }]));
      const ctx = { github: { ref, event_name: 'push' }, inputs: {}, vars: {}, needs };
      if (evaluateIf(job.if, ctx) !== (ref === only)) {
        problems.push(`${wf.path}: job ${stage}'s own if: ${ref === only ? 'excludes' : 'allows'} ${ref} (only ${only} may deploy ${stage})`);
      }
    }
  }
  for (const stage of ['qa', 'preprod', 'production']) {
    const job = all[stage] as Obj | undefined;
    if (!job) continue;
    const called = calledWorkflowPath(job.uses);
    const callee = called ? resolve(called) : undefined;
    if (!callee || called !== '.github/workflows/deploy.yml') {
      problems.push(`${wf.path}: job ${stage} does not call .github/workflows/deploy.yml`);
      continue;
    }
    if (!/^\$\{\{\s*needs\.build\.outputs\.image-ref\s*\}\}$/.test(String(job.with?.['image-ref'] ?? ''))) {
      problems.push(`${wf.path}: job ${stage} does not deploy needs.build.outputs.image-ref`);
    }
    const needs = Object.fromEntries(needsList(job).map((n) => [n, { result: 'success', outputs: {} }]));
    const ctx = { github: { ref: 'refs/heads/main' }, inputs: {}, vars: {}, needs: { ...needs, build: { result: 'success', outputs: { 'image-ref': 'r@sha256:x' } } } };
    const values = callInputValues(callee, (job.with ?? {}) as Obj, ctx);
    const deployJob = jobsOf(callee.doc).find(([, j]) => stepsOf(j).some((s) => ownAction(s.uses) === 'helm-deploy-eks'));
    if (!deployJob) continue;
    const gate = gateFor(deployJob[1], values);
    if (stage === 'production' && (!gate.verifies || gate.requireEnvironment !== 'preprod')) {
      problems.push(`${wf.path}: production deploys without verifying preprod evidence first`);
    }
  }
  return problems;
}
