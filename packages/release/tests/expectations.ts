// What a release must leave behind, checked the same way by the release's own test
// (release.test.ts, run() on a trimmed repository) and by the release workflow's test
// (test/e2e/release.test.ts, .github/workflows/release.yml through the workflow executor):
// the tags and the release commit in the bare remote, the GitHub release (stand-in), and what
// a caller pinned to a release runs at every nesting level. Also the probe both put into the
// repository they release: a reusable workflow calling another that runs an action reporting
// the release it belongs to.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import type { GithubStandin } from '../../../test/standins/github/index';
import { selfAtGit } from '../../../test/executor/git-refs';
import { pushEvent, tempTree } from '../../../test/executor/testing';
import { runWorkflow } from '../../../test/executor/workflow';
import { resolveTree } from './tree';
import { CLI_BUNDLES } from '../src/assets';

export const REPO = 'org/deploy-actions';
export const ACTIONS = ['build-push-ecr', 'helm-deploy-eks', 'promote-gate'];

const gitIn = (bare: string, ...args: string[]) => execFileSync('git', ['--git-dir', bare, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 }).trim();
export const remoteTag = (bare: string, tag: string) => gitIn(bare, 'rev-parse', `refs/tags/${tag}^{commit}`);
export const tagsOn = (bare: string) => gitIn(bare, 'tag', '--list').split('\n').filter(Boolean).sort();

/**
 * A temporary directory for a test file that also receives the temporary directories made
 * while it runs (TMPDIR: the executor's runner directories, extracted trees); `cleanup()`
 * restores TMPDIR and removes it all.
 */
export function workDir(prefix: string): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = join(dir, 'tmp');
  mkdirSync(process.env.TMPDIR);
  return {
    dir,
    cleanup: () => {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A maintainer's commit on main: a clone, files written, committed and pushed. Returns the commit. */
export function pushToMain(bare: string, files: Record<string, string>, message: string): string {
  const clone = mkdtempSync(join(tmpdir(), 'release-maintainer-'));
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=Maintainer', '-c', 'user.email=maintainer@example.com', ...args], { cwd: clone, encoding: 'utf8' }).trim();
  try {
    git('clone', '--quiet', '--branch', 'main', bare, '.');
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(clone, path)), { recursive: true });
      writeFileSync(join(clone, path), text);
    }
    git('add', '-A');
    git('commit', '--quiet', '-m', message);
    git('push', '--quiet', 'origin', 'HEAD:main');
    return git('rev-parse', 'HEAD');
  } finally {
    rmSync(clone, { recursive: true, force: true });
  }
}

/** The probe's files for a repository at `release`: workflows, action.yml, bundle and its (empty) package list. */
export function probeFiles(release: string): Record<string, string> {
  const bundle = `require('node:fs').appendFileSync(process.env.GITHUB_OUTPUT, 'release=${release}\\n');\n`;
  const manifest = { bundle: 'actions/probe/dist/index.js', sha256: createHash('sha256').update(bundle).digest('hex'), packages: [] };
  return {
    '.github/workflows/probe.yml': 'name: probe\non: workflow_call\njobs:\n  nested:\n    uses: $/.github/workflows/probe-inner.yml\n',
    '.github/workflows/probe-inner.yml': 'name: probe-inner\non: workflow_call\njobs:\n  run:\n    runs-on: ubuntu-24.04\n    steps:\n      - id: probe\n        uses: $/probe\n',
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
    'actions/probe/dist/index.js': bundle,
    'actions/probe/dist/package.json': '{"type":"commonjs"}\n', // the probe is CommonJS whatever the root package.json says
    'actions/probe/dist/licenses.txt': '',
    'actions/probe/dist/packages.json': `${JSON.stringify(manifest, null, 2)}\n`,
  };
}

/**
 * `tag` is a release of `main`, annotated. On github.com (default) it names main's commit itself,
 * whose nested references are all `$/` (the commit that runs). On GitHub Enterprise Server
 * (`ghes`) it names a commit whose parent is `main` (left unchanged) and whose nested
 * references all name `tag`. Its GitHub release is published with `notes` and SHA256SUMS plus
 * each bundle's package list, both matching the bundles at the tag.
 */
export function expectRelease(
  bare: string,
  github: GithubStandin,
  { tag, main, notes, target = 'github.com' }: { tag: string; main: string; notes: string; target?: 'github.com' | 'ghes' },
): string {
  const commit = remoteTag(bare, tag);
  expect(gitIn(bare, 'rev-parse', 'main')).toBe(main); // main itself unchanged
  expect(gitIn(bare, 'cat-file', '-t', `refs/tags/${tag}`)).toBe('tag'); // annotated
  const pipeline = gitIn(bare, 'show', `${commit}:.github/workflows/pipeline.yml`);
  const onMain = gitIn(bare, 'show', 'main:.github/workflows/pipeline.yml');
  expect(onMain).toContain('uses: $/.github/workflows/deploy.yml\n');
  expect(onMain).not.toMatch(/uses: org\/deploy-actions\//);
  if (target === 'github.com') {
    expect(commit).toBe(main);
  } else {
    expect(gitIn(bare, 'rev-parse', `${commit}^`)).toBe(main); // on top of main
    expect(pipeline).toContain(`uses: org/deploy-actions/.github/workflows/deploy.yml@${tag}\n`);
    expect(pipeline).not.toMatch(/uses: \$\//);
    expect(pipeline).not.toMatch(new RegExp(`uses: org/deploy-actions/\\S+@(?!${tag.replace(/\./g, '\\.')}\\s)`));
  }

  const release = github.state.releases.find((r) => r.tagName === tag);
  expect(release).toMatchObject({ name: tag, draft: false, prerelease: false, body: notes });
  const asset = (name: string) => release!.assets.find((a) => a.name === name)!.data.toString('utf8');
  const sums = asset('SHA256SUMS');
  for (const a of ACTIONS) {
    const bundle = execFileSync('git', ['--git-dir', bare, 'show', `${commit}:actions/${a}/dist/index.js`], { maxBuffer: 64 << 20 });
    const line = `${createHash('sha256').update(bundle).digest('hex')}  actions/${a}/dist/index.js\n`;
    expect(sums).toContain(line);
    expect(sums).toContain(`${JSON.parse(asset(`${a}.packages.json`)).sha256}  actions/${a}/dist/index.js\n`);
  }
  // The command-line bundles the tag holds are attached as they are, with their SHA256SUMS line.
  for (const c of CLI_BUNDLES) {
    let file: Buffer;
    try {
      file = execFileSync('git', ['--git-dir', bare, 'show', `${commit}:${c.path}`], { maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      expect(release!.assets.map((a) => a.name)).not.toContain(c.name);
      continue;
    }
    expect(release!.assets.find((a) => a.name === c.name)!.data.equals(file)).toBe(true);
    expect(sums).toContain(`${createHash('sha256').update(file).digest('hex')}  ${c.path}\n`);
  }
  const gate = JSON.parse(asset('promote-gate.packages.json'));
  expect(gate.packages).toEqual(expect.arrayContaining([{ name: '@aws-sdk/client-ecr', version: expect.stringMatching(/^3\./), license: 'Apache-2.0' }]));
  return commit;
}

const SITE = { workflowRepository: 'acme/svc', workflowSha: 'c'.repeat(40), runRepository: 'acme/svc', runSha: 'c'.repeat(40) };

/** Every reusable workflow and action of ours that `pipeline.yml@ref` reaches (tree.ts). */
export const pipelineTree = (bare: string, ref: string) => resolveTree(bare, REPO, `${REPO}/.github/workflows/pipeline.yml@${ref}`, SITE);

/** What the probe reports through the workflow executor for a caller of `probe.yml@ref`. */
export async function probe(bare: string, ref: string): Promise<{ release?: string; workflowRef: string }> {
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
}

/**
 * After 1.0.0 and 1.1.0 (which moved v1): a caller pinned to v1.0.0 or its SHA reaches only
 * 1.0.0's files at every level of pipeline.yml and runs 1.0.0's probe through the executor; a
 * caller on v1 reaches 1.1.0's. Returns both trees for further checks.
 */
export async function expectPinning(bare: string, v100: string, v110: string) {
  const pinned = pipelineTree(bare, 'v1.0.0');
  // pipeline -> build, deploy (x3) -> build-push-ecr, promote-gate, helm-deploy-eks
  expect(pinned.map((x) => x.file)).toEqual(expect.arrayContaining(['.github/workflows/deploy.yml', 'promote-gate/action.yml', 'build-push-ecr/action.yml']));
  expect(new Set(pinned.map((x) => x.sha))).toEqual(new Set([v100]));
  expect(pipelineTree(bare, v100)).toEqual(pinned.map((x, i) => (i === 0 ? { ...x, uses: `${REPO}/.github/workflows/pipeline.yml@${v100}` } : x)));
  const onV1 = pipelineTree(bare, 'v1');
  expect(new Set(onV1.map((x) => x.sha))).toEqual(new Set([v110]));

  expect(await probe(bare, 'v1.0.0')).toEqual({ release: '1.0.0', workflowRef: `${REPO}/.github/workflows/probe-inner.yml@v1.0.0` });
  expect((await probe(bare, v100)).release).toBe('1.0.0');
  // Nested by $/: the called workflow runs v1's commit (1.1.0) and carries the ref its caller used.
  expect(await probe(bare, 'v1')).toEqual({ release: '1.1.0', workflowRef: `${REPO}/.github/workflows/probe-inner.yml@v1` });
  // A caller on main runs main's commit at every level ($/), whatever v1 names.
  expect(await probe(bare, 'main')).toMatchObject({ workflowRef: `${REPO}/.github/workflows/probe-inner.yml@main` });
  return { pinned, onV1 };
}
