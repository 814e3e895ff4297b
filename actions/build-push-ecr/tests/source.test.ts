/** The commit and content key read from real git checkouts in temp directories. */
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { Inputs, exec, githubContext, runContextFrom, mapInputs, recordingIO, type Exec } from '@deploy-actions/action-kit';
import { getInputs } from '../src/inputs';
import { identifySource } from '../src/source';
import { gitRepo } from '../../../test/harness/git';

const EVENT_SHA = 'e'.repeat(40);
const service = {
  'svc/Dockerfile': 'FROM scratch\nCOPY app /app\n',
  'svc/app': 'v1\n',
  'svc/.gitignore': 'generated/\n',
  'docs/README.md': 'docs\n',
};

async function identify(ws: string, withInputs: Record<string, string> = {}, env: Record<string, string> = {}, git: Exec = exec) {
  const inputs = getInputs(new Inputs(mapInputs({ repository: 'team/api', context: 'svc', ...withInputs })), {
    GITHUB_WORKSPACE: ws,
    AWS_REGION: 'eu-west-1',
  });
  const io = recordingIO();
  const context = githubContext(runContextFrom({ GITHUB_SHA: EVENT_SHA, GITHUB_REF: 'refs/heads/develop', ...env }));
  const source = await identifySource(inputs, { io, context, workspace: { dir: ws, git, defaultPlatform: 'linux/amd64' } });
  return { source, io };
}

describe('identifySource', () => {
  test('a clean checkout: HEAD is the commit, the key names the context tree', async () => {
    const repo = gitRepo(service);
    const { source, io } = await identify(repo.dir);
    expect(source.commit).toBe(repo.git('rev-parse', 'HEAD'));
    expect(source.key).toMatch(/^tree-[0-9a-f]{40}$/);
    expect(io.warnings).toEqual([]);
    expect(io.lines.join('\n')).toContain(`tree ${repo.git('rev-parse', 'HEAD:svc')}`);
  });

  test('identical trees on different branches and commits share the key; a change inside the context does not', async () => {
    const repo = gitRepo(service);
    const first = await identify(repo.dir);
    repo.git('checkout', '-q', '-b', 'main');
    repo.commit({ 'docs/README.md': 'other docs\n' }, 'a change outside the context');
    const outside = await identify(repo.dir);
    expect(outside.source.commit).not.toBe(first.source.commit);
    expect(outside.source.key).toBe(first.source.key);
    repo.commit({ 'svc/app': 'v2\n' });
    expect((await identify(repo.dir)).source.key).not.toBe(first.source.key);
  });

  test('one child process (sh running both git reads); without sh, two git processes give the same source', async () => {
    const repo = gitRepo(service);
    const spawned: string[] = [];
    const recording: Exec = (file, args, opts) => (spawned.push(file), exec(file, args, opts));
    const one = await identify(repo.dir, {}, {}, recording);
    expect(spawned).toEqual(['sh']);
    spawned.length = 0;
    const noSh: Exec = (file, args, opts) => (spawned.push(file), file === 'sh' ? Promise.reject(new Error('sh was not found on PATH')) : exec(file, args, opts));
    const two = await identify(repo.dir, {}, {}, noSh);
    expect(spawned).toEqual(['sh', 'git', 'git']);
    expect(two.source).toEqual(one.source);
    expect(one.source.key).toMatch(/^tree-[0-9a-f]{40}$/);
    // A dirty context is seen through sh too (status's frame).
    repo.write({ 'svc/new.txt': 'x' });
    expect((await identify(repo.dir, {}, {}, recording)).io.warnings[0]).toContain('1 uncommitted change (svc/new.txt)');
  });

  test('sh without git on PATH: no key, git could not be run', async () => {
    const repo = gitRepo(service);
    const bin = mkdtempSync(join(tmpdir(), 'sh-only-'));
    symlinkSync('/bin/sh', join(bin, 'sh'));
    const shOnly: Exec = (file, args, opts) => exec(file, args, { ...opts, env: { PATH: bin } });
    const { source, io } = await identify(repo.dir, {}, {}, shOnly);
    expect([source.commit, source.key]).toEqual([EVENT_SHA, undefined]);
    expect(io.warnings[0]).toMatch(/^No content key: git could not be run \(.*git.*not found/);
  });

  test('a Dockerfile outside the context, a target, platforms and build args are part of the key', async () => {
    const repo = gitRepo({ ...service, 'docker/app.Dockerfile': 'FROM scratch\n' });
    const keyOf = async (w: Record<string, string>) => (await identify(repo.dir, w)).source.key;
    const outside = await keyOf({ dockerfile: 'docker/app.Dockerfile' });
    expect(outside).not.toBe(await keyOf({}));
    expect(await keyOf({ 'build-args': 'A=1\nB=2' })).toBe(await keyOf({ 'build-args': 'B=2\nA=1' }));
    expect(await keyOf({ 'build-args': 'A=1' })).not.toBe(await keyOf({}));
    expect(await keyOf({ target: 'runtime' })).not.toBe(await keyOf({}));
    // No platform given: the default platform is in the key, so it equals naming that platform.
    expect(await keyOf({ platforms: 'linux/amd64' })).toBe(await keyOf({}));
    expect(await keyOf({ platforms: 'linux/arm64' })).not.toBe(await keyOf({}));
    repo.commit({ 'docker/app.Dockerfile': 'FROM scratch\nUSER 1000\n' });
    expect(await keyOf({ dockerfile: 'docker/app.Dockerfile' })).not.toBe(outside);
  });

  test.each([
    ['a modified file', { 'svc/app': 'edited\n' }, 'svc/app'],
    ['an untracked file', { 'svc/new.txt': 'x' }, 'svc/new.txt'],
  ])('%s in the context: no key, a warning naming it, HEAD still tagged', async (_name, files, path) => {
    const repo = gitRepo(service);
    repo.write(files);
    const { source, io } = await identify(repo.dir);
    expect(source.key).toBeUndefined();
    expect(source.commit).toBe(repo.git('rev-parse', 'HEAD'));
    expect(io.warnings).toEqual([`No content key: the build context has 1 uncommitted change (${path}). An image is reused only when this commit's SHA tag exists.`]);
  });

  test('files git ignores and changes outside the context leave the key alone', async () => {
    const repo = gitRepo(service);
    const before = (await identify(repo.dir)).source.key;
    repo.write({ 'svc/generated/out.js': 'x', 'docs/README.md': 'edited' });
    const { source, io } = await identify(repo.dir);
    expect(source.key).toBe(before);
    expect(io.warnings).toEqual([]);
  });

  test('not a git checkout: no key, the event commit, a warning', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'no-git-'));
    writeFileSync(join(ws, 'Dockerfile'), 'FROM scratch\n');
    const { source, io } = await identify(ws, { context: '.' });
    expect([source.commit, source.key]).toEqual([EVENT_SHA, undefined]);
    expect(io.warnings[0]).toMatch(/^No content key: the build context is not in a git checkout \(fatal: not a git repository/);
  });

  test('a repository above the workspace is not the checkout', async () => {
    const repo = gitRepo(service);
    const { source, io } = await identify(join(repo.dir, 'svc'), { context: '.' });
    expect([source.commit, source.key]).toEqual([EVENT_SHA, undefined]);
    expect(io.warnings[0]).toContain(`the git repository ${repo.dir} is outside the workspace ${join(repo.dir, 'svc')}`);
  });

  test('pull_request: the checked-out commit is tagged, not the PR head the event names', async () => {
    const repo = gitRepo(service);
    const event = join(repo.dir, '..', `event-${Date.now()}.json`);
    writeFileSync(event, JSON.stringify({ pull_request: { head: { sha: 'f'.repeat(40), ref: 'feature' } } }));
    const { source, io } = await identify(repo.dir, {}, { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: event });
    const head = repo.git('rev-parse', 'HEAD');
    expect(source.commit).toBe(head);
    expect(io.lines).toContain(`Tagging ${head.slice(0, 7)}, the commit checked out in the workspace (the event names fffffff)`);
  });

  test('pull_request without a git checkout: refused in one line before anything else', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'no-git-'));
    writeFileSync(join(ws, 'Dockerfile'), 'FROM scratch\n');
    await expect(identify(ws, { context: '.' }, { GITHUB_EVENT_NAME: 'pull_request' })).rejects.toThrow(
      /^On pull_request the image must be tagged with the commit that was checked out, and the build context is not a git checkout \(.*\); run actions\/checkout first$/,
    );
  });
});
