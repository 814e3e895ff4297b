/**
 * The actions' KMS calls (packages/aws kms.ts: GetPublicKey and Sign over the small JSON-protocol
 * client of json-client.ts, signed by aws4) against the KMS stand-in, beside the real
 * @aws-sdk/client-kms with the same identity: the stand-in checks every SigV4 signature and the
 * key policy, and both clients get the same answers and the same errors.
 */
import { verify as verifyLocally } from 'node:crypto';
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { kmsApi, kmsEvidenceKeys, type KmsApi } from '@deploy-actions/aws/kms';
import { IamStore, type Identity } from '../iam/index';
import { startKmsStandin, type KmsKey, type KmsStandin } from './index';

const ACCOUNT = '123456789012';
const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
let kms: KmsStandin;
let key: KmsKey;
let signer: Identity;
let reader: Identity;
const iam = new IamStore();
const saved = process.env.AWS_ENDPOINT_URL_KMS;

const env = (id: Identity) => ({ AWS_ENDPOINT_URL_KMS: kms.url, AWS_ACCESS_KEY_ID: id.accessKeyId, AWS_SECRET_ACCESS_KEY: id.secretAccessKey, AWS_SESSION_TOKEN: id.sessionToken });
const small = (id: Identity): KmsApi => kmsApi('eu-west-1', { env: env(id) });
const sdk = (id: Identity) =>
  new KMSClient({ region: 'eu-west-1', endpoint: kms.url, maxAttempts: 1, credentials: { accessKeyId: id.accessKeyId, secretAccessKey: id.secretAccessKey, sessionToken: id.sessionToken } });
const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: Error & { $metadata?: { httpStatusCode?: number } }) => [e.name, e.message, e.$metadata?.httpStatusCode]);

beforeAll(async () => {
  for (const name of ['build', 'reader']) iam.addRole({ account: ACCOUNT, name, policies: [{ Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] }] });
  signer = iam.issueCredentials(role('build'), 'gha');
  reader = iam.issueCredentials(role('reader'), 'gha');
  kms = await startKmsStandin({ iam });
  // kmsEvidenceKeys reaches KMS the standard way: AWS_ENDPOINT_URL_KMS of the job's environment.
  process.env.AWS_ENDPOINT_URL_KMS = kms.url;
  key = kms.createKey({
    policy: {
      Statement: [
        { Effect: 'Allow', Principal: { AWS: role('build') }, Action: ['kms:Sign', 'kms:GetPublicKey'], Resource: '*' },
        { Effect: 'Allow', Principal: { AWS: role('reader') }, Action: 'kms:GetPublicKey', Resource: '*' },
      ],
    },
  });
});
afterAll(async () => {
  if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_KMS;
  else process.env.AWS_ENDPOINT_URL_KMS = saved;
  await kms?.stop();
});

describe('the small KMS client against the stand-in, beside @aws-sdk/client-kms', () => {
  test('GetPublicKey: the same key, its DER bytes as base64', async () => {
    const ours = await small(reader).call('GetPublicKey', { KeyId: key.arn });
    const theirs = await sdk(reader).send(new GetPublicKeyCommand({ KeyId: key.arn }));
    expect(ours).toMatchObject({ KeyId: theirs.KeyId, KeyUsage: 'SIGN_VERIFY', SigningAlgorithms: theirs.SigningAlgorithms });
    expect(Buffer.from(ours.PublicKey!, 'base64').equals(Buffer.from(theirs.PublicKey!))).toBe(true);
    expect(kms.calls.slice(-2).map((c) => [c.operation, c.caller, c.error])).toEqual([
      ['GetPublicKey', expect.stringContaining(':assumed-role/reader/'), undefined],
      ['GetPublicKey', expect.stringContaining(':assumed-role/reader/'), undefined],
    ]);
  });

  test('Sign: a signature the key verifies, as the SDK client gets one', async () => {
    const message = Buffer.from('statement');
    const ours = await small(signer).call('Sign', { KeyId: key.arn, Message: message.toString('base64'), MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' });
    const theirs = await sdk(signer).send(new SignCommand({ KeyId: key.arn, Message: message, MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' }));
    const publicKey = { key: key.publicKeyDer, format: 'der' as const, type: 'spki' as const };
    expect(ours.KeyId).toBe(theirs.KeyId);
    expect(verifyLocally('sha256', message, publicKey, Buffer.from(ours.Signature!, 'base64'))).toBe(true);
    expect(verifyLocally('sha256', Buffer.from('statemenT'), publicKey, Buffer.from(ours.Signature!, 'base64'))).toBe(false);
  });

  test.each([
    ['a key policy that does not name the caller', () => reader, () => key.arn, 'AccessDeniedException'],
    ['an unknown key', () => signer, () => `arn:aws:kms:eu-west-1:${ACCOUNT}:key/00000000-0000-0000-0000-000000000000`, 'NotFoundException'],
  ] as Array<[string, () => Identity, () => string, string]>)('Sign refused for %s: the same error as the SDK sees', async (_what, who, keyId, code) => {
    const input = { KeyId: keyId(), MessageType: 'RAW' as const, SigningAlgorithm: 'ECDSA_SHA_256' as const };
    const ours = await failure(small(who()).call('Sign', { ...input, Message: Buffer.from('x').toString('base64') }));
    const theirs = await failure(sdk(who()).send(new SignCommand({ ...input, Message: Buffer.from('x') })));
    expect(ours).toEqual(theirs);
    expect(ours?.[0]).toBe(code);
  });

  test('a wrong secret: the stand-in refuses the signature', async () => {
    const bad = kmsApi('eu-west-1', { env: { AWS_ENDPOINT_URL_KMS: kms.url }, credentials: async () => ({ ...signer, secretAccessKey: 'wrong' }) });
    expect((await failure(bad.call('GetPublicKey', { KeyId: key.arn })))?.[0]).toBe('InvalidSignatureException');
  });

  test('kmsEvidenceKeys: signs through KMS and verifies locally with the public key it fetched once', async () => {
    const keys = kmsEvidenceKeys({ sleep: async () => undefined }, signer);
    const before = kms.calls.length;
    const signature = await keys.sign(key.arn, Buffer.from('evidence'));
    const check = await keys.verifier(key.arn);
    await keys.verifier(key.arn);
    expect([check(Buffer.from('evidence'), signature), check(Buffer.from('evidencE'), signature)]).toEqual([true, false]);
    expect(kms.calls.slice(before).map((c) => c.operation)).toEqual(['Sign', 'GetPublicKey']);
  });

  test('kmsEvidenceKeys: a key the caller may not read is one line naming the IAM action', async () => {
    const other = kms.createKey({ policy: { Statement: [{ Effect: 'Allow', Principal: { AWS: role('build') }, Action: 'kms:*', Resource: '*' }] } });
    const keys = kmsEvidenceKeys({ sleep: async () => undefined }, reader);
    await expect(keys.verifier(other.arn)).rejects.toThrow(`AccessDenied: the AWS identity may not call kms:GetPublicKey on ${other.arn}`);
  });
});
