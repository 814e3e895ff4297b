/**
 * EKS bearer tokens, as aws-iam-authenticator and `aws eks get-token` make them:
 * `k8s-aws-v1.` + base64url (no padding) of a presigned STS GetCallerIdentity URL
 * whose signature covers the `x-k8s-aws-id: <cluster>` header.
 */
import aws4 from 'aws4';
import { DEADLINES } from '@deploy-actions/action-kit';
import { httpExchange, type RawAnswer } from '@deploy-actions/aws';

export const TOKEN_PREFIX = 'k8s-aws-v1.';
export const PRESIGN_SECONDS = 60;
/** EKS accepts a token for 15 minutes after its signing time; refresh a minute before. */
export const TOKEN_LIFETIME_MS = 14 * 60_000;

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface TokenRequest {
  cluster: string;
  region: string;
  credentials: AwsCredentials;
  /** STS endpoint URL; the regional endpoint when absent. */
  stsEndpoint?: string;
  now?: Date;
}

/** The STS endpoint the SDK would use: AWS_ENDPOINT_URL_STS, then AWS_ENDPOINT_URL, then the regional one. */
export function stsEndpoint(region: string, env: NodeJS.ProcessEnv): string {
  if (!/^(true|1)$/i.test(env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS ?? '')) {
    const configured = env.AWS_ENDPOINT_URL_STS || env.AWS_ENDPOINT_URL;
    if (configured) return configured.replace(/\/+$/, '');
  }
  return `https://sts.${region}.amazonaws.com`;
}

export function base64UrlNoPad(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url').replace(/=+$/, '');
}

/** SigV4's timestamp form: 20261121T100000Z. */
const amzDate = (d: Date) => d.toISOString().replace(/[:-]|\.\d{3}/g, '');

/**
 * The presigned STS GetCallerIdentity URL (aws4, query signing): `host` and `x-k8s-aws-id` signed,
 * valid PRESIGN_SECONDS, the session token in the query.
 */
export async function presignGetCallerIdentity(req: TokenRequest): Promise<string> {
  const endpoint = new URL(req.stsEndpoint ?? `https://sts.${req.region}.amazonaws.com`);
  const base = endpoint.pathname === '' ? '/' : endpoint.pathname;
  const query = `Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Date=${amzDate(req.now ?? new Date())}&X-Amz-Expires=${PRESIGN_SECONDS}`;
  const signed = aws4.sign(
    { method: 'GET', host: endpoint.host, path: `${base}?${query}`, service: 'sts', region: req.region, signQuery: true, headers: { 'x-k8s-aws-id': req.cluster } },
    req.credentials,
  );
  return `${endpoint.protocol}//${endpoint.host}${signed.path}`;
}

export interface ExecCredential {
  kind: 'ExecCredential';
  apiVersion: 'client.authentication.k8s.io/v1beta1';
  spec: Record<string, never>;
  status: { expirationTimestamp: string; token: string };
}

export async function eksToken(req: TokenRequest): Promise<{ token: string; expiresAt: Date }> {
  const now = req.now ?? new Date();
  const url = await presignGetCallerIdentity({ ...req, now });
  return { token: TOKEN_PREFIX + base64UrlNoPad(url), expiresAt: new Date(now.getTime() + TOKEN_LIFETIME_MS) };
}

export function execCredential(token: string, expiresAt: Date): ExecCredential {
  return {
    kind: 'ExecCredential',
    apiVersion: 'client.authentication.k8s.io/v1beta1',
    spec: {},
    status: { expirationTimestamp: expiresAt.toISOString().replace(/\.\d{3}Z$/, 'Z'), token },
  };
}

/** Parses `eks-token --cluster <name> --region <region>`. */
export function parseTokenArgs(argv: readonly string[]): { cluster: string; region: string } {
  let cluster = '';
  let region = '';
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--cluster') cluster = argv[++i] ?? '';
    else if (argv[i] === '--region') region = argv[++i] ?? '';
  }
  if (!cluster || !region) throw new Error('usage: eks-token --cluster <name> --region <region>');
  return { cluster, region };
}

/**
 * The caller's ARN, asked of STS the way EKS authenticates a token: a GET of the presigned
 * GetCallerIdentity URL with the signed `x-k8s-aws-id` header, answered in JSON. This reuses
 * the token's signing instead of bundling @aws-sdk/client-sts for one call (bundle size,
 * issue 13). A failure throws an error shaped like the SDK's (name, $metadata.httpStatusCode)
 * so awsCall retries and explains it as it would an SDK call.
 */
export async function callerArnViaSts(req: TokenRequest, get: (url: URL, headers: Record<string, string>) => Promise<RawAnswer> = (u, h) => httpExchange(u, 'GET', h, undefined, DEADLINES.awsMs)): Promise<string> {
  const url = new URL(await presignGetCallerIdentity(req));
  let res: RawAnswer;
  let body: string;
  try {
    res = await get(url, { 'x-k8s-aws-id': req.cluster, accept: 'application/json' });
    body = res.body.toString('utf8');
  } catch (err) {
    throw Object.assign(err as object, { $endpoint: url.origin });
  }
  let parsed: { GetCallerIdentityResponse?: { GetCallerIdentityResult?: { Arn?: string } }; Error?: { Code?: string; Message?: string } } = {};
  try {
    parsed = JSON.parse(body);
  } catch {
    // STS answers XML when it ignores the Accept header; the code and message are read below.
  }
  if (res.status >= 200 && res.status <= 299) {
    const arn = parsed.GetCallerIdentityResponse?.GetCallerIdentityResult?.Arn ?? /<Arn>([^<]+)<\/Arn>/.exec(body)?.[1];
    if (arn) return arn;
  }
  const code = parsed.Error?.Code ?? /<Code>([^<]+)<\/Code>/.exec(body)?.[1] ?? `HTTP${res.status}`;
  const message = parsed.Error?.Message ?? /<Message>([^<]*)<\/Message>/.exec(body)?.[1] ?? `STS answered ${res.status} without a caller ARN`;
  throw Object.assign(new Error(message), { name: code, $metadata: { httpStatusCode: res.status } });
}
