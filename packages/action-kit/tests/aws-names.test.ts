import { describe, expect, test } from 'vitest';
import { parseArn, partitionOf, refuseRepositoryUri, repositoryUriHint } from '../src/aws-names';

describe('partitionOf', () => {
  test.each([
    ['eu-west-1', 'aws'],
    ['cn-north-1', 'aws-cn'],
    ['cn-northwest-1', 'aws-cn'],
    ['us-gov-west-1', 'aws-us-gov'],
    ['us-iso-east-1', 'aws-iso'],
    ['us-isob-east-1', 'aws-iso-b'],
    ['eusc-de-east-1', 'aws-eusc'],
  ])('%s -> %s', (region, partition) => expect(partitionOf(region)).toBe(partition));
});

describe('parseArn', () => {
  const kms = { service: 'kms', what: 'KMS key ARNs' };
  const iam = { service: 'iam', what: 'IAM ARNs' };
  test.each([
    ['arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab', kms],
    ['arn:aws-cn:kms:cn-north-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab', kms],
    ['arn:aws-us-gov:iam::123456789012:role/deploy', { ...iam, region: 'us-gov-west-1' }],
    ['arn:aws:iam::123456789012:root', { ...iam, region: 'eu-west-1' }],
  ])('accepts %s', (arn, o) => expect(parseArn('x', arn, o).partition).toMatch(/^aws/));

  test.each([
    ['arn:aws-moon:kms:eu-west-1:123456789012:key/k', kms, "Input 'x' must hold ARNs of an AWS partition (aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, aws-iso-e, aws-iso-f, aws-eusc); 'aws-moon' is none"],
    ['arn:aws-cn:kms:eu-west-1:123456789012:key/k', kms, "Input 'x' must hold ARNs whose partition matches their region: eu-west-1 is in aws, not aws-cn"],
    ['arn:aws:kms:cn-north-1:123456789012:key/k', kms, "Input 'x' must hold ARNs whose partition matches their region: cn-north-1 is in aws-cn, not aws"],
    ['arn:aws:iam::123456789012:role/deploy', { ...iam, region: 'cn-north-1' }, "Input 'x' must hold ARNs of the aws-region's partition: cn-north-1 is in aws-cn, not aws"],
    ['arn:aws-us-gov:iam::123456789012:role/deploy', { ...iam, region: 'eu-west-1' }, "Input 'x' must hold ARNs of the aws-region's partition: eu-west-1 is in aws, not aws-us-gov"],
    ['arn:aws:sts::123456789012:role/deploy', iam, "Input 'x' must hold IAM ARNs"],
  ])('refuses %s', (arn, o, message) => expect(() => parseArn('x', arn, o)).toThrow(`${message} (got '${arn}')`));
});

describe('repositoryUriHint', () => {
  test.each([
    ['123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app', ' (a repository name, not its URI: give team/app)'],
    ['localhost:5000/app:v1', ' (a repository name, not its URI: give app)'],
    ['team/app:v1', ' (a repository name, not a reference with a tag or digest: give team/app)'],
    [`team/app@sha256:${'a'.repeat(64)}`, ' (a repository name, not a reference with a tag or digest: give team/app)'],
    ['Team/App', ''],
    ['a', ''],
  ])('%s', (value, hint) => expect(repositoryUriHint(value)).toBe(hint));
});

describe('refuseRepositoryUri', () => {
  test.each([
    ['123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app', 'give team/app'],
    ['123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app', 'give app'],
    ['123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/app', 'give app'],
    ['public.ecr.aws/team/app', 'give team/app'],
    ['localhost:5000/app', 'give app'],
  ])('refuses %s', (value, hint) => expect(() => refuseRepositoryUri('repository', value)).toThrow(`Input 'repository' must be an ECR repository name (a repository name, not its URI: ${hint}) (got '${value}')`));
  test.each([['team/app'], ['my.team/app'], ['app'], ['a.b.c/d']])('accepts the name %s', (value) => expect(() => refuseRepositoryUri('repository', value)).not.toThrow());
});
