import { describe, expect, test } from 'vitest';
import { recordingIO, UserError } from '@deploy-actions/action-kit';
import { checkPullAccess, ecrSource, type EcrSource } from '../src/pull-access';
import type { ClusterInfo } from '../src/eks';

const digest = `sha256:${'a'.repeat(64)}`;

describe('ecrSource', () => {
  test.each<[string, string | undefined, EcrSource | undefined]>([
    ['111111111111.dkr.ecr.eu-central-1.amazonaws.com/team/api', undefined, { registryId: '111111111111', region: 'eu-central-1', repository: 'team/api' }],
    ['111111111111.dkr.ecr-fips.us-east-1.amazonaws.com/api', undefined, { registryId: '111111111111', region: 'us-east-1', repository: 'api' }],
    ['111111111111.dkr.ecr.cn-north-1.amazonaws.com.cn/api', undefined, { registryId: '111111111111', region: 'cn-north-1', repository: 'api' }],
    ['127.0.0.1:5000/team/api', '111111111111', { registryId: '111111111111', region: 'eu-west-1', repository: 'team/api' }],
    ['127.0.0.1:5000/team/api', undefined, undefined],
    ['ghcr.io/acme/api', undefined, undefined],
    ['api', '111111111111', undefined],
  ])('%s with registry-id %s', (repository, registryId, source) => {
    expect(ecrSource({ repository }, registryId, 'eu-west-1')).toEqual(source);
  });
});

describe('checkPullAccess', () => {
  const image = { repository: '127.0.0.1:5000/team/api', digest };
  const source: EcrSource = { registryId: '111111111111', region: 'eu-west-1', repository: 'team/api' };
  const cluster = (account: string): ClusterInfo => ({ name: 'production', arn: `arn:aws:eks:eu-west-1:${account}:cluster/production`, endpoint: 'https://x', caData: '', version: '1.35', status: 'ACTIVE' });
  const policy = (...accounts: string[]) => JSON.stringify({ Statement: [{ Sid: 'DeployActionsPull', Effect: 'Allow', Principal: { AWS: accounts.map((a) => `arn:aws:iam::${a}:root`) }, Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'] }] });
  const denied = "Account 333333333333 (EKS cluster production) may not pull from ECR repository team/api in account 111111111111: its repository policy does not allow ecr:BatchGetImage, ecr:GetDownloadUrlForLayer to that account; add 333333333333 to build-push-ecr's pull-accounts. Nothing was deployed";

  test.each<[string, string, (() => Promise<string | undefined>) | undefined, string | undefined, string[]]>([
    ['granted', '333333333333', async () => policy('222222222222', '333333333333'), undefined, []],
    ['not granted', '333333333333', async () => policy('222222222222'), denied, []],
    ['no policy at all', '333333333333', async () => undefined, "Account 333333333333 (EKS cluster production) may not pull from ECR repository team/api in account 111111111111: it has no repository policy; add 333333333333 to build-push-ecr's pull-accounts. Nothing was deployed", []],
    ['the registry\'s own account: not read', '111111111111', async () => { throw new Error('must not be read'); }, undefined, []],
    ['policy unreadable: said, and the deploy goes on', '333333333333', async () => { throw new UserError('AccessDenied: the AWS identity may not call ecr:GetRepositoryPolicy on team/api'); }, undefined, [
      'Could not read the repository policy of ECR repository team/api in account 111111111111 (AccessDenied: the AWS identity may not call ecr:GetRepositoryPolicy on team/api), so whether account 333333333333 (EKS cluster production) may pull ' + digest + ' is not checked before the rollout',
    ]],
  ])('%s', async (_name, account, readPolicy, error, warnings) => {
    const io = recordingIO();
    const check = checkPullAccess({ io, readPolicy }, image, source, cluster(account));
    if (error) await expect(check).rejects.toThrow(error);
    else await check;
    expect(io.warnings).toEqual(warnings);
  });

  test('nothing to check: no cluster (kubeconfig), or an image not in ECR', async () => {
    const io = recordingIO();
    const readPolicy = async () => { throw new Error('must not be read'); };
    await checkPullAccess({ io, readPolicy }, image, source, undefined);
    await checkPullAccess({ io, readPolicy }, image, undefined, cluster('333333333333'));
    expect(io.warnings).toEqual([]);
  });
});
