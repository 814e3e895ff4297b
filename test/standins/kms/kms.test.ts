import { verify as verifyLocally } from 'node:crypto';
import { GetPublicKeyCommand, KMSClient, SignCommand, VerifyCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { IamStore, type Identity } from '../iam/index';
import { startKmsStandin, type KmsKey, type KmsStandin } from './index';

const ACCOUNT = '123456789012';
const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
let kms: KmsStandin;
let iam: IamStore;
let preprod: Identity;
let qa: Identity;
let key: KmsKey;

const client = (id: Identity) =>
  new KMSClient({
    region: 'eu-west-1',
    endpoint: kms.url,
    maxAttempts: 1,
    credentials: { accessKeyId: id.accessKeyId, secretAccessKey: id.secretAccessKey, sessionToken: id.sessionToken },
  });
const sign = (id: Identity, message: string, keyId = key.arn) =>
  client(id).send(new SignCommand({ KeyId: keyId, Message: Buffer.from(message), MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' }));

beforeAll(async () => {
  iam = new IamStore();
  // The roles' own policies allow every KMS action: only the key policy keeps QA out.
  for (const name of ['preprod-deploy', 'qa-deploy']) iam.addRole({ account: ACCOUNT, name, policies: [{ Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] }] });
  preprod = iam.issueCredentials(role('preprod-deploy'), 'gha');
  qa = iam.issueCredentials(role('qa-deploy'), 'gha');
  kms = await startKmsStandin({ iam });
  key = kms.createKey({
    alias: 'evidence-preprod',
    policy: {
      Statement: [
        { Effect: 'Allow', Principal: { AWS: role('preprod-deploy') }, Action: ['kms:Sign', 'kms:GetPublicKey'], Resource: '*' },
        { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: ['kms:GetPublicKey', 'kms:Verify'], Resource: '*' },
      ],
    },
  });
});
afterAll(() => kms?.stop());

describe('KMS stand-in through @aws-sdk/client-kms', () => {
  test('Sign by the role the key policy names; the signature verifies with GetPublicKey and with Verify', async () => {
    const signed = await sign(preprod, 'statement');
    expect(signed.KeyId).toBe(key.arn);
    const pub = await client(qa).send(new GetPublicKeyCommand({ KeyId: 'alias/evidence-preprod' }));
    expect(pub).toMatchObject({ KeyId: key.arn, KeyUsage: 'SIGN_VERIFY', KeySpec: 'ECC_NIST_P256', SigningAlgorithms: ['ECDSA_SHA_256'] });
    const publicKey = { key: Buffer.from(pub.PublicKey!), format: 'der' as const, type: 'spki' as const };
    expect(verifyLocally('sha256', Buffer.from('statement'), publicKey, Buffer.from(signed.Signature!))).toBe(true);
    expect(verifyLocally('sha256', Buffer.from('statemenT'), publicKey, Buffer.from(signed.Signature!))).toBe(false);
    const ok = await client(qa).send(new VerifyCommand({ KeyId: key.arn, Message: Buffer.from('statement'), Signature: signed.Signature, SigningAlgorithm: 'ECDSA_SHA_256' }));
    expect(ok.SignatureValid).toBe(true);
  });

  test('an invalid signature is an error, as KMS answers it', async () => {
    const signed = await sign(preprod, 'one');
    await expect(
      client(qa).send(new VerifyCommand({ KeyId: key.arn, Message: Buffer.from('two'), Signature: signed.Signature, SigningAlgorithm: 'ECDSA_SHA_256' })),
    ).rejects.toMatchObject({ name: 'KMSInvalidSignatureException' });
  });

  test('another role is refused by the key policy, although its IAM policy allows kms:*', async () => {
    await expect(sign(qa, 'forged')).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining(`is not authorized to perform: kms:Sign on resource: ${key.arn}`),
    });
    expect(kms.calls.at(-1)).toMatchObject({ operation: 'Sign', error: 'AccessDeniedException', caller: expect.stringContaining('qa-deploy') });
  });

  test('unknown keys, wrong algorithms and bad credentials are refused', async () => {
    await expect(sign(preprod, 'x', 'alias/nope')).rejects.toMatchObject({ name: 'NotFoundException' });
    await expect(
      client(preprod).send(new SignCommand({ KeyId: key.arn, Message: Buffer.from('x'), SigningAlgorithm: 'RSASSA_PSS_SHA_256' })),
    ).rejects.toMatchObject({ name: 'InvalidKeyUsageException' });
    await expect(sign({ ...preprod, secretAccessKey: 'wrong' }, 'x')).rejects.toMatchObject({ name: 'InvalidSignatureException' });
  });
});
