/**
 * An error the user can fix (bad input, missing permission, refused promotion).
 * runAction() reports it as one line, without a stack trace.
 */
export class UserError extends Error {
  override name = 'UserError';
}

/** A bad action input. The message always names the input. */
export class InputError extends UserError {
  override name = 'InputError';
  constructor(
    readonly input: string,
    expected: string,
    got?: string,
  ) {
    super(`Input '${input}' ${expected}${got === undefined ? '' : ` (got '${got}')`}`);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
