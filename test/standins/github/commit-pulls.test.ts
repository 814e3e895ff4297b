/**
 * The release card's pull request numbers (issue 22) over the GitHub stand-in: compare and "list
 * pull requests associated with a commit" (`GET /repos/{o}/{r}/commits/{sha}/pulls`) answered from
 * a real git history and the stand-in's merged pull requests, read through the card's own client
 * (octokitCompare) and withPullRequests. A squash-merged pull request whose title was edited (no
 * `(#N)`), a rebase-merged one (its commits keep their own messages), a merge commit (number from
 * its message, no request), a commit pushed without a pull request; a token without
 * pull-requests: read (one refused request, then the card says why); the bound on requests.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { octokitCompare } from '../../../actions/promote-gate/src/card/sources';
import { commitRange, withPullRequests } from '../../../actions/promote-gate/src/card/commits';
import { startGithubStandin, type GithubStandin } from './index';

let gh: GithubStandin;
let root: string;
const sha: Record<string, string> = {};

function git(...args: string[]): string {
  return execFileSync('git', ['-c', 'commit.gpgsign=false', '-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', ...args], { cwd: root, encoding: 'utf8' }).trim();
}
function commit(name: string, message: string): void {
  writeFileSync(join(root, `${name}.txt`), `${name}\n`);
  git('add', '-A');
  git('commit', '--quiet', '-m', message);
  sha[name] = git('rev-parse', 'HEAD');
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'commit-pulls-'));
  git('init', '--quiet', '--initial-branch=main');
  commit('base', 'Base');
  // On main, in order: a squash merge whose title was edited, two rebased commits, a merge commit, a direct push.
  commit('squash', 'Add the health endpoint');
  commit('rebase1', 'Rebased: first change');
  commit('rebase2', 'Rebased: second change');
  commit('merged', 'Merge pull request #9 from acme/feature');
  commit('direct', 'Direct push, no pull request');
  const t = '2026-12-07T10:00:00Z';
  const pull = (number: number, head: string, commits: string[]) => ({ repo: 'acme/sample-service', number, head, base: 'main', title: `PR ${number}`, body: '', state: 'closed' as const, user: 'dev', createdAt: t, updatedAt: t, merged: { at: t, commits } });
  gh = await startGithubStandin({
    tokens: { full: { permissions: { contents: 'read', 'pull-requests': 'read' } }, contents: { permissions: { contents: 'read' } } },
    gitRoots: { 'acme/sample-service': root },
  });
  gh.state.pulls.push(pull(7, 'health', [sha.squash!]), pull(8, 'two-changes', [sha.rebase1!, sha.rebase2!]), pull(9, 'feature', [sha.merged!]));
}, 60_000);

afterAll(async () => {
  await gh?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

const client = (token: string) => octokitCompare({ token, apiUrl: gh.url, owner: 'acme', repo: 'sample-service', attempts: 1 });
const pullRequests = () => gh.state.requests.filter((r) => /\/commits\/[0-9a-f]{40}\/pulls$/.test(r.path));

test('squash-merged and rebase-merged pull requests are named; a merge commit by its message; a direct push has none', async () => {
  const api = client('full');
  const before = pullRequests().length;
  const range = await withPullRequests(commitRange(await api.compare(sha.base!, sha.direct!)), api.pullOf!.bind(api));
  expect(range.commits.map((c) => [c.title, c.pr ?? '-'])).toEqual([
    ['Direct push, no pull request', '-'],
    ['Merge pull request #9 from acme/feature', 9],
    ['Rebased: second change', 8],
    ['Rebased: first change', 8],
    ['Add the health endpoint', 7],
  ]);
  expect(range.pullsNote).toBeUndefined();
  // One request per commit without a number in its message; none for the merge commit.
  expect(pullRequests().length - before).toBe(4);
});

test('a token without pull-requests: read: one refused request, numbers from messages only, and the card says why', async () => {
  const api = client('contents');
  const before = pullRequests().length;
  const range = await withPullRequests(commitRange(await api.compare(sha.base!, sha.direct!)), api.pullOf!.bind(api));
  expect(range.commits.map((c) => c.pr ?? '-')).toEqual(['-', 9, '-', '-', '-']);
  expect(range.pullsNote).toBe('pull requests of commits without one in their message (e.g. "Rebase and merge") not looked up: the token cannot read pull requests (it needs pull-requests: read)');
  const asked = pullRequests().slice(before);
  expect(asked.map((r) => r.status)).toEqual([403]);
});

test('at most `max` requests; the card says how many were looked up', async () => {
  const api = client('full');
  const before = pullRequests().length;
  const range = await withPullRequests(commitRange(await api.compare(sha.base!, sha.direct!)), api.pullOf!.bind(api), 2);
  expect(pullRequests().length - before).toBe(2);
  expect(range.commits.map((c) => c.pr ?? '-')).toEqual(['-', 9, 8, '-', '-']);
  expect(range.pullsNote).toBe('pull requests looked up for the newest 2 of 4 commits without one in their message');
});
