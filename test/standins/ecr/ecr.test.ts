/**
 * The ECR stand-in with accounts: the real SDK client against it, and the registry front
 * checked with plain registry HTTP requests (no docker needed for these).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createHash } from 'node:crypto';
import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  GetRepositoryPolicyCommand,
  ListTagsForResourceCommand,
  PutImageCommand,
  PutImageTagMutabilityCommand,
  SetRepositoryPolicyCommand,
} from '@aws-sdk/client-ecr';
import { startRegistry, type Registry } from '../../harness/registry';
import { IamStore, type PolicyDocument } from '../iam/index';
import { startEcrStandin, tagIsImmutable, type EcrStandin } from './index';

const BUILD = '111111111111';
const PROD = '333333333333';
const OTHER = '444444444444';
const allow = (Action: string[]): PolicyDocument => ({ Statement: [{ Effect: 'Allow', Action, Resource: '*' }] });
const PULL = ['ecr:GetAuthorizationToken', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:GetRepositoryPolicy', 'ecr:DescribeRepositories'];

let registry: Registry;
let ecr: EcrStandin;
const iam = new IamStore();
const builder = () => iam.issueCredentials(`arn:aws:iam::${BUILD}:role/build`, 'gha');
const prodNode = () => iam.issueCredentials(`arn:aws:iam::${PROD}:role/eks-node`, 'i-0123');
const otherNode = () => iam.issueCredentials(`arn:aws:iam::${OTHER}:role/eks-node`, 'i-0456');

function client(id: ReturnType<typeof builder>): ECRClient {
  return new ECRClient({ region: 'eu-west-1', endpoint: ecr.url, credentials: id, maxAttempts: 1 });
}

async function head(login: { url: string; username: string; password: string }, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${login.url}${path}`, { headers: { Authorization: `Basic ${Buffer.from(`${login.username}:${login.password}`).toString('base64')}` } });
  return { status: res.status, body: await res.text() };
}

beforeAll(async () => {
  iam.addRole({ account: BUILD, name: 'build', policies: [allow(['ecr:*'])] });
  iam.addRole({ account: PROD, name: 'eks-node', policies: [allow(PULL)] });
  iam.addRole({ account: OTHER, name: 'eks-node', policies: [allow(PULL)] });
  registry = await startRegistry();
  ecr = await startEcrStandin({ registry, iam, accountId: BUILD });
});
afterAll(async () => {
  await ecr?.stop();
  await registry?.stop();
});

describe('ECR stand-in with accounts', () => {
  test('the build account creates a tagged repository and sets its policy; another account reads it only once granted', async () => {
    const b = client(builder());
    await b.send(new CreateRepositoryCommand({ repositoryName: 'team/api', imageTagMutability: 'IMMUTABLE', tags: [{ Key: 'managed-by', Value: 'x' }] }));
    const arn = `arn:aws:ecr:eu-west-1:${BUILD}:repository/team/api`;
    expect((await b.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual([{ Key: 'managed-by', Value: 'x' }]);

    const p = client(prodNode());
    // Its own (absent) registry when it names none; refused in the build account's until the policy grants it.
    await expect(p.send(new DescribeRepositoriesCommand({ repositoryNames: ['team/api'] }))).rejects.toThrow(`registry with id '${PROD}'`);
    await expect(p.send(new GetRepositoryPolicyCommand({ repositoryName: 'team/api', registryId: BUILD }))).rejects.toThrow(
      /is not authorized to perform: ecr:GetRepositoryPolicy on resource: .* because no resource-based policy allows/,
    );
    const policy = { Version: '2012-10-17', Statement: [{ Sid: 'pull', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${PROD}:root` }, Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:GetRepositoryPolicy'] }] };
    await b.send(new SetRepositoryPolicyCommand({ repositoryName: 'team/api', policyText: JSON.stringify(policy) }));
    const got = await p.send(new GetRepositoryPolicyCommand({ repositoryName: 'team/api', registryId: BUILD }));
    expect(JSON.parse(got.policyText!)).toEqual(policy);
    await expect(b.send(new SetRepositoryPolicyCommand({ repositoryName: 'team/api', policyText: '{"Statement":[{"Effect":"Allow"}]}' }))).rejects.toThrow('Invalid repository policy provided');
  });

  test('the registry front: no token, a token of an account not granted, a granted one', async () => {
    const b = client(builder());
    const token = async (c: ECRClient) => {
      const t = (await c.send(new GetAuthorizationTokenCommand({}))).authorizationData![0]!;
      const [username, password] = Buffer.from(t.authorizationToken!, 'base64').toString().split(':') as [string, string];
      return { url: t.proxyEndpoint!, username, password };
    };
    const path = '/v2/team/api/manifests/v1';
    const anonymous = await fetch(`${(await token(b)).url}${path}`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    expect((await head({ ...(await token(b)), password: 'forged' }, path)).status).toBe(401);

    const refused = await head(await ecr.registryLogin(otherNode()), path);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).errors[0]).toEqual({
      code: 'DENIED',
      message: expect.stringMatching(new RegExp(`^User: arn:aws:sts::${OTHER}:assumed-role/eks-node/i-0456 is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:eu-west-1:${BUILD}:repository/team/api because no resource-based policy allows`)),
    });
    // Granted account: the request reaches the registry (no image yet: its own 404).
    const granted = await head(await token(client(prodNode())), path);
    expect(granted.status).toBe(404);
    expect(JSON.parse(granted.body).errors[0].code).toBe('MANIFEST_UNKNOWN');
    expect((await head(await ecr.registryLogin(prodNode()), '/v2/team/nope/manifests/v1')).status).toBe(404);
    expect(ecr.registryCalls.filter((c) => !c.allowed).map((c) => c.caller)).toContain(`arn:aws:sts::${OTHER}:assumed-role/eks-node/i-0456`);
  });

  test('tag mutability exclusion filters, validated and applied with wildcards', async () => {
    const b = client(builder());
    await expect(b.send(new PutImageTagMutabilityCommand({ repositoryName: 'team/api', imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION' }))).rejects.toThrow('are required');
    await b.send(
      new PutImageTagMutabilityCommand({ repositoryName: 'team/api', imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION', imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'main' }, { filterType: 'WILDCARD', filter: 'dev-*' }] }),
    );
    const r = ecr.repositories.get('team/api')!;
    expect([tagIsImmutable(r, 'main'), tagIsImmutable(r, 'dev-1'), tagIsImmutable(r, 'a1b2c3d'), tagIsImmutable(r, 'mainline')]).toEqual([false, false, true, true]);
    const m = { imageTagMutability: 'MUTABLE_WITH_EXCLUSION', imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'release-*' }] };
    expect([tagIsImmutable(m, 'release-1'), tagIsImmutable(m, 'main')]).toEqual([true, false]);
  });

  test('BatchDeleteImage by tag removes only that tag while the image keeps another; its last tag takes the image', async () => {
    const b = client(builder());
    await b.send(new CreateRepositoryCommand({ repositoryName: 'team/tags', imageTagMutability: 'IMMUTABLE' }));
    const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
    const configDigest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
    const started = await fetch(`${registry.url}/v2/team/tags/blobs/uploads/`, { method: 'POST', headers: { Authorization: registry.authHeader } });
    const location = new URL(started.headers.get('location')!, registry.url);
    location.searchParams.set('digest', configDigest);
    expect((await fetch(location, { method: 'PUT', headers: { Authorization: registry.authHeader, 'Content-Type': 'application/octet-stream' }, body: config })).status).toBe(201);
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length }, layers: [] });
    for (const imageTag of ['staging-1', 'a1b2c3d']) await b.send(new PutImageCommand({ repositoryName: 'team/tags', imageManifest: manifest, imageTag }));
    const byTag = async (imageTag: string) => (await b.send(new BatchGetImageCommand({ repositoryName: 'team/tags', imageIds: [{ imageTag }] }))).images?.map((i) => i.imageId?.imageDigest) ?? [];
    const digest = (await byTag('a1b2c3d'))[0]!;

    const first = await b.send(new BatchDeleteImageCommand({ repositoryName: 'team/tags', imageIds: [{ imageTag: 'staging-1' }] }));
    expect(first.imageIds).toEqual([{ imageDigest: digest, imageTag: 'staging-1' }]);
    expect([await byTag('staging-1'), await byTag('a1b2c3d')]).toEqual([[], [digest]]);

    await b.send(new BatchDeleteImageCommand({ repositoryName: 'team/tags', imageIds: [{ imageTag: 'a1b2c3d' }] }));
    const gone = await b.send(new BatchGetImageCommand({ repositoryName: 'team/tags', imageIds: [{ imageDigest: digest }] }));
    expect(gone.images).toEqual([]);
    const again = await b.send(new BatchDeleteImageCommand({ repositoryName: 'team/tags', imageIds: [{ imageTag: 'a1b2c3d' }] }));
    expect(again.failures?.map((f) => f.failureCode)).toEqual(['ImageNotFound']);
  });
});
