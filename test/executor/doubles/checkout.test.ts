/** actions/checkout double: the ref logic as tables, then real git checkouts of a local repository. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { checkoutDouble } from './checkout';
import { checkoutArgs, checkoutInfo, fetchArgs, refSpecs, refSpecsForAllHistory, targetFor } from './checkout-refs';
import { createPullRequestRefs } from './pull-request';
import { stepContext, type JobSpec } from './testing';

const SHA = 'a'.repeat(40);

describe('inputs to git commands (checkout-refs)', () => {
  test.each([
    ['', true, { ref: 'refs/heads/main', sha: SHA }, { ref: 'refs/heads/main', commit: SHA }],
    ['', true, { ref: 'main', sha: SHA }, { ref: 'refs/heads/main', commit: SHA }],
    ['', true, { ref: 'refs/pull/7/merge', sha: SHA }, { ref: 'refs/pull/7/merge', commit: SHA }],
    ['', false, { ref: 'refs/heads/main', sha: SHA }, { ref: '', commit: '' }],
    [SHA.toUpperCase(), true, { ref: 'refs/heads/main', sha: 'b'.repeat(40) }, { ref: '', commit: SHA.toUpperCase() }],
    ['develop', true, { ref: 'refs/heads/main', sha: SHA }, { ref: 'develop', commit: '' }],
  ])('targetFor(%j, workflow repo %s, %j)', (input, own, event, expected) => {
    expect(targetFor(input, own, event)).toEqual(expected);
  });

  test.each([
    [{ ref: 'refs/heads/main', commit: SHA }, [`+${SHA}:refs/remotes/origin/main`]],
    [{ ref: 'refs/pull/7/merge', commit: SHA }, [`+${SHA}:refs/remotes/pull/7/merge`]],
    [{ ref: 'refs/tags/v1', commit: SHA }, [`+${SHA}:refs/tags/v1`]],
    [{ ref: '', commit: SHA }, [SHA]],
    [{ ref: 'develop', commit: '' }, ['+refs/heads/develop*:refs/remotes/origin/develop*', '+refs/tags/develop*:refs/tags/develop*']],
    [{ ref: 'refs/heads/develop', commit: '' }, ['+refs/heads/develop:refs/remotes/origin/develop']],
    [{ ref: 'refs/tags/v1', commit: '' }, ['+refs/tags/v1:refs/tags/v1']],
  ])('refSpecs(%j)', (target, specs) => {
    expect(refSpecs(target)).toEqual(specs);
  });

  test('all history: every branch and tag, plus the pull request ref', () => {
    expect(refSpecsForAllHistory({ ref: 'refs/heads/main', commit: SHA })).toEqual(['+refs/heads/*:refs/remotes/origin/*', '+refs/tags/*:refs/tags/*']);
    expect(refSpecsForAllHistory({ ref: 'refs/pull/7/merge', commit: SHA })[2]).toBe(`+${SHA}:refs/remotes/pull/7/merge`);
  });

  test.each([
    [[`+${SHA}:x`], { fetchDepth: 1, fetchTags: false, showProgress: false, shallowRepository: false }, ['-c', 'protocol.version=2', 'fetch', '--no-tags', '--prune', '--no-recurse-submodules', '--depth=1', 'origin', `+${SHA}:x`]],
    [[`+${SHA}:x`], { fetchDepth: 3, fetchTags: true, showProgress: true, shallowRepository: false }, ['-c', 'protocol.version=2', 'fetch', '--prune', '--no-recurse-submodules', '--progress', '--depth=3', 'origin', `+${SHA}:x`]],
    [['+refs/heads/*:refs/remotes/origin/*', '+refs/tags/*:refs/tags/*'], { fetchDepth: 0, fetchTags: false, showProgress: false, shallowRepository: true }, ['-c', 'protocol.version=2', 'fetch', '--prune', '--no-recurse-submodules', '--unshallow', 'origin', '+refs/heads/*:refs/remotes/origin/*', '+refs/tags/*:refs/tags/*']],
  ])('fetchArgs(%j, %j)', (specs, opts, args) => {
    expect(fetchArgs(specs, opts)).toEqual(args);
  });

  test.each([
    [{ ref: 'refs/heads/main', commit: SHA }, ['checkout', '--progress', '--force', '-B', 'main', 'refs/remotes/origin/main']],
    [{ ref: 'refs/pull/7/merge', commit: SHA }, ['checkout', '--progress', '--force', 'refs/remotes/pull/7/merge']],
    [{ ref: '', commit: SHA }, ['checkout', '--progress', '--force', SHA]],
    [{ ref: 'refs/tags/v1', commit: '' }, ['checkout', '--progress', '--force', 'refs/tags/v1']],
  ])('checkoutArgs(checkoutInfo(%j))', (target, args) => {
    expect(checkoutArgs(checkoutInfo(target))).toEqual(args);
  });

  test('an unqualified ref must exist as a branch or tag', () => {
    expect(checkoutInfo({ ref: 'develop', commit: '' }, { remoteBranch: true, tag: false })).toEqual({ ref: 'develop', startPoint: 'refs/remotes/origin/develop' });
    expect(checkoutInfo({ ref: 'v1', commit: '' }, { remoteBranch: false, tag: true })).toEqual({ ref: 'refs/tags/v1' });
    expect(() => checkoutInfo({ ref: 'nope', commit: '' })).toThrow("A branch or tag with the name 'nope' could not be found");
  });
});

describe('real checkouts of a local repository', () => {
  let origin: string;
  const commits: Record<string, string> = {};
  const sh = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
  const double = () => checkoutDouble({ repositories: { 'Acme/Sample-Service': origin } });
  const workspace = () => mkdtempSync(join(tmpdir(), 'checkout-ws-'));
  const run = (spec: JobSpec) => double()(stepContext({ workspace: workspace(), ...spec }));

  beforeAll(() => {
    origin = mkdtempSync(join(tmpdir(), 'checkout-origin-'));
    sh(origin, 'init', '-q', '-b', 'main');
    sh(origin, 'config', 'user.email', 'dev@example.com');
    sh(origin, 'config', 'user.name', 'dev');
    for (const n of ['one', 'two', 'three']) {
      writeFileSync(join(origin, 'app.txt'), `${n}\n`);
      sh(origin, 'add', '.');
      sh(origin, 'commit', '-qm', n);
      commits[n] = sh(origin, 'rev-parse', 'HEAD');
    }
    sh(origin, 'tag', 'v1', commits.two!);
    sh(origin, 'checkout', '-qb', 'develop');
    writeFileSync(join(origin, 'feature.txt'), 'f\n');
    sh(origin, 'add', '.');
    sh(origin, 'commit', '-qm', 'feature');
    commits.develop = sh(origin, 'rev-parse', 'HEAD');
    sh(origin, 'checkout', '-q', 'main');
  });

  test('a push run: the event sha at its branch, one commit deep, the same tree, no credentials left', async () => {
    const ctx = stepContext({ workspace: workspace(), ref: 'refs/heads/main', sha: commits.three, with: { 'persist-credentials': 'false' } });
    const r = await double()(ctx);
    expect(r.error).toBeUndefined();
    expect(r.outputs).toEqual({ commit: commits.three, ref: 'refs/heads/main' });
    expect(sh(ctx.workspace, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('main');
    expect(sh(ctx.workspace, 'rev-list', '--count', 'HEAD')).toBe('1');
    // A content key from the git tree works on the shallow checkout.
    expect(sh(ctx.workspace, 'rev-parse', 'HEAD^{tree}')).toBe(sh(origin, 'rev-parse', `${commits.three}^{tree}`));
    expect(sh(ctx.workspace, 'remote', 'get-url', 'origin')).toBe('https://github.com/acme/sample-service');
    expect(readFileSync(join(ctx.workspace, '.git', 'config'), 'utf8')).not.toMatch(/extraheader|insteadOf/);
  });

  test('persist-credentials (default true) leaves the token in the local git config, masked', async () => {
    const ctx = stepContext({ workspace: workspace(), sha: commits.three });
    const r = await double()(ctx);
    const basic = Buffer.from('x-access-token:ghs_job_token').toString('base64');
    expect(sh(ctx.workspace, 'config', '--local', 'http.https://github.com/.extraheader')).toBe(`AUTHORIZATION: basic ${basic}`);
    expect(r.addMask).toContain(basic);
  });

  test('ref: an older commit (a redeploy) is checked out detached', async () => {
    const ctx = stepContext({ workspace: workspace(), sha: commits.three, with: { ref: commits.one! } });
    const r = await double()(ctx);
    expect(r.outputs).toEqual({ commit: commits.one, ref: '' });
    expect(sh(ctx.workspace, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('HEAD');
  });

  test('fetch-depth 0: all history, branches and tags', async () => {
    const ctx = stepContext({ workspace: workspace(), sha: commits.three, with: { 'fetch-depth': '0' } });
    await double()(ctx);
    expect(sh(ctx.workspace, 'rev-list', '--count', 'HEAD')).toBe('3');
    expect(sh(ctx.workspace, 'tag', '--list')).toBe('v1');
    expect(sh(ctx.workspace, 'rev-parse', 'refs/remotes/origin/develop')).toBe(commits.develop);
  });

  test('a pull_request run checks out the merge commit refs/pull/N/merge', async () => {
    const pr = await createPullRequestRefs(origin, { number: 5, head: 'develop', base: 'main' });
    const ctx = stepContext({ workspace: workspace(), eventName: 'pull_request', ref: pr.ref, sha: pr.mergeSha });
    const r = await double()(ctx);
    expect(r.outputs).toEqual({ commit: pr.mergeSha, ref: 'refs/pull/5/merge' });
    // One commit deep: the parents are named in the commit, not fetched.
    expect(sh(ctx.workspace, 'cat-file', '-p', 'HEAD').match(/^parent \S+$/gm)).toEqual([`parent ${commits.three}`, `parent ${commits.develop}`]);
    expect(existsSync(join(ctx.workspace, 'feature.txt'))).toBe(true);
  });

  test('an unqualified branch or tag name; a checkout into the same workspace cleans it', async () => {
    const ctx = stepContext({ workspace: workspace(), sha: commits.three, with: { ref: 'develop' } });
    expect((await double()(ctx)).outputs.commit).toBe(commits.develop);
    writeFileSync(join(ctx.workspace, 'stray.txt'), 'x');
    const again = await double()({ ...ctx, with: { ref: 'v1' } });
    expect(again.outputs.commit).toBe(commits.two);
    expect(existsSync(join(ctx.workspace, 'stray.txt'))).toBe(false);
  });

  test.each<[string, JobSpec, string]>([
    ['a repository without owner', { with: { repository: 'sample-service' } }, "Invalid repository 'sample-service'. Expected format {owner}/{repo}."],
    ['a path outside the workspace', { with: { path: '../elsewhere' } }, 'is not under'],
    ['an empty token', { with: { token: '' } }, 'Input required and not supplied: token'],
    ['a repository that does not exist', { with: { repository: 'acme/missing' } }, "The process '/usr/bin/git' failed with exit code 128"],
    // git fetch finds nothing for the patterns and exits 1, silently; the action reports that.
    ['a branch that does not exist', { with: { ref: 'nope' } }, "The process '/usr/bin/git' failed with exit code 1"],
    ['an input the double does not model', { with: { lfs: 'true' } }, 'checkout double: input lfs is not modelled'],
  ])('%s fails the step', async (_name, spec, error) => {
    const r = await run({ sha: commits.three, ...spec });
    expect(r.outcome).toBe('failure');
    expect(r.error).toContain(error);
  });

  test('an unknown input warns like the runner and the checkout still happens', async () => {
    const r = await run({ sha: commits.three, with: { 'fetch-deph': '0' } });
    expect(r.outcome).toBe('success');
    expect(r.log[0]).toMatch(/^Warning: Unexpected input\(s\) 'fetch-deph', valid inputs are \['repository', 'ref', 'token'/);
  });
});
