// The reusable workflows (.github/workflows) and the starter workflows (workflows/), checked from
// the files themselves: GitHub's parser, actionlint, and the release-governance structure.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { actionlint, formatFindings } from '../tools/actionlint';
import {
  checkActionInputs,
  checkDeployJobs,
  checkNoExpressionsInRun,
  checkPermissions,
  checkPins,
  checkPinsAgree,
  checkPipeline,
  checkProductionGate,
  checkWorkflowCalls,
  gateFor,
  jobsOf,
  jobsRunningFor,
  listWorkflows,
  readWorkflow,
  repoRoot,
  stepsOf,
  ownAction,
  callInputValues,
  calledWorkflowPath,
  render,
  workflowParserErrors,
  type WorkflowFile,
} from './lib';

const REUSABLE = ['.github/workflows/build.yml', '.github/workflows/deploy.yml', '.github/workflows/pipeline.yml'];
// workflows/environments.yml describes GitHub environments (packages/environments); it is not a workflow.
const STARTERS = listWorkflows('workflows').filter((p) => p !== 'workflows/environments.yml');
// Every workflow file: ours plus whatever else lives there (ci.yml, environments.yml is not a workflow).
const ALL = [...new Set([...REUSABLE, ...listWorkflows('.github/workflows'), ...STARTERS])];

describe('every workflow file', () => {
  test('the expected files exist', () => {
    for (const p of [...REUSABLE, 'workflows/deploy.yml', 'workflows/redeploy.yml']) expect(ALL).toContain(p);
  });

  test('every variable the workflows read is documented in workflows/README.md', () => {
    const readme = readFileSync(join(repoRoot, 'workflows/README.md'), 'utf8');
    const used = new Set<string>();
    for (const p of ALL) for (const m of readWorkflow(p).text.matchAll(/\bvars\.([A-Za-z_][A-Za-z0-9_]*)/g)) used.add(m[1]!);
    expect(used.size).toBeGreaterThan(0);
    expect([...used].filter((v) => !readme.includes(`\`${v}\``))).toEqual([]);
  });

  test.each(ALL)('%s parses with @actions/workflow-parser without errors', async (path) => {
    const wf = readWorkflow(path);
    expect(await workflowParserErrors(path, wf.text)).toEqual([]);
  });

  test.each(ALL)('%s has no actionlint findings', async (path) => {
    const wf = readWorkflow(path);
    expect(formatFindings(path, await actionlint(wf.text, path))).toEqual([]);
  });

  test.each(ALL)('%s pins third-party actions by full commit SHA', (path) => {
    expect(checkPins(readWorkflow(path))).toEqual([]);
  });

  test('each third-party action is pinned to the same commit in every workflow', () => {
    expect(checkPinsAgree(ALL.map(readWorkflow))).toEqual([]);
  });

  test.each(ALL)('%s has no ${{ }} inside run: scripts', (path) => {
    expect(checkNoExpressionsInRun(readWorkflow(path))).toEqual([]);
  });
});

describe.each([...REUSABLE, ...STARTERS])('%s', (path) => {
  test('permissions: {} at the top, and each job exactly what it uses', () => {
    expect(checkPermissions(readWorkflow(path))).toEqual([]);
  });

  test('calls our actions with inputs their action.yml declares (and every required one)', () => {
    expect(checkActionInputs(readWorkflow(path))).toEqual([]);
  });

  test('calls reusable workflows with declared inputs and reads declared outputs', () => {
    expect(checkWorkflowCalls(readWorkflow(path))).toEqual([]);
  });

  test('every deploy job declares its environment and a concurrency group that cancels only when the caller asks (rollback, redeploy)', () => {
    expect(checkDeployJobs(readWorkflow(path))).toEqual([]);
  });
});

// The chart's image keys a team edits in a starter (issue 24), in the order the starters list them.
const IMAGE_KEYS = ['image-registry-key', 'image-repository-key', 'image-digest-key', 'image-tag-key', 'image-reference-key'];
type Values = Record<string, unknown>;

/** The image-key inputs each helm-deploy-eks step receives when `wf` runs with `inputs`, following reusable-workflow calls. */
function helmImageKeys(wf: WorkflowFile, inputs: Values): Values[] {
  const ctx = { inputs, github: { ref: 'refs/heads/main', repository: 'acme/svc' }, vars: {}, needs: {} };
  const found: Values[] = [];
  for (const [, job] of jobsOf(wf.doc)) {
    const called = calledWorkflowPath(job.uses);
    if (called) {
      const callee = readWorkflow(called);
      found.push(...helmImageKeys(callee, callInputValues(callee, (job.with ?? {}) as Values, ctx)));
      continue;
    }
    for (const s of stepsOf(job)) {
      if (ownAction(s.uses) === 'helm-deploy-eks') found.push(Object.fromEntries(IMAGE_KEYS.map((k) => [k, render(s.with?.[k], ctx)])));
    }
  }
  return found;
}

describe('image keys (issue 24)', () => {
  // Each starter's five EDIT lines, set to values no default has, reach every helm-deploy-eks step
  // through pipeline.yml and deploy.yml: a key dropped or renamed at any hop fails here.
  test.each([
    ['workflows/deploy.yml', 3],
    ['workflows/redeploy.yml', 1],
    ['workflows/rollback.yml', 1],
  ])('%s passes all five image keys to each of its %i deploys', (path, deploys) => {
    const starter = readWorkflow(path);
    const [, call] = jobsOf(starter.doc).find(([, j]) => calledWorkflowPath(j.uses))!;
    expect(Object.keys(call.with).filter((k) => IMAGE_KEYS.includes(k))).toEqual(IMAGE_KEYS);
    const edited = Object.fromEntries(IMAGE_KEYS.map((k) => [k, `edited.${k}`]));
    const wrapper = { ...starter, doc: { jobs: { call: { ...call, with: { ...call.with, ...edited } } } } };
    const steps = helmImageKeys(wrapper, {});
    expect(steps).toHaveLength(deploys);
    for (const got of steps) expect(got).toEqual(edited);
  });

  test('helm-deploy-eks declares the five image keys; deploy.yml and pipeline.yml default them to empty (the action decides)', () => {
    const action = parseYaml(readFileSync(join(repoRoot, 'helm-deploy-eks/action.yml'), 'utf8')) as { inputs: Record<string, { default?: string }> };
    for (const k of IMAGE_KEYS) expect(action.inputs[k], k).toBeDefined();
    for (const path of ['.github/workflows/deploy.yml', '.github/workflows/pipeline.yml']) {
      const inputs = readWorkflow(path).doc.on.workflow_call.inputs as Record<string, { default?: string }>;
      for (const k of IMAGE_KEYS) expect(inputs[k]?.default, `${path} ${k}`).toBe('');
    }
  });
});

describe('reusable workflows', () => {
  test.each(REUSABLE)('%s is on: workflow_call only, with typed inputs', (path) => {
    const { doc } = readWorkflow(path);
    expect(Object.keys(doc.on)).toEqual(['workflow_call']);
    for (const [name, def] of Object.entries(doc.on.workflow_call.inputs as Record<string, { type?: string; description?: string }>)) {
      expect(['string', 'boolean', 'number'], `input ${name}`).toContain(def.type);
      expect(def.description, `input ${name}`).toBeTruthy();
    }
  });

  test('build outputs image, digest, image-ref, tag and content-key from build-push-ecr', () => {
    const { doc } = readWorkflow('.github/workflows/build.yml');
    expect(Object.keys(doc.on.workflow_call.outputs).sort()).toEqual(['content-key', 'digest', 'image', 'image-ref', 'tag']);
    const [, job] = jobsOf(doc)[0]!;
    const names = stepsOf(job).map((s) => String(s.uses ?? '').split('@')[0]);
    expect(names.indexOf('actions/checkout')).toBeGreaterThanOrEqual(0);
    expect(names.indexOf('aws-actions/configure-aws-credentials')).toBeGreaterThan(names.indexOf('actions/checkout'));
    expect(names.indexOf('$/build-push-ecr')).toBeGreaterThan(names.indexOf('aws-actions/configure-aws-credentials'));
  });

  test('deploy: verify -> (bake target) -> helm-deploy-eks -> (failed on a bake breach) -> record -> (a rollback: the replaced release failed), one environment per call', () => {
    const deploy = readWorkflow('.github/workflows/deploy.yml');
    const jobs = jobsOf(deploy.doc);
    expect(jobs.map(([id]) => id)).toEqual(['card', 'deploy']);
    const job = deploy.doc.jobs.deploy;
    expect(job.environment.name).toBe('${{ inputs.environment }}');
    // The release card: a job without an environment (it runs before the reviewers are asked), before the deploy job.
    const card = deploy.doc.jobs.card;
    expect(card.environment).toBeUndefined();
    expect(job.needs).toBe('card');
    expect(stepsOf(card).map((s) => `${ownAction(s.uses) ?? ''}${s.with?.mode ? `:${s.with.mode}` : ''}`).filter(Boolean)).toEqual(['promote-gate:card']);
    const recordStep = stepsOf(job).find((s) => s.with?.mode === 'record')!;
    expect(recordStep.with['card-sha256']).toBe('${{ needs.card.outputs.card-sha256 }}');
    const order = stepsOf(job)
      .map((s) => `${ownAction(s.uses) ?? ''}${s.with?.mode ? `:${s.with.mode}` : ''}`)
      .filter((s) => s !== '');
    expect(order).toEqual(['promote-gate:verify', 'promote-gate:last-validated', 'helm-deploy-eks', 'promote-gate:fail', 'promote-gate:record', 'promote-gate:fail']);
    const fail = stepsOf(job).find((s) => s.with?.mode === 'fail')!;
    expect(fail.if).toBe("failure() && steps.deploy.outputs.bake-result == 'breached'");
    const deployStep = stepsOf(job).find((s) => ownAction(s.uses) === 'helm-deploy-eks')!;
    expect(deployStep.with['bake-rollback-digest']).toBe('${{ steps.validated.outputs.digest }}');
  });

  test('deploy: the gate runs for every environment (it refuses unknown names; production always requires preprod)', () => {
    const deploy = readWorkflow('.github/workflows/deploy.yml');
    expect(checkProductionGate(deploy)).toEqual([]);
    const job = deploy.doc.jobs.deploy;
    const qa = gateFor(job, callInputValues(deploy, { environment: 'qa' }, {}));
    expect(qa).toEqual({ verifies: true, requireEnvironment: '', targetEnvironment: 'qa' });
    const asked = gateFor(job, callInputValues(deploy, { environment: 'preprod', 'require-environment': 'qa' }, {}));
    expect(asked).toEqual({ verifies: true, requireEnvironment: 'qa', targetEnvironment: 'preprod' });
  });

  test('pipeline: develop -> qa; main -> preprod -> production, production gated on preprod', () => {
    const pipeline = readWorkflow('.github/workflows/pipeline.yml');
    expect(checkPipeline(pipeline)).toEqual([]);
    expect(jobsRunningFor(pipeline, 'refs/heads/main')).toEqual({ build: '', preprod: 'preprod', production: 'production', status: '' });
    expect(jobsRunningFor(pipeline, 'refs/heads/develop')).toEqual({ build: '', qa: 'qa', status: '' });
  });
});

describe('workflows/environments.yml matches the pipeline', () => {
  const file = join(repoRoot, 'workflows/environments.yml');
  test.skipIf(!existsSync(file))('each stage environment exists, on its branch, preprod and production with reviewers', () => {
    const envs = (parseYaml(readFileSync(file, 'utf8')) as { environments: Record<string, Record<string, unknown>> }).environments;
    const pipeline = readWorkflow('.github/workflows/pipeline.yml');
    const deployed = { ...jobsRunningFor(pipeline, 'refs/heads/develop'), ...jobsRunningFor(pipeline, 'refs/heads/main') };
    const stages = Object.values(deployed).filter((e) => e !== '');
    expect(stages.sort()).toEqual(['preprod', 'production', 'qa']);
    const branch: Record<string, string> = { qa: 'develop', preprod: 'main', production: 'main' };
    for (const env of stages) {
      expect(envs[env], env).toBeDefined();
      expect(envs[env]!.deployment_branches, env).toEqual([branch[env]]);
    }
    for (const env of ['preprod', 'production']) {
      const reviewers = (envs[env]!.reviewers ?? {}) as { users?: string[]; teams?: string[] };
      expect((reviewers.users ?? []).length + (reviewers.teams ?? []).length, `${env} reviewers`).toBeGreaterThan(0);
    }
  });
});

describe('starter workflows', () => {
  test('deploy.yml calls the pipeline on pushes to develop and main', () => {
    const { doc } = readWorkflow('workflows/deploy.yml');
    expect(doc.on.push.branches).toEqual(['develop', 'main']);
    const calls = jobsOf(doc).map(([, j]) => j.uses);
    expect(calls).toEqual(['org/deploy-actions/.github/workflows/pipeline.yml@v1']);
  });

  test('redeploy.yml is manual, takes a digest, and production still passes the preprod gate', () => {
    const redeploy = readWorkflow('workflows/redeploy.yml');
    const { doc } = redeploy;
    expect(Object.keys(doc.on)).toEqual(['workflow_dispatch']);
    expect(doc.on.workflow_dispatch.inputs.environment.options).toEqual(['qa', 'preprod', 'production']);
    expect(doc.on.workflow_dispatch.inputs.digest.required).toBe(true);
    const [, call] = jobsOf(doc).find(([, j]) => typeof j.uses === 'string')!;
    expect(call.uses).toBe('org/deploy-actions/.github/workflows/deploy.yml@v1');
    const deploy = readWorkflow('.github/workflows/deploy.yml');
    const deployJob = deploy.doc.jobs.deploy;
    const ctx = (environment: string) => ({
      inputs: { environment, digest: `sha256:${'a'.repeat(64)}`, sha: 'b'.repeat(40) },
      needs: { check: { outputs: { 'image-ref': `r@sha256:${'a'.repeat(64)}`, sha: 'b'.repeat(40) } } },
      github: { ref: 'refs/heads/main' },
    });
    const prod = gateFor(deployJob, callInputValues(deploy, call.with, ctx('production')));
    expect(prod).toEqual({ verifies: true, requireEnvironment: 'preprod', targetEnvironment: 'production' });
    // A preprod redeploy needs the image's QA evidence (issue 20: no gap in the chain).
    expect(gateFor(deployJob, callInputValues(deploy, call.with, ctx('preprod')))).toEqual({ verifies: true, requireEnvironment: 'qa', targetEnvironment: 'preprod' });
    const values = callInputValues(deploy, call.with, ctx('qa'));
    expect(values['allowed-refs']).toBe('refs/heads/develop');
    expect(values.sha).toBe('b'.repeat(40));
  });

  test('rollback.yml asks only for the environment, deploys the release promote-gate found, production through the preprod gate', () => {
    const { doc } = readWorkflow('workflows/rollback.yml');
    expect(Object.keys(doc.on)).toEqual(['workflow_dispatch']);
    expect(Object.keys(doc.on.workflow_dispatch.inputs)).toEqual(['environment']);
    const modes = stepsOf(doc.jobs.plan).filter((s) => ownAction(s.uses) === 'promote-gate').map((s) => s.with.mode);
    expect(modes).toEqual(['status', 'last-validated', 'verify']);
    const call = doc.jobs.rollback;
    expect(call.uses).toBe('org/deploy-actions/.github/workflows/deploy.yml@v1');
    const deploy = readWorkflow('.github/workflows/deploy.yml');
    const deployJob = deploy.doc.jobs.deploy;
    const ctx = (environment: string) => ({
      inputs: { environment },
      needs: { plan: { outputs: { 'image-ref': `r@sha256:${'a'.repeat(64)}`, sha: 'b'.repeat(40), running: `r@sha256:${'c'.repeat(64)}`, 'running-sha': 'd'.repeat(40) } } },
      github: { ref: 'refs/heads/main' },
    });
    const values = callInputValues(deploy, call.with, ctx('production'));
    expect(values['image-ref']).toBe(`r@sha256:${'a'.repeat(64)}`);
    expect(values.sha).toBe('b'.repeat(40));
    expect(gateFor(deployJob, values)).toEqual({ verifies: true, requireEnvironment: 'preprod', targetEnvironment: 'production' });
    // The release rolled away from is marked failed inside the approved deploy job (its deploy role signs).
    expect(Object.keys(doc.jobs)).toEqual(['plan', 'rollback']);
    expect(values).toMatchObject({ 'rolled-back-from': `r@sha256:${'c'.repeat(64)}`, 'rolled-back-from-sha': 'd'.repeat(40) });
    const mark = stepsOf(deployJob).find((s) => s.name === 'Mark the release rolled back from failed')!;
    expect(mark.with).toMatchObject({ mode: 'fail', 'image-ref': '${{ inputs.rolled-back-from }}', 'evidence-keys': '${{ vars.EVIDENCE_KMS_KEYS }}' });
  });
});
