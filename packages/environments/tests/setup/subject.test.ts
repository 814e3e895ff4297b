import { describe, expect, test } from 'vitest';
import { parseSubjectFormat, subjects, trustConditions, workflowRef, type RepoIdentity } from '../../src/setup/subject';

const id = (subject: RepoIdentity['subject']): RepoIdentity => ({ repository: 'acme/orders', repositoryId: '456', ownerId: '123', subject });
const DEPLOY = workflowRef('org/deploy-actions', 'deploy.yml');

describe('the sub GitHub puts in the token', () => {
  test.each([
    ['legacy', { kind: 'legacy' } as const, { environment: 'production' }, ['repo:acme/orders:environment:production'], false],
    ['immutable', { kind: 'immutable' } as const, { environment: 'production' }, ['repo:acme@123/orders@456:environment:production'], false],
    ['immutable, branches', { kind: 'immutable' } as const, { refs: ['refs/heads/develop', 'refs/heads/main'] }, ['repo:acme@123/orders@456:ref:refs/heads/develop', 'repo:acme@123/orders@456:ref:refs/heads/main'], false],
    ['branch pattern', { kind: 'legacy' } as const, { refs: ['refs/heads/release/*'] }, ['repo:acme/orders:ref:refs/heads/release/*'], true],
    ['custom repo,context', { kind: 'custom', claimKeys: ['repo', 'context'], immutable: false } as const, { environment: 'qa' }, ['repo:acme/orders:environment:qa'], false],
    [
      'custom with job_workflow_ref',
      { kind: 'custom', claimKeys: ['repository_owner_id', 'repository_id', 'context', 'job_workflow_ref'], immutable: true } as const,
      { environment: 'qa' },
      ['repository_owner_id:123:repository_id:456:environment:qa:job_workflow_ref:org/deploy-actions/.github/workflows/deploy.yml@*'],
      true,
    ],
    ['custom with an unknown claim', { kind: 'custom', claimKeys: ['repo', 'workflow'], immutable: false } as const, { environment: 'qa' }, ['repo:acme/orders:workflow:*'], true],
  ])('%s', (_name, fmt, job, values, like) => {
    expect(subjects(id(fmt as RepoIdentity["subject"]), job as never, DEPLOY)).toEqual({ values, like });
  });
});

test('deploy role conditions: audience, repository id, environment, subject; the reusable workflow by StringLike', () => {
  expect(trustConditions(id({ kind: 'immutable' }), { environment: 'Production' }, DEPLOY)).toEqual({
    StringEquals: {
      'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
      'token.actions.githubusercontent.com:repository_id': '456',
      'token.actions.githubusercontent.com:environment': 'Production',
      'token.actions.githubusercontent.com:sub': 'repo:acme@123/orders@456:environment:Production',
    },
    StringLike: { 'token.actions.githubusercontent.com:job_workflow_ref': 'org/deploy-actions/.github/workflows/deploy.yml@*' },
  });
});

test('a role without a workflow binding (rollback plan reader) still has a scoped sub', () => {
  const c = trustConditions(id({ kind: 'legacy' }), { refs: ['refs/heads/main'] }, undefined);
  expect(c).toEqual({
    StringEquals: {
      'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
      'token.actions.githubusercontent.com:repository_id': '456',
      'token.actions.githubusercontent.com:ref': 'refs/heads/main',
      'token.actions.githubusercontent.com:sub': 'repo:acme/orders:ref:refs/heads/main',
    },
  });
});

test.each([
  ['immutable', { kind: 'immutable' }],
  ['legacy', { kind: 'legacy' }],
  ['custom:repo,context,job_workflow_ref', { kind: 'custom', claimKeys: ['repo', 'context', 'job_workflow_ref'], immutable: true }],
  ['custom:', undefined],
  ['Immutable', undefined],
])('--subject %s', (text, want) => {
  expect(parseSubjectFormat(text)).toEqual(want);
});
