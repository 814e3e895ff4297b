import { describe, expect, test, beforeEach } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  BatchGetImageCommand,
  DescribeImagesCommand,
  ECRClient,
  ECRServiceException,
  PutImageCommand,
} from '@aws-sdk/client-ecr';
import { DEADLINES, DeadlineError, UserError } from '@deploy-actions/action-kit';
import { awsCall, awsClientConfig, isRetryableAwsError, reportEndpoint, tagExistingImage } from '../src';

function awsError(name: string, status: number, message = name) {
  return new ECRServiceException({ name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, message });
}
const noSleep = async () => undefined;

describe('isRetryableAwsError', () => {
  test.each([
    ['ThrottlingException', 400, true],
    ['TooManyRequestsException', 400, true],
    ['ServerException', 500, true],
    ['ServiceUnavailable', 503, true],
    ['AccessDeniedException', 400, false],
    ['RepositoryNotFoundException', 400, false],
    ['ValidationException', 400, false],
  ])('%s (%i) -> %s', (name, status, expected) => {
    expect(isRetryableAwsError(awsError(name, status))).toBe(expected);
  });

  test('dropped connections are retryable', () => {
    expect(isRetryableAwsError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(true);
  });
});

describe('awsCall', () => {
  test('retries throttling, then succeeds, reporting each retry', async () => {
    let n = 0;
    const retries: string[] = [];
    const v = await awsCall(
      'ecr:DescribeImages',
      'repo',
      async () => {
        if (++n < 3) throw awsError('ThrottlingException', 400);
        return 'done';
      },
      { sleep: noSleep, onRetry: (m) => retries.push(m) },
    );
    expect(v).toBe('done');
    expect(retries).toEqual([
      expect.stringMatching(/^ecr:DescribeImages failed \(ThrottlingException\); attempt 2 in \d+ ms$/),
      expect.stringMatching(/attempt 3/),
    ]);
  });

  test('AccessDenied becomes a one-line UserError naming the IAM action', async () => {
    const err = await awsCall('ecr:CreateRepository', 'team/api', async () => {
      throw awsError('AccessDeniedException', 400, 'User: arn:aws:sts::1:assumed-role/x is not authorized');
    }, { sleep: noSleep }).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(/^AccessDenied: the AWS identity may not call ecr:CreateRepository on team\/api; allow 'ecr:CreateRepository'/);
    expect(err.message).toContain('assumed-role/x');
  });

  test.each([
    [awsError('ServerException', 500), 'ecr:PutImage on team/api failed after 3 attempts: ServerException: ServerException'],
    [awsError('ThrottlingException', 400), 'ecr:PutImage on team/api failed after 3 attempts: ThrottlingException: ThrottlingException'],
  ])('gives up after the configured attempts with one line naming the call, the resource and the attempts (%#)', async (error, line) => {
    let n = 0;
    const err = await awsCall('ecr:PutImage', 'team/api', async () => {
      n++;
      throw error;
    }, { sleep: noSleep, attempts: 3 }).catch((e: Error) => e);
    expect(n).toBe(3);
    expect(err).toBeInstanceOf(UserError);
    expect(err).toMatchObject({ name: error.name, message: line });
  });
});

describe('tagExistingImage', () => {
  const ecrMock = mockClient(ECRClient);
  const ecr = new ECRClient({ region: 'eu-west-1' });
  const digest = `sha256:${'a'.repeat(64)}`;
  const ref = { repositoryName: 'team/api' };
  beforeEach(() => {
    ecrMock.reset();
    ecrMock.on(BatchGetImageCommand).resolves({
      images: [{ imageId: { imageDigest: digest }, imageManifest: '{"m":1}', imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json' }],
    });
  });

  test('puts the existing manifest under the new tag', async () => {
    ecrMock.on(PutImageCommand).resolves({});
    await expect(tagExistingImage(ecr, ref, digest, 'preprod-abc1234', { sleep: noSleep })).resolves.toBe('created');
    expect(ecrMock.commandCalls(PutImageCommand)[0]!.args[0].input).toEqual({
      repositoryName: 'team/api',
      registryId: undefined,
      imageManifest: '{"m":1}',
      imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
      imageDigest: digest,
      imageTag: 'preprod-abc1234',
    });
  });

  test('ImageAlreadyExists for the same digest is success', async () => {
    ecrMock.on(PutImageCommand).rejects(awsError('ImageAlreadyExistsException', 400));
    ecrMock.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: digest }] });
    await expect(tagExistingImage(ecr, ref, digest, 't', { sleep: noSleep })).resolves.toBe('existed');
  });

  test('a tag on another digest is an error', async () => {
    ecrMock.on(PutImageCommand).rejects(awsError('ImageTagAlreadyExistsException', 400));
    ecrMock.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: `sha256:${'b'.repeat(64)}` }] });
    await expect(tagExistingImage(ecr, ref, digest, 't', { sleep: noSleep })).rejects.toThrow(
      `Tag 't' in team/api already points at sha256:${'b'.repeat(64)}, not ${digest}; ECR tags are immutable`,
    );
  });

  test('a missing image is a UserError', async () => {
    ecrMock.on(BatchGetImageCommand).resolves({ images: [], failures: [{ failureCode: 'ImageNotFound' }] });
    await expect(tagExistingImage(ecr, ref, digest, 't', { sleep: noSleep })).rejects.toThrow(`Image team/api@${digest} does not exist in ECR`);
  });
});

describe('deadlines: network faults end in one line naming the call, the endpoint and the time waited', () => {
  const timeout = () => Object.assign(new Error('@smithy/node-http-handler - a request has exceeded the configured 15000 ms requestTimeout.'), { name: 'TimeoutError', $endpoint: 'https://api.ecr.eu-west-1.amazonaws.com' });
  const reset = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
  let clock = 0;
  const now = () => clock;

  test('a timeout is tried twice in all, then reported', async () => {
    let n = 0;
    clock = 0;
    const err = await awsCall('ecr:DescribeImages', 'team/app', async () => {
      n++;
      clock += 15_000;
      throw timeout();
    }, { sleep: noSleep, now }).catch((e: Error) => e);
    expect(n).toBe(2);
    expect(err).toBeInstanceOf(DeadlineError);
    expect(err.message).toBe('ecr:DescribeImages on team/app: https://api.ecr.eu-west-1.amazonaws.com: no answer within 15 s (2 attempts, 30 s waited)');
  });

  test('a write that is not idempotent is not sent again after a reset', async () => {
    let n = 0;
    const err = await awsCall('kms:Sign', 'arn:aws:kms:eu-west-1:123456789012:key/x', async () => {
      n++;
      throw reset();
    }, { sleep: noSleep, idempotent: false }).catch((e: Error) => e);
    expect(n).toBe(1);
    expect(err.message).toMatch(/^kms:Sign on arn:aws:kms:eu-west-1:123456789012:key\/x: KMS: the connection was reset \(\d+(\.\d)? s waited\)$/);
  });

  test('awsClientConfig: no SDK retries, a connection and a request deadline', () => {
    expect(awsClientConfig('eu-west-1')).toEqual({
      region: 'eu-west-1',
      maxAttempts: 1,
      requestHandler: { connectionTimeout: DEADLINES.connectMs, requestTimeout: DEADLINES.awsMs, throwOnRequestTimeout: true },
    });
  });
});
