import { describe, expect, test } from 'vitest';
import { githubClient, userAgentOf } from '../src/octokit';

describe('githubClient: Octokit as getOctokit builds it, without @actions/github', () => {
  test.each([
    ['deploy-actions-promote-gate', undefined, 'deploy-actions-promote-gate'],
    ['deploy-actions-promote-gate', '  ', 'deploy-actions-promote-gate'],
    ['deploy-actions-promote-gate', 'abc-123', 'deploy-actions-promote-gate actions_orchestration_id/abc-123'],
    ['deploy-actions-promote-gate', 'a b/c', 'deploy-actions-promote-gate actions_orchestration_id/a_b_c'],
    ['x actions_orchestration_id/id1', 'id1', 'x actions_orchestration_id/id1'],
  ])('user agent %s with ACTIONS_ORCHESTRATION_ID %j', (base, id, want) => {
    expect(userAgentOf(base, id === undefined ? {} : { ACTIONS_ORCHESTRATION_ID: id })).toBe(want);
  });

  test('a request: base URL, token auth, our user agent, our fetch; REST methods and paginate are there', async () => {
    const seen: Array<{ url: string; headers: Record<string, string> }> = [];
    const fetchStub = (async (url: string, init: RequestInit) => {
      seen.push({ url: String(url), headers: Object.fromEntries(Object.entries(init.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)])) });
      return new Response(JSON.stringify([{ id: 1 }]), { status: 200, headers: { 'content-type': 'application/json' } });
    }) as unknown as typeof fetch;
    const gh = githubClient('ghs_abc', { baseUrl: 'http://127.0.0.1:9/api/v3', userAgent: 'deploy-actions-test', request: { fetch: fetchStub } });
    const { data } = await gh.rest.repos.listDeployments({ owner: 'acme', repo: 'svc', task: 'deploy' });
    expect(data).toEqual([{ id: 1 }]);
    expect(await gh.paginate('GET /repos/{owner}/{repo}/deployments', { owner: 'acme', repo: 'svc' })).toEqual([{ id: 1 }]);
    expect(seen[0]!.url).toBe('http://127.0.0.1:9/api/v3/repos/acme/svc/deployments?task=deploy');
    expect(seen[0]!.headers.authorization).toBe('token ghs_abc');
    expect(seen[0]!.headers['user-agent']).toMatch(/^deploy-actions-test /);
  });

  test('an empty token is refused, as getOctokit refuses it', () => {
    expect(() => githubClient('', { baseUrl: 'http://127.0.0.1:9', userAgent: 'x' })).toThrow('Parameter token or opts.auth is required');
  });
});
