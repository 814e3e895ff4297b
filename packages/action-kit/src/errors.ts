export type Outputs = Record<string, string | number | boolean>;

/**
 * An error the user can fix (bad input, missing permission, refused promotion, failed
 * rollout). runAction() reports it as one line, without a stack trace, after publishing
 * `outputs` when given (what a later `if: failure()` step may need: the revision rolled back
 * to, the checks that refused).
 */
export class UserError extends Error {
  override name = 'UserError';
  constructor(
    message: string,
    readonly outputs?: Outputs,
  ) {
    super(message);
  }
}

/** A bad action input. The message always names the input. */
export class InputError extends UserError {
  override name = 'InputError';
  constructor(
    readonly input: string,
    /** What is accepted, as the message says it (callers that name the place otherwise reuse it). */
    readonly expected: string,
    readonly got?: string,
  ) {
    super(`Input '${input}' ${expected}${got === undefined ? '' : ` (got '${shown(got)}')`}`);
  }
}

/** A value as one line: control characters written as escapes, at most 200 characters. */
export function shown(value: string): string {
  const oneLine = value.replace(/[\0-\x1f\x7f]/g, (c) => JSON.stringify(c).slice(1, -1));
  return oneLine.length > 200 ? `${oneLine.slice(0, 200)}...` : oneLine;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
