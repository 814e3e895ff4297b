/**
 * Who sent a signed AWS request: the SigV4 signature (test/standins/eks/sigv4.ts) checked
 * against the store's secrets, then the credentials themselves (session token, expiry).
 * Every AWS stand-in starts a request here.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { verifySigV4, type VerifyResult } from '../eks/sigv4';
import type { IamStore, Identity } from './index';

export type RequestAuth =
  | (Extract<VerifyResult, { ok: true }> & { identity: Identity & { account: string } })
  | {
      ok: false;
      code: 'MissingAuthenticationToken' | 'InvalidClientTokenId' | 'SignatureDoesNotMatch' | 'ExpiredToken' | 'IncompleteSignature';
      message: string;
    };

export function authenticateRequest(
  iam: IamStore,
  req: { method: string; url: string; headers: IncomingHttpHeaders; body: Buffer },
  opts: { presignedMaxAgeMs?: number; now?: Date } = {},
): RequestAuth {
  const now = opts.now ?? new Date();
  const v = verifySigV4(req, iam.secretFor, now, { presignedMaxAgeMs: opts.presignedMaxAgeMs });
  if (!v.ok) return v;
  const token = new URL(req.url, 'http://x').searchParams.get('X-Amz-Security-Token') ?? req.headers['x-amz-security-token'];
  const auth = iam.authenticate(v.accessKeyId, typeof token === 'string' ? token : undefined, now);
  if (!auth.ok) return auth;
  return { ...v, identity: auth.identity };
}

/** An error an AWS JSON-protocol stand-in answers: `__type` and the HTTP status. */
export class AwsJsonError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** How the JSON-protocol services (ECR, KMS) answer a request that fails authentication. */
const JSON_AUTH_ERRORS: Record<Extract<RequestAuth, { ok: false }>['code'], [string, number]> = {
  MissingAuthenticationToken: ['MissingAuthenticationTokenException', 403],
  InvalidClientTokenId: ['UnrecognizedClientException', 400],
  SignatureDoesNotMatch: ['InvalidSignatureException', 403],
  ExpiredToken: ['ExpiredTokenException', 400],
  IncompleteSignature: ['IncompleteSignatureException', 400],
};

/** The caller of a JSON-protocol request, or the AwsJsonError the service answers. */
export function authenticateJsonRequest(iam: IamStore, req: Parameters<typeof authenticateRequest>[1]): Extract<RequestAuth, { ok: true }> {
  const auth = authenticateRequest(iam, req);
  if (auth.ok) return auth;
  const [type, status] = JSON_AUTH_ERRORS[auth.code];
  throw new AwsJsonError(type, auth.message, status);
}
