import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test, vi } from 'vitest';
import { githubContext, runContextFrom } from '../src/github';
import { table } from '../src/markdown';

describe('githubContext', () => {
  test('push to a branch', () => {
    const ctx = githubContext(runContextFrom({
      GITHUB_SHA: 'a'.repeat(40),
      GITHUB_REF: 'refs/heads/develop',
      GITHUB_REF_NAME: 'develop',
      GITHUB_EVENT_NAME: 'push',
      GITHUB_REPOSITORY: 'acme/api',
      GITHUB_RUN_ID: '7',
    }));
    expect(ctx).toMatchObject({ sha: 'a'.repeat(40), branch: 'develop', refType: 'branch', runUrl: 'https://github.com/acme/api/actions/runs/7' });
  });

  test('pull_request uses the head SHA and head branch from the event payload', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctx-'));
    writeFileSync(join(dir, 'event.json'), JSON.stringify({ pull_request: { head: { sha: 'b'.repeat(40), ref: 'feature/x' } } }));
    const ctx = githubContext(runContextFrom({
      GITHUB_SHA: 'c'.repeat(40),
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: join(dir, 'event.json'),
      GITHUB_REF: 'refs/pull/5/merge',
    }));
    expect(ctx.sha).toBe('b'.repeat(40));
    expect(ctx.branch).toBe('feature/x');
  });

  test('a tag ref has no branch', () => {
    const ctx = githubContext(runContextFrom({ GITHUB_REF: 'refs/tags/v1.2.3', GITHUB_SHA: 'd'.repeat(40) }));
    expect(ctx).toMatchObject({ refType: 'tag', refName: 'v1.2.3', branch: '' });
  });

  test("@actions/github's context reads the runner's variables the same way", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctx-'));
    writeFileSync(join(dir, 'event.json'), JSON.stringify({ pull_request: { head: { sha: 'e'.repeat(40), ref: 'fix/y' } } }));
    const env = {
      GITHUB_SHA: 'f'.repeat(40),
      GITHUB_EVENT_NAME: 'pull_request_target',
      GITHUB_EVENT_PATH: join(dir, 'event.json'),
      GITHUB_REF: 'refs/heads/main',
      GITHUB_REPOSITORY: 'acme/web',
      GITHUB_RUN_ID: '42',
      GITHUB_RUN_NUMBER: '3',
      GITHUB_RUN_ATTEMPT: '2',
      GITHUB_ACTOR: 'octo',
      GITHUB_WORKFLOW: 'deploy',
      GITHUB_SERVER_URL: 'https://ghe.example',
      GITHUB_API_URL: 'https://ghe.example/api/v3',
    };
    for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
    vi.resetModules();
    try {
      const { context } = await import('@actions/github');
      const ours = githubContext(runContextFrom(env));
      expect(githubContext(context)).toEqual(ours);
      expect(ours).toMatchObject({ sha: 'e'.repeat(40), branch: 'fix/y', runAttempt: '2', runUrl: 'https://ghe.example/acme/web/actions/runs/42' });
    } finally {
      vi.unstubAllEnvs();
    }
  });

  test('a runner without a repository or run id gives empty fields, not NaN', () => {
    expect(githubContext(runContextFrom({}))).toMatchObject({ repository: '', runId: '', runNumber: '', runAttempt: '1', runUrl: '', sha: '' });
  });
});

describe('markdown table', () => {
  test('escapes pipes and newlines in cells', () => {
    expect(table(['a', 'b'], [['x|y', 'l1\nl2']])).toBe('| a | b |\n| --- | --- |\n| x\\|y | l1<br>l2 |\n');
  });
});
