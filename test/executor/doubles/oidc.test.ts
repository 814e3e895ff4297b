/**
 * The OIDC double issues the token GitHub issues: the `sub` format of the repository (immutable
 * ids for a repository created on/after 2026-07-15, name-only before, a custom template when
 * the repository or its organization has one, from GitHub's answers), the ids, and
 * the job_workflow_ref of the reusable workflow the job runs in.
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { jobClaims, startOidcTokenService, subjectFor, subjectFormatOf, type OidcTokenService, type SubjectFormat } from './oidc';

const github = (over: Record<string, unknown> = {}) => ({
  repository: 'acme/sample-service',
  repository_id: '1041000001',
  repository_owner: 'acme',
  repository_owner_id: '190000001',
  event_name: 'push',
  ref: 'refs/heads/main',
  ...over,
});
const IMMUTABLE = { kind: 'default', immutable: true } as const;
const NAME_ONLY = { kind: 'default', immutable: false } as const;

describe('sub', () => {
  test.each([
    ['immutable, branch', github(), undefined, IMMUTABLE, 'repo:acme@190000001/sample-service@1041000001:ref:refs/heads/main'],
    ['immutable, environment', github(), 'production', IMMUTABLE, 'repo:acme@190000001/sample-service@1041000001:environment:production'],
    ['immutable, pull request', github({ event_name: 'pull_request', ref: 'refs/pull/7/merge' }), undefined, IMMUTABLE, 'repo:acme@190000001/sample-service@1041000001:pull_request'],
    ['immutable, tag', github({ ref: 'refs/tags/v1.2.0' }), undefined, IMMUTABLE, 'repo:acme@190000001/sample-service@1041000001:ref:refs/tags/v1.2.0'],
    ['name-only (created before 2026-07-15)', github({ repository: 'acme/legacy-service', repository_id: '1041000002' }), 'qa', NAME_ONLY, 'repo:acme/legacy-service:environment:qa'],
    [
      'custom template: repo, context, job_workflow_ref',
      github(),
      'qa',
      { kind: 'custom', immutable: true, includeClaimKeys: ['repo', 'context', 'job_workflow_ref'] },
      'repo:acme@190000001/sample-service@1041000001:environment:qa:job_workflow_ref:org/deploy-actions/.github/workflows/deploy.yml@v1',
    ],
    ['custom template without repo', github(), undefined, { kind: 'custom', immutable: true, includeClaimKeys: ['repository_owner_id', 'context'] }, 'repository_owner_id:190000001:ref:refs/heads/main'],
  ] as const)('%s', (_name, gh, environment, format, expected) => {
    const claims = jobClaims({ github: gh, job: { environment, workflowRef: 'org/deploy-actions/.github/workflows/deploy.yml@v1', permissions: { 'id-token': 'write' } } }, format);
    expect(claims.sub).toBe(expected);
    expect(subjectFor(gh, environment, format, claims)).toBe(expected);
  });

  test('the other claims a trust policy conditions on', () => {
    const claims = jobClaims({ github: github(), job: { environment: 'qa', workflowRef: 'org/deploy-actions/.github/workflows/deploy.yml@v1', permissions: {} } }, IMMUTABLE);
    expect(claims).toMatchObject({
      repository_id: '1041000001',
      repository_owner_id: '190000001',
      job_workflow_ref: 'org/deploy-actions/.github/workflows/deploy.yml@v1',
      environment: 'qa',
      ref: 'refs/heads/main',
    });
  });
});

describe('the subject format GitHub uses for a repository', () => {
  test.each([
    ['created after 2026-07-15', { created_at: '2026-09-01T09:00:00Z' }, undefined, undefined, IMMUTABLE],
    ['created on 2026-07-15', { created_at: '2026-07-15T00:00:00Z' }, { use_default: true }, undefined, IMMUTABLE],
    ['created before', { created_at: '2025-03-01T09:00:00Z' }, { use_default: true }, undefined, NAME_ONLY],
    ['its own template', { created_at: '2025-03-01T09:00:00Z' }, { use_default: false, include_claim_keys: ['repo', 'context'] }, { include_claim_keys: ['x'] }, { kind: 'custom', immutable: false, includeClaimKeys: ['repo', 'context'] }],
    ["no keys of its own: the organization's", { created_at: '2026-09-01T09:00:00Z' }, { use_default: false }, { include_claim_keys: ['repository_owner_id', 'context'] }, { kind: 'custom', immutable: true, includeClaimKeys: ['repository_owner_id', 'context'] }],
    ['no keys anywhere: the default', { created_at: '2026-09-01T09:00:00Z' }, { use_default: false }, { include_claim_keys: [] }, IMMUTABLE],
  ] as const)('%s', (_name, repo, customization, org, expected) => {
    expect(subjectFormatOf(repo, customization as never, org as never)).toEqual(expected);
  });
});

describe("the token service issues the repository's format", () => {
  let tokens: OidcTokenService;
  const formats: Record<string, SubjectFormat> = {
    'acme/sample-service': IMMUTABLE,
    'acme/legacy-service': NAME_ONLY,
    'acme/templated': { kind: 'custom', immutable: true, includeClaimKeys: ['repo', 'context', 'job_workflow_ref'] },
  };
  beforeAll(async () => {
    tokens = await startOidcTokenService({ subjects: async (repo) => formats[repo]! });
  });
  afterAll(async () => {
    await tokens?.stop();
  });

  async function subOf(repository: string, repositoryId: string): Promise<string> {
    const env = tokens.jobEnv({ github: github({ repository, repository_id: repositoryId }), job: { environment: 'qa', workflowRef: 'org/deploy-actions/.github/workflows/deploy.yml@v1', permissions: { 'id-token': 'write' } } });
    const res = await fetch(`${env.ACTIONS_ID_TOKEN_REQUEST_URL}&audience=sts.amazonaws.com`, { headers: { authorization: `Bearer ${env.ACTIONS_ID_TOKEN_REQUEST_TOKEN}` } });
    return String(decodeJwt(((await res.json()) as { value: string }).value).sub);
  }

  test('a new repository gets ids in sub, an old one does not, a templated one its template', async () => {
    expect(await subOf('acme/sample-service', '1041000001')).toBe('repo:acme@190000001/sample-service@1041000001:environment:qa');
    expect(await subOf('acme/legacy-service', '1041000002')).toBe('repo:acme/legacy-service:environment:qa');
    expect(await subOf('acme/templated', '1041000003')).toBe('repo:acme@190000001/templated@1041000003:environment:qa:job_workflow_ref:org/deploy-actions/.github/workflows/deploy.yml@v1');
  });
});
