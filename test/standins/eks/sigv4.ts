/**
 * AWS Signature Version 4 verification, written from the public specification
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html),
 * independent of the SDK's signer so the stand-ins check what the clients really send.
 * Handles both header signing (Authorization: AWS4-HMAC-SHA256 ...) and query presigning.
 */
import { createHash, createHmac } from 'node:crypto';

export interface SecretLookup {
  (accessKeyId: string): string | undefined;
}

export interface IncomingSigned {
  method: string;
  /** Raw request path and query, as received (e.g. `/?Action=...`). */
  url: string;
  /** Lower-case header names. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export type VerifyResult =
  | { ok: true; accessKeyId: string; region: string; service: string; signedHeaders: string[]; date: Date; expires?: number }
  | { ok: false; code: 'MissingAuthenticationToken' | 'InvalidClientTokenId' | 'SignatureDoesNotMatch' | 'ExpiredToken' | 'IncompleteSignature'; message: string };

const sha256hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function parseAmzDate(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  return m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : undefined;
}

export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

function canonicalQuery(pairs: Array<[string, string]>): string {
  return pairs
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

function headerValue(h: string | string[] | undefined): string {
  const v = Array.isArray(h) ? h.join(',') : (h ?? '');
  return v.trim().replace(/\s+/g, ' ');
}

export interface SignatureInput {
  method: string;
  /** Path and query as sent; X-Amz-Signature in the query is left out of what is signed. */
  url: URL;
  /** Lower-case header names. */
  headers: Record<string, string | string[] | undefined>;
  signedHeaders: string[];
  payloadHash: string;
  amzDate: string;
  scope: { date: string; region: string; service: string };
  secret: string;
}

/** The SigV4 signature (hex) of a request: canonical request, string to sign, derived key. */
export function sigV4Signature(p: SignatureInput): string {
  const canonicalHeaders = p.signedHeaders.map((h) => `${h}:${headerValue(p.headers[h])}\n`).join('');
  // Every service but S3 encodes the path's segments twice: the request's (already encoded) segment, encoded again.
  const canonicalPath = p.url.pathname
    .split('/')
    .map((seg) => rfc3986(seg))
    .join('/');
  const canonicalRequest = [
    p.method.toUpperCase(),
    canonicalPath || '/',
    canonicalQuery([...p.url.searchParams.entries()].filter(([k]) => k !== 'X-Amz-Signature')),
    canonicalHeaders,
    p.signedHeaders.join(';'),
    p.payloadHash,
  ].join('\n');
  const scope = `${p.scope.date}/${p.scope.region}/${p.scope.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', p.amzDate, scope, sha256hex(canonicalRequest)].join('\n');
  return hmac(signingKey(p.secret, p.scope.date, p.scope.region, p.scope.service), stringToSign).toString('hex');
}

/**
 * Verifies a request's SigV4 signature. `maxSkewMs` bounds header-signed requests; a presigned
 * request is valid for X-Amz-Expires seconds, or `presignedMaxAgeMs` when given (EKS honours
 * its 60 s presigned tokens for 15 minutes).
 */
export function verifySigV4(
  req: IncomingSigned,
  secretFor: SecretLookup,
  now = new Date(),
  { maxSkewMs = 15 * 60_000, presignedMaxAgeMs }: { maxSkewMs?: number; presignedMaxAgeMs?: number } = {},
): VerifyResult {
  const u = new URL(req.url, 'http://placeholder');
  const query: Array<[string, string]> = [...u.searchParams.entries()];
  const q = Object.fromEntries(query);
  let credential: string;
  let signedHeaders: string[];
  let signature: string;
  let amzDate: string;
  let expires: number | undefined;
  let payloadHash: string;
  const presigned = q['X-Amz-Algorithm'] !== undefined;
  if (presigned) {
    if (q['X-Amz-Algorithm'] !== 'AWS4-HMAC-SHA256') return { ok: false, code: 'IncompleteSignature', message: 'unsupported algorithm' };
    credential = q['X-Amz-Credential'] ?? '';
    signedHeaders = (q['X-Amz-SignedHeaders'] ?? '').split(';').filter(Boolean);
    signature = q['X-Amz-Signature'] ?? '';
    amzDate = q['X-Amz-Date'] ?? '';
    expires = Number(q['X-Amz-Expires'] ?? 'NaN');
    payloadHash = sha256hex(req.body);
  } else {
    const auth = headerValue(req.headers.authorization);
    if (!auth) return { ok: false, code: 'MissingAuthenticationToken', message: 'Request is missing Authentication Token' };
    const m = /^AWS4-HMAC-SHA256 Credential=([^,]+), ?SignedHeaders=([^,]+), ?Signature=([a-f0-9]+)$/.exec(auth);
    if (!m) return { ok: false, code: 'IncompleteSignature', message: 'Authorization header is malformed' };
    credential = m[1]!;
    signedHeaders = m[2]!.split(';');
    signature = m[3]!;
    amzDate = headerValue(req.headers['x-amz-date']);
    payloadHash = headerValue(req.headers['x-amz-content-sha256']) || sha256hex(req.body);
  }
  const [accessKeyId, scopeDate, region, service, terminator] = credential.split('/');
  if (!accessKeyId || !scopeDate || !region || !service || terminator !== 'aws4_request') {
    return { ok: false, code: 'IncompleteSignature', message: `malformed credential scope '${credential}'` };
  }
  const date = parseAmzDate(amzDate);
  if (!date || !amzDate.startsWith(scopeDate)) return { ok: false, code: 'IncompleteSignature', message: 'bad X-Amz-Date' };
  const secret = secretFor(accessKeyId);
  if (secret === undefined) {
    return { ok: false, code: 'InvalidClientTokenId', message: 'The security token included in the request is invalid.' };
  }
  if (!signedHeaders.includes('host')) return { ok: false, code: 'IncompleteSignature', message: 'host is not signed' };

  const expected = sigV4Signature({
    method: req.method,
    url: u,
    headers: req.headers,
    signedHeaders,
    payloadHash,
    amzDate,
    scope: { date: scopeDate, region, service },
    secret,
  });
  if (expected !== signature) {
    return { ok: false, code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided.' };
  }
  if (presigned) {
    const maxAge = presignedMaxAgeMs ?? (expires ?? NaN) * 1000;
    if (!Number.isFinite(expires) || now.getTime() > date.getTime() + maxAge) {
      return { ok: false, code: 'ExpiredToken', message: 'Request has expired' };
    }
  } else if (Math.abs(now.getTime() - date.getTime()) > maxSkewMs) {
    return { ok: false, code: 'SignatureDoesNotMatch', message: 'Signature expired' };
  }
  return { ok: true, accessKeyId, region, service, signedHeaders, date, expires };
}
