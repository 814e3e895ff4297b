/**
 * deploy.yml's release card job through the executor, when promote-gate's card mode refuses its
 * inputs (issue 23): the card job is a red job with one error line naming the input, the deploy
 * job still runs (it runs whatever became of the card), and the record step is handed no card
 * hash (the evidence then records that no card was shown). Reached through workflows/redeploy.yml,
 * which calls deploy.yml with release-card for environments with reviewers; the deploy job stops at
 * the promotion gate (no GitHub API here).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { repoRoot } from '../harness/runner';
import { runWorkflow, type ActionDouble } from '../executor/index';
import { tempTree } from '../executor/testing';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const ok: ActionDouble = async () => ({ outcome: 'success', outputs: {}, exportEnv: {}, addMask: [], log: [] });

test('a card refused by its inputs: a red card job with one line naming the input; the deploy job still runs', async () => {
  const root = tempTree({ '.github/workflows/redeploy.yml': readFileSync(join(repoRoot, 'workflows/redeploy.yml'), 'utf8') });
  const ref = 'refs/heads/main';
  const run = await runWorkflow({
    workflow: { path: '.github/workflows/redeploy.yml' },
    event: { name: 'workflow_dispatch', ref, sha: 'e'.repeat(40), inputs: { environment: 'preprod', digest: DIGEST, sha: 'c'.repeat(40) }, payload: { ref, repository: { default_branch: 'main' } } },
    repository: { root, name: 'acme/svc' },
    // A namespace the card (and helm) refuse: the card job says so in its own line.
    vars: { AWS_REGION: 'eu-west-1', AWS_DEPLOY_ROLE_ARN: 'arn:aws:iam::222222222222:role/deploy', EKS_CLUSTER_NAME: 'c', K8S_NAMESPACE: 'Team_NS' },
    actions: { 'actions/checkout': ok, 'aws-actions/configure-aws-credentials': ok },
  });
  const card = run.jobs.find((j) => j.path.join('/') === 'redeploy/card')!;
  const deploy = run.jobs.find((j) => j.path.join('/') === 'redeploy/deploy')!;
  expect(card.result).toBe('failure');
  const step = card.steps.find((s) => s.name === 'Release card')!;
  expect(step.conclusion).toBe('failure');
  const errors = step.annotations.filter((a) => a.level === 'error').map((a) => a.message);
  expect(errors).toEqual(["Input 'namespace' must be a Kubernetes namespace name (got 'Team_NS')"]);
  expect(step.summary).not.toContain('No card could be made');
  expect(card.outputs['card-sha256'] ?? '').toBe('');
  // The deploy job ran after the red card (its steps ran up to the gate).
  expect(deploy.result).not.toBe('skipped');
  expect(deploy.steps.length).toBeGreaterThan(0);
  expect(deploy.steps[0]!.conclusion).toBe('success');
}, 120_000);
