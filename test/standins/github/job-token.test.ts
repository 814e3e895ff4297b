/** A job's GITHUB_TOKEN carries the job's permissions, and nothing more. */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startGithubStandin, type GithubStandin } from './index';

let gh: GithubStandin;
const SHA = 'b'.repeat(40);
const R = '/repos/acme/sample-service';
beforeAll(async () => {
  gh = await startGithubStandin({ tokens: {}, branches: { main: SHA } });
});
afterAll(() => gh.stop());

async function call(token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${gh.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: (await res.json()) as { message?: string; creator?: { login: string } } };
}
const createDeployment = (token: string) => call(token, 'POST', `${R}/deployments`, { ref: SHA, environment: 'qa', required_contexts: [] });

test.each([
  [{ contents: 'read', 'id-token': 'write' }, 403],
  [{ deployments: 'read' }, 403],
  [{}, 403],
  [{ contents: 'read', 'id-token': 'write', deployments: 'write' }, 201],
])('permissions %j: creating a deployment answers %i', async (permissions, status) => {
  const r = await createDeployment(gh.mintToken(permissions));
  expect(r.status).toBe(status);
  if (status === 403) expect(r.json.message).toBe('Resource not accessible by integration');
  else expect(r.json.creator?.login).toBe('github-actions[bot]');
});

test('read is enough to list, not to write; actions: read lists environments', async () => {
  const reader = gh.mintToken({ deployments: 'read' });
  expect((await call(reader, 'GET', `${R}/deployments`)).status).toBe(200);
  expect((await call(reader, 'GET', `${R}/environments`)).status).toBe(403);
  expect((await call(gh.mintToken({ actions: 'read' }), 'GET', `${R}/environments`)).status).toBe(200);
  // A job token never administers the repository, whatever the job asks for.
  expect((await call(gh.mintToken({ actions: 'write', deployments: 'write' }), 'PUT', `${R}/environments/prod`, {})).status).toBe(403);
});

test('a revoked token (the job ended) is Bad credentials', async () => {
  const token = gh.mintToken({ deployments: 'write' });
  gh.revokeToken(token);
  expect(await createDeployment(token)).toMatchObject({ status: 401, json: { message: 'Bad credentials' } });
});

test.each([
  [{ administration: 'write' }, "'administration' is not a GITHUB_TOKEN permission"],
  [{ 'id-token': 'read' }, "id-token must be one of none, write (got 'read')"],
  [{ deployments: 'admin' }, "deployments must be one of none, read, write (got 'admin')"],
])('mintToken(%j) is refused: %s', (permissions, message) => {
  expect(() => gh.mintToken(permissions)).toThrow(message);
});
