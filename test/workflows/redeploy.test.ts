/**
 * workflows/redeploy.yml through the executor: which commit's chart deploy.yml checks out. Given a
 * commit, that commit; given a content key, the commit the run is on (workflows/README.md,
 * "Redeploying a given digest"). The job stops at the promotion gate (no GitHub API here): what is
 * tested is the ref its Checkout step was given.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { repoRoot } from '../harness/runner';
import { runWorkflow, type ActionDouble } from '../executor/index';
import { tempTree } from '../executor/testing';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const RUN_SHA = 'e'.repeat(40);

async function checkedOut(sha: string): Promise<string[]> {
  const refs: string[] = [];
  // The deploy job's checkouts (deploy.yml's other jobs, such as the release card, check out too).
  const checkout: ActionDouble = async (ctx) => {
    if (ctx.github.job === 'deploy') refs.push(`${ctx.with.path ?? ''}@${ctx.with.ref ?? ''}`);
    return { outcome: 'success', outputs: {}, exportEnv: {}, addMask: [], log: [] };
  };
  const ok: ActionDouble = async () => ({ outcome: 'success', outputs: {}, exportEnv: {}, addMask: [], log: [] });
  const root = tempTree({ '.github/workflows/redeploy.yml': readFileSync(join(repoRoot, 'workflows/redeploy.yml'), 'utf8') });
  const ref = 'refs/heads/main';
  const run = await runWorkflow({
    workflow: { path: '.github/workflows/redeploy.yml' },
    event: { name: 'workflow_dispatch', ref, sha: RUN_SHA, inputs: { environment: 'preprod', digest: DIGEST, sha }, payload: { ref, repository: { default_branch: 'main' } } },
    repository: { root, name: 'acme/svc' },
    vars: { AWS_REGION: 'eu-west-1', AWS_DEPLOY_ROLE_ARN: 'arn:aws:iam::222222222222:role/deploy', EKS_CLUSTER_NAME: 'c' },
    actions: { 'actions/checkout': checkout, 'aws-actions/configure-aws-credentials': ok },
  });
  const deploy = run.jobs.find((j) => j.path.join('/') === 'redeploy/deploy')!;
  expect(deploy.steps.slice(0, 4).map((s) => s.conclusion)).toEqual(['success', 'success', 'success', 'success']);
  return refs;
}

test('given the commit the image was built from, its chart is checked out', async () => {
  const commit = 'c'.repeat(40);
  expect(await checkedOut(commit)).toEqual([`@${commit}`, '.deploy-actions/rules@main']);
});

test("given a content key, the run's own commit is checked out (an empty ref: the event's sha)", async () => {
  expect(await checkedOut(`tree-${'d'.repeat(40)}`)).toEqual(['@', '.deploy-actions/rules@main']);
});
