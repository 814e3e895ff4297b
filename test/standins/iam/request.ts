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
