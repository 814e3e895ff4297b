/**
 * Signing keys in AWS KMS: asymmetric ECC_NIST_P256 SIGN_VERIFY keys whose key policy lets one
 * role sign (promote-gate's evidence keys: one per environment, signed by its deploy role; the
 * build provenance key: signed by the build role, which only build.yml can assume). Signing goes
 * through KMS (the private key never leaves it); verifying uses the public key KMS gives for the
 * configured key ARN (one GetPublicKey per key and run, then every statement locally).
 * Reached the standard way: the job's credentials, the ARN's region, AWS_ENDPOINT_URL_KMS.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { KMSClient, KMSClientConfig } from '@aws-sdk/client-kms';
import { KMS_KEY_ARN_RE, UserError } from '@deploy-actions/action-kit';
import { awsCall, type AwsCallOptions } from './errors';
import { awsClientConfig, reportEndpoint } from './client';
export { KMS_KEY_ARN_RE };

export const SIGNING_ALGORITHM = 'ECDSA_SHA_256';

export interface EvidenceKeys {
  sign(keyArn: string, message: Buffer): Promise<Buffer>;
  /** A verifier for statements signed by `keyArn`. */
  verifier(keyArn: string): Promise<(message: Buffer, signature: Buffer) => boolean>;
}

/** `credentials`: the job's (the default chain) unless given. */
export function kmsEvidenceKeys(aws: AwsCallOptions = {}, credentials?: KMSClientConfig['credentials']): EvidenceKeys {
  const clients = new Map<string, KMSClient>();
  // The SDK's KMS client is loaded on first use: build-push-ecr's skip path without a provenance key never needs it.
  const sdk = () => import('@aws-sdk/client-kms');
  const client = async (keyArn: string) => {
    const region = KMS_KEY_ARN_RE.exec(keyArn)?.[1] ?? '';
    let c = clients.get(region);
    if (!c) clients.set(region, (c = reportEndpoint(new (await sdk()).KMSClient({ ...awsClientConfig(region), ...(credentials ? { credentials } : {}) }))));
    return c;
  };
  const keys = new Map<string, KeyObject>();
  return {
    async sign(keyArn, message) {
      const [kms, { SignCommand }] = await Promise.all([client(keyArn), sdk()]);
      const res = await awsCall('kms:Sign', keyArn, () =>
        kms.send(new SignCommand({ KeyId: keyArn, Message: message, MessageType: 'RAW', SigningAlgorithm: SIGNING_ALGORITHM })),
        aws,
      );
      if (!res.Signature || res.KeyId !== keyArn) throw new UserError(`kms:Sign with ${keyArn} returned no signature of that key`);
      return Buffer.from(res.Signature);
    },
    async verifier(keyArn) {
      let key = keys.get(keyArn);
      if (!key) {
        const [kms, { GetPublicKeyCommand }] = await Promise.all([client(keyArn), sdk()]);
        const res = await awsCall('kms:GetPublicKey', keyArn, () => kms.send(new GetPublicKeyCommand({ KeyId: keyArn })), aws);
        if (res.KeyId !== keyArn || res.KeyUsage !== 'SIGN_VERIFY' || !res.SigningAlgorithms?.includes(SIGNING_ALGORITHM) || !res.PublicKey) {
          throw new UserError(`KMS key ${keyArn} is not an asymmetric SIGN_VERIFY key for ${SIGNING_ALGORITHM} (create it with key spec ECC_NIST_P256)`);
        }
        key = createPublicKey({ key: Buffer.from(res.PublicKey), format: 'der', type: 'spki' });
        keys.set(keyArn, key);
      }
      const publicKey = key;
      return (message, signature) => verify('sha256', message, publicKey, signature);
    },
  };
}
