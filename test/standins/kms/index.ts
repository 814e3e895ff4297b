/**
 * An AWS KMS stand-in for signed promotion evidence: the AWS JSON 1.1 protocol
 * (`X-Amz-Target: TrentService.<Operation>`, blobs as base64) that the real @aws-sdk/client-kms
 * reaches through AWS_ENDPOINT_URL_KMS. Operations: Sign, Verify, GetPublicKey, GetKeyPolicy (the
 * `default` policy, as a JSON string), on asymmetric
 * SIGN_VERIFY keys of spec ECC_NIST_P256 (ECDSA_SHA_256, DER signatures, MessageType RAW), named by key id, key ARN, alias name or alias ARN (another account's key only by ARN,
 * as KMS requires). Every request's SigV4 signature and credentials are checked against the
 * shared identity store (test/standins/iam), and the key policy is evaluated as KMS does: it must
 * allow the caller, or name the caller's account, whose IAM policies must then allow too
 * (`resource-required`). Private keys never leave the stand-in.
 */
import { generateKeyPairSync, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import { logRequests, type LoggedRequest } from '../request-log';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { closeServer, listenLocal, readBody } from '../../harness/net';
import { IamStore, type Identity, type PolicyDocument } from '../iam/index';
import { AwsJsonError, authenticateJsonRequest } from '../iam/request';

const TARGET_PREFIX = 'TrentService.';
const ALGORITHM = 'ECDSA_SHA_256';
const MAX_RAW_MESSAGE = 4096;

export interface KmsKey {
  keyId: string;
  arn: string;
  account: string;
  aliases: string[];
  policy: PolicyDocument;
  enabled: boolean;
  privateKey: KeyObject;
  publicKeyDer: Buffer;
}

export interface KmsCall {
  operation: string;
  caller?: string;
  key?: string;
  /** The error type when the call was refused. */
  error?: string;
}

export interface KmsStandin {
  url: string;
  /** Every HTTP request received, whatever it is (request-log.ts). */
  requests: LoggedRequest[];
  region: string;
  iam: IamStore;
  keys: Map<string, KmsKey>;
  calls: KmsCall[];
  /** AWS_ENDPOINT_URL_KMS (and the region) for a runner's environment. */
  env: Record<string, string>;
  /** A new SIGN_VERIFY ECC_NIST_P256 key in `account` (default the stand-in's) with this key policy. */
  /** `keyId`: the id CloudFormation gave the key (a stack's `KeyId`), else a new one. */
  createKey(opts: { policy: PolicyDocument; account?: string; alias?: string; keyId?: string }): KmsKey;
  setKeyPolicy(arn: string, policy: PolicyDocument): void;
  stop(): Promise<void>;
}


export async function startKmsStandin(opts: { iam: IamStore; region?: string; accountId?: string }): Promise<KmsStandin> {
  const region = opts.region ?? 'eu-west-1';
  const defaultAccount = opts.accountId ?? '123456789012';
  const { iam } = opts;
  const keys = new Map<string, KmsKey>();
  const calls: KmsCall[] = [];

  /** The key a KeyId names for this caller, as KMS resolves it. */
  function resolve(keyId: unknown, caller: Identity & { account: string }): KmsKey {
    if (typeof keyId !== 'string' || keyId === '') throw new AwsJsonError('ValidationException', '1 validation error detected: Value null at \'keyId\' failed to satisfy constraint: Member must not be null');
    const arn = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):(key|alias)\/(.+)$/.exec(keyId);
    const account = arn ? arn[2]! : caller.account;
    const kind = arn ? arn[3] : keyId.startsWith('alias/') ? 'alias' : 'key';
    const name = arn ? (kind === 'alias' ? `alias/${arn[4]}` : arn[4]!) : keyId;
    const found = [...keys.values()].find((k) => k.account === account && (kind === 'alias' ? k.aliases.includes(name) : k.keyId === name));
    if (!found || (arn && arn[1] !== region)) {
      const shown = arn ? keyId : kind === 'alias' ? `arn:aws:kms:${region}:${account}:${name}` : `arn:aws:kms:${region}:${account}:key/${name}`;
      throw new AwsJsonError('NotFoundException', `${kind === 'alias' ? 'Alias' : 'Key'} '${shown}' does not exist`);
    }
    if (!found.enabled) throw new AwsJsonError('DisabledException', `${found.arn} is disabled.`);
    return found;
  }

  function message(input: Record<string, unknown>): Buffer {
    if (typeof input.Message !== 'string') throw new AwsJsonError('ValidationException', "1 validation error detected: Value null at 'message' failed to satisfy constraint: Member must not be null");
    const bytes = Buffer.from(input.Message, 'base64');
    const type = input.MessageType ?? 'RAW';
    if (type !== 'RAW') throw new AwsJsonError('ValidationException', `MessageType ${String(type)} is not served by this stand-in (RAW only)`);
    if (bytes.length > MAX_RAW_MESSAGE) throw new AwsJsonError('ValidationException', `Message is too long: at most ${MAX_RAW_MESSAGE} bytes with MessageType RAW`);
    return bytes;
  }

  function algorithm(input: Record<string, unknown>, key: KmsKey): void {
    if (input.SigningAlgorithm !== ALGORITHM) {
      throw new AwsJsonError('InvalidKeyUsageException', `Algorithm ${String(input.SigningAlgorithm)} is incompatible with key spec ECC_NIST_P256 of ${key.arn}.`);
    }
  }

  const operations: Record<string, (input: Record<string, unknown>, key: KmsKey) => unknown> = {
    Sign(input, key) {
      algorithm(input, key);
      // ECDSA over SHA-256 of the message, DER-encoded, as KMS signs.
      const signature = sign('sha256', message(input), key.privateKey);
      return { KeyId: key.arn, Signature: signature.toString('base64'), SigningAlgorithm: ALGORITHM };
    },
    Verify(input, key) {
      algorithm(input, key);
      const m = message(input);
      const signature = typeof input.Signature === 'string' ? Buffer.from(input.Signature, 'base64') : Buffer.alloc(0);
      let ok = false;
      try {
        ok = verify('sha256', m, key.privateKey, signature);
      } catch {
        ok = false;
      }
      // KMS answers an invalid signature with an error, not SignatureValid: false.
      if (!ok) throw new AwsJsonError('KMSInvalidSignatureException', 'The signature is not valid for this message and key.');
      return { KeyId: key.arn, SignatureValid: true, SigningAlgorithm: ALGORITHM };
    },
    GetKeyPolicy(input, key) {
      const name = input.PolicyName ?? 'default';
      if (name !== 'default') throw new AwsJsonError('NotFoundException', `Key policy ${String(name)} does not exist for ${key.arn}`);
      return { Policy: JSON.stringify(key.policy, null, 2), PolicyName: 'default' };
    },
    GetPublicKey(_input, key) {
      return {
        KeyId: key.arn,
        PublicKey: key.publicKeyDer.toString('base64'),
        KeySpec: 'ECC_NIST_P256',
        CustomerMasterKeySpec: 'ECC_NIST_P256',
        KeyUsage: 'SIGN_VERIFY',
        SigningAlgorithms: [ALGORITHM],
      };
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    const op = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
    const call: KmsCall = { operation: op || target };
    calls.push(call);
    const send = (status: number, payload: unknown, type?: string) => {
      res.writeHead(status, {
        'Content-Type': 'application/x-amz-json-1.1',
        'x-amzn-RequestId': randomUUID(),
        ...(type ? { 'x-amzn-ErrorType': type } : {}),
      });
      res.end(JSON.stringify(payload));
    };
    try {
      if (req.method !== 'POST' || !operations[op]) throw new AwsJsonError('UnknownOperationException', `Unknown operation ${target}`);
      const auth = authenticateJsonRequest(iam, { method: req.method, url: req.url ?? '/', headers: req.headers, body });
      if (auth.service !== 'kms') throw new AwsJsonError('InvalidSignatureException', `Credential should be scoped to correct service: 'kms'.`);
      const caller = auth.identity;
      call.caller = caller.arn;
      let input: Record<string, unknown>;
      try {
        input = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        throw new AwsJsonError('SerializationException', 'Body is not valid JSON');
      }
      const key = resolve(input.KeyId, caller);
      call.key = key.arn;
      const d = await iam.authorize(caller, `kms:${op}`, key.arn, { resourcePolicy: key.policy, resourceAccount: key.account });
      if (!d.allowed) throw new AwsJsonError('AccessDeniedException', d.message);
      send(200, operations[op]!(input, key));
    } catch (err) {
      const e = err instanceof AwsJsonError ? err : new AwsJsonError('KMSInternalException', (err as Error).message, 500);
      call.error = e.type;
      send(e.status, { __type: e.type, message: e.message }, e.type);
    }
  }

  const server = createServer((req, res) => void handle(req, res));
  const requests = logRequests(server);
  const url = `http://127.0.0.1:${await listenLocal(server)}`;
  return {
    url,
    requests,
    region,
    iam,
    keys,
    calls,
    env: { AWS_ENDPOINT_URL_KMS: url, AWS_REGION: region },
    createKey({ policy, account = defaultAccount, alias, keyId = randomUUID() }) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const key: KmsKey = {
        keyId,
        arn: `arn:aws:kms:${region}:${account}:key/${keyId}`,
        account,
        aliases: alias ? [alias.startsWith('alias/') ? alias : `alias/${alias}`] : [],
        policy,
        enabled: true,
        privateKey,
        publicKeyDer: publicKey.export({ format: 'der', type: 'spki' }),
      };
      keys.set(key.arn, key);
      return key;
    },
    setKeyPolicy(arn, policy) {
      const key = keys.get(arn);
      if (!key) throw new Error(`KMS stand-in: no key ${arn}`);
      key.policy = policy;
    },
    stop: () => closeServer(server),
  };
}

