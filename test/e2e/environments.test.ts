/**
 * Environments as code end to end: the CLI (in-process and as a real `tsx` subprocess) with
 * real Octokit against the GitHub stand-in through GITHUB_API_URL.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { main } from '../../packages/environments/src/cli';
import { repoRoot } from '../harness/runner';
import { startGithubStandin, type GithubStandin } from '../standins/github';

const ADMIN = 'ghp_admin_0123456789';
const NO_MEMBERS = 'ghp_repo_admin_only_0123456789';
const ACTIONS_TOKEN = 'ghs_actions_0123456789';
const EXAMPLE = join(repoRoot, 'workflows/environments.yml');

let gh: GithubStandin;
let dir: string;

async function cli(args: string[], token = ADMIN): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(
    ['--repo', 'acme/sample-service', ...args],
    { GITHUB_TOKEN: token, GITHUB_API_URL: gh.url },
    { out: (l) => void out.push(l), err: (l) => void err.push(l) },
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const env = (name: string) => gh.state.environments.find((e) => e.name === name);
const policies = (name: string) => gh.state.branchPolicies.filter((p) => p.environment === name).map((p) => `${p.type}:${p.name}`).sort();
const writes = () => gh.state.requests.filter((r) => r.method !== 'GET');

beforeAll(async () => {
  gh = await startGithubStandin({
    tokens: {
      [ADMIN]: { permissions: { administration: 'write', members: 'read' } },
      [NO_MEMBERS]: { permissions: { administration: 'write' } },
      [ACTIONS_TOKEN]: { permissions: { deployments: 'write', actions: 'read' } },
    },
    users: [
      { login: 'alice', id: 101 },
      { login: 'bob', id: 102 },
    ],
    teams: [
      { org: 'acme', slug: 'platform', id: 501, name: 'Platform' },
      { org: 'acme', slug: 'release-managers', id: 502, name: 'Release managers' },
    ],
  });
  dir = mkdtempSync(join(tmpdir(), 'da-envs-'));
});
afterAll(() => gh.stop());
beforeEach(() => {
  gh.state.environments.length = 0;
  gh.state.branchPolicies.length = 0;
  gh.state.requests.length = 0;
});

test('apply creates qa, preprod, production as the example file says; re-apply is a no-op', async () => {
  const first = await cli(['--file', EXAMPLE]);
  expect(first.err).toBe('');
  expect(first.code).toBe(0);
  expect(first.out).toContain('applied');

  expect(env('qa')).toMatchObject({ reviewers: [], wait_timer: 0, deployment_branch_policy: { protected_branches: false, custom_branch_policies: true } });
  expect(env('preprod')).toMatchObject({ reviewers: [{ type: 'Team', id: 501 }], prevent_self_review: true, wait_timer: 0 });
  expect(env('production')).toMatchObject({
    reviewers: [
      { type: 'Team', id: 501 },
      { type: 'Team', id: 502 },
    ],
    prevent_self_review: true,
    wait_timer: 10,
    deployment_branch_policy: { protected_branches: false, custom_branch_policies: true },
  });
  expect(policies('qa')).toEqual(['branch:develop']);
  expect(policies('preprod')).toEqual(['branch:main']);
  expect(policies('production')).toEqual(['branch:main']);

  gh.state.requests.length = 0;
  const again = await cli(['--file', EXAMPLE]);
  expect(again.code).toBe(0);
  expect(again.out).toContain('no changes');
  expect(writes()).toEqual([]);

  const check = await cli(['--file', EXAMPLE, '--check']);
  expect(check.code).toBe(0);
  expect(check.out).toContain('environments match');
});

test('--check reports drift after a manual change and changes nothing; apply repairs it', async () => {
  expect((await cli(['--file', EXAMPLE])).code).toBe(0);
  // Someone edits production in the UI: drops the wait timer, adds bob, allows feature branches.
  const put = await fetch(`${gh.url}/repos/acme/sample-service/environments/production`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      wait_timer: 0,
      prevent_self_review: false,
      reviewers: [{ type: 'User', id: 102 }, { type: 'Team', id: 501 }],
      deployment_branch_policy: { protected_branches: false, custom_branch_policies: true },
    }),
  });
  expect(put.status).toBe(200);
  const add = await fetch(`${gh.url}/repos/acme/sample-service/environments/production/deployment-branch-policies`, {
    method: 'POST',
    headers: { Authorization: `token ${ADMIN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'feature/*', type: 'branch' }),
  });
  expect(add.status).toBe(200);

  gh.state.requests.length = 0;
  const check = await cli(['--file', EXAMPLE, '--check']);
  expect(check.code).toBe(2);
  expect(check.out).toContain('production: wait_timer 0 -> 10');
  expect(check.out).toContain('production: reviewers acme/platform, bob -> acme/platform, acme/release-managers');
  expect(check.out).toContain('production: prevent_self_review false -> true');
  expect(check.out).toContain('production: remove branch policy feature/*');
  expect(check.out).not.toContain('preprod:');
  expect(writes()).toEqual([]);

  const apply = await cli(['--file', EXAMPLE]);
  expect(apply.code).toBe(0);
  expect(env('production')).toMatchObject({ wait_timer: 10, prevent_self_review: true });
  expect(policies('production')).toEqual(['branch:main']);
  expect((await cli(['--file', EXAMPLE, '--check'])).code).toBe(0);
});

test('an unknown user fails clearly, before anything is written', async () => {
  const file = join(dir, 'unknown.yml');
  writeFileSync(file, 'environments:\n  production:\n    reviewers: { users: [alice, ghost], teams: [nobody] }\n');
  const r = await cli(['--file', file]);
  expect(r.code).toBe(1);
  expect(r.err).toContain("unknown user 'ghost' (environments.production.reviewers.users)");
  expect(r.err).toContain("unknown team 'acme/nobody'");
  expect(writes()).toEqual([]);
});

test('a token that cannot read teams or write environments is told what it needs', async () => {
  const noMembers = await cli(['--file', EXAMPLE], NO_MEMBERS);
  expect(noMembers.code).toBe(1);
  expect(noMembers.err).toContain("'Members: read'");
  const usersOnly = join(dir, 'users-only.yml');
  writeFileSync(usersOnly, 'environments:\n  qa:\n    reviewers: { users: [alice] }\n');
  const r = await cli(['--file', usersOnly], ACTIONS_TOKEN);
  expect(r.code).toBe(1);
  expect(r.err).toContain("'Administration: write'");
  expect(writes().every((w) => w.status === 403)).toBe(true);
});

test('switching deployment branches to protected and transient 5xx are handled', async () => {
  const file = join(dir, 'protected.yml');
  writeFileSync(file, 'environments:\n  production:\n    deployment_branches: protected\n    wait_timer: 5\n');
  gh.fault({ method: 'PUT', path: '/repos/acme/sample-service/environments/production', status: 503 });
  const out: string[] = [];
  const code = await main(
    ['--repo', 'acme/sample-service', '--file', file],
    { GITHUB_TOKEN: ADMIN, GITHUB_API_URL: gh.url },
    { out: () => undefined, err: (l) => void out.push(l) },
  );
  expect(code).toBe(0);
  expect(out.join('\n')).toContain('retrying');
  expect(env('production')).toMatchObject({ wait_timer: 5, deployment_branch_policy: { protected_branches: true, custom_branch_policies: false } });
});

test('the documented command: pnpm run apply, a file relative to the caller, exit code 2 on drift', async () => {
  // Asynchronous: the stand-in lives in this process and must keep answering.
  const run = (args: string[]) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(
        'pnpm',
        ['--filter', '@deploy-actions/environments', 'run', '--silent', 'apply', '--repo', 'acme/sample-service', ...args],
        { cwd: repoRoot, env: { PATH: process.env.PATH, HOME: process.env.HOME, GITHUB_TOKEN: ADMIN, GITHUB_API_URL: gh.url } },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });
  const check = await run(['--file', 'workflows/environments.yml', '--check']);
  expect(check.stderr).not.toContain('error:');
  expect(check.status).toBe(2);
  expect(check.stdout).toContain('qa: create environment');
  const apply = await run(['--file', 'workflows/environments.yml']);
  expect(apply.status).toBe(0);
  expect((await run(['--file', 'workflows/environments.yml', '--check'])).status).toBe(0);
  const bad = await run(['--file', 'workflows/environments.yml', '--bogus']);
  expect(bad.status).toBe(1);
  expect(bad.stderr).toContain("unknown argument '--bogus'");
});
