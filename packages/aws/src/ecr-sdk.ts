/**
 * EcrApi over an SDK ECRClient (made with makeEcrClient): for tests that mock the client
 * (aws-sdk-client-mock); the actions reach ECR through ecrApi (json-client.ts). Answers are put in ECR's wire form (ecr-api.ts `Wire`).
 */
import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  DescribeImageScanFindingsCommand,
  DescribeRepositoriesCommand,
  GetAuthorizationTokenCommand,
  GetLifecyclePolicyCommand,
  GetRepositoryPolicyCommand,
  ListTagsForResourceCommand,
  PutImageCommand,
  PutImageScanningConfigurationCommand,
  PutLifecyclePolicyCommand,
  SetRepositoryPolicyCommand,
  ECRClient,
} from '@aws-sdk/client-ecr';
import { awsClientConfig, reportEndpoint } from './client';
import type { EcrApi, EcrOperation } from './ecr-api';

/** An SDK ECR client whose retries are ours (awsCall), configured from the standard chain and AWS_ENDPOINT_URL_ECR. */
export function makeEcrClient(region: string): ECRClient {
  return reportEndpoint(new ECRClient(awsClientConfig(region)));
}

const COMMANDS: Record<EcrOperation, new (input: never) => unknown> = {
  BatchDeleteImage: BatchDeleteImageCommand,
  BatchGetImage: BatchGetImageCommand,
  CreateRepository: CreateRepositoryCommand,
  DescribeImages: DescribeImagesCommand,
  DescribeImageScanFindings: DescribeImageScanFindingsCommand,
  DescribeRepositories: DescribeRepositoriesCommand,
  GetAuthorizationToken: GetAuthorizationTokenCommand,
  GetLifecyclePolicy: GetLifecyclePolicyCommand,
  GetRepositoryPolicy: GetRepositoryPolicyCommand,
  ListTagsForResource: ListTagsForResourceCommand,
  PutImage: PutImageCommand,
  PutImageScanningConfiguration: PutImageScanningConfigurationCommand,
  PutLifecyclePolicy: PutLifecyclePolicyCommand,
  SetRepositoryPolicy: SetRepositoryPolicyCommand,
};

/** The SDK's value in wire form: Date -> epoch seconds, bytes -> base64, $metadata dropped. */
export function toWire(value: unknown): unknown {
  if (value instanceof Date) return value.getTime() / 1000;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(toWire);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([k]) => k !== '$metadata').map(([k, v]) => [k, toWire(v)]));
  }
  return value;
}

export function sdkEcrApi(client: Pick<ECRClient, 'send'>): EcrApi {
  return {
    call: async (operation, input) => {
      const command = new COMMANDS[operation](input as never);
      return toWire(await client.send(command as Parameters<ECRClient['send']>[0])) as never;
    },
  };
}
