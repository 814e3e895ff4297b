import { describe, expect, test } from 'vitest';
import { DeadlineError } from '@deploy-actions/action-kit';
import { allPages, githubCall, githubRequestOptions, isRetryableGithubError } from '../src';

const httpError = (status: number, message = 'x', headers: Record<string, string> = {}) =>
  Object.assign(new Error(message), { status, response: { headers } });

describe('isRetryableGithubError', () => {
  test.each([
    [500, {}, 'Server Error', true],
    [502, {}, 'Bad Gateway', true],
    [429, {}, 'Too Many Requests', true],
    [403, { 'retry-after': '2' }, 'You have exceeded a secondary rate limit', true],
    [403, { 'x-ratelimit-remaining': '0' }, 'API rate limit exceeded', true],
    [403, {}, 'Resource not accessible by integration', false],
    [404, {}, 'Not Found', false],
    [422, {}, 'Validation Failed', false],
  ])('%i %j %s -> %s', (status, headers, message, expected) => {
    expect(isRetryableGithubError(httpError(status, message, headers))).toBe(expected);
  });
});

describe('githubCall', () => {
  test('waits out retry-after, then backs off with jitter, then returns the data', async () => {
    const sleeps: number[] = [];
    const retries: string[] = [];
    let n = 0;
    const data = await githubCall<string>(
      'list deployments',
      async () => {
        n++;
        if (n === 1) throw httpError(403, 'secondary rate limit', { 'retry-after': '3' });
        return { data: 'ok' };
      },
      { sleep: async (ms) => void sleeps.push(ms), random: () => 0.5, onRetry: (m) => retries.push(m) },
    );
    expect(data).toBe('ok');
    expect(sleeps).toEqual([3000, 500]);
    expect(retries).toEqual(['GitHub API failed to list deployments (403 secondary rate limit); attempt 2 in 500 ms']);
  });

  test('throws a non-retryable error at once, as it came', async () => {
    let n = 0;
    const err = httpError(404, 'Not Found');
    await expect(
      githubCall('read', async () => {
        n++;
        throw err;
      }, { sleep: async () => undefined }),
    ).rejects.toBe(err);
    expect(n).toBe(1);
  });
});

test('allPages stops at the first short page', async () => {
  const pages: number[] = [];
  const items = await allPages(async (page, perPage) => {
    pages.push(page);
    return page < 3 ? Array.from({ length: perPage }, (_, i) => page * 1000 + i) : [1];
  });
  expect(pages).toEqual([1, 2, 3]);
  expect(items).toHaveLength(201);
});

describe('githubCall deadlines', () => {
  const fault = (method: string, cause: Error) =>
    Object.assign(new Error(cause.message), { status: 500, request: { method, url: 'https://ghe.example/api/v3/repos/a/b/deployments' }, cause });
  const timeoutCause = () => Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' });
  const resetCause = () => Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
  const noSleep = async () => undefined;

  test('a GET that times out is tried twice, then one line names the call, the API and the time', async () => {
    let n = 0;
    let clock = 0;
    const err = await githubCall('list production deployments', async () => {
      n++;
      clock += 15_000;
      throw fault('GET', timeoutCause());
    }, { sleep: noSleep, now: () => clock }).catch((e: Error) => e) as Error;
    expect(n).toBe(2);
    expect(err).toBeInstanceOf(DeadlineError);
    expect(err.message).toBe('GitHub: list production deployments: the GitHub API (https://ghe.example): no answer within 15 s (2 attempts, 30 s waited)');
  });

  test.each([['POST', 1], ['PATCH', 1], ['GET', 5], ['PUT', 5]])('a %s cut by a reset is sent %i time(s)', async (method, times) => {
    let n = 0;
    const err = await githubCall('do it', async () => {
      n++;
      throw fault(method, resetCause());
    }, { sleep: noSleep }).catch((e: Error) => e) as Error;
    expect(n).toBe(times);
    expect(err.message).toMatch(/^GitHub: do it: the GitHub API \(https:\/\/ghe\.example\): the connection was reset \(/);
  });

  test('githubRequestOptions gives Octokit a fetch with a deadline', () => {
    expect(typeof githubRequestOptions().request.fetch).toBe('function');
  });
});
