import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { Inputs, mapInputs } from '@deploy-actions/action-kit';
import { getInputs, validateRepositoryName } from '../src/inputs';

const ws = mkdtempSync(join(tmpdir(), 'bpe-'));
writeFileSync(join(ws, 'Dockerfile'), 'FROM scratch\n');
mkdirSync(join(ws, 'sub'));
const env = { GITHUB_WORKSPACE: ws, AWS_REGION: 'eu-west-1' };
const read = (v: Record<string, string>, e: NodeJS.ProcessEnv = env) => getInputs(new Inputs(mapInputs({ repository: 'team/api', ...v })), e);

describe('getInputs', () => {
  test('pull accounts become account roots of the region\'s partition, before the pull principals', () => {
    const i = read({ 'pull-accounts': '222222222222\n333333333333', 'pull-principals': 'arn:aws:iam::444444444444:role/batch', 'read-principals': 'arn:aws:iam::333333333333:role/deploy' });
    expect(i.pullPrincipals).toEqual(['arn:aws:iam::222222222222:root', 'arn:aws:iam::333333333333:root', 'arn:aws:iam::444444444444:role/batch']);
    expect(i.readPrincipals).toEqual(['arn:aws:iam::333333333333:role/deploy']);
    expect(read({ 'pull-accounts': '222222222222' }, { ...env, AWS_REGION: 'cn-north-1' }).pullPrincipals).toEqual(['arn:aws-cn:iam::222222222222:root']);
  });

  test('defaults', () => {
    expect(read({})).toMatchObject({
      repository: 'team/api',
      region: 'eu-west-1',
      context: ws,
      dockerfile: join(ws, 'Dockerfile'),
      builder: 'auto',
      tagSemver: true,
      createRepository: true,
      tagMutability: 'IMMUTABLE',
      scanOnPush: true,
      untaggedExpiryDays: 14,
      skipExisting: true,
      provenance: false,
    });
  });

  test.each<[Record<string, string>, NodeJS.ProcessEnv, string]>([
    [{ repository: '' }, env, "Input 'repository' is required"],
    [{ repository: 'A/b' }, env, "Input 'repository' must be an ECR repository name"],
    [{}, { GITHUB_WORKSPACE: ws }, "Input 'aws-region' is required when AWS_REGION is not set"],
    [{ 'aws-region': 'Europe' }, env, "Input 'aws-region' must be an AWS region"],
    [{ 'registry-id': '12' }, env, "Input 'registry-id' must be a 12-digit AWS account id"],
    [{ 'provenance-kms-key': 'alias/provenance' }, env, "Input 'provenance-kms-key' must be the ARN of a KMS key (arn:aws:kms:<region>:<account>:key/<id>; not an alias)"],
    [{ context: 'missing' }, env, "Input 'context' must be a directory that exists in the workspace (got 'missing')"],
    [{ context: 'sub' }, env, "Input 'dockerfile' must be a file that exists in the workspace (got 'sub/Dockerfile')"],
    [{ platforms: 'amd64' }, env, "Input 'platforms' must be os/arch[/variant] entries"],
    [{ platforms: 'linux/arm64', builder: 'docker' }, env, "Input 'platforms' needs docker buildx"],
    [{ builder: 'kaniko' }, env, "Input 'builder' must be one of auto, buildx, docker"],
    [{ 'image-tag-mutability': 'SOMETIMES' }, env, "Input 'image-tag-mutability' must be one of IMMUTABLE, MUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION"],
    [{ 'image-tag-mutability': 'IMMUTABLE_WITH_EXCLUSION' }, env, "Input 'image-tag-mutability-exclusion-filters' is required with image-tag-mutability IMMUTABLE_WITH_EXCLUSION"],
    [{ 'image-tag-mutability-exclusion-filters': 'main' }, env, "Input 'image-tag-mutability-exclusion-filters' needs image-tag-mutability IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION"],
    [{ 'image-tag-mutability': 'MUTABLE_WITH_EXCLUSION', 'image-tag-mutability-exclusion-filters': 'release/*' }, env, "Input 'image-tag-mutability-exclusion-filters' must hold tag patterns"],
    [{ 'image-tag-mutability': 'MUTABLE_WITH_EXCLUSION', 'image-tag-mutability-exclusion-filters': 'a,b,c,d,e,f' }, env, 'at most 5 filters'],
    [{ 'untagged-expiry-days': '-3' }, env, "Input 'untagged-expiry-days' must be a whole number from 0 to 3650"],
    [{ 'cache-ref': 'not a ref' }, env, "Input 'cache-ref' must be an image reference"],
    [{ 'tag-branch': 'sure' }, env, "Input 'tag-branch' must be true or false"],
    [{ 'pull-accounts': '222222222222,3333' }, env, "Input 'pull-accounts' must hold 12-digit AWS account ids (got '3333')"],
    [{ 'pull-principals': 'arn:aws:iam::333333333333:group/devs' }, env, "Input 'pull-principals' must hold IAM role, user or account-root ARNs"],
    [{ 'read-principals': '*' }, env, "Input 'read-principals' must hold IAM role, user or account-root ARNs"],
    [{ 'record-principals': 'arn:aws:sts::333333333333:assumed-role/deploy/s' }, env, "Input 'record-principals' must hold IAM role, user or account-root ARNs"],
  ])('%j is refused with one line naming the input', (values, e, message) => {
    expect(() => read(values, e)).toThrow(message);
  });

  test('exclusion filters', () => {
    expect(read({ 'image-tag-mutability': 'IMMUTABLE_WITH_EXCLUSION', 'image-tag-mutability-exclusion-filters': 'main\ndev-*' })).toMatchObject({
      tagMutability: 'IMMUTABLE_WITH_EXCLUSION',
      tagMutabilityExclusionFilters: ['main', 'dev-*'],
    });
  });

  test.each(['ab', 'team/orders-api', 'a.b_c-d/e', 'x'.repeat(256)])('valid repository %s', (n) => {
    expect(validateRepositoryName(n)).toBe(n);
  });

  test.each(['a', 'Team', 'team/', '/team', 'team//api', 'team_/api', 'x'.repeat(257)])('invalid repository %s', (n) => {
    expect(() => validateRepositoryName(n)).toThrow("Input 'repository'");
  });
});
