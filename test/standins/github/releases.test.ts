/** The GitHub stand-in's releases endpoints: drafts, publishing, latest, assets, immutability, permissions. */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startGithubStandin, type GithubStandin } from './index';

let gh: GithubStandin;
beforeAll(async () => {
  gh = await startGithubStandin({
    tokens: { writer: { permissions: { contents: 'write' } }, reader: { permissions: { contents: 'read' } }, deployer: { permissions: { deployments: 'write' } } },
    repositories: ['org/deploy-actions'],
    immutableReleases: true,
  });
});
afterAll(() => gh.stop());

const R = '/repos/org/deploy-actions/releases';
async function api(method: string, url: string, body?: unknown, token = 'writer', contentType = 'application/json') {
  const res = await fetch(url.startsWith('http') ? url : `${gh.url}${url}`, {
    method,
    headers: { authorization: `token ${token}`, ...(body !== undefined ? { 'content-type': contentType } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

test('a draft is listed but not found by tag; publishing makes it the latest; an immutable release takes no more assets', async () => {
  expect((await api('POST', R, { tag_name: 'v1.0.0' }, 'reader')).status).toBe(403);
  expect((await api('POST', R, { tag_name: 'v1.0.0' }, 'deployer')).status).toBe(403);
  const draft = await api('POST', R, { tag_name: 'v1.0.0', name: 'v1.0.0', body: 'notes', draft: true });
  expect(draft.status).toBe(201);
  expect((await api('POST', R, { tag_name: 'v1.0.0' })).json.errors[0].code).toBe('already_exists');
  expect((await api('GET', `${R}/tags/v1.0.0`, undefined, 'reader')).status).toBe(404);
  expect((await api('GET', R, undefined, 'reader')).json.map((r: { tag_name: string }) => r.tag_name)).toEqual(['v1.0.0']);
  expect((await api('GET', `${R}/latest`, undefined, 'reader')).status).toBe(404);

  const upload = draft.json.upload_url.replace('{?name,label}', '?name=SHA256SUMS');
  const asset = await api('POST', upload, 'abc  actions/x/dist/index.js\n', 'writer', 'text/plain');
  expect(asset.json).toMatchObject({ name: 'SHA256SUMS', size: 29, content_type: 'text/plain' });
  expect((await api('POST', upload, 'again', 'writer', 'text/plain')).json.errors[0].code).toBe('already_exists');

  const published = await api('PATCH', `${R}/${draft.json.id}`, { draft: false, make_latest: 'true' });
  expect(published.json).toMatchObject({ draft: false, immutable: true, tag_name: 'v1.0.0' });
  expect((await api('GET', `${R}/tags/v1.0.0`, undefined, 'reader')).json.body).toBe('notes');
  expect((await api('GET', `${R}/latest`, undefined, 'reader')).json.tag_name).toBe('v1.0.0');
  const late = await api('POST', draft.json.upload_url.replace('{?name,label}', '?name=late.txt'), 'x', 'writer', 'text/plain');
  expect([late.status, late.json.message]).toEqual([422, 'Cannot upload assets to an immutable release.']);

  // a maintenance release published with make_latest false leaves the latest alone
  const old = await api('POST', R, { tag_name: 'v0.9.1', draft: false, make_latest: 'false' });
  expect(old.status).toBe(201);
  expect((await api('GET', `${R}/latest`, undefined, 'reader')).json.tag_name).toBe('v1.0.0');
  expect(gh.state.releases.find((r) => r.tagName === 'v1.0.0')!.assets[0]!.data.toString()).toBe('abc  actions/x/dist/index.js\n');
});
