import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DeadlineError, exec, fetchWithDeadline, isIdempotentMethod, networkFault, networkFailure, retryNetworkCall, type NetworkCall } from '../src';

let silent: Server;
let reset: Server;
const port = (s: Server) => (s.address() as { port: number }).port;

beforeAll(async () => {
  silent = createServer(() => undefined);
  reset = createServer((socket) => socket.resetAndDestroy());
  await Promise.all([silent, reset].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
});
afterAll(() => {
  silent.close();
  reset.close();
});

describe('networkFault', () => {
  test.each([
    [Object.assign(new Error('x'), { name: 'TimeoutError' }), 'timeout'],
    [Object.assign(new Error('x'), { code: 'ETIMEDOUT' }), 'timeout'],
    [Object.assign(new Error('x'), { code: 'ECONNRESET' }), 'reset'],
    [Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) }), 'reset'],
    [Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), 'refused'],
    [Object.assign(new Error('x'), { code: 'ENOTFOUND' }), 'unreachable'],
    [Object.assign(new Error('Not Found'), { status: 404 }), undefined],
    ['text', undefined],
  ])('%o -> %s', (err, want) => expect(networkFault(err)).toBe(want));
});

describe('fetchWithDeadline against listeners that misbehave', () => {
  test('a listener that accepts and never answers ends in a timeout after the deadline', async () => {
    const t0 = Date.now();
    const err = await fetchWithDeadline(300)(`http://127.0.0.1:${port(silent)}/x`).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(networkFault(err)).toBe('timeout');
  });

  test('a listener that resets the connection ends in a reset at once', async () => {
    const err = await fetchWithDeadline(10_000)(`http://127.0.0.1:${port(reset)}/x`).catch((e: unknown) => e);
    expect(networkFault(err)).toBe('reset');
  });

  test("the caller's own signal still aborts", async () => {
    const ac = new AbortController();
    const p = fetchWithDeadline(10_000)(`http://127.0.0.1:${port(silent)}/x`, { signal: ac.signal }).catch((e: unknown) => e);
    ac.abort();
    expect((await p as Error).name).toBe('AbortError');
  });
});

describe('DeadlineError', () => {
  test('one line naming the operation, the endpoint, the deadline, the attempts and the time waited', () => {
    const e = networkFailure(Object.assign(new Error('x'), { name: 'TimeoutError' }), {
      endpoint: 'https://api.ecr.eu-west-1.amazonaws.com',
      operation: 'ecr:DescribeImages on team/app',
      waitedMs: 30_400,
      attempts: 2,
      deadlineMs: 15_000,
    });
    expect(e).toBeInstanceOf(DeadlineError);
    expect(e!.message).toBe('ecr:DescribeImages on team/app: https://api.ecr.eu-west-1.amazonaws.com: no answer within 15 s (2 attempts, 30 s waited)');
    const r = new DeadlineError('reset', { endpoint: 'E', operation: 'O', waitedMs: 1200, attempts: 1, deadlineMs: 15_000 });
    expect(r.message).toBe('O: E: the connection was reset (1.2 s waited)');
    const said = new DeadlineError('reset', { endpoint: 'E', operation: 'O', waitedMs: 1200, attempts: 1, deadlineMs: 15_000, said: 'helm: read: connection reset by peer' });
    expect(said.message).toBe('O: E: the connection was reset (1.2 s waited); helm: read: connection reset by peer');
  });

  test.each([['GET', true], ['PUT', true], ['DELETE', true], ['POST', false], ['PATCH', false], [undefined, true]])('%s idempotent: %s', (m, want) =>
    expect(isIdempotentMethod(m)).toBe(want),
  );
});

describe('exec deadline', () => {
  test('a child past its deadline is stopped and reported as timed out', async () => {
    const t0 = Date.now();
    const r = await exec('sleep', ['30'], { silent: true, allowFailure: true, deadlineMs: 300 });
    expect(r).toMatchObject({ exitCode: 124, timedOut: true });
    expect(Date.now() - t0).toBeLessThan(5_000);
  });
  test('a child within its deadline is not', async () => {
    const r = await exec('true', [], { silent: true, deadlineMs: 5_000 });
    expect(r.timedOut).toBeUndefined();
    expect(r.exitCode).toBe(0);
  });
});

describe('retryNetworkCall: the retry policy every client shares', () => {
  const fault = (code: string) => Object.assign(new Error(code), { code });
  const answer = (status: number) => Object.assign(new Error(`HTTP ${status}`), { status });
  const call = (over: Partial<NetworkCall> = {}): NetworkCall => ({
    attempts: 4,
    baseMs: 1,
    maxMs: 1,
    deadlineMs: 15_000,
    retryableAnswer: (err) => (err as { status?: number }).status === 503,
    resendable: () => true,
    describe: () => ({ endpoint: 'ECR (https://ecr.test)', operation: 'ecr:DescribeImages on team/app' }),
    sleep: async () => undefined,
    now: (() => {
      let t = 0;
      return () => (t += 1000);
    })(),
    ...over,
  });
  /** Runs a call whose attempts fail with `errors` in turn (then succeed); returns attempts made and the outcome. */
  async function attempts(errors: unknown[], over: Partial<NetworkCall> = {}) {
    let made = 0;
    const outcome = await retryNetworkCall(async (n) => {
      made = n;
      if (n <= errors.length) throw errors[n - 1];
      return 'ok';
    }, call(over)).catch((err: unknown) => err);
    return { made, outcome };
  }

  test.each([
    ['a retryable answer is tried again', [answer(503)], {}, 2, 'ok'],
    ['another answer is thrown at once', [answer(404)], {}, 1, 'HTTP 404'],
    ['a refused connection is tried again even when not resendable', [fault('ECONNREFUSED')], { resendable: (): boolean => false }, 2, 'ok'],
    ['a reset is tried again when resendable', [fault('ECONNRESET')], {}, 2, 'ok'],
    ['a reset is not tried again when the request may have landed', [fault('ECONNRESET')], { resendable: (): boolean => false }, 1, 'ecr:DescribeImages on team/app: ECR (https://ecr.test): the connection was reset (1 s waited)'],
    ['a timeout is tried DEADLINES.timeoutAttempts times in all', [fault('ETIMEDOUT'), fault('ETIMEDOUT'), fault('ETIMEDOUT')], {}, 2, 'ecr:DescribeImages on team/app: ECR (https://ecr.test): no answer within 15 s (2 attempts, 1 s waited)'],
    ['attempts run out on network faults: one DeadlineError', [fault('ECONNREFUSED'), fault('ECONNREFUSED'), fault('ECONNREFUSED'), fault('ECONNREFUSED')], {}, 4, 'ecr:DescribeImages on team/app: ECR (https://ecr.test): the connection was refused (4 attempts, 1 s waited)'],
    ['attempts run out on answers: the last answer as it came', [answer(503), answer(503), answer(503), answer(503)], {}, 4, 'HTTP 503'],
  ] as const)('%s', async (_, errors, over, made, want) => {
    const got = await attempts([...errors], over);
    expect(got.made).toBe(made);
    if (want === 'ok') expect(got.outcome).toBe('ok');
    else {
      expect((got.outcome as Error).message).toBe(want);
      expect(got.outcome instanceof DeadlineError).toBe(networkFault(errors[made - 1]) !== undefined);
    }
  });
});
