// EKS bearer tokens: "k8s-aws-v1." + base64url(presigned STS GetCallerIdentity URL) whose signed headers include
// x-k8s-aws-id (the cluster name). The SigV4 query-string signature can be recomputed when the secret key is known.
import { createHash } from 'node:crypto';
import { parseAmzDate, sigV4Signature } from '../eks/sigv4';

export interface AwsCredentials { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
export interface VerifyOptions {
  clusterName: string;
  now?: Date;
  /** When given, the signature is recomputed and must match (the cluster name is part of what is signed). */
  credentials?: AwsCredentials | AwsCredentials[];
  /** Allowed clock skew in seconds on top of X-Amz-Expires (default 300). */
  skewSeconds?: number;
}
export type VerifyResult = { ok: true; accessKeyId: string; region: string; expiresAt: Date } | { ok: false; reason: string; accessKeyId?: string };

export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');

function signature(url: URL, clusterName: string, secretAccessKey: string, payloadHash: string): string {
  const q = url.searchParams;
  const [, date = '', region = '', service = ''] = (q.get('X-Amz-Credential') ?? '').split('/');
  return sigV4Signature({
    method: 'GET',
    url,
    headers: { host: url.host, 'x-k8s-aws-id': clusterName },
    signedHeaders: (q.get('X-Amz-SignedHeaders') ?? '').split(';'),
    payloadHash,
    amzDate: q.get('X-Amz-Date') ?? '',
    scope: { date, region, service },
    secret: secretAccessKey,
  });
}

export function decodeEksToken(token: string): URL | undefined {
  if (!token.startsWith(EKS_TOKEN_PREFIX)) return undefined;
  try {
    return new URL(Buffer.from(token.slice(EKS_TOKEN_PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

export function verifyEksToken(token: string, opts: VerifyOptions): VerifyResult {
  const url = decodeEksToken(token);
  if (!url) return { ok: false, reason: 'token is not of the form k8s-aws-v1.<base64url presigned URL>' };
  if (/=+$/.test(token)) return { ok: false, reason: 'token must be base64url without padding' };
  if (url.protocol !== 'https:') return { ok: false, reason: 'presigned URL must use https' };
  const hostMatch = url.host.match(/^sts(?:\.([a-z0-9-]+))?\.amazonaws\.com(?:\.cn)?$/);
  if (!hostMatch) return { ok: false, reason: `unexpected STS host ${url.host}` };
  const q = url.searchParams;
  if (q.get('Action') !== 'GetCallerIdentity') return { ok: false, reason: 'Action must be GetCallerIdentity' };
  if (q.get('Version') !== '2011-06-15') return { ok: false, reason: 'Version must be 2011-06-15' };
  if (q.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return { ok: false, reason: 'X-Amz-Algorithm must be AWS4-HMAC-SHA256' };
  const cred = (q.get('X-Amz-Credential') ?? '').split('/');
  if (cred.length !== 5 || cred[3] !== 'sts' || cred[4] !== 'aws4_request') return { ok: false, reason: 'malformed X-Amz-Credential' };
  const accessKeyId = cred[0]!;
  const region = cred[2]!;
  if (hostMatch[1] && hostMatch[1] !== region) return { ok: false, reason: `credential scope region ${region} does not match host ${url.host}`, accessKeyId };
  const signed = (q.get('X-Amz-SignedHeaders') ?? '').split(';');
  if (!signed.includes('host')) return { ok: false, reason: 'host is not a signed header', accessKeyId };
  if (!signed.includes('x-k8s-aws-id')) return { ok: false, reason: 'x-k8s-aws-id is not a signed header', accessKeyId };
  const date = parseAmzDate(q.get('X-Amz-Date') ?? '');
  if (!date) return { ok: false, reason: 'malformed X-Amz-Date', accessKeyId };
  if (cred[1] !== q.get('X-Amz-Date')!.slice(0, 8)) return { ok: false, reason: 'credential scope date does not match X-Amz-Date', accessKeyId };
  const expires = Number(q.get('X-Amz-Expires'));
  if (!Number.isInteger(expires) || expires <= 0 || expires > 900) return { ok: false, reason: 'X-Amz-Expires must be between 1 and 900', accessKeyId };
  if (!/^[0-9a-f]{64}$/.test(q.get('X-Amz-Signature') ?? '')) return { ok: false, reason: 'malformed X-Amz-Signature', accessKeyId };
  const now = (opts.now ?? new Date()).getTime();
  const skew = (opts.skewSeconds ?? 300) * 1000;
  const expiresAt = new Date(date.getTime() + expires * 1000);
  if (now > expiresAt.getTime() + skew) return { ok: false, reason: `token expired at ${expiresAt.toISOString()}`, accessKeyId };
  if (date.getTime() - skew > now) return { ok: false, reason: 'X-Amz-Date is in the future', accessKeyId };
  if (opts.credentials) {
    const list = Array.isArray(opts.credentials) ? opts.credentials : [opts.credentials];
    const c = list.find((x) => x.accessKeyId === accessKeyId);
    if (!c) return { ok: false, reason: `unknown access key id ${accessKeyId}`, accessKeyId };
    if (c.sessionToken !== undefined && q.get('X-Amz-Security-Token') !== c.sessionToken) return { ok: false, reason: 'session token mismatch', accessKeyId };
    const sig = q.get('X-Amz-Signature');
    const match = [EMPTY_SHA256, 'UNSIGNED-PAYLOAD'].some((ph) => signature(url, opts.clusterName, c.secretAccessKey, ph) === sig);
    if (!match) return { ok: false, reason: 'signature does not match (wrong secret key or token for another cluster)', accessKeyId };
  }
  return { ok: true, accessKeyId, region, expiresAt };
}

/** Makes a token the way aws-iam-authenticator / `aws eks get-token` do. */
export function createEksToken(opts: { clusterName: string; region: string; credentials: AwsCredentials; date?: Date; expiresSeconds?: number }): string {
  const d = opts.date ?? new Date();
  const amzDate = d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const url = new URL(`https://sts.${opts.region}.amazonaws.com/`);
  const q = url.searchParams;
  q.set('Action', 'GetCallerIdentity');
  q.set('Version', '2011-06-15');
  q.set('X-Amz-Algorithm', 'AWS4-HMAC-SHA256');
  q.set('X-Amz-Credential', `${opts.credentials.accessKeyId}/${amzDate.slice(0, 8)}/${opts.region}/sts/aws4_request`);
  q.set('X-Amz-Date', amzDate);
  q.set('X-Amz-Expires', String(opts.expiresSeconds ?? 60));
  if (opts.credentials.sessionToken) q.set('X-Amz-Security-Token', opts.credentials.sessionToken);
  q.set('X-Amz-SignedHeaders', 'host;x-k8s-aws-id');
  q.set('X-Amz-Signature', signature(url, opts.clusterName, opts.credentials.secretAccessKey, EMPTY_SHA256));
  return EKS_TOKEN_PREFIX + Buffer.from(url.toString()).toString('base64url');
}
