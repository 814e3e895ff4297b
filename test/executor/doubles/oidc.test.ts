/**
 * The OIDC double issues the token GitHub issues: the `sub` format of the repository (immutable
 * ids for a repository created on/after 2026-07-15, name-only before, a custom template when
 * the repository or its organization has one, as the GitHub stand-in answers it), the ids, and
 * the job_workflow_ref of the reusable workflow the job runs in.
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startGithubStandin, type GithubStandin } from '../../standins/github/index';
import { jobClaims, startOidcTokenService, subjectFor, type OidcTokenService } from './oidc';

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

describe('the token service reads the repository format from the GitHub stand-in', () => {
  let gh: GithubStandin;
  let tokens: OidcTokenService;
  beforeAll(async () => {
    gh = await startGithubStandin({
      tokens: { admin: 'all' },
      repositories: [
        { name: 'acme/sample-service', id: 1041000001, ownerId: 190000001, createdAt: '2026-09-01T00:00:00Z' },
        { name: 'acme/legacy-service', id: 1041000002, ownerId: 190000001, createdAt: '2025-03-01T00:00:00Z' },
        { name: 'acme/templated', id: 1041000003, ownerId: 190000001, createdAt: '2026-08-01T00:00:00Z' },
      ],
    });
    tokens = await startOidcTokenService({ subjects: (repo) => gh.state.directory.subjectFormat(repo) });
  });
  afterAll(async () => {
    await tokens?.stop();
    await gh?.stop();
  });

  const api = (path: string, init: RequestInit = {}) => fetch(`${gh.url}${path}`, { ...init, headers: { authorization: 'token admin', 'content-type': 'application/json' } });
  async function subOf(repository: string, repositoryId: string): Promise<string> {
    const env = tokens.jobEnv({ github: github({ repository, repository_id: repositoryId }), job: { environment: 'qa', workflowRef: 'org/deploy-actions/.github/workflows/deploy.yml@v1', permissions: { 'id-token': 'write' } } });
    const res = await fetch(`${env.ACTIONS_ID_TOKEN_REQUEST_URL}&audience=sts.amazonaws.com`, { headers: { authorization: `Bearer ${env.ACTIONS_ID_TOKEN_REQUEST_TOKEN}` } });
    return String(decodeJwt(((await res.json()) as { value: string }).value).sub);
  }

  test('GET /repos/{owner}/{repo} gives the ids and creation date a trust policy is written from', async () => {
    const body = (await (await api('/repos/acme/sample-service')).json()) as Record<string, any>;
    expect(body).toMatchObject({ id: 1041000001, full_name: 'acme/sample-service', owner: { login: 'acme', id: 190000001 }, created_at: '2026-09-01T00:00:00Z' });
  });

  test('a new repository gets ids in sub, an old one does not', async () => {
    expect(await subOf('acme/sample-service', '1041000001')).toBe('repo:acme@190000001/sample-service@1041000001:environment:qa');
    expect(await subOf('acme/legacy-service', '1041000002')).toBe('repo:acme/legacy-service:environment:qa');
  });

  test('a subject customization set through the API replaces the whole sub; use_default restores it', async () => {
    expect(await (await api('/repos/acme/templated/actions/oidc/customization/sub')).json()).toEqual({ use_default: true });
    const put = await api('/repos/acme/templated/actions/oidc/customization/sub', { method: 'PUT', body: JSON.stringify({ use_default: false, include_claim_keys: ['repo', 'context', 'job_workflow_ref'] }) });
    expect(put.status).toBe(201);
    expect(await (await api('/repos/acme/templated/actions/oidc/customization/sub')).json()).toEqual({ use_default: false, include_claim_keys: ['repo', 'context', 'job_workflow_ref'] });
    expect(await subOf('acme/templated', '1041000003')).toBe('repo:acme@190000001/templated@1041000003:environment:qa:job_workflow_ref:org/deploy-actions/.github/workflows/deploy.yml@v1');
    await api('/repos/acme/templated/actions/oidc/customization/sub', { method: 'PUT', body: JSON.stringify({ use_default: true }) });
    expect(await subOf('acme/templated', '1041000003')).toBe('repo:acme@190000001/templated@1041000003:environment:qa');
  });

  test("use_default false without keys takes the organization's template", async () => {
    expect((await api('/orgs/acme/actions/oidc/customization/sub', { method: 'PUT', body: JSON.stringify({ include_claim_keys: ['repository_owner_id', 'context'] }) })).status).toBe(201);
    await api('/repos/acme/templated/actions/oidc/customization/sub', { method: 'PUT', body: JSON.stringify({ use_default: false }) });
    expect(await subOf('acme/templated', '1041000003')).toBe('repository_owner_id:190000001:environment:qa');
    expect(await subOf('acme/sample-service', '1041000001')).toBe('repo:acme@190000001/sample-service@1041000001:environment:qa');
  });

  test('bad customizations are refused with 422, and writing needs actions: write', async () => {
    expect((await api('/repos/acme/templated/actions/oidc/customization/sub', { method: 'PUT', body: JSON.stringify({ use_default: false, include_claim_keys: ['repo:x'] }) })).status).toBe(422);
    expect((await api('/repos/acme/templated/actions/oidc/customization/sub', { method: 'PUT', body: JSON.stringify({ include_claim_keys: ['repo'] }) })).status).toBe(422);
    const reader = gh.mintToken({ actions: 'read' });
    const denied = await fetch(`${gh.url}/repos/acme/templated/actions/oidc/customization/sub`, { method: 'PUT', headers: { authorization: `token ${reader}` }, body: JSON.stringify({ use_default: true }) });
    expect(denied.status).toBe(403);
  });
});
