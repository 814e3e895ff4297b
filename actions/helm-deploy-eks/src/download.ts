/**
 * Tool downloads with deadlines: @actions/tool-cache's downloadTool sets none, so a mirror that
 * accepts and never answers holds the step until the job's timeout. Here a download ends when no
 * byte came for DEADLINES.downloadIdleMs, or after DEADLINES.downloadMs in all; a timeout
 * is tried once more (a GET is idempotent), a 5xx or a reset up to three times.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { DEADLINES, networkFault, realSleep, retryNetworkCall, UserError, type Sleep } from '@deploy-actions/action-kit';
import { safeOrigin } from './context';

export interface DownloadOptions {
  fetch?: typeof fetch;
  sleep?: Sleep;
  now?: () => number;
  idleMs?: number;
  totalMs?: number;
}

class HttpStatusError extends UserError {
  constructor(
    readonly status: number,
    url: string,
  ) {
    super(`${url} answered HTTP ${status}`);
  }
}

/** GETs `url` into a new file under `dir`; returns its path. */
export async function downloadFile(url: string, dir: string, what: string, opts: DownloadOptions = {}): Promise<string> {
  const fetchImpl = opts.fetch ?? ((...a) => globalThis.fetch(...a));
  const idleMs = opts.idleMs ?? DEADLINES.downloadIdleMs;
  const totalMs = opts.totalMs ?? DEADLINES.downloadMs;
  await mkdir(dir, { recursive: true });
  const once = async (): Promise<string> => {
    const ac = new AbortController();
    const idle = () => setTimeout(() => ac.abort(Object.assign(new Error('idle'), { name: 'TimeoutError' })), idleMs);
    let timer = idle();
    const total = setTimeout(() => ac.abort(Object.assign(new Error('total'), { name: 'TimeoutError' })), totalMs);
    try {
      const res = await fetchImpl(url, { signal: ac.signal, redirect: 'follow' });
      if (!res.ok || !res.body) throw new HttpStatusError(res.status, url);
      const path = `${dir}/${randomUUID()}`;
      const out = createWriteStream(path, { mode: 0o600 });
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          clearTimeout(timer);
          timer = idle();
          if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
        }
      } finally {
        await new Promise<void>((r) => out.end(() => r()));
      }
      return path;
    } catch (err) {
      throw ac.signal.aborted && !networkFault(err) ? ac.signal.reason : err;
    } finally {
      clearTimeout(timer);
      clearTimeout(total);
    }
  };
  return retryNetworkCall(once, {
    attempts: 3,
    baseMs: 1000,
    maxMs: 5000,
    deadlineMs: idleMs,
    retryableAnswer: (err) => err instanceof HttpStatusError && (err.status >= 500 || err.status === 429),
    resendable: () => true,
    describe: () => ({ endpoint: safeOrigin(url) ?? url, operation: `download ${what} (${url})` }),
    sleep: opts.sleep ?? realSleep,
    now: opts.now,
  });
}

