// The tool-updates workflow (.github/workflows/tool-updates.yml) run by the workflow executor as
// GitHub runs a workflow_dispatch on main, the way release.test.ts runs the release: the
// actions/checkout double clones a bare repository on disk holding this tree; the runner reaches
// github.com/org/deploy-actions there through git's ext:: transport (release-fixture/github-git.sh),
// so the push of the tool-updates branch is a real push with the persisted job token; helm/helm's
// and kubernetes/kubernetes's releases come from the GitHub API stand-in (TOOL_RELEASES_API_URL)
// and the checksum files from a local mirror (HELM_BASE_URL, KUBECTL_BASE_URL), the variables an
// organization behind a proxy sets too; the pull request is opened through GITHUB_API_URL.
// `pnpm build` is a stand-in here that writes a marker with the fingerprint of the rewritten
// sources: the real build of changed sources is CI's (it fails on any drift).
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { REPO, workDir } from '../../packages/release/tests/expectations';
import { addNodeToToolCache, createActionDoubles } from '../executor/doubles/index';
import { selfAtGit } from '../executor/git-refs';
import { granted } from '../executor/permissions';
import { runWorkflow } from '../executor/workflow';
import { closeServer, listenLocal } from '../harness/net';
import { copyTree, runnerEnvFor } from './release-fixture/runner';
import { startGithubStandin, type GithubStandin } from '../standins/github/index';

const root = join(import.meta.dirname, '../..');
const standIns = join(import.meta.dirname, 'release-fixture');
const IDENTITY = ['-c', 'user.name=Maintainer', '-c', 'user.email=maintainer@example.com'];
const RUNNER_EXIT = /^Process completed with exit code \d+\.$/;
const SHA = (c: string) => c.repeat(64);
const git = (cwd: string, ...args: string[]) => execFileSync('git', [...IDENTITY, ...args], { cwd, encoding: 'utf8', maxBuffer: 64 << 20 }).trim();
const BUILD_STAND_IN = `#!/usr/bin/env bash
# pnpm build stand-in (test/e2e/tool-updates.test.ts): records that it ran after the pins were rewritten.
set -euo pipefail
cd "$(dirname "$0")/../.."
sha256sum actions/helm-deploy-eks/src/tools.ts actions/helm-deploy-eks/src/inputs.ts > actions/helm-deploy-eks/dist/REBUILT
`;

let temp: ReturnType<typeof workDir> | undefined;
let bare: string;
let github: GithubStandin;
let mirror: ReturnType<typeof createServer>;
let mirrorUrl: string;
let runnerEnv: Record<string, string>;
let toolCache: string;
let treeAt: (ref: string) => string | undefined;
let accessLog: string;
const checksums = new Map<string, string>();

function release(repo: string, tag: string, prerelease = false): void {
  const n = github.state.releases.length + 1;
  github.state.releases.push({ repo, id: 9000 + n, tagName: tag, targetCommitish: 'main', name: tag, body: '', draft: false, prerelease, createdAt: '2026-11-11T00:00:00Z', publishedAt: '2026-11-11T00:00:00Z', assets: [] });
}

function seedRepository(seed: string): void {
  copyTree(root, seed);
  writeFileSync(join(seed, 'scripts/setup.sh'), readFileSync(join(standIns, 'setup.sh')));
  mkdirSync(join(seed, '.ci/fixture'), { recursive: true });
  writeFileSync(join(seed, '.ci/fixture/build.sh'), BUILD_STAND_IN);
  const pkg = JSON.parse(readFileSync(join(seed, 'package.json'), 'utf8'));
  pkg.scripts.build = 'bash .ci/fixture/build.sh';
  writeFileSync(join(seed, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  git(seed, 'init', '--quiet', '--initial-branch=main');
  git(seed, 'add', '-A');
  git(seed, 'commit', '--quiet', '-m', 'deploy-actions');
  git(seed, 'push', '--quiet', bare, 'main');
}

async function dispatch() {
  const sha = git(bare, 'rev-parse', 'refs/heads/main');
  const run = await runWorkflow({
    workflow: { path: '.github/workflows/tool-updates.yml' },
    event: {
      name: 'workflow_dispatch',
      ref: 'refs/heads/main',
      sha,
      actor: 'maintainer',
      inputs: {},
      payload: { ref: 'refs/heads/main', inputs: {}, workflow: '.github/workflows/tool-updates.yml', repository: { full_name: REPO }, sender: { login: 'maintainer' } },
    },
    repository: { root: treeAt(sha)!, name: REPO },
    actions: createActionDoubles({ repositories: { [REPO]: bare } }),
    mintToken: (permissions) => github.mintToken(granted(permissions)),
    apiUrl: github.url,
    vars: { TOOL_RELEASES_API_URL: github.url, HELM_BASE_URL: `${mirrorUrl}/helm`, KUBECTL_BASE_URL: `${mirrorUrl}/k8s` },
    runnerEnv,
    toolCache,
  });
  expect(run.error).toBeUndefined();
  const job = run.jobs.find((j) => j.path.join('/') === 'propose')!;
  const step = (name: string) => job.steps.find((s) => s.name === name)!;
  const errors = job.steps.flatMap((s) => s.annotations.filter((a) => a.level === 'error' && !RUNNER_EXIT.test(a.message)).map((a) => a.message));
  return { run, job, step, errors };
}

const branchFile = (path: string) => execFileSync('git', ['--git-dir', bare, 'show', `refs/heads/tool-updates:${path}`], { encoding: 'utf8' });
const branchHead = () => {
  try {
    return execFileSync('git', ['--git-dir', bare, 'rev-parse', 'refs/heads/tool-updates'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
};

beforeAll(async () => {
  temp = workDir('tool-updates-workflow-');
  const work = temp.dir;
  bare = join(work, 'deploy-actions.git');
  accessLog = join(work, 'pushes.log');
  git(work, 'init', '--quiet', '--bare', '--initial-branch=main', bare);
  const seed = join(work, 'seed');
  mkdirSync(seed);
  seedRepository(seed);
  treeAt = selfAtGit(bare);
  toolCache = join(work, 'tool-cache');
  addNodeToToolCache(toolCache);
  runnerEnv = runnerEnvFor(REPO, bare, accessLog, root);
  github = await startGithubStandin({ tokens: {}, repositories: [REPO, 'helm/helm', 'kubernetes/kubernetes'] });
  mirror = createServer((req, res) => {
    const body = checksums.get(req.url ?? '');
    res.writeHead(body ? 200 : 404, { 'content-type': 'text/plain' });
    res.end(body ?? 'Not Found');
  });
  mirrorUrl = `http://127.0.0.1:${await listenLocal(mirror)}`;
}, 180_000);

afterAll(async () => {
  await github?.stop();
  if (mirror) await closeServer(mirror);
  temp?.cleanup();
});

describe('tool-updates.yml through the workflow executor', () => {
  test('nothing newer upstream: the run ends green saying so, no branch, no pull request', async () => {
    const { DEFAULT_HELM_VERSIONS } = await import('../../actions/helm-deploy-eks/src/inputs');
    const { DEFAULT_KUBECTL_VERSION } = await import('../../actions/helm-deploy-eks/src/tools');
    release('helm/helm', `v${DEFAULT_HELM_VERSIONS[4]}`);
    release('helm/helm', `v${DEFAULT_HELM_VERSIONS[3]}`);
    release('helm/helm', 'v9.0.0-rc.1', true);
    release('kubernetes/kubernetes', `v${DEFAULT_KUBECTL_VERSION}`);
    const r = await dispatch();
    expect(r.errors).toEqual([]);
    expect(r.run.conclusion).toBe('success');
    expect(r.step('Newest patches and their checksums').log).toContain('Every pin is the newest stable patch of its line: nothing to propose');
    expect(r.job.steps.filter((s) => s.outcome === 'skipped').map((s) => s.name)).toEqual(['Rebuild the bundles', 'Push the branch', 'Open or update the pull request']);
    expect(branchHead()).toBeUndefined();
    expect(github.state.pulls).toEqual([]);
  }, 240_000);

  test('a new helm 4 patch and a kubectl patch: pins rewritten with the official sha256, bundles rebuilt, branch pushed with the job token, one pull request', async () => {
    const { DEFAULT_KUBECTL_VERSION } = await import('../../actions/helm-deploy-eks/src/tools');
    const [maj, min, patch] = DEFAULT_KUBECTL_VERSION.split('.').map(Number);
    const kubeNew = `${maj}.${min}.${patch! + 1}`;
    release('helm/helm', 'v4.3.99');
    release('kubernetes/kubernetes', `v${kubeNew}`);
    checksums.set('/helm/helm-v4.3.99-linux-amd64.tar.gz.sha256sum', `${SHA('a')}  helm-v4.3.99-linux-amd64.tar.gz\n`);
    checksums.set(`/k8s/v${kubeNew}/bin/linux/amd64/kubectl.sha256`, SHA('b'));
    const r = await dispatch();
    expect(r.errors).toEqual([]);
    expect(r.run.conclusion).toBe('success');
    const tools = branchFile('actions/helm-deploy-eks/src/tools.ts');
    expect(tools).toContain(`'helm 4.3.99 linux-amd64': { archive: '${SHA('a')}' },`);
    expect(tools).toContain(`'kubectl ${kubeNew} linux-amd64': { archive: '${SHA('b')}' },`);
    expect(tools).toContain(`export const DEFAULT_KUBECTL_VERSION = '${kubeNew}';`);
    expect(branchFile('actions/helm-deploy-eks/src/inputs.ts')).toMatch(/DEFAULT_HELM_VERSIONS = \{ 4: '4\.3\.99', 3: '[\d.]+' \}/);
    expect(branchFile('helm-deploy-eks/action.yml')).toContain("default: '4.3.99'");
    // The build ran after the rewrite and its output is in the commit.
    expect(branchFile('actions/helm-deploy-eks/dist/REBUILT')).toContain(execFileSync('sha256sum', ['-'], { input: tools }).toString().split(' ')[0]);
    expect(readFileSync(accessLog, 'utf8').trim().split('\n')).toHaveLength(1);
    expect(github.state.pulls).toHaveLength(1);
    expect(github.state.pulls[0]).toMatchObject({ repo: REPO, head: 'tool-updates', base: 'main', state: 'open', title: `helm-deploy-eks: helm 4.3.99, kubectl ${kubeNew}`, user: 'github-actions[bot]' });
    expect(github.state.pulls[0]!.body).toContain(`| helm | 4 | `);
    expect(github.state.pulls[0]!.body).toContain(`\`${SHA('a')}\``);
    expect(r.step('Open or update the pull request').log).toContain('Opened pull request #1');
  }, 240_000);

  test('run again with the same releases: the branch is pushed again and the open pull request updated, not duplicated', async () => {
    const r = await dispatch();
    expect(r.errors).toEqual([]);
    expect(github.state.pulls).toHaveLength(1);
    expect(r.step('Open or update the pull request').log).toContain('Updated pull request #1');
  }, 240_000);

  test('a release whose checksum file is missing fails in one line naming it; nothing is pushed', async () => {
    const before = branchHead();
    const pushes = readFileSync(accessLog, 'utf8');
    release('helm/helm', 'v4.3.100');
    const r = await dispatch();
    expect(r.run.conclusion).toBe('failure');
    expect(r.errors).toEqual([`helm 4.3.100 checksum: GET ${mirrorUrl}/helm/helm-v4.3.100-linux-amd64.tar.gz.sha256sum answered 404`]);
    expect(r.job.steps.filter((s) => s.outcome === 'skipped').map((s) => s.name)).toEqual(['Rebuild the bundles', 'Push the branch', 'Open or update the pull request']);
    expect(branchHead()).toBe(before);
    expect(readFileSync(accessLog, 'utf8')).toBe(pushes);
  }, 240_000);
});
