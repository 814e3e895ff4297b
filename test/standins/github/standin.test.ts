/** The GitHub stand-in's HTTP contract: status codes, error bodies, pagination, filters. */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startGithubStandin, type GithubStandin } from './index';

let gh: GithubStandin;
const SHA = 'a'.repeat(40);
beforeAll(async () => {
  gh = await startGithubStandin({
    tokens: { admin: 'all', reader: { permissions: { deployments: 'read' } } },
    branches: { main: SHA },
    users: [{ login: 'alice', id: 7 }],
    teams: [{ org: 'acme', slug: 'platform', id: 9 }],
  });
});
afterAll(() => gh.stop());

async function api(method: string, path: string, body?: unknown, token = 'admin') {
  const res = await fetch(`${gh.url}${path}`, {
    method,
    redirect: 'manual',
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
}

const R = '/repos/acme/sample-service';

test('auth: missing or unknown token is 401 Bad credentials; a missing permission is 403', async () => {
  const none = await fetch(`${gh.url}${R}/deployments`);
  expect(none.status).toBe(401);
  expect(await none.json()).toMatchObject({ message: 'Bad credentials', status: '401' });
  expect((await api('GET', `${R}/deployments`, undefined, 'bogus')).status).toBe(401);
  const denied = await api('POST', `${R}/deployments`, { ref: 'main' }, 'reader');
  expect(denied.status).toBe(403);
  expect(denied.json.message).toBe('Resource not accessible by integration');
  expect((await api('GET', '/repos/acme/nope/deployments')).status).toBe(404);
});

test('deployments: branch refs resolve, unknown refs are 422, filters and newest-first order', async () => {
  const a = await api('POST', `${R}/deployments`, { ref: 'main', environment: 'qa', required_contexts: [], payload: { x: 1 } });
  expect(a.status).toBe(201);
  expect(a.json).toMatchObject({ sha: SHA, ref: 'main', environment: 'qa', task: 'deploy', payload: { x: 1 }, production_environment: false });
  expect((await api('POST', `${R}/deployments`, { ref: 'nope' })).status).toBe(422);
  expect((await api('POST', `${R}/deployments`, { ref: 'main', required_contexts: ['ci'] })).status).toBe(409);
  const b = await api('POST', `${R}/deployments`, { ref: SHA, environment: 'qa', required_contexts: [] });
  const p = await api('POST', `${R}/deployments`, { ref: SHA, required_contexts: [] });
  expect(p.json).toMatchObject({ environment: 'production', production_environment: true });
  const qa = await api('GET', `${R}/deployments?environment=qa&sha=${SHA}`);
  expect(qa.json.map((d: { id: number }) => d.id)).toEqual([b.json.id, a.json.id]);
  expect((await api('GET', `${R}/deployments?ref=main`)).json).toHaveLength(1);
  expect((await api('GET', `${R}/deployments/${a.json.id}`)).json.id).toBe(a.json.id);
  // Creating a deployment creates its environment, as GitHub does.
  expect((await api('GET', `${R}/environments/qa`)).status).toBe(200);
});

test('statuses: newest first, bad state 422, auto-inactive for non-production only', async () => {
  const mk = async (env: string) => (await api('POST', `${R}/deployments`, { ref: SHA, environment: env, required_contexts: [] })).json.id as number;
  const s = (id: number, state: string, extra: object = {}) => api('POST', `${R}/deployments/${id}/statuses`, { state, ...extra });
  const d1 = await mk('staging');
  const d2 = await mk('staging');
  expect((await s(d1, 'bogus')).status).toBe(422);
  expect((await s(d1, 'success', { log_url: 'https://l', environment_url: 'https://e' })).json).toMatchObject({ state: 'success', log_url: 'https://l', target_url: 'https://l', environment_url: 'https://e', environment: 'staging' });
  await s(d2, 'success');
  expect((await api('GET', `${R}/deployments/${d1}/statuses`)).json.map((x: { state: string }) => x.state)).toEqual(['inactive', 'success']);
  const d3 = await mk('other');
  await s(d3, 'success', { auto_inactive: false });
  const p1 = await mk('production');
  const p2 = await mk('production');
  await s(p1, 'success');
  await s(p2, 'success');
  expect((await api('GET', `${R}/deployments/${p1}/statuses`)).json.map((x: { state: string }) => x.state)).toEqual(['success']);
});

test('auto-inactive: any other deployment already successful, whatever its creation order; never transient ones; auto_inactive false', async () => {
  const mk = async (env: string, extra: object = {}) =>
    (await api('POST', `${R}/deployments`, { ref: SHA, environment: env, required_contexts: [], ...extra })).json.id as number;
  const s = (id: number, state: string, extra: object = {}) => api('POST', `${R}/deployments/${id}/statuses`, { state, ...extra });
  const states = async (id: number) => (await api('GET', `${R}/deployments/${id}/statuses`)).json.map((x: { state: string }) => x.state);
  const early = await mk('uat');
  const transient = await mk('uat', { transient_environment: true });
  const late = await mk('uat');
  await s(late, 'success');
  await s(transient, 'success');
  // The earlier-created deployment succeeds last: the later-created one (already successful) goes inactive.
  await s(early, 'success');
  expect(await states(late)).toEqual(['inactive', 'success']);
  expect(await states(transient)).toEqual(['success']);
  // auto_inactive: false leaves the others alone.
  const quiet = await mk('uat');
  await s(quiet, 'success', { auto_inactive: false });
  expect(await states(early)).toEqual(['success']);
  // A failure does not inactivate anything; a success of a transient deployment does.
  await s(quiet, 'failure');
  expect(await states(early)).toEqual(['success']);
  const t2 = await mk('uat', { transient_environment: true });
  await s(t2, 'success');
  expect(await states(early)).toEqual(['inactive', 'success']);
  expect(await states(transient)).toEqual(['success']);
});

test('actionsJob: the deployment GitHub Actions makes for a job with environment:', async () => {
  const recorded = (await api('POST', `${R}/deployments`, { ref: SHA, environment: 'jobenv', required_contexts: [], transient_environment: true })).json.id as number;
  const plain = (await api('POST', `${R}/deployments`, { ref: SHA, environment: 'jobenv', required_contexts: [] })).json.id as number;
  const job = await gh.actionsJob({ environment: 'jobenv', sha: SHA });
  await api('POST', `${R}/deployments/${recorded}/statuses`, { state: 'success' });
  await api('POST', `${R}/deployments/${plain}/statuses`, { state: 'success', auto_inactive: false });
  const d = (await api('GET', `${R}/deployments/${job.deploymentId}`)).json;
  expect(d).toMatchObject({ environment: 'jobenv', sha: SHA, transient_environment: false, production_environment: false, payload: {}, creator: { login: 'github-actions[bot]' } });
  const jobStates = async () => (await api('GET', `${R}/deployments/${job.deploymentId}/statuses`)).json.map((x: { state: string }) => x.state);
  expect(await jobStates()).toEqual(['in_progress']);
  await job.finish();
  expect(await jobStates()).toEqual(['success', 'in_progress']);
  const latest = async (id: number) => (await api('GET', `${R}/deployments/${id}/statuses`)).json[0].state;
  expect(await latest(plain)).toBe('inactive');
  expect(await latest(recorded)).toBe('success');
});

test('pagination: per_page and Link headers', async () => {
  for (let i = 0; i < 5; i++) await api('POST', `${R}/deployments`, { ref: SHA, environment: 'paged', required_contexts: [] });
  const first = await api('GET', `${R}/deployments?environment=paged&per_page=2`);
  expect(first.json).toHaveLength(2);
  expect(first.headers.get('link')).toMatch(/page=2.*rel="next".*page=3.*rel="last"/);
  const last = await api('GET', `${R}/deployments?environment=paged&per_page=2&page=3`);
  expect(last.json).toHaveLength(1);
  expect(last.headers.get('link')).toContain('rel="prev"');
});

test('environments: PUT validation, protection rules shape, branch policies', async () => {
  expect((await api('PUT', `${R}/environments/prod`, { wait_timer: 50000 })).status).toBe(422);
  expect((await api('PUT', `${R}/environments/prod`, { reviewers: [{ type: 'User', id: 999 }] })).status).toBe(422);
  expect((await api('PUT', `${R}/environments/prod`, { deployment_branch_policy: { protected_branches: true, custom_branch_policies: true } })).status).toBe(422);
  const put = await api('PUT', `${R}/environments/prod`, {
    wait_timer: 5,
    prevent_self_review: true,
    reviewers: [{ type: 'User', id: 7 }, { type: 'Team', id: 9 }],
    deployment_branch_policy: { protected_branches: false, custom_branch_policies: true },
  });
  expect(put.status).toBe(200);
  expect(put.json.protection_rules.map((r: { type: string }) => r.type)).toEqual(['wait_timer', 'required_reviewers', 'branch_policy']);
  expect(put.json.protection_rules[1].reviewers).toMatchObject([{ type: 'User', reviewer: { login: 'alice', id: 7 } }, { type: 'Team', reviewer: { slug: 'platform', id: 9 } }]);
  const pol = await api('POST', `${R}/environments/prod/deployment-branch-policies`, { name: 'main' });
  expect(pol.status).toBe(200);
  expect(pol.json).toMatchObject({ name: 'main', type: 'branch' });
  const dup = await api('POST', `${R}/environments/prod/deployment-branch-policies`, { name: 'main' });
  expect(dup.status).toBe(303);
  expect(dup.headers.get('location')).toContain(`/deployment-branch-policies/${pol.json.id}`);
  expect((await api('PUT', `${R}/environments/prod/deployment-branch-policies/${pol.json.id}`, { name: 'release/*' })).json.name).toBe('release/*');
  expect((await api('GET', `${R}/environments/prod/deployment-branch-policies`)).json).toMatchObject({ total_count: 1, branch_policies: [{ name: 'release/*' }] });
  expect((await api('DELETE', `${R}/environments/prod/deployment-branch-policies/${pol.json.id}`)).status).toBe(204);
  // Custom policies need custom_branch_policies: true.
  await api('PUT', `${R}/environments/prod`, { deployment_branch_policy: null });
  expect((await api('POST', `${R}/environments/prod/deployment-branch-policies`, { name: 'main' })).status).toBe(404);
  const list = await api('GET', `${R}/environments`);
  expect(list.json.total_count).toBe(list.json.environments.length);
  expect((await api('DELETE', `${R}/environments/prod`)).status).toBe(204);
  expect((await api('GET', `${R}/environments/prod`)).status).toBe(404);
});

test('users and teams lookups; fault injection', async () => {
  expect((await api('GET', '/users/alice')).json).toMatchObject({ login: 'alice', id: 7, type: 'User' });
  expect((await api('GET', '/users/ghost')).status).toBe(404);
  expect((await api('GET', '/orgs/acme/teams/platform')).json).toMatchObject({ id: 9, slug: 'platform' });
  expect((await api('GET', '/orgs/acme/teams/platform', undefined, 'reader')).status).toBe(403);
  gh.fault({ method: 'GET', path: '/users/alice', status: 500, times: 2 });
  expect((await api('GET', '/users/alice')).status).toBe(500);
  expect((await api('GET', '/users/alice')).status).toBe(500);
  expect((await api('GET', '/users/alice')).status).toBe(200);
  gh.rateLimitNext('GET', '/users/alice');
  const limited = await api('GET', '/users/alice');
  expect(limited.status).toBe(403);
  expect(limited.headers.get('retry-after')).toBe('1');
  expect(limited.json.message).toContain('secondary rate limit');
});
