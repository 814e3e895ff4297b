/**
 * The deadline of every network call the actions and CLIs make, and the one line a network
 * fault ends in. docs/deadlines.md lists the figures per action; change them here only.
 *
 * A request that gets no answer is tried at most `timeoutAttempts` times in all (an endpoint
 * that accepted and then went silent rarely recovers within a step), and a write that is not
 * idempotent is never tried again after a timeout or a reset (it may have landed).
 */
import { UserError } from './errors';
import { retry, type Sleep } from './retry';

export const DEADLINES = {
  /** TCP (and TLS) connection set-up. */
  connectMs: 5_000,
  /** One AWS API request, connection to last byte. */
  awsMs: 15_000,
  /** One GitHub API request, connection to last byte. */
  githubMs: 15_000,
  /** One Kubernetes API request (not a watch; a watch is idle at most this long). */
  kubeMs: 20_000,
  /** One tool download (helm, kubectl and their checksum files): in all, and without a byte. */
  downloadMs: 120_000,
  downloadIdleMs: 20_000,
  /** One request to the smoke URL. */
  probeMs: 10_000,
  /** Attempts in all of a request that timed out. */
  timeoutAttempts: 2,
} as const;

export type NetworkFault = 'timeout' | 'reset' | 'refused' | 'unreachable';

const CODES: Record<string, NetworkFault> = {
  ETIMEDOUT: 'timeout',
  UND_ERR_CONNECT_TIMEOUT: 'timeout',
  UND_ERR_HEADERS_TIMEOUT: 'timeout',
  UND_ERR_BODY_TIMEOUT: 'timeout',
  ECONNRESET: 'reset',
  EPIPE: 'reset',
  UND_ERR_SOCKET: 'reset',
  ECONNREFUSED: 'refused',
  ENOTFOUND: 'unreachable',
  EAI_AGAIN: 'unreachable',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
};

interface ErrorLike {
  name?: string;
  code?: string;
  message?: string;
  cause?: unknown;
  $metadata?: { httpStatusCode?: number };
  response?: unknown;
}

/**
 * What kind of network fault `err` is (following `cause` chains, as fetch and Octokit wrap
 * them), or undefined when the far side answered (an HTTP status is not a network fault).
 */
export function networkFault(err: unknown, depth = 0): NetworkFault | undefined {
  const e = err as ErrorLike;
  if (!e || typeof e !== 'object' || depth > 5) return undefined;
  // The code first: the SDK names a reset socket a TimeoutError too.
  const byCode = e.code ? CODES[e.code] : undefined;
  if (byCode) return byCode;
  if (e.name === 'TimeoutError' || (e.name === 'AbortError' && /timeout/i.test(e.message ?? ''))) return 'timeout';
  if (/\bsocket hang up\b|other side closed|ECONNRESET/i.test(e.message ?? '')) return 'reset';
  return networkFault(e.cause, depth + 1);
}

const WORDS: Record<NetworkFault, string> = {
  timeout: 'no answer',
  reset: 'the connection was reset',
  refused: 'the connection was refused',
  unreachable: 'the host could not be resolved or reached',
};

export interface FaultContext {
  /** Who was called: a URL's origin or a service and host, e.g. `ECR (https://api.ecr.eu-west-1.amazonaws.com)`. */
  endpoint: string;
  /** What was asked: `ecr:DescribeImages on team/app`, `GET /repos/acme/app/deployments`. */
  operation: string;
  /** Milliseconds from the first attempt to the failure. */
  waitedMs: number;
  attempts: number;
  /** The per-request deadline, for the timeout wording. */
  deadlineMs: number;
  /**
   * What the failing tool itself said (a child process's error line, e.g. helm's `Kubernetes
   * cluster unreachable: ... connection reset by peer`), kept whole after the line's own words.
   */
  said?: string;
}

/** A network fault, as the one line a step ends in. */
export class DeadlineError extends UserError {
  override name = 'DeadlineError';
  constructor(
    readonly fault: NetworkFault,
    readonly context: FaultContext,
  ) {
    const { endpoint, operation, waitedMs, attempts, deadlineMs, said } = context;
    const what = fault === 'timeout' ? `no answer within ${seconds(deadlineMs)} s` : WORDS[fault];
    const tries = attempts > 1 ? `${attempts} attempts, ` : '';
    super(`${operation}: ${endpoint}: ${what} (${tries}${seconds(waitedMs)} s waited)${said ? `; ${said}` : ''}`);
  }
}

export function seconds(ms: number): string {
  return (ms / 1000).toFixed(ms < 10_000 && ms % 1000 !== 0 ? 1 : 0);
}

/** The DeadlineError for `err` when it is a network fault, else undefined. */
export function networkFailure(err: unknown, context: FaultContext): DeadlineError | undefined {
  const fault = networkFault(err);
  return fault ? new DeadlineError(fault, context) : undefined;
}

/**
 * A fetch whose every request is aborted after `ms` (connection to last byte of the body),
 * together with any signal the caller passed. Octokit takes it as `request: { fetch }`.
 */
export function fetchWithDeadline(ms: number, base: typeof fetch = (...a) => globalThis.fetch(...a)): typeof fetch {
  return (input, init = {}) => {
    const timeout = AbortSignal.timeout(ms);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    return base(input, { ...init, signal });
  };
}

/** Whether an HTTP method may be sent again without changing the outcome. */
export function isIdempotentMethod(method: string | undefined): boolean {
  return /^(GET|HEAD|PUT|DELETE|OPTIONS)$/i.test(method ?? 'GET');
}

/** How one kind of network request is retried, and named when it finally fails. */
export interface NetworkCall {
  /** Attempts in all, the first included. */
  attempts: number;
  baseMs: number;
  maxMs: number;
  /** The per-request deadline, for the wording of a timeout. */
  deadlineMs: number;
  /** Whether an answer (an error that is not a network fault) is worth another attempt. */
  retryableAnswer: (err: unknown) => boolean;
  /** Whether a request that timed out or was reset may be sent again (it may have landed); refused and unreachable ones always may. */
  resendable: (err: unknown) => boolean;
  /** Who was called and what was asked, for the line a final network fault ends in. */
  describe: (err: unknown) => { endpoint: string; operation: string };
  sleep?: Sleep;
  random?: () => number;
  now?: () => number;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/**
 * Calls `fn` (given the attempt number, from 1) with the retry policy every client of ours
 * shares: jittered backoff; a request that got no answer tried at most
 * DEADLINES.timeoutAttempts times; a timed-out or reset request sent again only when
 * `resendable`. A final network fault becomes one DeadlineError naming the endpoint, the
 * operation, the attempts and the time waited; any other final error is thrown as it came.
 */
export async function retryNetworkCall<T>(fn: (attempt: number) => Promise<T>, call: NetworkCall): Promise<T> {
  const now = call.now ?? Date.now;
  const started = now();
  let made = 0;
  let timeouts = 0;
  const retryable = (err: unknown): boolean => {
    const fault = networkFault(err);
    if (fault === undefined) return call.retryableAnswer(err);
    if (fault === 'timeout' && ++timeouts >= DEADLINES.timeoutAttempts) return false;
    return fault === 'refused' || fault === 'unreachable' || call.resendable(err);
  };
  try {
    return await retry((attempt) => ((made = attempt), fn(attempt)), {
      attempts: call.attempts,
      baseMs: call.baseMs,
      maxMs: call.maxMs,
      retryable,
      sleep: call.sleep,
      random: call.random,
      onRetry: call.onRetry,
    });
  } catch (err) {
    const fault = networkFault(err);
    if (!fault) throw err;
    throw new DeadlineError(fault, { ...call.describe(err), waitedMs: now() - started, attempts: made, deadlineMs: call.deadlineMs });
  }
}
