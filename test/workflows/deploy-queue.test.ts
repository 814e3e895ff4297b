/**
 * The deploy queue of one environment, run through the executor with its concurrency groups:
 * pipeline deploys (deploy.yml as pipeline.yml calls it) queue, and the middle of three is
 * cancelled; a rollback (workflows/rollback.yml's rollback job, its plan job replaced by the
 * outputs it would give) or a redeploy (workflows/redeploy.yml as a service copies it) cancels the
 * deploy running or waiting for approval and is not cancelled by a deploy queued after it.
 * Every job stops at "Check configuration" once approved (no AWS here): what is tested is who
 * holds the group, who waits and who is cancelled.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parse, stringify } from 'yaml';
import { repoRoot } from '../harness/runner';
import { cancelledBy, ConcurrencyGroups } from '../executor/concurrency';
import { runWorkflow, type GithubEvent, type JobRun, type WorkflowRun } from '../executor/index';
import { heldApprovals, pushEvent, tempTree, waitFor } from '../executor/testing';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const IMAGE = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/my-team/my-service@${DIGEST}`;
const SHA = 'b'.repeat(40);
const GROUP = 'deploy-acme/svc-production';

/** The production stage as pipeline.yml calls deploy.yml (no cancel-in-progress). */
const pipelineStage = `on: push
permissions: {}
jobs:
  production:
    uses: org/deploy-actions/.github/workflows/deploy.yml@v1
    permissions: { contents: read, id-token: write, deployments: write, actions: read, pull-requests: read }
    with:
      environment: production
      image-ref: ${IMAGE}
      release: my-service
`;

/** rollback.yml as shipped, its plan job replaced by one that gives the outputs the real one would. */
function rollbackWithPlannedTarget(): string {
  const doc = parse(readFileSync(join(repoRoot, 'workflows/rollback.yml'), 'utf8'));
  const outputs = { 'image-ref': IMAGE, sha: SHA, running: IMAGE.replace(DIGEST, `sha256:${'c'.repeat(64)}`), 'running-sha': 'd'.repeat(40) };
  doc.jobs.plan = {
    'runs-on': 'ubuntu-latest',
    outputs: Object.fromEntries(Object.keys(outputs).map((k) => [k, `\${{ steps.p.outputs.${k} }}`])),
    steps: [{ id: 'p', run: Object.entries(outputs).map(([k, v]) => `echo "${k}=${v}" >> "$GITHUB_OUTPUT"`).join('\n') }],
  };
  return stringify(doc);
}

const operatorRuns = {
  rollback: { file: '.github/workflows/rollback.yml', text: rollbackWithPlannedTarget, inputs: { environment: 'production' }, job: 'rollback/deploy' },
  redeploy: { file: '.github/workflows/redeploy.yml', text: () => readFileSync(join(repoRoot, 'workflows/redeploy.yml'), 'utf8'), inputs: { environment: 'production', digest: DIGEST, sha: SHA }, job: 'redeploy/deploy' },
} as const;

function world() {
  const gate = heldApprovals();
  const groups = new ConcurrencyGroups();
  const root = tempTree({ '.github/workflows/main.yml': pipelineStage, [operatorRuns.rollback.file]: operatorRuns.rollback.text(), [operatorRuns.redeploy.file]: operatorRuns.redeploy.text() });
  const start = (path: string, event: GithubEvent) =>
    runWorkflow({ workflow: { path }, event, repository: { root, name: 'acme/svc' }, environments: gate.environments, concurrency: groups });
  const pipeline = (actor: string) => start('.github/workflows/main.yml', { ...pushEvent('main'), actor });
  const dispatch = (kind: keyof typeof operatorRuns, actor: string) => {
    const ref = 'refs/heads/main';
    return start(operatorRuns[kind].file, { name: 'workflow_dispatch', ref, sha: SHA, actor, inputs: operatorRuns[kind].inputs, payload: { ref, repository: { default_branch: 'main' } } });
  };
  const events = (event: string) => groups.events.filter((e) => e.event === event && e.group === GROUP);
  return { gate, groups, pipeline, dispatch, events };
}

const job = (run: WorkflowRun, path: string): JobRun => run.jobs.find((j) => j.path.join('/') === path)!;
/** The job got past the gate and ran its steps (here it stops at Check configuration: no AWS). */
const ranSteps = (j: JobRun) => j.steps[0]?.name === 'Check configuration' && j.steps[0].outcome === 'failure';

describe('pipeline deploys to one environment', () => {
  test('queue: of three, the first waits for approval holding the group, the middle one is cancelled, the newest runs next', async () => {
    const w = world();
    const first = w.pipeline('alice');
    await waitFor('alice at the approval', () => w.gate.waitingFor('alice'));
    const second = w.pipeline('bob');
    await waitFor('bob pending', () => w.events('pending').length === 1);
    const third = w.pipeline('carol');
    await waitFor('bob cancelled', () => w.events('cancelled').length === 1);
    w.gate.approve('alice');
    await waitFor('carol at the approval', () => w.gate.waitingFor('carol'));
    w.gate.approve('carol');
    const [a, b, c] = await Promise.all([first, second, third]);
    expect(ranSteps(job(a, 'production/deploy'))).toBe(true);
    expect(job(b, 'production/deploy')).toMatchObject({ result: 'cancelled', error: cancelledBy(GROUP), steps: [] });
    expect(b.conclusion).toBe('cancelled');
    expect(ranSteps(job(c, 'production/deploy'))).toBe(true);
    expect(job(c, 'production/deploy').concurrency).toEqual({ group: GROUP, cancelInProgress: false, queue: 'single', waited: true });
  });
});

describe.each(Object.keys(operatorRuns) as (keyof typeof operatorRuns)[])('%s against the deploy queue', (kind) => {
  test(`${kind} cancels the deploy waiting for approval and goes next; a deploy queued after it waits behind it`, async () => {
    const w = world();
    const deploying = w.pipeline('alice');
    await waitFor('alice at the approval', () => w.gate.waitingFor('alice'));
    const operator = w.dispatch(kind, 'bob');
    const a = await deploying;
    expect(job(a, 'production/deploy')).toMatchObject({ result: 'cancelled', error: cancelledBy(GROUP) });

    await waitFor(`${kind} at the approval`, () => w.gate.waitingFor('bob'));
    const later = w.pipeline('carol');
    await waitFor('carol pending', () => w.events('pending').some((e) => e.who.includes('production')));
    // The deploy queued after the rollback does not cancel it: the rollback holds the group.
    expect(w.events('cancelled')).toEqual([]);
    w.gate.approve('bob');
    const o = await operator;
    const mine = job(o, operatorRuns[kind].job);
    expect(mine.concurrency).toMatchObject({ group: GROUP, cancelInProgress: true });
    expect(ranSteps(mine)).toBe(true);

    await waitFor('carol at the approval', () => w.gate.waitingFor('carol'));
    w.gate.reject('carol');
    expect(job(await later, 'production/deploy')).toMatchObject({ result: 'failure', error: 'Rejected by reviewer' });
  });
});
