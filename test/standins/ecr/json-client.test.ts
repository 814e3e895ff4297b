/**
 * build-push-ecr's small ECR client (packages/aws json-client.ts, signed by aws4) against the ECR
 * stand-in, beside the real SDK client with the same identity: the stand-in checks every SigV4
 * signature and authorizes every call, and both clients get the same answers and the same errors.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ecrApi, sdkEcrApi, type EcrApi, type EcrOperation } from '@deploy-actions/aws';
import { startRegistry, type Registry } from '../../harness/registry';
import { IamStore, type PolicyDocument } from '../iam/index';
import { startEcrStandin, type EcrStandin } from './index';

const BUILD = '111111111111';
const allow = (Action: string[]): PolicyDocument => ({ Statement: [{ Effect: 'Allow', Action, Resource: '*' }] });

let registry: Registry;
let ecr: EcrStandin;
const iam = new IamStore();
let small: EcrApi;
let sdk: EcrApi;
let reader: EcrApi;

beforeAll(async () => {
  iam.addRole({ account: BUILD, name: 'build', policies: [allow(['ecr:*'])] });
  iam.addRole({ account: BUILD, name: 'reader', policies: [allow(['ecr:DescribeRepositories', 'ecr:BatchGetImage'])] });
  registry = await startRegistry();
  ecr = await startEcrStandin({ registry, iam, accountId: BUILD });
  const build = iam.issueCredentials(`arn:aws:iam::${BUILD}:role/build`, 'gha');
  // The environment configure-aws-credentials leaves, as the action reads it.
  small = ecrApi('eu-west-1', {
    env: { AWS_ENDPOINT_URL_ECR: ecr.url, AWS_ACCESS_KEY_ID: build.accessKeyId, AWS_SECRET_ACCESS_KEY: build.secretAccessKey, AWS_SESSION_TOKEN: build.sessionToken },
  });
  sdk = sdkEcrApi(new ECRClient({ region: 'eu-west-1', endpoint: ecr.url, credentials: build, maxAttempts: 1 }));
  const r = iam.issueCredentials(`arn:aws:iam::${BUILD}:role/reader`, 'gha');
  reader = ecrApi('eu-west-1', { env: { AWS_ENDPOINT_URL_ECR: ecr.url, AWS_ACCESS_KEY_ID: r.accessKeyId, AWS_SECRET_ACCESS_KEY: r.secretAccessKey, AWS_SESSION_TOKEN: r.sessionToken } });
  await small.call('CreateRepository', { repositoryName: 'team/api', imageTagMutability: 'IMMUTABLE', imageScanningConfiguration: { scanOnPush: true }, tags: [{ Key: 'k', Value: 'v' }] });
});
afterAll(async () => {
  await ecr?.stop();
  await registry?.stop();
});

/** Drops what differs per request (the authorization token and its expiry). */
const stable = (x: unknown) => JSON.parse(JSON.stringify(x, (k, v) => (k === 'authorizationToken' || k === 'expiresAt' ? '<per request>' : v)));

describe('the small ECR client against the stand-in, beside the SDK client', () => {
  test.each([
    ['DescribeRepositories', { repositoryNames: ['team/api'] }],
    ['BatchGetImage', { repositoryName: 'team/api', imageIds: [{ imageTag: 'abc1234' }] }],
    ['ListTagsForResource', { resourceArn: `arn:aws:ecr:eu-west-1:${BUILD}:repository/team/api` }],
    ['GetAuthorizationToken', {}],
    ['DescribeImages', { repositoryName: 'team/api' }],
  ] as const)('%s: the same answer', async (operation, input) => {
    const ours = await small.call(operation as EcrOperation, input as never);
    const theirs = await sdk.call(operation as EcrOperation, input as never);
    expect(stable(ours)).toEqual(stable(theirs));
  });

  test.each([
    ['GetLifecyclePolicy', { repositoryName: 'team/api' }, 'LifecyclePolicyNotFoundException'],
    ['GetRepositoryPolicy', { repositoryName: 'team/api' }, 'RepositoryPolicyNotFoundException'],
    ['DescribeRepositories', { repositoryNames: ['team/none'] }, 'RepositoryNotFoundException'],
    ['DescribeImages', { repositoryName: 'team/api', imageIds: [{ imageTag: 'nope' }] }, 'ImageNotFoundException'],
    ['CreateRepository', { repositoryName: 'team/api' }, 'RepositoryAlreadyExistsException'],
  ] as const)('%s: the same error (%s)', async (operation, input, code) => {
    const ours = (await small.call(operation as EcrOperation, input as never).catch((e: unknown) => e)) as Error & { $metadata: { httpStatusCode: number } };
    const theirs = (await sdk.call(operation as EcrOperation, input as never).catch((e: unknown) => e)) as Error & { $metadata: { httpStatusCode: number } };
    expect([ours.name, ours.message, ours.$metadata.httpStatusCode]).toEqual([code, theirs.message, theirs.$metadata.httpStatusCode]);
    expect(theirs.name).toBe(code);
  });

  test('a call the identity may not make: AccessDeniedException as the SDK sees it', async () => {
    const ours = (await reader.call('GetLifecyclePolicy', { repositoryName: 'team/api' }).catch((e: unknown) => e)) as Error;
    expect(ours.name).toBe('AccessDeniedException');
    expect(ours.message).toMatch(/is not authorized to perform: ecr:GetLifecyclePolicy/);
  });

  test('credentials not in the environment: the SDK client chain (here a profile of a shared credentials file), loaded on first use', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecr-profile-'));
    const c = iam.issueCredentials(`arn:aws:iam::${BUILD}:role/build`, 'profile');
    writeFileSync(join(dir, 'credentials'), `[ci]\naws_access_key_id = ${c.accessKeyId}\naws_secret_access_key = ${c.secretAccessKey}\naws_session_token = ${c.sessionToken}\n`);
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_PROFILE: 'ci', AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'), AWS_CONFIG_FILE: join(dir, 'none'), AWS_EC2_METADATA_DISABLED: 'true' });
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    try {
      const viaProfile = ecrApi('eu-west-1', { env: { ...process.env, AWS_ENDPOINT_URL_ECR: ecr.url } });
      const got = await viaProfile.call('DescribeRepositories', { repositoryNames: ['team/api'] });
      expect(got.repositories?.[0]?.repositoryName).toBe('team/api');
    } finally {
      for (const k of ['AWS_PROFILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE', 'AWS_EC2_METADATA_DISABLED']) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });

  test('a wrong secret: the stand-in refuses the signature', async () => {
    const bad = ecrApi('eu-west-1', { env: { AWS_ENDPOINT_URL_ECR: ecr.url }, credentials: async () => ({ ...iam.issueCredentials(`arn:aws:iam::${BUILD}:role/build`, 'gha'), secretAccessKey: 'wrong' }) });
    const err = (await bad.call('DescribeRepositories', {}).catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('InvalidSignatureException');
  });
});
