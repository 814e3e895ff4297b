/**
 * A small client for AWS's JSON 1.1 protocol (ECR speaks it): one signed POST per operation,
 * `X-Amz-Target: <prefix>.<Operation>`, the input as a JSON body, the output or the error as JSON.
 * It exists for build-push-ecr's skip path, where loading an SDK client (about 0.5 MB of
 * JavaScript) cost more than the three reads it makes; issue 25.
 *
 * Well-kept parts do the work: SigV4 is aws4 (no dependencies; @smithy/signature-v4 was tried and
 * brings 170 kB of @smithy/core with it in a bundle); credentials not in the environment, and endpoints other than a
 * configured URL or a commercial/GovCloud/China regional host, come from the SDK client itself
 * (its default credential chain and endpoint rules), loaded only then. What is ours is the
 * envelope: one header, the JSON body, and the error shape. No package offers that envelope without the SDK's
 * client runtime (whose load is the cost); @aws-lite/client resolves credentials its own way.
 *
 * As the SDK clients are made here (client.ts): no retries of its own (awsCall retries), a
 * deadline on every request (DEADLINES.awsMs), and `$endpoint` on every error it throws.
 * Requests go over node:http(s) (httpSend), not fetch.
 */
import http from 'node:http';
import https from 'node:https';
import aws4 from 'aws4';
import { DEADLINES } from '@deploy-actions/action-kit';

type Env = Record<string, string | undefined>;

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** A JSON 1.1 service: how SigV4 names it, its target prefix and its endpoint host's first label. */
export interface JsonService {
  /** The SDK client's resolvers for `region`, loaded only off the plain path (credentials not in the environment, unusual endpoints). */
  sdk: (region: string) => Promise<SdkResolvers>;
  /** SigV4 signing name, e.g. `ecr`. */
  signingName: string;
  /** X-Amz-Target prefix, e.g. `AmazonEC2ContainerRegistry_V20150921`. */
  targetPrefix: string;
  /** The `AWS_ENDPOINT_URL_<ID>` suffix, e.g. `ECR`. */
  endpointId: string;
  /** The host's service part: `api.ecr` (api.ecr.<region>.amazonaws.com). */
  host: string;
  /** The protocol's version: AWS JSON 1.1 (ECR, KMS) unless given; CloudWatch speaks 1.0. */
  jsonVersion?: '1.0' | '1.1';
}

export const ECR_SERVICE: JsonService = {
  signingName: 'ecr',
  targetPrefix: 'AmazonEC2ContainerRegistry_V20150921',
  endpointId: 'ECR',
  host: 'api.ecr',
  sdk: async (region) => {
    const { ECRClient } = await import('@aws-sdk/client-ecr');
    return sdkResolvers(new ECRClient({ region }));
  },
};

/** An error AWS answered: `name` is AWS's error code, as the SDK sets it (awsErrorName reads it). */
export class AwsServiceError extends Error {
  readonly $fault: 'client' | 'server';
  readonly $metadata: { httpStatusCode: number; requestId?: string };
  constructor(
    name: string,
    message: string,
    status: number,
    requestId: string | undefined,
    readonly $endpoint: string,
  ) {
    super(message);
    this.name = name;
    this.$fault = status >= 500 ? 'server' : 'client';
    this.$metadata = { httpStatusCode: status, ...(requestId ? { requestId } : {}) };
  }
}

/** AWS's error code from a JSON 1.1 error answer: `x-amzn-errortype` or `__type`/`code`, without namespace or suffix. */
export function errorCode(header: string | null, body: Record<string, unknown>): string {
  const raw = header || String(body.__type ?? body.code ?? body.Code ?? '');
  return raw.split(':')[0]!.split('#').pop()!.trim();
}

/** The error a non-2xx answer stands for. */
export function answerError({ status, header, text }: Answer, endpoint: string): AwsServiceError {
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = text ? JSON.parse(text) : {};
    if (parsed && typeof parsed === 'object') body = parsed as Record<string, unknown>;
  } catch {
    // Not JSON (a proxy's page, say): the status and the start of the text say what happened.
  }
  // A query-compatible service (CloudWatch) names the error by its query code, as the SDK reports it.
  const queryCode = header('x-amzn-query-error')?.split(';')[0]?.trim();
  const name = queryCode || errorCode(header('x-amzn-errortype') ?? null, body) || (status >= 500 ? 'InternalFailure' : `Http${status}`);
  const message = String(body.message ?? body.Message ?? body.errorMessage ?? '') || (text && !text.startsWith('{') ? text.slice(0, 200) : `HTTP ${status}`);
  return new AwsServiceError(name, message, status, header('x-amzn-requestid'), endpoint);
}

/** `AWS_ENDPOINT_URL_<ID>`, else `AWS_ENDPOINT_URL`, as the SDK reads them; undefined when neither (or AWS_IGNORE_CONFIGURED_ENDPOINT_URLS). */
export function configuredEndpoint(env: Env, endpointId: string): string | undefined {
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS === 'true') return undefined;
  return env[`AWS_ENDPOINT_URL_${endpointId}`] || env.AWS_ENDPOINT_URL || undefined;
}

/** What the SDK client of the service resolves: the default credential chain and its endpoint rules. */
export interface SdkResolvers {
  credentials: () => Promise<Credentials>;
  endpoint: (params: { Region: string; UseFIPS: boolean; UseDualStack: boolean }) => { url: URL };
}

/**
 * The resolvers of a service's SDK client (its `config`): what `JsonService.sdk` gives, once the
 * service's client module was imported on demand (each import stays in its own bundle chunk).
 */
export function sdkResolvers({ config }: { config: { credentials: () => Promise<Credentials>; endpointProvider: SdkResolvers['endpoint'] } }): SdkResolvers {
  return { credentials: () => config.credentials(), endpoint: (params) => config.endpointProvider(params) };
}

/** Partitions whose regions a pattern tells, with their DNS suffix (AWS's partition data). */
const PLAIN_PARTITIONS: Array<[RegExp, string]> = [
  [/^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$/, 'amazonaws.com'],
  [/^us-gov-\w+-\d+$/, 'amazonaws.com'],
  [/^cn-\w+-\d+$/, 'amazonaws.com.cn'],
];

/**
 * The service's endpoint in `region`, as the SDK chooses it: a configured URL
 * (AWS_ENDPOINT_URL_<ID>, AWS_ENDPOINT_URL), the regional host of a commercial, GovCloud or China
 * region, and for anything else (FIPS, dual-stack, other partitions) the SDK's own endpoint rules.
 */
export async function serviceEndpoint(service: Pick<JsonService, 'endpointId' | 'host'>, region: string, env: Env, sdk: () => Promise<SdkResolvers>): Promise<URL> {
  const configured = configuredEndpoint(env, service.endpointId);
  if (configured) return new URL(configured);
  const fips = env.AWS_USE_FIPS_ENDPOINT === 'true';
  const dualStack = env.AWS_USE_DUALSTACK_ENDPOINT === 'true';
  const dns = PLAIN_PARTITIONS.find(([re]) => re.test(region))?.[1];
  if (dns && !fips && !dualStack) return new URL(`https://${service.host}.${region}.${dns}`);
  return new URL((await sdk()).endpoint({ Region: region, UseFIPS: fips, UseDualStack: dualStack }).url.href);
}

/**
 * The job's credentials as the SDK's default chain finds them: AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY (what configure-aws-credentials exports) unless AWS_PROFILE is set (the
 * chain then skips them too); else the SDK client's own chain (profiles, SSO, process, web
 * identity token file, container and instance metadata), loaded on first use.
 */
export function jobCredentials(env: Env, sdk: () => Promise<SdkResolvers>): () => Promise<Credentials> {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!env.AWS_PROFILE && accessKeyId && secretAccessKey) {
    const fixed: Credentials = {
      accessKeyId,
      secretAccessKey,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
      ...(env.AWS_CREDENTIAL_EXPIRATION ? { expiration: new Date(env.AWS_CREDENTIAL_EXPIRATION) } : {}),
    };
    return async () => fixed;
  }
  return async () => (await sdk()).credentials();
}

/**
 * The headers of one request, SigV4-signed by aws4. Host and Content-Length are signed as the request
 * sends them (url.host, the body's byte length) and set by httpSend.
 */
export function signedHeaders(service: JsonService, region: string, url: URL, operation: string, body: string, credentials: Credentials): Record<string, string> {
  const request = {
    method: 'POST',
    host: url.host,
    path: url.pathname + url.search,
    service: service.signingName,
    region,
    body,
    headers: { Host: url.host, 'Content-Type': `application/x-amz-json-${service.jsonVersion ?? '1.1'}`, 'X-Amz-Target': `${service.targetPrefix}.${operation}` } as Record<string, string | number>,
  };
  const { headers } = aws4.sign(request, credentials);
  return Object.fromEntries(
    Object.entries(headers ?? {})
      .filter(([k]) => !/^(host|content-length)$/i.test(k))
      .map(([k, v]) => [k, String(v)]),
  );
}

/** An HTTP answer, read whole. */
export interface Answer {
  status: number;
  header: (name: string) => string | undefined;
  text: string;
}

/** Sends one POST and reads its answer. */
export type Send = (url: URL, headers: Record<string, string>, body: string) => Promise<Answer>;

/** An HTTP answer of httpExchange: the body as bytes. */
export interface RawAnswer {
  status: number;
  header: (name: string) => string | undefined;
  body: Buffer;
}

/**
 * One request over node:http(s), the whole exchange (connection to last byte) under `deadlineMs`:
 * a request that runs out is destroyed with a TimeoutError (networkFailure's "no answer"). Not
 * fetch: its first use loads undici and compiles its WebAssembly parser (about 90 ms of CPU, more
 * than the three calls of the skip path). Redirects are not followed (the caller decides).
 */
export function httpExchange(url: URL, method: string, headers: Record<string, string>, body: string | Buffer | undefined, deadlineMs: number = DEADLINES.awsMs): Promise<RawAnswer> {
  return new Promise<RawAnswer>((resolve, reject) => {
    const req = (url.protocol === 'http:' ? http : https).request(url, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) },
    });
    const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no answer within ${deadlineMs} ms`), { name: 'TimeoutError', code: 'ETIMEDOUT' })), deadlineMs);
    req.on('error', (err) => (clearTimeout(timer), reject(err)));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => (clearTimeout(timer), reject(err)));
      res.on('end', () => {
        clearTimeout(timer);
        const header = (name: string) => {
          const v = res.headers[name.toLowerCase()];
          return Array.isArray(v) ? v.join(', ') : v;
        };
        resolve({ status: res.statusCode ?? 0, header, body: Buffer.concat(chunks) });
      });
    });
    req.end(body);
  });
}

/** POST over node:http(s) (httpExchange), the answer read as text. */
export function httpSend(deadlineMs: number = DEADLINES.awsMs): Send {
  return async (url, headers, body) => {
    const { status, header, body: bytes } = await httpExchange(url, 'POST', headers, body, deadlineMs);
    return { status, header, text: bytes.toString('utf8') };
  };
}

export interface JsonClientOptions {
  env?: Env;
  credentials?: () => Promise<Credentials>;
  send?: Send;
}

export interface JsonClient {
  /** One request of `operation` with `input`; the parsed answer, or an AwsServiceError / the network error, with `$endpoint`. */
  call<T>(operation: string, input: object): Promise<T>;
}

/** A client of `service` in `region`; nothing is read or loaded until the first call. */
export function jsonClient(service: JsonService, region: string, opts: JsonClientOptions = {}): JsonClient {
  const env = opts.env ?? process.env;
  const send = opts.send ?? httpSend();
  let resolvers: Promise<SdkResolvers> | undefined;
  const sdk = () => (resolvers ??= service.sdk(region));
  const credentials = opts.credentials ?? jobCredentials(env, sdk);
  let endpoint: Promise<URL> | undefined;
  return {
    async call<T>(operation: string, input: object): Promise<T> {
      const url = await (endpoint ??= serviceEndpoint(service, region, env, sdk));
      const body = JSON.stringify(input);
      return awsJsonAnswer<T>(url, async () => send(url, signedHeaders(service, region, url, operation, body, await credentials()), body));
    },
  };
}

/**
 * One exchange with an AWS endpoint at `url`: a network error gets `$endpoint`, an answer outside
 * 2xx is an AwsServiceError (answerError), a 2xx answer's JSON is returned (an empty body: {}).
 */
export async function awsJsonAnswer<T>(url: URL, exchange: () => Promise<Answer>): Promise<T> {
  let answer: Answer;
  try {
    answer = await exchange();
  } catch (err) {
    if (err && typeof err === 'object') Object.assign(err, { $endpoint: url.origin });
    throw err;
  }
  if (answer.status < 200 || answer.status > 299) throw answerError(answer, url.origin);
  return (answer.text ? JSON.parse(answer.text) : {}) as T;
}
