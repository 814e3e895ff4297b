import { UserError } from '@deploy-actions/action-kit';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startGithubStandin, type GithubStandin } from '../../../test/standins/github';
import { octokitDeployments } from '../src/github';
import { DIGEST, OTHER_SHA, SHA } from './fakes';

let gh: GithubStandin;
beforeAll(async () => {
  gh = await startGithubStandin({
    tokens: {
      writer: { permissions: { deployments: 'write' } },
      reader: { permissions: { deployments: 'read' } },
      nothing: { permissions: {} },
    },
  });
});
afterAll(() => gh.stop());

const retries: string[] = [];
const sleeps: number[] = [];
const api = (token: string, need: 'read' | 'write' = 'write', repo = 'sample-service') =>
  octokitDeployments({
    token,
    apiUrl: gh.url,
    owner: 'acme',
    repo,
    need,
    sleep: async (ms) => void sleeps.push(ms),
    onRetry: (m) => void retries.push(m),
  });

const body = (environment: string) => ({
  ref: SHA,
  environment,
  description: 'test',
  payload: { digest: DIGEST, repository: 'team/svc' },
  production_environment: false,
  transient_environment: false,
});

test('create, status, list newest first through real Octokit', async () => {
  const a = await api('writer').create(body('preprod'));
  const b = await api('writer').create(body('preprod'));
  await api('writer').create({ ...body('preprod'), ref: OTHER_SHA });
  expect(a).toMatchObject({ sha: SHA, ref: SHA, environment: 'preprod', payload: { digest: DIGEST } });
  const listed = await api('reader', 'read').list({ environment: 'preprod', sha: SHA });
  expect(listed.map((d) => d.id)).toEqual([b.id, a.id]);

  await api('writer').createStatus(a.id, { state: 'success', description: 'ok', log_url: 'https://x/run' });
  await api('writer').createStatus(b.id, { state: 'success', description: 'ok' });
  // auto_inactive: the earlier success of the same (non-production) environment went inactive.
  const sa = await api('reader', 'read').statuses(a.id);
  expect(sa.map((s) => s.state)).toEqual(['inactive', 'success']);
  expect(sa[1]).toMatchObject({ log_url: 'https://x/run', environment: 'preprod' });
  expect((await api('reader', 'read').statuses(b.id)).map((s) => s.state)).toEqual(['success']);
});

test('list without a sha: every commit, newest first, at most max (one page)', async () => {
  const a = await api('writer').create(body('window'));
  const b = await api('writer').create({ ...body('window'), ref: OTHER_SHA });
  const c = await api('writer').create(body('window'));
  const reader = api('reader', 'read');
  expect((await reader.list({ environment: 'window' })).map((d) => d.id)).toEqual([c.id, b.id, a.id]);
  const before = gh.state.requests.length;
  expect((await reader.list({ environment: 'window', max: 2 })).map((d) => d.id)).toEqual([c.id, b.id]);
  expect(gh.state.requests.slice(before).map((r) => r.query)).toEqual([{ environment: 'window', per_page: '2', page: '1' }]);
});

test('createStatus sends auto_inactive only when set', async () => {
  const d = await api('writer').create(body('auto'));
  await api('writer').createStatus(d.id, { state: 'success', description: 'ok', auto_inactive: false });
  await api('writer').createStatus(d.id, { state: 'success', description: 'ok' });
  const posts = gh.state.requests.filter((r) => r.method === 'POST' && r.path.endsWith(`/deployments/${d.id}/statuses`));
  expect(posts.map((r) => (r.body as { auto_inactive?: boolean }).auto_inactive)).toEqual([false, undefined]);
});

test('list follows pages', async () => {
  for (let i = 0; i < 101; i++) await api('writer').create(body('pages'));
  expect(await api('reader', 'read').list({ environment: 'pages', sha: SHA })).toHaveLength(101);
});

test('5xx and secondary rate limits are retried', async () => {
  retries.length = 0;
  sleeps.length = 0;
  gh.fault({ method: 'POST', path: '/repos/acme/sample-service/deployments', status: 502 });
  gh.rateLimitNext('POST', '/repos/acme/sample-service/deployments');
  const d = await api('writer').create(body('retry'));
  expect(d.id).toBeGreaterThan(0);
  expect(retries).toHaveLength(2);
  expect(retries[1]).toContain('secondary rate limit');
  // retry-after: 1 was honoured before the jittered backoff.
  expect(sleeps).toContain(1000);
  expect(gh.state.deployments.filter((x) => x.environment === 'retry')).toHaveLength(1);
});

test('a token without deployments: write is told which permission is missing', async () => {
  const err = await api('reader').create(body('preprod')).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UserError);
  expect((err as Error).message).toContain("'deployments: write'");
  expect((err as Error).message).toContain('Resource not accessible by integration');
});

test('a token without deployments: read is told which permission is missing', async () => {
  const err = await api('nothing', 'read').list({ environment: 'preprod', sha: SHA }).catch((e: unknown) => e);
  expect((err as Error).message).toContain("'deployments: read'");
});

test('a bad token and an unknown repository fail clearly', async () => {
  await expect(api('nope').list({ environment: 'preprod', sha: SHA })).rejects.toThrow(/rejected the token.*401/);
  await expect(api('writer', 'read', 'missing').list({ environment: 'preprod', sha: SHA })).rejects.toThrow(
    /404.*not visible to the token.*deployments: read/,
  );
});
