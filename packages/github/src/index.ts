import { DEADLINES, fetchWithDeadline, isIdempotentMethod, realSleep, retryNetworkCall, type Sleep } from '@deploy-actions/action-kit';

/**
 * Octokit options every client of ours passes to getOctokit: each request aborted after
 * DEADLINES.githubMs, so an API that accepts and never answers ends the step in bounded time.
 */
export function githubRequestOptions(): { request: { fetch: typeof fetch } } {
  return { request: { fetch: fetchWithDeadline(DEADLINES.githubMs) } };
}

/** What an Octokit request error carries. */
export interface GithubHttpError {
  status?: number;
  message?: string;
  response?: { headers?: Record<string, string | undefined>; data?: unknown };
  request?: { method?: string; url?: string };
}

export function httpStatus(err: unknown): number {
  const s = (err as GithubHttpError)?.status;
  return typeof s === 'number' ? s : 0;
}

/** The first line of an error's message, for one-line reports. */
export function firstLine(err: unknown): string {
  return ((err as GithubHttpError)?.message ?? '').split('\n')[0] ?? '';
}

/** 5xx, 429 and rate-limit 403s are worth another attempt. Network failures surface as status 500. */
export function isRetryableGithubError(err: unknown): boolean {
  const status = httpStatus(err);
  if (status >= 500 || status === 429) return true;
  if (status === 403) {
    const h = (err as GithubHttpError).response?.headers ?? {};
    return h['retry-after'] !== undefined || h['x-ratelimit-remaining'] === '0' || /rate limit/i.test(firstLine(err));
  }
  return false;
}

export interface GithubCallOptions {
  sleep?: Sleep;
  random?: () => number;
  attempts?: number;
  onRetry?: (message: string) => void;
  now?: () => number;
}

/**
 * One GitHub API request with our retry policy: jittered exponential backoff on 5xx, 429
 * and rate limits, after first waiting out a `retry-after` header (at most 60 s). Returns
 * the response data; the final error is thrown as it came, for the caller to explain.
 */
export async function githubCall<T>(what: string, fn: () => Promise<{ data: unknown }>, opts: GithubCallOptions = {}): Promise<T> {
  const sleep = opts.sleep ?? realSleep;
  const res = await retryNetworkCall(
    () =>
      fn().catch(async (err: unknown) => {
        const after = Number((err as GithubHttpError)?.response?.headers?.['retry-after']);
        if (isRetryableGithubError(err) && Number.isFinite(after) && after > 0) await sleep(Math.min(after, 60) * 1000);
        throw err;
      }),
    {
      attempts: opts.attempts ?? 5,
      baseMs: 1000,
      maxMs: 20_000,
      deadlineMs: DEADLINES.githubMs,
      retryableAnswer: isRetryableGithubError,
      // A POST or PATCH that timed out or was cut may have landed: never sent twice.
      resendable: (err) => isIdempotentMethod((err as GithubHttpError).request?.method),
      describe: (err) => ({ endpoint: githubEndpoint((err as GithubHttpError).request?.url), operation: `GitHub: ${what}` }),
      sleep,
      random: opts.random,
      now: opts.now,
      onRetry: (err, attempt, delay) =>
        opts.onRetry?.(`GitHub API failed to ${what} (${httpStatus(err) || ''} ${firstLine(err)}); attempt ${attempt + 1} in ${delay} ms`),
    },
  );
  return res.data as T;
}

function githubEndpoint(url: string | undefined): string {
  try {
    if (url) return `the GitHub API (${new URL(url).origin})`;
  } catch {
    // keep the generic name
  }
  return 'the GitHub API';
}

/** Every item of a paginated list (100 a page, at most `maxPages` pages). */
export async function allPages<T>(fetchPage: (page: number, perPage: number) => Promise<T[]>, maxPages = 20): Promise<T[]> {
  const out: T[] = [];
  for (let page = 1; page <= maxPages; page++) {
    const batch = await fetchPage(page, 100);
    out.push(...batch);
    if (batch.length < 100) break;
  }
  return out;
}
