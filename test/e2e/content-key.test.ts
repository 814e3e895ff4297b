/**
 * Build once per source tree through the committed bundle: real git (merge, squash and rebase onto
 * main), the real Docker engine, the ECR stand-in and a real registry.
 */
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runActionBundle } from '../harness/runner';
import { startRegistry, type Registry } from '../harness/registry';
import { dockerAvailable, prepareSampleService } from '../harness/docker';
import { startEcrStandin, type EcrStandin } from '../standins/ecr';
import { gitRepo } from '../harness/git';

const hasDocker = await dockerAvailable();
let registry: Registry;
let ecr: EcrStandin;

describe.skipIf(!hasDocker)('content key end to end', () => {
  beforeAll(async () => {
    registry = await startRegistry();
    ecr = await startEcrStandin({ registry });
  });
  afterAll(async () => {
    await ecr?.stop();
    await registry?.stop();
  });

  test('develop builds once; merge, squash and rebase commits on main reuse that image without a login', async () => {
    const repo = gitRepo({ 'README.md': 'service\n' });
    repo.git('checkout', '-q', '-b', 'main');
    repo.git('checkout', '-q', 'develop');
    cpSync(prepareSampleService(), join(repo.dir, 'svc'), { recursive: true });
    rmSync(join(repo.dir, 'svc/chart'), { recursive: true, force: true });
    const develop = repo.commit({}, 'service');
    const build = (sha: string) =>
      runActionBundle({
        action: 'build-push-ecr',
        workspace: repo.dir,
        with: { repository: 'team/merged', context: 'svc', builder: 'docker' },
        env: { ...ecr.env, GITHUB_SHA: sha },
        timeoutMs: 180_000,
      });
    const first = await build(develop);
    expect(first.exitCode, first.stdout + first.stderr).toBe(0);
    expect(first.outputs.skipped).toBe('false');
    const key = first.outputs['content-key']!;
    expect(key).toMatch(/^tree-[0-9a-f]{40}$/);

    const merges: Array<[string, () => void]> = [
      ['merge commit', () => repo.git('merge', '-q', '--no-ff', '-m', 'Merge pull request #1', 'develop')],
      ['squash', () => (repo.git('merge', '-q', '--squash', 'develop'), repo.git('commit', '-q', '-m', 'Squashed (#2)'))],
      // GitHub's rebase merge replays develop's commits onto main as new commits.
      ['rebase', () => repo.git('cherry-pick', 'develop')],
    ];
    for (const [method, merge] of merges) {
      repo.git('checkout', '-q', 'main');
      repo.git('reset', '-q', '--hard', repo.git('rev-list', '--max-parents=0', 'HEAD'));
      merge();
      const head = repo.git('rev-parse', 'HEAD');
      expect(head, method).not.toBe(develop);
      const before = ecr.calls.length;
      const r = await build(head);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(r.outputs, method).toMatchObject({ skipped: 'true', digest: first.outputs.digest, 'content-key': key, 'reused-from': key, tag: head.slice(0, 7) });
      expect(ecr.calls.slice(before), method).not.toContain('GetAuthorizationToken');
    }
  });
});
