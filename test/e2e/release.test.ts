// The release workflow itself (.github/workflows/release.yml), run by the workflow executor as
// GitHub runs a workflow_dispatch on main: the actions/checkout double clones a real local
// repository whose origin is a bare repository on disk, leaving the remote and the token as
// the action does; the runner machine reaches https://github.com/org/deploy-actions through
// release-fixture/github-git.sh (git's ext:: transport), so the release's pushes of vX.Y.Z and
// vX are real pushes, refused without the persisted credentials and recorded with their token;
// the actions/setup-node double takes Node from the runner's tool cache; the job's GITHUB_TOKEN
// (minted by the GitHub API stand-in with the job's permissions) creates the release through
// GITHUB_API_URL.
//
// The repository released is this repository's tree (tracked and new files of the working
// tree), with its CHANGELOG (1.0.0 cut as CONTRIBUTING says), the probe of
// packages/release/tests/expectations.ts added, and three stand-ins for what makes CI take
// about 18 minutes (test/e2e/release-fixture): scripts/setup.sh links the workspace's
// packages installed in this working tree (same lockfile, no network); `pnpm build` writes
// back the bundles recorded from this repository (equal to the build of these sources, which
// CI checks on main; it refuses changed sources); scripts/test.sh only says that it ran. The
// real .ci/run runs around them (drift check, license check), and the workflow's steps are
// the shipped ones, unchanged.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { changelogSection } from '@deploy-actions/release';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { expectPinning, expectRelease, probeFiles, pushToMain, REPO, remoteTag, tagsOn, workDir } from '../../packages/release/tests/expectations';
import { addNodeToToolCache, createActionDoubles } from '../executor/doubles/index';
import { selfAtGit } from '../executor/git-refs';
import { granted } from '../executor/permissions';
import { runWorkflow } from '../executor/workflow';
import { copyTree, runnerEnvFor } from './release-fixture/runner';
import { startGithubStandin, type GithubStandin } from '../standins/github/index';

const root = join(import.meta.dirname, '../..');
const standIns = join(import.meta.dirname, 'release-fixture');
const IDENTITY = ['-c', 'user.name=Maintainer', '-c', 'user.email=maintainer@example.com'];
const RUNNER_EXIT = /^Process completed with exit code \d+\.$/;
const CI = 'CI (bundles rebuilt and compared, every test)';

let work: string;
let temp: ReturnType<typeof workDir> | undefined;
let bare: string;
let github: GithubStandin;
let runnerEnv: Record<string, string>;
let toolCache: string;
let treeAt: (ref: string) => string | undefined;
let notes100: string;
let accessLog: string;
/** The permissions of the token of each push the remote received, in order. */
const pushTokens = () =>
  (existsSync(accessLog) ? readFileSync(accessLog, 'utf8').trim().split('\n') : []).map((line) => {
    const spec = github.state.tokens[line.split(' ')[1]!];
    return typeof spec === 'object' ? spec.permissions : spec;
  });
const git = (cwd: string, ...args: string[]) => execFileSync('git', [...IDENTITY, ...args], { cwd, encoding: 'utf8', maxBuffer: 64 << 20 }).trim();
const mainOf = () => git(bare, 'rev-parse', 'refs/heads/main');

/** CHANGELOG.md with a new `## [version]` section right under `## [Unreleased]`. */
const withSection = (text: string, version: string, body: string) =>
  text.replace('## [Unreleased]\n', `## [Unreleased]\n\n## [${version}] - 2026-12-02\n\n${body}\n`);

/**
 * The repository as a maintainer merges it for 1.0.0: this tree with its CHANGELOG (1.0.0 was cut
 * on 2026-12-07: an empty `## [Unreleased]` above `## [1.0.0] - 2026-12-07`; entries gathered since are
 * dropped), the probe, the CI
 * stand-ins. The 1.0.0 release's notes must be that section, read here with the same parser.
 */
function seedRepository(seed: string): void {
  copyTree(root, seed);
  // The tree as it was at the cut: whatever main has gathered under [Unreleased] since is not yet released.
  const changelog = readFileSync(join(seed, 'CHANGELOG.md'), 'utf8').replace(/^## \[Unreleased\]\n[\s\S]*?(?=^## \[\d)/m, '## [Unreleased]\n\n');
  writeFileSync(join(seed, 'CHANGELOG.md'), changelog);
  notes100 = changelogSection(changelog, '1.0.0');
  expect(changelog).toMatch(/^## \[Unreleased\]\n\n## \[1\.0\.0\] - \d{4}-\d{2}-\d{2}$/m);
  for (const [path, text] of Object.entries(probeFiles('1.0.0'))) {
    mkdirSync(join(seed, path, '..'), { recursive: true });
    writeFileSync(join(seed, path), text);
  }
  writeFileSync(join(seed, 'scripts/setup.sh'), readFileSync(join(standIns, 'setup.sh')));
  writeFileSync(join(seed, 'scripts/test.sh'), readFileSync(join(standIns, 'test.sh')));
  mkdirSync(join(seed, '.ci/fixture'), { recursive: true });
  writeFileSync(join(seed, '.ci/fixture/build.sh'), readFileSync(join(standIns, 'build.sh')));
  const pkg = JSON.parse(readFileSync(join(seed, 'package.json'), 'utf8'));
  pkg.scripts.build = 'bash .ci/fixture/build.sh';
  writeFileSync(join(seed, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  git(seed, 'init', '--quiet', '--initial-branch=main');
  git(seed, 'add', '-A');
  execFileSync('bash', ['.ci/fixture/build.sh', '--record'], { cwd: seed });
  git(seed, 'add', '-A');
  git(seed, 'commit', '--quiet', '-m', 'deploy-actions, ready for 1.0.0');
  git(seed, 'push', '--quiet', bare, 'main');
}

/** Actions > release > Run workflow (workflow_dispatch) with `version`, from `ref`. */
async function dispatch(version: string, ref = 'refs/heads/main') {
  const sha = mainOf();
  const run = await runWorkflow({
    workflow: { path: '.github/workflows/release.yml' },
    event: {
      name: 'workflow_dispatch',
      ref,
      sha,
      actor: 'maintainer',
      inputs: { version },
      payload: { ref, inputs: { version }, workflow: '.github/workflows/release.yml', repository: { full_name: REPO }, sender: { login: 'maintainer' } },
    },
    repository: { root: treeAt(sha)!, name: REPO },
    actions: createActionDoubles({ repositories: { [REPO]: bare } }),
    mintToken: (permissions) => github.mintToken(granted(permissions)),
    apiUrl: github.url,
    runnerEnv,
    toolCache,
  });
  expect(run.error).toBeUndefined();
  const job = run.jobs.find((j) => j.path.join('/') === 'release')!;
  const step = (name: string) => job.steps.find((s) => s.name === name)!;
  /** Our error annotations (the runner's "Process completed with exit code N." aside). */
  const errors = job.steps.flatMap((s) => s.annotations.filter((a) => a.level === 'error' && !RUNNER_EXIT.test(a.message)).map((a) => a.message));
  return { run, job, step, errors };
}

beforeAll(async () => {
  temp = workDir('release-workflow-');
  work = temp.dir;
  bare = join(work, 'deploy-actions.git');
  accessLog = join(work, 'pushes.log');
  git(work, 'init', '--quiet', '--bare', '--initial-branch=main', bare);
  const seed = join(work, 'seed');
  mkdirSync(seed);
  seedRepository(seed);
  treeAt = selfAtGit(bare);
  toolCache = join(work, 'tool-cache');
  addNodeToToolCache(toolCache); // a runner image's Node (setup-node finds it in the tool cache)
  // The runner machine: git reaches github.com/org/deploy-actions at the bare repository;
  // the workspace's packages are installed in this working tree (the setup stand-in links them).
  runnerEnv = runnerEnvFor(REPO, bare, accessLog, root);
  github = await startGithubStandin({ tokens: {}, repositories: [REPO], immutableReleases: true });
}, 120_000);

afterAll(async () => {
  await github?.stop();
  temp?.cleanup();
});

describe('release.yml through the workflow executor', () => {
  let v100: string;
  let v110: string;

  test('refuses a version that is not semver or has no changelog section, and a run from another branch: one error line, no tag, no release', async () => {
    const notSemver = await dispatch('1.0');
    expect(notSemver.run.conclusion).toBe('failure');
    // Refused before CI (18 minutes on GitHub): CI and the release step never ran.
    expect(notSemver.job.steps.map((s) => [s.name, s.outcome])).toEqual([
      ['Refuse a ref other than main', 'skipped'],
      [expect.stringMatching(/^Run actions\/checkout@/), 'success'],
      [expect.stringMatching(/^Run actions\/setup-node@/), 'success'],
      ['Install the workspace', 'success'],
      ['Check the version', 'failure'],
      [CI, 'skipped'],
      ['Release', 'skipped'],
    ]);
    expect(notSemver.errors).toEqual([`Input 'version' must be a semantic version X.Y.Z (e.g. 1.2.0; no "v", no build metadata) (got '1.0')`]);

    const noSection = await dispatch('1.2.0');
    expect(noSection.errors).toEqual(['CHANGELOG.md has no section for 1.2.0: add "## [1.2.0] - YYYY-MM-DD" (rename "## [Unreleased]") and merge it first']);

    const otherBranch = await dispatch('1.0.0', 'refs/heads/feature');
    expect(otherBranch.run.conclusion).toBe('failure');
    expect(otherBranch.errors).toEqual(['release runs from main only: choose main under "Use workflow from" (this run is on another ref)']);
    expect(otherBranch.job.steps.filter((s) => s.outcome !== 'skipped').map((s) => s.name)).toEqual(['Refuse a ref other than main']);

    expect(tagsOn(bare)).toEqual([]);
    expect(github.state.releases).toEqual([]);
  }, 300_000);

  test('1.0.0: tags v1.0.0 and v1 on main\'s commit (nested references by $/), a published release with the changelog section and the assets', async () => {
    const main = mainOf();
    const r = await dispatch('1.0.0');
    expect(r.errors).toEqual([]);
    expect(r.run.conclusion).toBe('success');
    expect(r.step('Check the version').log).toContain('v1.0.0 can be released: changelog section found, v1 moves from (new)');
    // CI ran before the release: the real .ci/run around the stand-ins.
    expect(r.step(CI).log).toMatch(/\[ci\] bundles match the sources[\s\S]*all allowed[\s\S]*\[test stand-in\]/);
    expect(tagsOn(bare)).toEqual(['v1', 'v1.0.0']);
    v100 = expectRelease(bare, github, { tag: 'v1.0.0', main, notes: notes100 });
    expect(pushTokens()).toEqual([{ contents: 'write' }]); // one atomic push, with the job's token
    expect(remoteTag(bare, 'v1')).toBe(v100);
    expect(r.step('Release').summary).toContain('v1: moved from (new) to 1.0.0');
    expect(r.step('Release').log).toContain(`Pushed v1.0.0 and v1`);
  }, 300_000);

  // (1.0.0 again, "already released", is refused the same way: packages/release/tests/release.test.ts)
  test('refuses a version not greater than the last, without touching the tags', async () => {
    expect((await dispatch('0.9.0')).errors).toEqual(["Input 'version' must be greater than the latest release 1.0.0 (got '0.9.0')"]);
    expect(tagsOn(bare)).toEqual(['v1', 'v1.0.0']);
    expect(remoteTag(bare, 'v1')).toBe(v100);
  }, 300_000);

  test('1.1.0 after a new commit on main moves v1; v1.0.0 stays', async () => {
    const changelog = git(bare, 'show', 'main:CHANGELOG.md');
    const main = pushToMain(
      bare,
      { ...probeFiles('1.1.0'), 'CHANGELOG.md': `${withSection(changelog, '1.1.0', '### Changed\n- The probe reports 1.1.0.')}\n` },
      'probe 1.1.0',
    );
    const r = await dispatch('1.1.0');
    expect(r.errors).toEqual([]);
    v110 = expectRelease(bare, github, { tag: 'v1.1.0', main, notes: '### Changed\n- The probe reports 1.1.0.' });
    expect(pushTokens()).toEqual([{ contents: 'write' }, { contents: 'write' }]);
    expect(remoteTag(bare, 'v1')).toBe(v110);
    expect(remoteTag(bare, 'v1.0.0')).toBe(v100);
    expect(r.step('Release').summary).toContain('v1: moved from 1.0.0 to 1.1.0');
  }, 300_000);

  test('a caller pinned to v1.0.0 or its SHA runs 1.0.0 at every level; a caller on v1 runs 1.1.0', async () => {
    await expectPinning(bare, v100, v110);
  }, 300_000);

  test("README's, docs' and the starter workflows' references to org/deploy-actions name what the release produced", () => {
    const released = treeAt('v1')!;
    const docs = (dir: string, ext: RegExp) => readdirSync(join(released, dir)).filter((f) => ext.test(f)).map((f) => `${dir}/${f}`);
    const files = ['README.md', 'CONTRIBUTING.md', ...docs('docs', /\.md$/), ...docs('workflows', /\.ya?ml$/)];
    const refs = files.flatMap((file) =>
      [...readFileSync(join(released, file), 'utf8').matchAll(/org\/deploy-actions\/(\.github\/workflows\/[\w.-]+|[a-z][\w-]*)@([\w.-]+)/g)].map((m) => ({ file, path: m[1]!, ref: m[2]! })),
    );
    expect(refs.filter((r) => r.file.startsWith('workflows/')).length).toBeGreaterThan(3);
    for (const { file, path, ref } of refs) {
      const at = treeAt(ref);
      expect(at, `${file}: ${path}@${ref}: no such tag or branch`).toBeDefined();
      expect(existsSync(join(at!, /\.ya?ml$/.test(path) ? path : `${path}/action.yml`)), `${file}: ${path}@${ref}`).toBe(true);
    }
  });

  test("the runner's route to github.com refuses a push without the credentials actions/checkout persists", () => {
    const clone = mkdtempSync(join(work, 'no-credentials-'));
    git(work, 'clone', '--quiet', '--branch', 'main', bare, clone);
    git(clone, 'remote', 'set-url', 'origin', `https://github.com/${REPO}`);
    const push = () => execFileSync('git', ['push', 'origin', 'HEAD:refs/tags/v9.9.9'], { cwd: clone, env: runnerEnv, encoding: 'utf8', stdio: 'pipe' });
    expect(push).toThrow("fatal: could not read Username for 'https://github.com': terminal prompts disabled");
    git(clone, 'config', 'http.https://github.com/.extraheader', `AUTHORIZATION: basic ${Buffer.from('x-access-token:ghs_not_minted').toString('base64')}`);
    push();
    expect(pushTokens().at(-1)).toBeUndefined(); // recorded, and not a token the stand-in minted
    git(bare, 'tag', '--delete', 'v9.9.9');
    expect(readFileSync(accessLog, 'utf8')).toContain('git-receive-pack ghs_not_minted\n');
  });

  test('drift: a bundle that is not the build of its sources stops the release in CI, one error line, no tag', async () => {
    const bundle = 'actions/promote-gate/dist/index.js';
    const changelog = git(bare, 'show', 'main:CHANGELOG.md');
    pushToMain(bare, { [bundle]: `${git(bare, 'show', `main:${bundle}`)}\n// edited by hand\n`, 'CHANGELOG.md': `${withSection(changelog, '1.2.0', '- Edited bundle.')}\n` }, 'promote-gate: bundle edited by hand');
    const r = await dispatch('1.2.0');
    expect(r.run.conclusion).toBe('failure');
    expect(r.errors).toEqual([`the committed bundles or sources differ from a fresh build (run pnpm build and commit): M ${bundle}`]);
    expect(r.step('Check the version').outcome).toBe('success');
    expect(r.step(CI).outcome).toBe('failure');
    expect(r.step('Release').outcome).toBe('skipped');
    expect(tagsOn(bare)).toEqual(['v1', 'v1.0.0', 'v1.1.0']);
    expect(remoteTag(bare, 'v1')).toBe(v110);
  }, 300_000);
});
