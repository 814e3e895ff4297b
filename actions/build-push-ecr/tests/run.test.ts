import { existsSync } from 'node:fs';
import { beforeEach, describe, expect, test } from 'vitest';
import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  ECRServiceException,
  GetAuthorizationTokenCommand,
  GetLifecyclePolicyCommand,
  ListTagsForResourceCommand,
  PutImageCommand,
  PutImageScanningConfigurationCommand,
  PutLifecyclePolicyCommand,
  GetRepositoryPolicyCommand,
  SetRepositoryPolicyCommand,
} from '@aws-sdk/client-ecr';
import { run } from '../src/run';
import { STAGING, cancelCleanups, deps, digest, ecrMock, inputs, manifestOf, password, uri } from './fixtures';

const notFound = new ECRServiceException({ name: 'RepositoryNotFoundException', $fault: 'client', $metadata: {}, message: 'no repo' });

beforeEach(() => {
  ecrMock.reset();
  ecrMock.on(GetAuthorizationTokenCommand).resolves({
    authorizationData: [{ authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'), proxyEndpoint: `https://${uri.split('/')[0]}` }],
  });
});

describe('run', () => {
  test('missing repository: created immutable with scan and lifecycle, built with buildx, pushed once', async () => {
    ecrMock.on(DescribeRepositoriesCommand).rejects(notFound);
    ecrMock.on(BatchGetImageCommand).rejects(notFound);
    ecrMock.on(CreateRepositoryCommand).resolves({ repository: { repositoryUri: uri, imageTagMutability: 'IMMUTABLE' } });
    ecrMock.on(PutLifecyclePolicyCommand).resolves({});
    manifestOf();
    const d = deps({ buildx: true });
    const out = await run(inputs, d);
    expect(out).toEqual({
      registry: '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
      'repository-uri': uri,
      tag: '0123456',
      tags: '0123456',
      digest,
      'image-ref': `${uri}@${digest}`,
      skipped: false,
      commit: '0123456789abcdef0123456789abcdef01234567',
      'content-key': '',
      'reused-from': '',
    });
    expect(ecrMock.commandCalls(CreateRepositoryCommand)[0]!.args[0].input).toMatchObject({
      imageTagMutability: 'IMMUTABLE',
      imageScanningConfiguration: { scanOnPush: true },
    });
    const login = d.calls.find((c) => c.args[0] === 'login')!;
    expect(login.opts?.input).toBe(password);
    expect(login.args.join(' ')).not.toContain(password);
    expect(d.io.secrets).toContain(password);
    const build = d.calls.find((c) => c.args[0] === 'buildx' && c.args[1] === 'build')!;
    // Pushed under the run's staging tag; the SHA tag is put by ECR PutImage afterwards.
    expect(build.args.find((a) => a.startsWith(`${uri}:`))!.slice(uri.length + 1)).toMatch(STAGING);
    expect(ecrMock.commandCalls(PutImageCommand).map((c) => c.args[0].input.imageTag)).toEqual(['0123456']);
    expect(build.opts?.env?.DOCKER_CONFIG).toBe(d.tempDirs[0]);
    // The private docker config (holding the ECR password) is gone afterwards, and nothing is
    // left registered for a cancel.
    expect(existsSync(d.tempDirs[0]!)).toBe(false);
    expect(cancelCleanups.size).toBe(0);
    expect(d.io.summaries[0]).toContain('image built and pushed');
  });

  test('a cancel during the build runs the registered cleanup: the private docker config goes', async () => {
    ecrMock.on(DescribeRepositoriesCommand).resolves({ repositories: [{ repositoryUri: uri, imageTagMutability: 'IMMUTABLE', repositoryArn: 'arn' }] });
    ecrMock.on(BatchGetImageCommand).resolves({ images: [] });
    ecrMock.on(GetLifecyclePolicyCommand).resolves({ lifecyclePolicyText: '{}' });
    manifestOf();
    const d = deps({ buildx: false });
    let during: { dir: string; registered: number } | undefined;
    const exec = d.exec;
    d.exec = async (file, args, o) => {
      if (args[0] === 'build') {
        during = { dir: d.tempDirs[0]!, registered: cancelCleanups.size };
        for (const cleanup of cancelCleanups) cleanup();
      }
      return exec(file, args, o);
    };
    await run(inputs, d);
    expect(during?.registered).toBe(1);
    expect(existsSync(during!.dir)).toBe(false);
  });

  test('classic builder when buildx is absent: build, push the staging tag; the SHA tag and the others via PutImage', async () => {
    ecrMock.on(DescribeRepositoriesCommand).resolves({ repositories: [{ repositoryUri: uri, imageTagMutability: 'IMMUTABLE' }] });
    ecrMock.on(BatchGetImageCommand, { imageIds: [{ imageTag: '0123456' }, { imageTag: 'rc' }] }).resolves({ images: [] });
    ecrMock.on(BatchGetImageCommand, { imageIds: [{ imageDigest: digest }] }).resolves({
      images: [{ imageId: { imageDigest: digest }, imageManifest: '{}', imageManifestMediaType: 'application/vnd.docker.distribution.manifest.v2+json' }],
    });
    ecrMock.on(PutImageCommand).resolves({});
    const d = deps({ buildx: false });
    const out = await run({ ...inputs, extraTags: ['rc'] }, d);
    expect(out.digest).toBe(digest);
    expect(d.calls.map((c) => c.args[0])).toEqual(['login', 'buildx', 'build', 'push']);
    const pushed = d.calls.find((c) => c.args[0] === 'push')!.args;
    expect(pushed).toHaveLength(2);
    expect(pushed[1]!.slice(uri.length + 1)).toMatch(STAGING);
    expect(ecrMock.commandCalls(PutImageCommand).map((c) => c.args[0].input.imageTag)).toEqual(['0123456', 'rc']);
    expect(ecrMock.commandCalls(BatchDeleteImageCommand).map((c) => c.args[0].input.imageIds)).toEqual([[{ imageTag: pushed[1]!.slice(uri.length + 1) }]]);
    expect(ecrMock.commandCalls(CreateRepositoryCommand)).toHaveLength(0);
  });

  test('SHA tag present: no docker at all, outputs from the existing image', async () => {
    ecrMock.on(DescribeRepositoriesCommand).resolves({ repositories: [{ repositoryUri: uri, imageTagMutability: 'IMMUTABLE' }] });
    ecrMock.on(BatchGetImageCommand).resolves({ images: [{ imageId: { imageTag: '0123456', imageDigest: digest } }] });
    const d = deps({ buildx: true });
    const out = await run(inputs, d);
    expect(out).toMatchObject({ skipped: true, digest, 'image-ref': `${uri}@${digest}` });
    expect(d.calls).toEqual([]);
    expect(ecrMock.commandCalls(GetAuthorizationTokenCommand)).toHaveLength(0);
  });

  test('skip-existing false on a SHA already in an immutable repository: refused before any build', async () => {
    ecrMock.on(DescribeRepositoriesCommand).resolves({ repositories: [{ repositoryUri: uri, imageTagMutability: 'IMMUTABLE' }] });
    ecrMock.on(BatchGetImageCommand).resolves({ images: [{ imageId: { imageTag: '0123456', imageDigest: digest } }] });
    const d = deps({ buildx: true });
    await expect(run({ ...inputs, skipExisting: false }, d)).rejects.toThrow(
      'Tag 0123456 already exists in team/api on another image and is immutable there; nothing was built or pushed',
    );
    expect(d.calls).toEqual([]);
  });

  test('skip-existing false in a MUTABLE repository rebuilds and moves the SHA tag', async () => {
    ecrMock.on(DescribeRepositoriesCommand).resolves({ repositories: [{ repositoryUri: uri, imageTagMutability: 'MUTABLE' }] });
    ecrMock.on(BatchGetImageCommand).resolves({ images: [{ imageId: { imageTag: '0123456', imageDigest: `sha256:${'d'.repeat(64)}` } }] });
    manifestOf();
    const d = deps({ buildx: false });
    const out = await run({ ...inputs, skipExisting: false }, d);
    expect(out).toMatchObject({ skipped: false, digest });
    expect(d.calls.map((c) => c.args[0])).toEqual(['login', 'buildx', 'build', 'push']);
  });

  test('create-repository false and no repository: one clear error, nothing created', async () => {
    ecrMock.on(DescribeRepositoriesCommand).rejects(notFound);
    ecrMock.on(BatchGetImageCommand).rejects(notFound);
    await expect(run({ ...inputs, createRepository: false }, deps({ buildx: true }))).rejects.toThrow(
      "ECR repository 'team/api' does not exist and create-repository is false",
    );
    expect(ecrMock.commandCalls(CreateRepositoryCommand)).toHaveLength(0);
  });

  const other = `sha256:${'e'.repeat(64)}`;
  const existingRepo = (extra: Record<string, unknown> = {}) =>
    ecrMock.on(DescribeRepositoriesCommand).resolves({
      repositories: [{ repositoryUri: uri, repositoryArn: 'arn:aws:ecr:eu-west-1:123456789012:repository/team/api', imageTagMutability: 'IMMUTABLE', imageScanningConfiguration: { scanOnPush: true }, ...extra }],
    });
  const noLifecycle = new ECRServiceException({ name: 'LifecyclePolicyNotFoundException', $fault: 'client', $metadata: {}, message: 'none' });

  test.each<[string, Record<string, unknown>, string[], boolean]>([
    ['IMMUTABLE_WITH_EXCLUSION lets an excluded moving tag move', { imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION', imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'ma*' }] }, ['main'], true],
    ['IMMUTABLE_WITH_EXCLUSION keeps other tags immutable', { imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION', imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'dev-*' }] }, ['main'], false],
    ['MUTABLE_WITH_EXCLUSION refuses an excluded (immutable) tag before building', { imageTagMutability: 'MUTABLE_WITH_EXCLUSION', imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'release-*' }] }, ['release-1'], false],
    ['MUTABLE_WITH_EXCLUSION lets other tags move', { imageTagMutability: 'MUTABLE_WITH_EXCLUSION', imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'release-*' }] }, ['main'], true],
  ])('%s', async (_name, repoSettings, extraTags, builds) => {
    existingRepo(repoSettings);
    ecrMock.on(BatchGetImageCommand, { imageIds: [{ imageTag: '0123456' }, { imageTag: extraTags[0]! }] }).resolves({ images: [{ imageId: { imageTag: extraTags[0]!, imageDigest: other } }] });
    ecrMock.on(BatchGetImageCommand, { imageIds: [{ imageDigest: digest }] }).resolves({ images: [{ imageId: { imageDigest: digest }, imageManifest: '{}' }] });
    const d = deps({ buildx: false });
    const running = run({ ...inputs, extraTags }, d);
    if (builds) {
      await expect(running).resolves.toMatchObject({ digest, tags: `0123456,${extraTags[0]}` });
      expect(ecrMock.commandCalls(PutImageCommand).map((c) => c.args[0].input.imageTag)).toEqual(['0123456', ...extraTags]);
    } else {
      await expect(running).rejects.toThrow(`Tag ${extraTags[0]} already exists in team/api on another image and is immutable there; nothing was built or pushed`);
      expect(d.calls).toEqual([]);
    }
  });

  test('several tags to add: the manifest is read once, then one PutImage per tag', async () => {
    existingRepo();
    ecrMock.on(BatchGetImageCommand, { imageIds: [{ imageTag: '0123456' }, { imageTag: 'a' }, { imageTag: 'b' }, { imageTag: 'c' }] }).resolves({
      images: [{ imageId: { imageTag: '0123456', imageDigest: digest }, imageManifest: '{"m":1}' }],
    });
    const out = await run({ ...inputs, extraTags: ['a', 'b', 'c'] }, deps({ buildx: false }));
    expect(out).toMatchObject({ skipped: true, tags: '0123456,a,b,c' });
    expect(ecrMock.commandCalls(BatchGetImageCommand)).toHaveLength(1);
    expect(ecrMock.commandCalls(PutImageCommand).map((c) => [c.args[0].input.imageTag, c.args[0].input.imageManifest])).toEqual([
      ['a', '{"m":1}'],
      ['b', '{"m":1}'],
      ['c', '{"m":1}'],
    ]);
  });

  test('a repository we created that lacks its lifecycle policy and scan on push gets them, reported', async () => {
    existingRepo({ imageScanningConfiguration: { scanOnPush: false } });
    ecrMock.on(BatchGetImageCommand).resolves({ images: [{ imageId: { imageTag: '0123456', imageDigest: digest } }] });
    ecrMock.on(GetLifecyclePolicyCommand).rejects(noLifecycle);
    ecrMock.on(ListTagsForResourceCommand).resolves({ tags: [{ Key: 'deploy-actions:created-by', Value: 'build-push-ecr' }] });
    const d = deps({ buildx: false });
    await run(inputs, d);
    expect(ecrMock.commandCalls(PutLifecyclePolicyCommand)).toHaveLength(1);
    expect(ecrMock.commandCalls(PutImageScanningConfigurationCommand)[0]!.args[0].input.imageScanningConfiguration).toEqual({ scanOnPush: true });
    expect(d.io.lines.join('\n')).toContain('Applied the missing settings of team/api: lifecycle policy, scan on push');
    expect(d.io.summaries[0]).toContain('applied missing: lifecycle policy, scan on push');
  });

  test('a repository we did not create is left alone, with a warning naming what it lacks', async () => {
    existingRepo();
    ecrMock.on(BatchGetImageCommand).resolves({ images: [{ imageId: { imageTag: '0123456', imageDigest: digest } }] });
    ecrMock.on(GetLifecyclePolicyCommand).rejects(noLifecycle);
    ecrMock.on(ListTagsForResourceCommand).resolves({ tags: [{ Key: 'team', Value: 'payments' }] });
    const d = deps({ buildx: false });
    await run(inputs, d);
    expect(ecrMock.commandCalls(PutLifecyclePolicyCommand)).toHaveLength(0);
    expect(d.io.warnings).toContain('ECR repository team/api was not created by deploy-actions, so its settings are left as they are; it lacks: lifecycle policy');
  });

  test('nothing missing: no tag read, no write; no pull accounts: no policy read', async () => {
    existingRepo();
    ecrMock.on(BatchGetImageCommand).resolves({ images: [{ imageId: { imageTag: '0123456', imageDigest: digest } }] });
    ecrMock.on(GetLifecyclePolicyCommand).resolves({ lifecyclePolicyText: '{}' });
    await run(inputs, deps({ buildx: false }));
    expect(ecrMock.commandCalls(ListTagsForResourceCommand)).toHaveLength(0);
    expect(ecrMock.commandCalls(PutLifecyclePolicyCommand)).toHaveLength(0);
    expect(ecrMock.commandCalls(GetRepositoryPolicyCommand)).toHaveLength(0);
  });

  test('a new repository carries the creation marker', async () => {
    ecrMock.on(DescribeRepositoriesCommand).rejects(notFound);
    ecrMock.on(BatchGetImageCommand).rejects(notFound);
    ecrMock.on(GetLifecyclePolicyCommand).rejects(notFound);
    ecrMock.on(CreateRepositoryCommand).resolves({ repository: { repositoryUri: uri, imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION' } });
    manifestOf();
    await run({ ...inputs, tagMutability: 'IMMUTABLE_WITH_EXCLUSION', tagMutabilityExclusionFilters: ['main'] }, deps({ buildx: true }));
    expect(ecrMock.commandCalls(CreateRepositoryCommand)[0]!.args[0].input).toMatchObject({
      tags: [{ Key: 'deploy-actions:created-by', Value: 'build-push-ecr' }],
      imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
      imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'main' }],
    });
  });

  test('pull accounts: merged into the policy beside its other statements, written only when it changes', async () => {
    existingRepo();
    ecrMock.on(BatchGetImageCommand).resolves({ images: [{ imageId: { imageTag: '0123456', imageDigest: digest } }] });
    ecrMock.on(GetLifecyclePolicyCommand).resolves({ lifecyclePolicyText: '{}' });
    const lambda = { Sid: 'LambdaPull', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'ecr:BatchGetImage' };
    ecrMock.on(GetRepositoryPolicyCommand).resolves({ policyText: JSON.stringify({ Version: '2012-10-17', Statement: [lambda] }) });
    const grants = { ...inputs, pullPrincipals: ['arn:aws:iam::333333333333:root', 'arn:aws:iam::222222222222:root'] };
    const d = deps({ buildx: false });
    await run(grants, d);
    const written = JSON.parse(ecrMock.commandCalls(SetRepositoryPolicyCommand)[0]!.args[0].input.policyText!);
    expect(written.Statement).toEqual([
      lambda,
      { Sid: 'DeployActionsPull', Effect: 'Allow', Principal: { AWS: ['arn:aws:iam::222222222222:root', 'arn:aws:iam::333333333333:root'] }, Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'] },
    ]);
    expect(d.io.summaries[0]).toContain('| Repository policy | updated (pull: arn:aws:iam::333333333333:root, arn:aws:iam::222222222222:root; read: none; record: none) |');

    ecrMock.on(GetRepositoryPolicyCommand).resolves({ policyText: JSON.stringify(written) });
    await run(grants, deps({ buildx: false }));
    expect(ecrMock.commandCalls(SetRepositoryPolicyCommand)).toHaveLength(1);
  });
});
