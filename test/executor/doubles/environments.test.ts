/** The environments model on the project's own workflows/environments.yml and on small files. */
import { describe, expect, test } from 'vitest';
import { parseEnvironmentsFile } from '@deploy-actions/environments';
import { loadEnvironments, projectEnvironmentsFile, refAllowed, type Approver } from './environments';

const TEAMS = { 'acme/platform': ['alice', 'dev'], 'acme/release-managers': ['rita'] };
const approveAs = (reviewer: string): Approver => () => ({ approve: true, reviewer });

function project(approver?: Approver) {
  return loadEnvironments({
    file: projectEnvironmentsFile(),
    owner: 'acme',
    teams: TEAMS,
    approver,
    vars: { Production: { AWS_DEPLOY_ROLE_ARN: 'arn:aws:iam::111122223333:role/gha-my-service-production' } },
    secrets: { production: { SLACK: 's3cret' } },
  });
}
const enter = (envs: ReturnType<typeof project>, name: string, ref: string, actor = 'dev') => envs.enter({ name, ref, actor, runId: 77 });

describe('workflows/environments.yml as GitHub would enforce it', () => {
  test('qa deploys from develop without review; its variables are empty', async () => {
    expect(await enter(project(), 'qa', 'refs/heads/develop')).toEqual({ ok: true, environment: 'qa', approvedBy: undefined, waitTimerMinutes: 0, vars: {}, secrets: {} });
  });

  test.each([
    ['qa', 'refs/heads/main', 'Branch "main" is not allowed to deploy to qa due to environment protection rules.'],
    ['production', 'refs/heads/develop', 'Branch "develop" is not allowed to deploy to production due to environment protection rules.'],
    ['preprod', 'refs/pull/5/merge', 'Branch "refs/pull/5/merge" is not allowed to deploy to preprod due to environment protection rules.'],
    ['production', 'refs/tags/v1.0.0', 'Tag "v1.0.0" is not allowed to deploy to production due to environment protection rules.'],
  ])('%s from %s is refused before any review', async (env, ref, error) => {
    let asked = false;
    const envs = project(() => ((asked = true), { approve: true, reviewer: 'alice' }));
    expect(await enter(envs, env, ref)).toEqual({ ok: false, environment: env, error });
    expect(asked).toBe(false);
  });

  test('production from main: a release manager approves; the run records who; wait timer, vars and secrets follow', async () => {
    const envs = project(approveAs('rita'));
    const r = await enter(envs, 'production', 'refs/heads/main');
    expect(r).toEqual({
      ok: true,
      environment: 'production',
      approvedBy: 'rita',
      waitTimerMinutes: 10,
      vars: { AWS_DEPLOY_ROLE_ARN: 'arn:aws:iam::111122223333:role/gha-my-service-production' },
      secrets: { SLACK: 's3cret' },
    });
    expect(envs.approvals).toEqual([{ environment: 'production', runId: '77', reviewer: 'rita', state: 'approved', comment: undefined }]);
  });

  test('names are case-insensitive: "Production" is the production environment, with its rules', async () => {
    const envs = project(approveAs('alice'));
    expect(await enter(envs, 'Production', 'refs/heads/develop')).toMatchObject({ ok: false, environment: 'production' });
    expect(await enter(envs, 'PREPROD', 'refs/heads/main')).toMatchObject({ ok: true, environment: 'preprod', approvedBy: 'alice' });
  });

  test('the approver sees who may review; a rejection fails the job and is recorded', async () => {
    const seen: unknown[] = [];
    const envs = project((req) => (seen.push(req), { approve: false, reviewer: 'alice', comment: 'not today' }));
    expect(await enter(envs, 'preprod', 'refs/heads/main')).toEqual({ ok: false, environment: 'preprod', error: 'alice rejected the deployment to preprod', rejectedBy: 'alice' });
    expect(seen).toEqual([{ environment: 'preprod', runId: '77', actor: 'dev', ref: 'refs/heads/main', eligible: ['alice', 'dev'], preventSelfReview: true }]);
    expect(envs.approvals).toEqual([{ environment: 'preprod', runId: '77', reviewer: 'alice', state: 'rejected', comment: 'not today' }]);
  });

  test('prevent_self_review: the run initiator cannot approve; someone outside the teams cannot either', async () => {
    expect(await enter(project(approveAs('dev')), 'preprod', 'refs/heads/main', 'dev')).toEqual({
      ok: false,
      environment: 'preprod',
      error: 'dev cannot review a deployment of a run they triggered: preprod prevents self-review',
    });
    expect(await enter(project(approveAs('rita')), 'preprod', 'refs/heads/main')).toMatchObject({ ok: false, error: 'rita is not a required reviewer of preprod (eligible: alice, dev)' });
    // The same person may approve a run someone else triggered.
    expect(await enter(project(approveAs('dev')), 'preprod', 'refs/heads/main', 'alice')).toMatchObject({ ok: true, approvedBy: 'dev' });
  });

  test('without an approver a protected environment cannot be entered', async () => {
    expect(await enter(project(), 'production', 'refs/heads/main')).toEqual({ ok: false, environment: 'production', error: 'production requires a review and no reviewer answered' });
  });

  test('a name the file does not define is created without protection, once', async () => {
    const envs = project();
    expect(await enter(envs, 'staging', 'refs/heads/feature/x')).toMatchObject({ ok: true, environment: 'staging', waitTimerMinutes: 0 });
    expect(await enter(envs, 'Staging', 'refs/heads/main')).toMatchObject({ ok: true, environment: 'staging' });
    expect(envs.names()).toEqual(['qa', 'preprod', 'production', 'staging']);
  });
});

describe('deployment branch patterns (File.fnmatch: wildcards do not match /)', () => {
  const spec = (branches: unknown) => parseEnvironmentsFile(`environments:\n  e:\n    deployment_branches: ${JSON.stringify(branches)}\n`, 'acme')[0]!;
  test.each([
    [['release/*'], 'refs/heads/release/1.2', true],
    [['release/*'], 'refs/heads/release/1/2', false],
    [['release/*/*'], 'refs/heads/release/1/2', true],
    [['main'], 'refs/heads/Main', false],
    [['main'], 'refs/tags/main', false],
    [[{ tag: 'v*' }], 'refs/tags/v1.0.0', true],
    [[{ tag: 'v*' }], 'refs/heads/v1', false],
    ['all', 'refs/pull/1/merge', true],
  ])('%j allows %s: %s', (branches, ref, allowed) => {
    expect(refAllowed(spec(branches), ref)).toBe(allowed);
  });

  test('protected: only branches with protection rules', () => {
    expect(refAllowed(spec('protected'), 'refs/heads/main', ['main'])).toBe(true);
    expect(refAllowed(spec('protected'), 'refs/heads/develop', ['main'])).toBe(false);
  });
});
