import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { githubContext } from '../src/github';
import { table } from '../src/markdown';

describe('githubContext', () => {
  test('push to a branch', () => {
    const ctx = githubContext({
      GITHUB_SHA: 'a'.repeat(40),
      GITHUB_REF: 'refs/heads/develop',
      GITHUB_REF_NAME: 'develop',
      GITHUB_EVENT_NAME: 'push',
      GITHUB_REPOSITORY: 'acme/api',
      GITHUB_RUN_ID: '7',
    });
    expect(ctx).toMatchObject({ sha: 'a'.repeat(40), branch: 'develop', refType: 'branch', runUrl: 'https://github.com/acme/api/actions/runs/7' });
  });

  test('pull_request uses the head SHA and head branch from the event payload', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctx-'));
    writeFileSync(join(dir, 'event.json'), JSON.stringify({ pull_request: { head: { sha: 'b'.repeat(40), ref: 'feature/x' } } }));
    const ctx = githubContext({
      GITHUB_SHA: 'c'.repeat(40),
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: join(dir, 'event.json'),
      GITHUB_REF: 'refs/pull/5/merge',
      GITHUB_HEAD_REF: 'feature/x',
    });
    expect(ctx.sha).toBe('b'.repeat(40));
    expect(ctx.branch).toBe('feature/x');
  });

  test('a tag ref has no branch', () => {
    const ctx = githubContext({ GITHUB_REF: 'refs/tags/v1.2.3', GITHUB_SHA: 'd'.repeat(40) });
    expect(ctx).toMatchObject({ refType: 'tag', refName: 'v1.2.3', branch: '' });
  });
});

describe('markdown table', () => {
  test('escapes pipes and newlines in cells', () => {
    expect(table(['a', 'b'], [['x|y', 'l1\nl2']])).toBe('| a | b |\n| --- | --- |\n| x\\|y | l1<br>l2 |\n');
  });
});
