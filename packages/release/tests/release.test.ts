// The release end to end against real git (a bare remote, fresh clones, real tags and pushes)
// and the GitHub API stand-in (releases), on a copy of this repository's workflows, action
// metadata and bundles, plus a small probe (a reusable workflow calling another that runs an
// action reporting its release) that the workflow executor runs from the released tags.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { exec, recordingIO } from '@deploy-actions/action-kit';
import { startGithubStandin, type GithubStandin } from '../../../test/standins/github/index';
import { gitIn, releasesApi, run, type ReleaseInputs } from '../src';
import { ACTIONS, REPO, expectPinning, expectRelease, pipelineTree, probeFiles, pushToMain, remoteTag as tagOf, tagsOn, workDir } from './expectations';

const root = join(import.meta.dirname, '../../..');
const IDENTITY = ['-c', 'user.name=Maintainer', '-c', 'user.email=maintainer@example.com'];

let work: string;
let temp: ReturnType<typeof workDir> | undefined;
let bare: string;
let github: GithubStandin;
const git = (cwd: string, ...args: string[]) => execFileSync('git', [...IDENTITY, ...args], { cwd, encoding: 'utf8' }).trim();
const remoteTag = (tag: string) => tagOf(bare, tag);
const tagsOnRemote = () => tagsOn(bare);

function changelog(sections: Array<[string, string]>): string {
  return ['# Changelog', '', '## [Unreleased]', '', ...sections.flatMap(([v, body]) => [`## [${v}] - 2026-12-01`, '', body, ''])].join('\n');
}

/** The release workflow's job: a fresh clone of main, then the release. */
async function release(version: string, edit?: (clone: string) => void, checkOnly = false, target?: ReleaseInputs['target']) {
  const clone = mkdtempSync(join(work, 'release-'));
  git(work, 'clone', '--quiet', '--branch', 'main', bare, clone);
  edit?.(clone);
  const io = recordingIO();
  const inputs: ReleaseInputs = { version, repository: REPO, root: clone, changelog: 'CHANGELOG.md', workflowsDir: '.github/workflows', checkOnly, target };
  const deps = {
    io,
    git: gitIn({ cwd: clone, remote: 'origin', committerName: 'github-actions[bot]', committerEmail: 'bot@example.com' }),
    releases: releasesApi('release-token', REPO, github.url),
  };
  return { io, clone, outcome: await run(inputs, deps).then((outputs) => ({ outputs }), (error: Error) => ({ error })) };
}

/**
 * The same through the workflow step's command (src/cli.ts), the runner's way: INPUT_*, GITHUB_*,
 * file commands. Asynchronous: the stand-in answering it lives in this process.
 */
async function releaseViaCli(version: string) {
  const clone = mkdtempSync(join(work, 'release-cli-'));
  git(work, 'clone', '--quiet', '--branch', 'main', bare, clone);
  const files = { GITHUB_OUTPUT: join(work, `out-${version}`), GITHUB_STEP_SUMMARY: join(work, `summary-${version}`) };
  for (const f of Object.values(files)) writeFileSync(f, '');
  const env = {
    ...files,
    INPUT_VERSION: version,
    INPUT_TOKEN: 'release-token',
    GITHUB_REPOSITORY: REPO,
    GITHUB_WORKSPACE: clone,
    GITHUB_API_URL: github.url,
  };
  const r = await exec('pnpm', ['--filter', '@deploy-actions/release', 'exec', 'tsx', 'src/cli.ts'], { cwd: root, env, silent: true, allowFailure: true });
  return { status: r.exitCode, stdout: r.stdout + r.stderr, output: readFileSync(files.GITHUB_OUTPUT, 'utf8'), summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8') };
}

beforeAll(async () => {
  temp = workDir('release-test-');
  work = temp.dir;
  bare = join(work, 'deploy-actions.git');
  git(work, 'init', '--quiet', '--bare', '--initial-branch=main', bare);
  const seed = join(work, 'seed');
  mkdirSync(seed);
  git(seed, 'init', '--quiet', '--initial-branch=main');
  cpSync(join(root, '.github/workflows'), join(seed, '.github/workflows'), { recursive: true });
  for (const a of ACTIONS) {
    cpSync(join(root, a, 'action.yml'), join(seed, a, 'action.yml'));
    cpSync(join(root, 'actions', a, 'dist'), join(seed, 'actions', a, 'dist'), { recursive: true });
  }
  writeFileSync(join(seed, 'CHANGELOG.md'), changelog([['1.0.0', '### Added\n- The first release.']]));
  for (const [path, text] of Object.entries(probeFiles('1.0.0'))) {
    mkdirSync(join(seed, path, '..'), { recursive: true });
    writeFileSync(join(seed, path), text);
  }
  git(seed, 'add', '-A');
  git(seed, 'commit', '--quiet', '-m', 'deploy-actions');
  git(seed, 'push', '--quiet', bare, 'main');
  github = await startGithubStandin({
    tokens: { 'release-token': { permissions: { contents: 'write' } } },
    repositories: [REPO],
    immutableReleases: true,
  });
});

afterAll(async () => {
  await github?.stop();
  temp?.cleanup();
});

describe('release', () => {
  let v100: string;
  let v110: string;

  test('refuses, before any side effect, a version that is not semver or has no changelog section, and a drifted tree', async () => {
    for (const [version, message] of [
      ['1.0', "Input 'version' must be a semantic version X.Y.Z"],
      ['1.2.0', 'CHANGELOG.md has no section for 1.2.0'],
    ]) {
      const r = await release(version!);
      expect('error' in r.outcome && r.outcome.error.message).toContain(message);
    }
    const drifted = await release('1.0.0', (clone) => appendFileSync(join(clone, 'actions/promote-gate/dist/index.js'), '\n// stale\n'));
    expect('error' in drifted.outcome && drifted.outcome.error.message).toContain(
      'the working tree differs from the commit after the build (stale bundles or uncommitted changes; run pnpm build and commit): M actions/promote-gate/dist/index.js',
    );
    // The check before CI looks at the version, the changelog and the tags only.
    const checked = await release('1.0.0', (clone) => appendFileSync(join(clone, 'actions/promote-gate/dist/index.js'), '\n// stale\n'), true);
    expect('outputs' in checked.outcome && checked.outcome.outputs).toEqual({ tag: 'v1.0.0', commit: '', 'major-tag': 'v1', 'release-url': '' });
    expect(checked.io.lines).toEqual(['v1.0.0 can be released: changelog section found, v1 moves from (new)']);
    expect(tagsOnRemote()).toEqual([]);
    expect(github.state.releases).toEqual([]);
  });

  test("1.0.0: tags v1.0.0 and v1 on main's commit (references by $/), a published release with notes and assets", async () => {
    const main = git(bare, 'rev-parse', 'main');
    const r = await release('1.0.0');
    if ('error' in r.outcome) throw r.outcome.error;
    v100 = expectRelease(bare, github, { tag: 'v1.0.0', main, notes: '### Added\n- The first release.' });
    expect(r.outcome.outputs).toMatchObject({ tag: 'v1.0.0', commit: v100, 'major-tag': 'v1' });
    expect(tagsOnRemote()).toEqual(['v1', 'v1.0.0']);
    expect(remoteTag('v1')).toBe(v100);
    expect(r.io.summaries.join('')).toContain('v1: moved from (new) to 1.0.0');
  });

  test('refuses 1.0.0 again and anything not greater than it, without touching tags', async () => {
    const again = await releaseViaCli('1.0.0');
    expect(again.status).toBe(1);
    expect(again.stdout).toContain("::error::Input 'version' is already released (v1.0.0 has a published release)");
    const older = await release('0.9.0');
    expect('error' in older.outcome && older.outcome.error.message).toContain("Input 'version' must be greater than the latest release 1.0.0");
    expect(tagsOnRemote()).toEqual(['v1', 'v1.0.0']);
  });

  test('1.1.0 moves v1; the GitHub release of 1.1.0 is the latest', async () => {
    const promoteGate = 'actions/promote-gate/dist/index.js';
    pushToMain(
      bare,
      {
        [promoteGate]: `${readFileSync(join(root, promoteGate), 'utf8')}\n// 1.1.0\n`,
        ...probeFiles('1.1.0'),
        'CHANGELOG.md': changelog([
          ['1.1.0', '### Changed\n- promote-gate 1.1.0.'],
          ['1.0.0', '### Added\n- The first release.'],
        ]),
      },
      'promote-gate: 1.1.0',
    );
    const r = await releaseViaCli('1.1.0');
    expect(r.status, r.stdout).toBe(0);
    v110 = remoteTag('v1.1.0');
    expect(r.output).toMatch(new RegExp(`^commit<<(ghadelimiter_[^\\n]+)\\n${v110}\\n\\1$`, 'm'));
    expect(remoteTag('v1')).toBe(v110);
    expect(remoteTag('v1.0.0')).toBe(v100); // never moved
    expect(github.state.releases.map((x) => [x.tagName, x.draft, x.body])).toEqual([
      ['v1.0.0', false, '### Added\n- The first release.'],
      ['v1.1.0', false, '### Changed\n- promote-gate 1.1.0.'],
    ]);
    const latest = await fetch(`${github.url}/repos/${REPO}/releases/latest`, { headers: { authorization: 'token release-token' } });
    expect(((await latest.json()) as { tag_name: string }).tag_name).toBe('v1.1.0');
    expect(r.summary).toContain('v1: moved from 1.0.0 to 1.1.0');
  });

  test('a caller pinned to 1.0.0 (tag or SHA) runs 1.0.0 at every level after v1 moved, also through the workflow executor; a caller on v1 runs 1.1.0', async () => {
    const { pinned, onV1 } = await expectPinning(bare, v100, v110);
    const gate = (t: typeof pinned) => new Set(t.filter((x) => x.file === 'promote-gate/action.yml').map((x) => x.bundle));
    expect(gate(pinned).size).toBe(1);
    expect(gate(onV1).size).toBe(1);
    expect([...gate(onV1)][0]).not.toBe([...gate(pinned)][0]); // v1 now runs 1.1.0's gate, 1.0.0 callers do not
  });

  test('a caller pinned to any commit of main (no release) runs that one commit at every level', () => {
    const main = git(bare, 'rev-parse', 'main');
    expect(new Set(pipelineTree(bare, main).map((x) => x.sha))).toEqual(new Set([main]));
  });

  test('the old @v1 references, pinned by SHA, ran mixed commits once v1 moved (the test can fail), and are refused', async () => {
    const legacy = (clone: string) => {
      for (const f of ['pipeline.yml', 'deploy.yml', 'build.yml', 'probe.yml', 'probe-inner.yml']) {
        const path = join(clone, '.github/workflows', f);
        writeFileSync(path, readFileSync(path, 'utf8').replace(/^(\s*(?:- )?uses:\s*)\$\/(\S+)/gm, `$1${REPO}/$2@v1`));
      }
    };
    const clone = mkdtempSync(join(work, 'legacy-'));
    git(work, 'clone', '--quiet', '--branch', 'main', bare, clone);
    legacy(clone);
    git(clone, 'commit', '--quiet', '-am', 'legacy references');
    git(clone, 'push', '--quiet', 'origin', 'HEAD:refs/heads/legacy');
    const mixed = pipelineTree(bare, git(bare, 'rev-parse', 'refs/heads/legacy'));
    expect(new Set(mixed.map((x) => x.sha)).size).toBeGreaterThan(1);
    git(bare, 'update-ref', '-d', 'refs/heads/legacy');
    const refused = await release('1.2.0', (c) => {
      legacy(c);
      writeFileSync(join(c, 'CHANGELOG.md'), changelog([['1.2.0', '- legacy']]));
      git(c, 'commit', '--quiet', '-am', 'legacy references, 1.2.0');
    });
    expect('error' in refused.outcome && refused.outcome.error.message).toContain(
      `the workflows reference ${REPO} by a ref instead of $/<path> (the running commit): .github/workflows/build.yml: ${REPO}/build-push-ecr@v1`,
    );
  });

  test('a run that failed after the push is resumed by running it again: v1 moved, release published once', async () => {
    pushToMain(bare, { 'CHANGELOG.md': changelog([['1.2.0', '- fix'], ['1.1.0', '### Changed\n- promote-gate 1.1.0.'], ['1.0.0', '### Added\n- The first release.']]) }, 'changelog 1.2.0');
    github.fault({ method: 'PATCH', path: /\/releases\/\d+$/, status: 422, body: { message: 'Validation Failed' }, times: 1 });
    const failed = await release('1.2.0');
    expect('error' in failed.outcome).toBe(true);
    const v120 = remoteTag('v1.2.0');
    expect(remoteTag('v1')).toBe(v120);
    expect(github.state.releases.find((x) => x.tagName === 'v1.2.0')?.draft).toBe(true);
    const again = await release('1.2.0');
    if ('error' in again.outcome) throw again.outcome.error;
    expect(again.outcome.outputs.commit).toBe(v120);
    expect(remoteTag('v1.2.0')).toBe(v120);
    const rel = github.state.releases.filter((x) => x.tagName === 'v1.2.0');
    expect(rel).toHaveLength(1);
    expect(rel[0]).toMatchObject({ draft: false });
    expect(rel[0]!.assets.map((a) => a.name)).toContain('SHA256SUMS');
  });

  test('GitHub Enterprise Server (no $/): the release commit on top of main pins every internal reference to the tag', async () => {
    const history = [['1.3.0', '- GHES'], ['1.2.0', '- fix'], ['1.1.0', '### Changed\n- promote-gate 1.1.0.'], ['1.0.0', '### Added\n- The first release.']] as Array<[string, string]>;
    // promote-gate's bundle back to its build (1.1.0 edited it without its package list), so the assets check holds.
    const promoteGate = 'actions/promote-gate/dist/index.js';
    const main = pushToMain(bare, { 'CHANGELOG.md': changelog(history), [promoteGate]: readFileSync(join(root, promoteGate), 'utf8') }, 'changelog 1.3.0');
    const r = await release('1.3.0', undefined, false, 'ghes');
    if ('error' in r.outcome) throw r.outcome.error;
    const v130 = expectRelease(bare, github, { tag: 'v1.3.0', main, notes: '- GHES', target: 'ghes' });
    expect(r.outcome.outputs.commit).toBe(v130);
    // Everything a caller pinned to v1.3.0 reaches is that release commit (references by tag, not $/).
    expect(new Set(pipelineTree(bare, 'v1.3.0').map((x) => x.sha))).toEqual(new Set([v130]));
    expect(r.io.summaries.join('')).toContain('references pinned to v1.3.0');
  });
});
