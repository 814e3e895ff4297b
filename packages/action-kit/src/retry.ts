export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export interface RetryOptions {
  /** Total attempts, the first included. */
  attempts?: number;
  baseMs?: number;
  maxMs?: number;
  /** Whether an error is worth another attempt. */
  retryable: (err: unknown) => boolean;
  sleep?: Sleep;
  /** Returns [0, 1); injected in tests to make the jitter deterministic. */
  random?: () => number;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/**
 * Calls fn until it succeeds, a non-retryable error occurs, or attempts run out.
 * Delays use "full jitter": uniform in [0, min(maxMs, baseMs * 2^(attempt-1))].
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const attempts = opts.attempts ?? 5;
  const base = opts.baseMs ?? 500;
  const max = opts.maxMs ?? 20_000;
  const sleep = opts.sleep ?? realSleep;
  const random = opts.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= attempts || !opts.retryable(err)) throw err;
      const delay = Math.floor(random() * Math.min(max, base * 2 ** (attempt - 1)));
      opts.onRetry?.(err, attempt, delay);
      await sleep(delay);
    }
  }
}
