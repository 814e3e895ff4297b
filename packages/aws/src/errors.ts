import { DEADLINES, DeadlineError, UserError, retryNetworkCall, type Sleep } from '@deploy-actions/action-kit';

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'ProvisionedThroughputExceededException',
  'SlowDown',
]);
const TRANSIENT_NETWORK = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNREFUSED', 'EAI_AGAIN']);
const ACCESS_DENIED = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'UnauthorizedOperation',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'ExpiredTokenException',
  'ExpiredToken',
]);

interface AwsErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

export function awsErrorName(err: unknown): string {
  const e = err as AwsErrorShape;
  return e?.name ?? e?.code ?? '';
}

/** Throttling, 5xx and dropped connections are worth another attempt; nothing else is. */
export function isRetryableAwsError(err: unknown): boolean {
  const e = err as AwsErrorShape;
  if (!e || typeof e !== 'object') return false;
  if (THROTTLING.has(awsErrorName(e))) return true;
  if (TRANSIENT_NETWORK.has(e.code ?? '')) return true;
  const status = e.$metadata?.httpStatusCode ?? 0;
  return status >= 500 || status === 429;
}

export function isAccessDenied(err: unknown): boolean {
  return ACCESS_DENIED.has(awsErrorName(err));
}

export interface AwsCallOptions {
  sleep?: Sleep;
  random?: () => number;
  attempts?: number;
  onRetry?: (message: string) => void;
  /** False for a write that must not be sent twice: no retry after a timeout or a reset. Default true. */
  idempotent?: boolean;
  now?: () => number;
}

/**
 * A call that kept failing with throttling, 5xx or dropped connections until the attempts ran
 * out. Its message names the call, the resource and the attempts; `name` stays AWS's.
 */
export class AwsRetriesExhausted extends UserError {
  constructor(
    iamAction: string,
    resource: string,
    readonly attempts: number,
    override readonly cause: unknown,
  ) {
    const name = awsErrorName(cause);
    const message = (cause as Error)?.message;
    super(`${iamAction} on ${resource} failed after ${attempts} attempts: ${[name, message].filter(Boolean).join(': ') || String(cause)}`);
    this.name = name || 'AwsRetriesExhausted';
  }
}

/**
 * Calls one AWS API operation with our retry policy (the SDK clients are made with
 * maxAttempts 1, so this is the only retry layer). An access or credential error
 * becomes a UserError naming the IAM action that is missing; retries running out, one
 * naming the call, the resource and the attempts.
 */
export async function awsCall<T>(
  iamAction: string,
  resource: string,
  fn: () => Promise<T>,
  opts: AwsCallOptions = {},
): Promise<T> {
  let made = 0;
  try {
    return await retryNetworkCall(
      (attempt) => ((made = attempt), fn()),
      {
        attempts: opts.attempts ?? 6,
        baseMs: 400,
        maxMs: 15_000,
        deadlineMs: DEADLINES.awsMs,
        retryableAnswer: isRetryableAwsError,
        resendable: () => opts.idempotent !== false,
        describe: (err) => ({ endpoint: (err as { $endpoint?: string }).$endpoint ?? serviceOf(iamAction), operation: `${iamAction} on ${resource}` }),
        sleep: opts.sleep,
        random: opts.random,
        now: opts.now,
        onRetry: (err, attempt, delay) =>
          opts.onRetry?.(`${iamAction} failed (${awsErrorName(err) || (err as Error).message}); attempt ${attempt + 1} in ${delay} ms`),
      },
    );
  } catch (err) {
    if (err instanceof DeadlineError) throw err;
    const name = awsErrorName(err);
    if (made > 1 && isRetryableAwsError(err)) throw new AwsRetriesExhausted(iamAction, resource, made, err);
    if (name === 'ExpiredTokenException' || name === 'ExpiredToken') {
      throw new UserError(`AWS credentials have expired while calling ${iamAction}: re-run aws-actions/configure-aws-credentials with a longer role-duration-seconds`);
    }
    if (name === 'UnrecognizedClientException' || name === 'InvalidClientTokenId') {
      throw new UserError(`AWS rejected the credentials while calling ${iamAction} (${name}): check the role assumed by aws-actions/configure-aws-credentials`);
    }
    if (isAccessDenied(err)) {
      const detail = (err as Error).message ? ` AWS said: ${(err as Error).message}` : '';
      throw new UserError(
        `AccessDenied: the AWS identity may not call ${iamAction} on ${resource}; allow '${iamAction}' in the IAM policy of the role this job assumes.${detail}`,
      );
    }
    throw err;
  }
}

/** The service an IAM action belongs to, as a reader knows it (when the SDK did not say which host). */
function serviceOf(iamAction: string): string {
  const prefix = iamAction.split(':')[0] ?? '';
  return ({ ecr: 'ECR', eks: 'EKS', sts: 'STS', kms: 'KMS', cloudwatch: 'CloudWatch' } as Record<string, string>)[prefix] ?? prefix;
}
