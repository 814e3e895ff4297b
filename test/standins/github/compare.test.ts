/**
 * The compare API of the GitHub stand-in, from a real git repository: status and counts, the
 * commits' order and the 250 limit without paging, pages with a Link header, authors mapped to
 * accounts by e-mail, 404s, and the Contents permission. Also read through the release card's own
 * client (octokitCompare), forward and rollback.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { octokitCompare } from '../../../actions/promote-gate/src/card/sources';
import { commitRange } from '../../../actions/promote-gate/src/card/commits';
import { startGithubStandin, type GithubStandin } from './index';

let gh: GithubStandin;
let root: string;
const shas: string[] = [];
let side = '';

function git(...args: string[]): string {
  return execFileSync('git', ['-c', 'commit.gpgsign=false', ...args], { cwd: root, encoding: 'utf8' }).trim();
}

/** 260 commits on main in one `git fast-import` (commits one by one take minutes on a loaded machine). */
function history(): string {
  const when = 1_780_000_000;
  const out: string[] = [];
  for (let i = 0; i < 260; i++) {
    const email = i % 2 ? 'alice@example.com' : '7+bob@users.noreply.github.com';
    const message = `Change ${i} (#${i})\n\nbody\n`;
    const data = `${i}\n`;
    out.push(`commit refs/heads/main`, `mark :${i + 1}`, `author Dev <${email}> ${when + i} +0000`, `committer Dev <${email}> ${when + i} +0000`);
    out.push(`data ${Buffer.byteLength(message)}`, message.slice(0, -1));
    if (i > 0) out.push(`from :${i}`);
    out.push(`M 644 inline f.txt`, `data ${Buffer.byteLength(data)}`, data.slice(0, -1), '');
  }
  return `${out.join('\n')}\n`;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'compare-'));
  git('init', '--quiet', '--initial-branch=main');
  execFileSync('git', ['fast-import', '--quiet'], { cwd: root, input: history() });
  git('checkout', '--quiet', '-f', 'main');
  shas.push(...git('rev-list', '--reverse', 'main').split('\n'));
  git('checkout', '--quiet', '-b', 'side', shas[200]!);
  writeFileSync(join(root, 'f.txt'), '999\n');
  git('add', '-A');
  git('-c', 'user.name=Dev', '-c', 'user.email=carol@example.com', 'commit', '--quiet', '-m', 'Change 999');
  side = git('rev-parse', 'HEAD');
  git('checkout', '--quiet', 'main');
  gh = await startGithubStandin({
    tokens: { reader: { permissions: { contents: 'read' } }, deployer: { permissions: { deployments: 'read' } } },
    users: [
      { login: 'alice', id: 5, emails: ['alice@example.com'] },
      { login: 'bob', id: 7 },
    ],
    gitRoots: { 'acme/sample-service': root },
  });
});
afterAll(async () => {
  await gh.stop();
  rmSync(root, { recursive: true, force: true });
});

async function compare(basehead: string, query = '', token = 'reader') {
  const res = await fetch(`${gh.url}/repos/acme/sample-service/compare/${basehead}${query}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, link: res.headers.get('link'), json: (await res.json()) as any };
}

test('ahead: commits oldest first, at most 250 without paging, the last the newest; authors by e-mail', async () => {
  const r = await compare(`${shas[0]}...${shas[259]}`);
  expect(r.status).toBe(200);
  expect(r.json).toMatchObject({ status: 'ahead', ahead_by: 259, behind_by: 0, total_commits: 259 });
  expect(r.json.commits).toHaveLength(250);
  expect(r.json.commits.at(-1).sha).toBe(shas[259]);
  expect(r.json.commits[0].sha).toBe(shas[10]);
  expect(r.json.commits.at(-1).commit.message).toBe('Change 259 (#259)\n\nbody');
  expect(r.json.commits.at(-1).author.login).toBe('alice');
  expect(r.json.commits.at(-2).author.login).toBe('bob');
  expect(r.json.merge_base_commit.sha).toBe(shas[0]);
  expect(r.json.files).toEqual([{ filename: 'f.txt', status: 'modified', additions: 1, deletions: 1, changes: 2 }]);
  expect(r.link).toBeNull();
});

test('paging: per_page pages oldest first with a Link header; files on the first page only', async () => {
  const p1 = await compare(`${shas[0]}...${shas[259]}`, '?per_page=100');
  expect(p1.json.commits.map((c: { sha: string }) => c.sha)).toEqual(shas.slice(1, 101));
  expect(p1.link).toContain('page=2>; rel="next"');
  expect(p1.link).toContain('page=3>; rel="last"');
  const p3 = await compare(`${shas[0]}...${shas[259]}`, '?per_page=100&page=3');
  expect(p3.json.commits).toHaveLength(59);
  expect(p3.json.files).toBeUndefined();
  expect(p3.link).toContain('rel="prev"');
});

test('behind, identical, diverged; branch names', async () => {
  expect((await compare(`${shas[5]}...${shas[2]}`)).json).toMatchObject({ status: 'behind', ahead_by: 0, behind_by: 3, commits: [] });
  expect((await compare(`${shas[5]}...${shas[5]}`)).json).toMatchObject({ status: 'identical', ahead_by: 0, behind_by: 0 });
  const d = await compare('main...side');
  expect(d.json).toMatchObject({ status: 'diverged', ahead_by: 1, behind_by: 59 });
  expect(d.json.commits[0]).toMatchObject({ sha: side, author: null, commit: { author: { name: 'Dev', email: 'carol@example.com' } } });
});

test('404 for an unknown side or form; 403 without contents: read', async () => {
  expect((await compare(`${'0'.repeat(40)}...${shas[1]}`)).status).toBe(404);
  expect((await compare(`${shas[0]}..${shas[1]}`)).status).toBe(404);
  expect((await compare(`${shas[0]}...${shas[1]}`, '', 'deployer')).status).toBe(403);
});

test("the release card's client: forward lists the newest commits, a rollback the commits taken away", async () => {
  const api = octokitCompare({ token: 'reader', apiUrl: gh.url, owner: 'acme', repo: 'sample-service' });
  const fwd = commitRange(await api.compare(shas[0]!, shas[259]!));
  expect(fwd).toMatchObject({ direction: 'forward', total: 259 });
  expect(fwd.commits[0]).toMatchObject({ sha: shas[259], author: 'alice', pr: 259 });
  const there = await api.compare(shas[259]!, shas[250]!);
  const back = commitRange(there, await api.compare(shas[250]!, shas[259]!));
  expect(back.direction).toBe('rollback');
  expect(back.total).toBe(9);
  expect(back.commits.map((c) => c.sha)).toEqual(shas.slice(251, 260).reverse());
});
