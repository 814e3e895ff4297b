import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer } from 'node:net';
import { ECRClient } from '@aws-sdk/client-ecr';
import { DeadlineError, UserError } from '@deploy-actions/action-kit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  ECR_SERVICE,
  answerError,
  awsCall,
  awsErrorName,
  configuredEndpoint,
  ecrApi,
  errorCode,
  jobCredentials,
  serviceEndpoint,
  type Credentials,
  type SdkResolvers,
} from '../src';

const noSleep = async () => undefined;
const CREDS: Credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session-token' };

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A listener that records each request and answers what `answer` says (default: 200 `{}`). */
async function listener() {
  const seen: Seen[] = [];
  let answer: (s: Seen) => { status: number; headers?: Record<string, string>; body: string } = () => ({ status: 200, body: '{}' });
  const server = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const s = { method: req.method!, url: req.url!, headers: req.headers, body };
      seen.push(s);
      const a = answer(s);
      res.writeHead(a.status, { 'content-type': 'application/x-amz-json-1.1', ...a.headers });
      res.end(a.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url,
    seen,
    answer: (fn: typeof answer) => void (answer = fn),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

let l: Awaited<ReturnType<typeof listener>>;
beforeAll(async () => (l = await listener()));
afterAll(() => l.close());

const client = (credentials: Credentials = CREDS) => ecrApi('eu-west-1', { env: { AWS_ENDPOINT_URL_ECR: l.url }, credentials: async () => credentials });

describe('the ECR JSON client: what goes on the wire', () => {
  test.each([
    ['DescribeRepositories', { repositoryNames: ['team/api'], registryId: '123456789012' }],
    ['BatchGetImage', { repositoryName: 'team/api', imageIds: [{ imageTag: 'abc1234' }, { imageTag: 'tree-1' }], acceptedMediaTypes: ['application/vnd.oci.image.index.v1+json'] }],
    ['GetLifecyclePolicy', { repositoryName: 'team/api' }],
    ['GetAuthorizationToken', {}],
    ['PutImage', { repositoryName: 'team/api', imageManifest: '{"schemaVersion":2}', imageDigest: `sha256:${'a'.repeat(64)}`, imageTag: 'v1.2.3' }],
  ] as const)('%s: one signed POST to / with its target and the input as JSON', async (operation, input) => {
    const before = l.seen.length;
    await client().call(operation, input as never);
    const s = l.seen.slice(before);
    expect(s).toHaveLength(1);
    const r = s[0]!;
    expect([r.method, r.url]).toEqual(['POST', '/']);
    expect(r.headers['x-amz-target']).toBe(`AmazonEC2ContainerRegistry_V20150921.${operation}`);
    expect(r.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(JSON.parse(r.body)).toEqual(input);
    expect(r.headers['content-length']).toBe(String(Buffer.byteLength(r.body)));
    expect(r.headers['x-amz-security-token']).toBe('session-token');
    expect(r.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    expect(r.headers.authorization).toMatch(
      new RegExp(
        `^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/${r.headers['x-amz-date']!.slice(0, 8)}/eu-west-1/ecr/aws4_request, ` +
          'SignedHeaders=content-length;content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature=[0-9a-f]{64}$',
      ),
    );
  });

  test('without a session token no token header is sent or signed', async () => {
    const before = l.seen.length;
    await client({ accessKeyId: 'AKID2', secretAccessKey: 's' }).call('GetLifecyclePolicy', { repositoryName: 'x/y' });
    const r = l.seen[before]!;
    expect(r.headers['x-amz-security-token']).toBeUndefined();
    expect(r.headers.authorization).toContain('SignedHeaders=content-length;content-type;host;x-amz-date;x-amz-target,');
  });

  test('the answer comes back as ECR sent it (dates as epoch seconds)', async () => {
    l.answer(() => ({ status: 200, body: JSON.stringify({ repositories: [{ repositoryName: 'team/api', createdAt: 1.7e9 }] }) }));
    await expect(client().call('DescribeRepositories', {})).resolves.toEqual({ repositories: [{ repositoryName: 'team/api', createdAt: 1.7e9 }] });
    l.answer(() => ({ status: 200, body: '{}' }));
  });
});

describe('the ECR JSON client: errors keep AWS code and message', () => {
  test.each([
    [400, {}, '{"__type":"RepositoryNotFoundException","message":"The repository with name \'x\' does not exist"}', 'RepositoryNotFoundException', "The repository with name 'x' does not exist", 'client'],
    [400, {}, '{"__type":"com.amazonaws.ecr#ImageNotFoundException","Message":"Requested image not found"}', 'ImageNotFoundException', 'Requested image not found', 'client'],
    [400, { 'x-amzn-errortype': 'AccessDeniedException:http://internal.amazon.com/coral/' }, '{"message":"User: x is not authorized"}', 'AccessDeniedException', 'User: x is not authorized', 'client'],
    [400, {}, '{"__type":"ThrottlingException","message":"Rate exceeded"}', 'ThrottlingException', 'Rate exceeded', 'client'],
    [500, {}, '<html>bad gateway</html>', 'InternalFailure', '<html>bad gateway</html>', 'server'],
    [503, {}, '', 'InternalFailure', 'HTTP 503', 'server'],
    [403, {}, '{}', 'Http403', 'HTTP 403', 'client'],
  ] as const)('%i %j %s -> %s', async (status, headers, body, name, message, fault) => {
    l.answer(() => ({ status, headers, body }));
    const err = (await client().call('DescribeRepositories', {}).catch((e: unknown) => e)) as Error & { $fault: string; $metadata: { httpStatusCode: number }; $endpoint: string };
    l.answer(() => ({ status: 200, body: '{}' }));
    expect([err.name, err.message, err.$fault, err.$metadata.httpStatusCode, err.$endpoint]).toEqual([name, message, fault, status, l.url]);
    expect(awsErrorName(err)).toBe(name);
  });

  test.each([
    ['x-amzn-errortype wins', 'ValidationException:http://x', { __type: 'Other' }, 'ValidationException'],
    ['namespace dropped', null, { __type: 'aws.protocoltests#InvalidParameterException' }, 'InvalidParameterException'],
    ['code field', null, { code: 'LimitExceededException' }, 'LimitExceededException'],
    ['nothing', null, {}, ''],
  ])('errorCode: %s', (_what, header, body, code) => {
    expect(errorCode(header, body)).toBe(code);
  });

  test('answerError keeps the request id', () => {
    const e = answerError({ status: 400, header: (n) => ({ 'x-amzn-requestid': 'req-1' })[n], text: '{"__type":"X","message":"m"}' }, 'https://h');
    expect(e.$metadata).toEqual({ httpStatusCode: 400, requestId: 'req-1' });
  });
});

describe('the ECR JSON client behind awsCall (the one retry layer)', () => {
  test('a 500 is retried, then the answer is used', async () => {
    let n = 0;
    l.answer(() => (++n === 1 ? { status: 500, body: '{"__type":"ServerException","message":"oops"}' } : { status: 200, body: '{"images":[]}' }));
    const warnings: string[] = [];
    const got = await awsCall('ecr:BatchGetImage', 'team/api', () => client().call('BatchGetImage', { repositoryName: 'team/api', imageIds: [] }), { sleep: noSleep, onRetry: (m) => warnings.push(m) });
    l.answer(() => ({ status: 200, body: '{}' }));
    expect(got).toEqual({ images: [] });
    expect(warnings).toEqual([expect.stringMatching(/^ecr:BatchGetImage failed \(ServerException\); attempt 2 in \d+ ms$/)]);
  });

  test('AccessDenied becomes the one line naming the IAM action', async () => {
    l.answer(() => ({ status: 400, body: '{"__type":"AccessDeniedException","message":"not authorized to perform: ecr:GetLifecyclePolicy"}' }));
    const err = (await awsCall('ecr:GetLifecyclePolicy', 'team/api', () => client().call('GetLifecyclePolicy', { repositoryName: 'team/api' }), { sleep: noSleep }).catch((e: unknown) => e)) as Error;
    l.answer(() => ({ status: 200, body: '{}' }));
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toBe(
      "AccessDenied: the AWS identity may not call ecr:GetLifecyclePolicy on team/api; allow 'ecr:GetLifecyclePolicy' in the IAM policy of the role this job assumes. AWS said: not authorized to perform: ecr:GetLifecyclePolicy",
    );
  });

  test('a listener that resets: every attempt made, one line naming the endpoint', async () => {
    const server = createServer((s) => s.resetAndDestroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const ecr = ecrApi('eu-west-1', { env: { AWS_ENDPOINT_URL_ECR: url }, credentials: async () => CREDS });
    let n = 0;
    const err = (await awsCall('ecr:DescribeImages', 'team/app', () => (n++, ecr.call('DescribeImages', { repositoryName: 'team/app' })), { sleep: noSleep, attempts: 3 }).catch((e: unknown) => e)) as Error;
    server.close();
    expect(n).toBe(3);
    expect(err).toBeInstanceOf(DeadlineError);
    expect(err.message).toMatch(new RegExp(`^ecr:DescribeImages on team/app: ${url.replace(/\./g, '\\.')}: the connection was reset \\(3 attempts, [\\d.]+ s waited\\)$`));
  });

  test('a listener that never answers: the request deadline, tried twice in all', async () => {
    const server = createServer(() => undefined);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const { httpSend } = await import('../src/json-client');
    const ecr = ecrApi('eu-west-1', { env: { AWS_ENDPOINT_URL_ECR: url }, credentials: async () => CREDS, send: httpSend(200) });
    let n = 0;
    const err = (await awsCall('ecr:BatchGetImage', 'team/app', () => (n++, ecr.call('BatchGetImage', { repositoryName: 'team/app', imageIds: [] })), { sleep: noSleep }).catch((e: unknown) => e)) as Error;
    server.close();
    expect(n).toBe(2);
    expect(err).toBeInstanceOf(DeadlineError);
    expect(err.message).toMatch(new RegExp(`^ecr:BatchGetImage on team/app: ${url.replace(/\./g, '\\.')}: no answer within 15 s \\(2 attempts, [\\d.]+ s waited\\)$`));
  });
});

describe('endpoints and credentials, as the SDK finds them', () => {
  const sdkEcr = new ECRClient({ region: 'eu-west-1' });
  const sdkResolvers = async (): Promise<SdkResolvers> => ({
    credentials: async () => ({ accessKeyId: 'FROM-SDK-CHAIN', secretAccessKey: 's' }),
    endpoint: (p) => sdkEcr.config.endpointProvider(p),
  });

  test.each([
    ['eu-west-1', {}],
    ['mx-central-1', {}],
    ['cn-north-1', {}],
    ['us-gov-west-1', {}],
    ['us-iso-east-1', {}],
    ['eusc-de-east-1', {}],
    ['eu-west-1', { AWS_USE_FIPS_ENDPOINT: 'true' }],
    ['cn-north-1', { AWS_USE_DUALSTACK_ENDPOINT: 'true' }],
    ['us-gov-west-1', { AWS_USE_FIPS_ENDPOINT: 'true', AWS_USE_DUALSTACK_ENDPOINT: 'true' }],
  ])('%s %j: the SDK client endpoint', async (region, env) => {
    const sdk = sdkEcr.config.endpointProvider({ Region: region, UseFIPS: 'AWS_USE_FIPS_ENDPOINT' in env, UseDualStack: 'AWS_USE_DUALSTACK_ENDPOINT' in env });
    const ours = await serviceEndpoint(ECR_SERVICE, region, env, async () => ({ credentials: async () => CREDS, endpoint: (p) => sdkEcr.config.endpointProvider(p) }));
    expect(ours.href).toBe(sdk.url.href);
  });

  test('commercial, GovCloud and China regions need no SDK to find the endpoint', async () => {
    const never = () => Promise.reject(new Error('SDK loaded'));
    for (const region of ['eu-west-1', 'us-gov-east-1', 'cn-northwest-1']) {
      expect((await serviceEndpoint(ECR_SERVICE, region, {}, never)).href).toBe(sdkEcr.config.endpointProvider({ Region: region, UseFIPS: false, UseDualStack: false }).url.href);
    }
  });

  test.each([
    [{ AWS_ENDPOINT_URL_ECR: 'http://ecr.local:1', AWS_ENDPOINT_URL: 'http://all.local:2' }, 'http://ecr.local:1'],
    [{ AWS_ENDPOINT_URL: 'http://all.local:2' }, 'http://all.local:2'],
    [{ AWS_ENDPOINT_URL_ECR: 'http://ecr.local:1', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' }, undefined],
    [{ AWS_ENDPOINT_URL_EKS: 'http://eks.local:1' }, undefined],
  ])('configured endpoint %j -> %s', (env, url) => {
    expect(configuredEndpoint(env, 'ECR')).toBe(url);
  });

  test.each([
    ['configure-aws-credentials', { AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 's', AWS_SESSION_TOKEN: 't' }, { accessKeyId: 'AKID', secretAccessKey: 's', sessionToken: 't' }],
    ['long-term keys', { AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 's' }, { accessKeyId: 'AKID', secretAccessKey: 's' }],
    ['with expiry', { AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 's', AWS_CREDENTIAL_EXPIRATION: '2026-12-07T23:00:00Z' }, { accessKeyId: 'AKID', secretAccessKey: 's', expiration: new Date('2026-12-07T23:00:00Z') }],
    ['AWS_PROFILE set: the SDK chain skips the environment too', { AWS_PROFILE: 'dev', AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 's' }, { accessKeyId: 'FROM-SDK-CHAIN', secretAccessKey: 's' }],
    ['no secret: the chain (web identity, profiles, SSO, container, instance)', { AWS_ACCESS_KEY_ID: 'AKID' }, { accessKeyId: 'FROM-SDK-CHAIN', secretAccessKey: 's' }],
    ['nothing in the environment', { AWS_WEB_IDENTITY_TOKEN_FILE: '/t', AWS_ROLE_ARN: 'arn:aws:iam::1:role/r' }, { accessKeyId: 'FROM-SDK-CHAIN', secretAccessKey: 's' }],
  ])('credentials: %s', async (_what, env, expected) => {
    await expect(jobCredentials(env, sdkResolvers)()).resolves.toEqual(expected);
  });

  test('the SDK client chain is the one ECR_SERVICE loads (the ECR client, lazily)', async () => {
    const r = await ECR_SERVICE.sdk('eu-west-1');
    expect(r.endpoint({ Region: 'eu-west-1', UseFIPS: false, UseDualStack: false }).url.href).toBe('https://api.ecr.eu-west-1.amazonaws.com/');
    expect(typeof r.credentials).toBe('function');
  });
});
