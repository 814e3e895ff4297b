// The release end to end against real git (a bare remote, fresh clones, real tags and pushes)
// and the GitHub API stand-in (releases), on a copy of this repository's workflows, action
// metadata and bundles, plus a small probe (a reusable workflow calling another that runs an
// action reporting its release) that the workflow executor runs from the released tags.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { exec, recordingIO } from '@deploy-actions/action-kit';
import { startGithubStandin, type GithubStandin } from '../../../test/standins/github/index';
import { gitIn, releasesApi, run, type ReleaseInputs } from '../src';
import { selfAtGit } from '../../../test/executor/git-refs';
import { pushEvent, tempTree } from '../../../test/executor/testing';
import { runWorkflow } from '../../../test/executor/workflow';
import { resolveTree } from './tree';

const REPO = 'org/deploy-actions';
const root = join(import.meta.dirname, '../../..');
const ACTIONS = ['build-push-ecr', 'helm-deploy-eks', 'promote-gate'];
const IDENTITY = ['-c', 'user.name=Maintainer', '-c', 'user.email=maintainer@example.com'];

let work: string;
let bare: string;
let github: GithubStandin;
const git = (cwd: string, ...args: string[]) => execFileSync('git', [...IDENTITY, ...args], { cwd, encoding: 'utf8' }).trim();
const remoteTag = (tag: string) => git(bare, 'rev-parse', `refs/tags/${tag}^{commit}`);
const tagsOnRemote = () => git(bare, 'tag', '--list').split('\n').filter(Boolean).sort();

const PROBE = {
  '.github/workflows/probe.yml': 'name: probe\non: workflow_call\njobs:\n  nested:\n    uses: org/deploy-actions/.github/workflows/probe-inner.yml@v1\n',
  '.github/workflows/probe-inner.yml': [
    'name: probe-inner',
    'on: workflow_call',
    'jobs:',
    '  run:',
    '    runs-on: ubuntu-24.04',
    '    steps:',
    '      - id: probe',
    '        uses: org/deploy-actions/probe@v1',
    '',
  ].join('\n'),
  'probe/action.yml': [
    'name: probe',
    'description: Reports the release it belongs to.',
    'outputs:',
    '  release:',
    '    description: The release.',
    'runs:',
    '  using: node24',
    '  main: ../actions/probe/dist/index.js',
    '',
  ].join('\n'),
};
const probeBundle = (release: string) => `require('node:fs').appendFileSync(process.env.GITHUB_OUTPUT, 'release=${release}\\n');\n`;

function changelog(sections: Array<[string, string]>): string {
  return ['# Changelog', '', '## [Unreleased]', '', ...sections.flatMap(([v, body]) => [`## [${v}] - 2026-12-01`, '', body, ''])].join('\n');
}

/** A maintainer's commit on main: files written, committed, pushed. */
function pushToMain(files: Record<string, string>, message: string): string {
  const clone = join(work, `maintainer-${Date.now()}`);
  git(work, 'clone', '--quiet', bare, clone);
  for (const [path, text] of Object.entries(files)) writeFileSync(join(clone, path), text);
  git(clone, 'add', '-A');
  git(clone, 'commit', '--quiet', '-m', message);
  git(clone, 'push', '--quiet', 'origin', 'HEAD:main');
  return git(clone, 'rev-parse', 'HEAD');
}

/** The release workflow's job: a fresh clone of main, then the release. */
async function release(version: string, edit?: (clone: string) => void) {
  const clone = mkdtempSync(join(work, 'release-'));
  git(work, 'clone', '--quiet', '--branch', 'main', bare, clone);
  edit?.(clone);
  const io = recordingIO();
  const inputs: ReleaseInputs = { version, repository: REPO, root: clone, changelog: 'CHANGELOG.md', workflowsDir: '.github/workflows' };
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
  work = mkdtempSync(join(tmpdir(), 'release-test-'));
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
  for (const [path, text] of Object.entries({ ...PROBE, 'actions/probe/dist/index.js': probeBundle('1.0.0') })) {
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
  if (work) rmSync(work, { recursive: true, force: true });
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
    expect(tagsOnRemote()).toEqual([]);
    expect(github.state.releases).toEqual([]);
  });

  test('1.0.0: release commit with pinned references, tags v1.0.0 and v1, a published release with notes and assets', async () => {
    const main = git(bare, 'rev-parse', 'main');
    const r = await release('1.0.0');
    if ('error' in r.outcome) throw r.outcome.error;
    v100 = remoteTag('v1.0.0');
    expect(r.outcome.outputs).toMatchObject({ tag: 'v1.0.0', commit: v100, 'major-tag': 'v1' });
    expect(tagsOnRemote()).toEqual(['v1', 'v1.0.0']);
    expect(remoteTag('v1')).toBe(v100);
    expect(git(bare, 'rev-parse', `${v100}^`)).toBe(main); // on top of main
    expect(git(bare, 'rev-parse', 'main')).toBe(main); // main itself unchanged
    expect(git(bare, 'cat-file', '-t', 'refs/tags/v1.0.0')).toBe('tag'); // annotated
    const pipeline = git(bare, 'show', `${v100}:.github/workflows/pipeline.yml`);
    expect(pipeline).toContain('uses: org/deploy-actions/.github/workflows/deploy.yml@v1.0.0');
    expect(pipeline).not.toMatch(/uses: org\/deploy-actions\/\S+@v1\s/);
    expect(git(bare, 'show', 'main:.github/workflows/pipeline.yml')).toContain('uses: org/deploy-actions/.github/workflows/deploy.yml@v1');

    const [rel] = github.state.releases;
    expect(rel).toMatchObject({ tagName: 'v1.0.0', name: 'v1.0.0', draft: false, prerelease: false, body: '### Added\n- The first release.' });
    const sums = rel!.assets.find((a) => a.name === 'SHA256SUMS')!.data.toString('utf8');
    for (const a of ACTIONS) {
      const bundle = execFileSync('git', ['--git-dir', bare, 'show', `${v100}:actions/${a}/dist/index.js`], { maxBuffer: 64 << 20 });
      expect(sums).toContain(`${createHash('sha256').update(bundle).digest('hex')}  actions/${a}/dist/index.js\n`);
    }
    for (const a of ACTIONS) {
      const manifest = JSON.parse(rel!.assets.find((x) => x.name === `${a}.packages.json`)!.data.toString('utf8'));
      expect(sums).toContain(`${manifest.sha256}  actions/${a}/dist/index.js\n`);
    }
    const gate = JSON.parse(rel!.assets.find((x) => x.name === 'promote-gate.packages.json')!.data.toString('utf8'));
    expect(gate.packages).toEqual(expect.arrayContaining([{ name: '@aws-sdk/client-ecr', version: expect.stringMatching(/^3\./), license: 'Apache-2.0' }]));
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
      {
        [promoteGate]: `${readFileSync(join(root, promoteGate), 'utf8')}\n// 1.1.0\n`,
        'actions/probe/dist/index.js': probeBundle('1.1.0'),
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

  test('a caller pinned to 1.0.0 (tag or SHA) runs 1.0.0 at every level after v1 moved; a caller on v1 runs 1.1.0', () => {
    const site = { workflowRepository: 'acme/svc', workflowSha: 'c'.repeat(40), runRepository: 'acme/svc', runSha: 'c'.repeat(40) };
    const tree = (ref: string) => resolveTree(bare, REPO, `${REPO}/.github/workflows/pipeline.yml@${ref}`, site);
    const pinned = tree('v1.0.0');
    // pipeline -> build, deploy (x3) -> build-push-ecr, promote-gate, helm-deploy-eks
    expect(pinned.map((x) => x.file)).toEqual(expect.arrayContaining(['.github/workflows/deploy.yml', 'promote-gate/action.yml', 'build-push-ecr/action.yml']));
    expect(new Set(pinned.map((x) => x.sha))).toEqual(new Set([v100]));
    expect(tree(v100)).toEqual(pinned.map((x, i) => (i === 0 ? { ...x, uses: `${REPO}/.github/workflows/pipeline.yml@${v100}` } : x)));
    const gate = (t: typeof pinned) => new Set(t.filter((x) => x.file === 'promote-gate/action.yml').map((x) => x.bundle));
    const onV1 = tree('v1');
    expect(new Set(onV1.map((x) => x.sha))).toEqual(new Set([v110]));
    expect(gate(pinned).size).toBe(1);
    expect(gate(onV1).size).toBe(1);
    expect([...gate(onV1)][0]).not.toBe([...gate(pinned)][0]); // v1 now runs 1.1.0's gate, 1.0.0 callers do not
  });

  test('through the workflow executor: a caller pinned to v1.0.0 or its SHA runs 1.0.0 at every level, a caller on v1 runs 1.1.0', async () => {
    const probe = async (ref: string) => {
      const caller = `on: push\njobs:\n  probe:\n    uses: ${REPO}/.github/workflows/probe.yml@${ref}\n`;
      const run = await runWorkflow({
        workflow: { path: '.github/workflows/main.yml' },
        event: pushEvent('main'),
        repository: { root: tempTree({ '.github/workflows/main.yml': caller }), name: 'acme/svc' },
        selfAt: selfAtGit(bare),
      });
      expect(run.error).toBeUndefined();
      const job = run.jobs.find((j) => j.path.join('/') === 'probe/nested/run')!;
      return { release: job.steps[0]?.outputs.release, workflowRef: job.workflowRef };
    };
    expect(await probe('v1.0.0')).toEqual({ release: '1.0.0', workflowRef: `${REPO}/.github/workflows/probe-inner.yml@v1.0.0` });
    expect((await probe(v100)).release).toBe('1.0.0');
    expect(await probe('v1')).toEqual({ release: '1.1.0', workflowRef: `${REPO}/.github/workflows/probe-inner.yml@v1.1.0` });
    expect((await probe('main')).workflowRef).toBe(`${REPO}/.github/workflows/probe-inner.yml@v1`); // main keeps @v1
  });

  test('without the rewrite a pinned caller would run mixed releases (the test can fail)', () => {
    const site = { workflowRepository: 'acme/svc', workflowSha: 'c'.repeat(40), runRepository: 'acme/svc', runSha: 'c'.repeat(40) };
    const main = git(bare, 'rev-parse', 'main');
    const mixed = resolveTree(bare, REPO, `${REPO}/.github/workflows/pipeline.yml@${main}`, site);
    expect(new Set(mixed.map((x) => x.sha)).size).toBeGreaterThan(1);
  });

  test('a run that failed after the push is resumed by running it again: v1 moved, release published once', async () => {
    pushToMain({ 'CHANGELOG.md': changelog([['1.2.0', '- fix'], ['1.1.0', '### Changed\n- promote-gate 1.1.0.'], ['1.0.0', '### Added\n- The first release.']]) }, 'changelog 1.2.0');
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
});
