/**
 * Signing keys in AWS KMS: asymmetric ECC_NIST_P256 SIGN_VERIFY keys whose key policy lets one
 * role sign (promote-gate's evidence keys: one per environment, signed by its deploy role; the
 * build provenance key: signed by the build role, which only build.yml can assume). Signing goes
 * through KMS (the private key never leaves it); verifying uses the public key KMS gives for the
 * configured key ARN (one GetPublicKey per key and run, then every statement locally).
 * Reached the standard way: the job's credentials, the ARN's region, AWS_ENDPOINT_URL_KMS.
 *
 * Spoken over KMS's JSON 1.1 protocol by the small client of json-client.ts (aws4-signed, one POST
 * per call, DEADLINES.awsMs, awsCall's retries), not @aws-sdk/client-kms: build-push-ecr's skip
 * path with a provenance key makes one GetPublicKey, and loading the SDK for it cost more than the
 * rest of the path (issue 25). The SDK client is loaded only where json-client.ts needs its
 * resolvers (credentials not in the environment, an unusual endpoint).
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { KMS_KEY_ARN_RE, UserError } from '@deploy-actions/action-kit';
import { awsCall, type AwsCallOptions } from './errors';
import { jsonClient, sdkResolvers, type Credentials, type JsonClient, type JsonClientOptions, type JsonService, type SdkResolvers } from './json-client';
export { KMS_KEY_ARN_RE };

export const SIGNING_ALGORITHM = 'ECDSA_SHA_256';

export const KMS_SERVICE: JsonService = {
  signingName: 'kms',
  targetPrefix: 'TrentService',
  endpointId: 'KMS',
  host: 'kms',
  sdk: async (region): Promise<SdkResolvers> => {
    const { KMSClient } = await import('@aws-sdk/client-kms');
    return sdkResolvers(new KMSClient({ region }));
  },
};

/** KMS's answers in their JSON form (blobs base64), as far as the actions read them. */
export interface KmsOperations {
  Sign: {
    input: { KeyId: string; Message: string; MessageType: 'RAW' | 'DIGEST'; SigningAlgorithm: string };
    output: { KeyId?: string; Signature?: string; SigningAlgorithm?: string };
  };
  GetPublicKey: {
    input: { KeyId: string };
    output: { KeyId?: string; PublicKey?: string; KeySpec?: string; KeyUsage?: string; SigningAlgorithms?: string[] };
  };
}

export interface KmsApi {
  /** One request; errors carry AWS's code as `name` (awsErrorName) and `$endpoint`. Retries are awsCall's. */
  call<O extends keyof KmsOperations>(operation: O, input: KmsOperations[O]['input']): Promise<KmsOperations[O]['output']>;
}

/** KMS in `region` over its JSON protocol, credentials and endpoint as the SDK would find them. */
export function kmsApi(region: string, opts: JsonClientOptions = {}): KmsApi {
  const client: JsonClient = jsonClient(KMS_SERVICE, region, opts);
  return { call: (operation, input) => client.call(operation, input) };
}

export interface EvidenceKeys {
  sign(keyArn: string, message: Buffer): Promise<Buffer>;
  /** A verifier for statements signed by `keyArn`. */
  verifier(keyArn: string): Promise<(message: Buffer, signature: Buffer) => boolean>;
}

/** `credentials`: the job's (AWS_* variables, else the SDK's default chain) unless given. */
export function kmsEvidenceKeys(aws: AwsCallOptions = {}, credentials?: Credentials | (() => Promise<Credentials>)): EvidenceKeys {
  const clients = new Map<string, KmsApi>();
  const given = typeof credentials === 'function' ? credentials : credentials ? async () => credentials : undefined;
  const client = (keyArn: string) => {
    const region = KMS_KEY_ARN_RE.exec(keyArn)?.[1] ?? '';
    let c = clients.get(region);
    if (!c) clients.set(region, (c = kmsApi(region, given ? { credentials: given } : {})));
    return c;
  };
  const keys = new Map<string, KeyObject>();
  return {
    async sign(keyArn, message) {
      const res = await awsCall(
        'kms:Sign',
        keyArn,
        () => client(keyArn).call('Sign', { KeyId: keyArn, Message: message.toString('base64'), MessageType: 'RAW', SigningAlgorithm: SIGNING_ALGORITHM }),
        aws,
      );
      if (!res.Signature || res.KeyId !== keyArn) throw new UserError(`kms:Sign with ${keyArn} returned no signature of that key`);
      return Buffer.from(res.Signature, 'base64');
    },
    async verifier(keyArn) {
      let key = keys.get(keyArn);
      if (!key) {
        const res = await awsCall('kms:GetPublicKey', keyArn, () => client(keyArn).call('GetPublicKey', { KeyId: keyArn }), aws);
        if (res.KeyId !== keyArn || res.KeyUsage !== 'SIGN_VERIFY' || !res.SigningAlgorithms?.includes(SIGNING_ALGORITHM) || !res.PublicKey) {
          throw new UserError(`KMS key ${keyArn} is not an asymmetric SIGN_VERIFY key for ${SIGNING_ALGORITHM} (create it with key spec ECC_NIST_P256)`);
        }
        key = createPublicKey({ key: Buffer.from(res.PublicKey, 'base64'), format: 'der', type: 'spki' });
        keys.set(keyArn, key);
      }
      const publicKey = key;
      return (message, signature) => verify('sha256', message, publicKey, signature);
    },
  };
}
