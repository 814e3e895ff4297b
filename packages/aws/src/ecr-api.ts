/**
 * The ECR operations the actions make, behind one small interface with two transports:
 * `ecrApi(region)` (json-client.ts: no SDK loaded unless credentials or the endpoint need it)
 * and `sdkEcrApi(client)` (ecr-sdk.ts: an SDK ECRClient, for the actions that load it anyway and
 * for tests that mock it). Answers are ECR's JSON as it came: timestamps are epoch seconds.
 */
import type * as ECR from '@aws-sdk/client-ecr';
import { ECR_SERVICE, jsonClient, type JsonClientOptions } from './json-client';

/** An SDK output as ECR's JSON carries it: dates as epoch seconds, blobs as base64, no $metadata. */
export type Wire<T> = T extends Date
  ? number
  : T extends Uint8Array
    ? string
    : T extends ReadonlyArray<infer U>
      ? Array<Wire<U>>
      : T extends object
        ? { [K in keyof T as K extends '$metadata' ? never : K]: Wire<T[K]> }
        : T;

type Op<I, O> = { input: I; output: Wire<O> };

export interface EcrOperations {
  BatchDeleteImage: Op<ECR.BatchDeleteImageCommandInput, ECR.BatchDeleteImageCommandOutput>;
  BatchGetImage: Op<ECR.BatchGetImageCommandInput, ECR.BatchGetImageCommandOutput>;
  CreateRepository: Op<ECR.CreateRepositoryCommandInput, ECR.CreateRepositoryCommandOutput>;
  DescribeImages: Op<ECR.DescribeImagesCommandInput, ECR.DescribeImagesCommandOutput>;
  DescribeImageScanFindings: Op<ECR.DescribeImageScanFindingsCommandInput, ECR.DescribeImageScanFindingsCommandOutput>;
  DescribeRepositories: Op<ECR.DescribeRepositoriesCommandInput, ECR.DescribeRepositoriesCommandOutput>;
  GetAuthorizationToken: Op<ECR.GetAuthorizationTokenCommandInput, ECR.GetAuthorizationTokenCommandOutput>;
  GetLifecyclePolicy: Op<ECR.GetLifecyclePolicyCommandInput, ECR.GetLifecyclePolicyCommandOutput>;
  GetRepositoryPolicy: Op<ECR.GetRepositoryPolicyCommandInput, ECR.GetRepositoryPolicyCommandOutput>;
  ListTagsForResource: Op<ECR.ListTagsForResourceCommandInput, ECR.ListTagsForResourceCommandOutput>;
  PutImage: Op<ECR.PutImageCommandInput, ECR.PutImageCommandOutput>;
  PutImageScanningConfiguration: Op<ECR.PutImageScanningConfigurationCommandInput, ECR.PutImageScanningConfigurationCommandOutput>;
  PutLifecyclePolicy: Op<ECR.PutLifecyclePolicyCommandInput, ECR.PutLifecyclePolicyCommandOutput>;
  SetRepositoryPolicy: Op<ECR.SetRepositoryPolicyCommandInput, ECR.SetRepositoryPolicyCommandOutput>;
}
export type EcrOperation = keyof EcrOperations;
export type EcrRepository = Wire<ECR.Repository>;

export interface EcrApi {
  /** One request; errors carry AWS's code as `name` (awsErrorName) and `$endpoint`. Retries are awsCall's. */
  call<O extends EcrOperation>(operation: O, input: EcrOperations[O]['input']): Promise<EcrOperations[O]['output']>;
}

/** ECR in `region` over its JSON protocol, credentials and endpoint as the SDK would find them. */
export function ecrApi(region: string, opts: JsonClientOptions = {}): EcrApi {
  const client = jsonClient(ECR_SERVICE, region, opts);
  return { call: (operation, input) => client.call(operation, input) };
}
