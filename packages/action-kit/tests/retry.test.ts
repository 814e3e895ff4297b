import { describe, expect, test } from 'vitest';
import { retry } from '../src/retry';

function recorder() {
  const sleeps: number[] = [];
  return { sleeps, sleep: async (ms: number) => void sleeps.push(ms) };
}

describe('retry', () => {
  test('returns the first success without sleeping', async () => {
    const r = recorder();
    await expect(retry(async () => 'ok', { retryable: () => true, sleep: r.sleep })).resolves.toBe('ok');
    expect(r.sleeps).toEqual([]);
  });

  test('retries retryable errors with full-jitter exponential delays capped at maxMs', async () => {
    const r = recorder();
    let calls = 0;
    const result = await retry(
      async (attempt) => {
        calls++;
        if (attempt < 5) throw new Error('busy');
        return attempt;
      },
      { attempts: 5, baseMs: 100, maxMs: 500, retryable: () => true, sleep: r.sleep, random: () => 0.5 },
    );
    expect(result).toBe(5);
    expect(calls).toBe(5);
    // 0.5 * min(500, 100 * 2^(n-1)) for n = 1..4
    expect(r.sleeps).toEqual([50, 100, 200, 250]);
  });

  test.each([
    [0, 0],
    [0.999, 399],
  ])('jitter uses random()=%s to pick a delay of %s ms on the third attempt', async (rand, expected) => {
    const r = recorder();
    let n = 0;
    await retry(
      async () => {
        if (++n < 4) throw new Error('x');
      },
      { attempts: 4, baseMs: 100, maxMs: 10_000, retryable: () => true, sleep: r.sleep, random: () => rand },
    );
    expect(r.sleeps[2]).toBe(expected);
  });

  test('stops at once on a non-retryable error', async () => {
    const r = recorder();
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw new Error('denied');
        },
        { retryable: (e) => (e as Error).message !== 'denied', sleep: r.sleep },
      ),
    ).rejects.toThrow('denied');
    expect(calls).toBe(1);
    expect(r.sleeps).toEqual([]);
  });

  test('gives up after the last attempt with the last error and reports each retry', async () => {
    const r = recorder();
    const seen: number[] = [];
    let n = 0;
    await expect(
      retry(
        async () => {
          throw new Error(`fail ${++n}`);
        },
        { attempts: 3, retryable: () => true, sleep: r.sleep, random: () => 0, onRetry: (_e, attempt) => seen.push(attempt) },
      ),
    ).rejects.toThrow('fail 3');
    expect(seen).toEqual([1, 2]);
  });
});
