/**
 * An Amazon ECR stand-in for tests: an HTTP server speaking the AWS JSON 1.1 protocol
 * (X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<Operation>) that the real
 * @aws-sdk/client-ecr reaches through AWS_ENDPOINT_URL_ECR. It holds one registry (the
 * account `accountId`); images live in a real registry (test/harness/registry.ts), while
 * repository settings, repository policies, resource tags and lifecycle policies are kept
 * here. Every request's SigV4 signature and credentials are checked against the shared
 * identity store (test/standins/iam), and every operation is authorized as ECR does: the
 * caller's IAM policies, plus the repository policy (cross-account callers need both).
 * With a registry front (registry-front.ts), docker and cluster nodes reach the registry
 * only with a token from GetAuthorizationToken, authorized the same way per pull and push.
 * Faults (throttling, 5xx, AccessDenied) can be injected per operation.
 */
import { logRequests, type LoggedRequest } from '../request-log';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import type { Registry } from '../../harness/registry';
import { startRegistryFront, type FrontDecision } from './registry-front';
import { RegistryImages, type ImageId, type ImageInfo } from './images';
import { ImageScans, type ScanRecord, type Scanner } from './scans';
import { closeServer, listenLocal, readBody } from '../../harness/net';
import { IamStore, wildcardMatch, type Identity, type PolicyDocument } from '../iam/index';
import { AwsJsonError, authenticateJsonRequest } from '../iam/request';

const TARGET_PREFIX = 'AmazonEC2ContainerRegistry_V20150921.';
const TOKEN_HOURS = 12;

export type FaultKind = 'throttle' | 'server-error' | 'access-denied';

export interface Fault {
  operation: string;
  kind: FaultKind;
  /** How many calls fail before the operation works again. */
  times: number;
}

export interface ExclusionFilter {
  filterType: string;
  filter: string;
}

export interface RepositoryRecord {
  repositoryName: string;
  registryId: string;
  repositoryArn: string;
  repositoryUri: string;
  createdAt: number;
  imageTagMutability: string;
  imageTagMutabilityExclusionFilters?: ExclusionFilter[];
  imageScanningConfiguration: { scanOnPush: boolean };
  encryptionConfiguration: { encryptionType: string };
  lifecyclePolicyText?: string;
  policyText?: string;
  tags: Array<{ Key: string; Value: string }>;
}

/** One request the registry front decided. */
export interface RegistryCall {
  action: string;
  repository: string;
  caller?: string;
  allowed: boolean;
  message?: string;
}

export interface RegistryLogin {
  host: string;
  url: string;
  username: string;
  password: string;
}

export interface EcrStandin {
  url: string;
  accountId: string;
  region: string;
  iam: IamStore;
  repositories: Map<string, RepositoryRecord>;
  /** Every HTTP request received, whatever it is (request-log.ts). */
  requests: LoggedRequest[];
  /** Every API call received, in order: operation names. */
  calls: string[];
  /** The same calls with when each arrived and was answered (ms, performance.now()), to show which ran together. */
  spans: Array<{ op: string; start: number; end: number }>;
  /** Every registry request the front decided (pulls, pushes), in order. */
  registryCalls: RegistryCall[];
  /** Layer bytes docker pushed through the registry front (0 without a front). */
  uploadedBytes(): number;
  /** Environment that points the AWS SDK (and so the actions) at this stand-in, as the default identity. */
  env: Record<string, string>;
  /** The same for another identity of the store. */
  envFor(id: Identity): Record<string, string>;
  inject(fault: Fault): void;
  /**
   * Runs `fn` when `operation` is next called, before answering it (e.g. a concurrent run's
   * push). Registry actions through the front count too (`UploadLayerPart`, `PutImage`...).
   */
  onNextCall(operation: string, fn: () => Promise<void>): void;
  /** Adds a repository record for images pushed straight to the registry. */
  adopt(name: string, mutability?: string): RepositoryRecord;
  /**
   * What GetAuthorizationToken gives `id` (checked against its IAM policies): the registry
   * host and basic-auth credentials for docker or a cluster node. Without a front, the
   * registry's own credentials.
   */
  registryLogin(id?: Identity): Promise<RegistryLogin>;
  /** Records a scan of an image (DescribeImageScanFindings answers it; scans.ts). */
  setScan(repository: string, digest: string, scan: ScanRecord): void;
  /** What scan on push finds in each image of a repository with scanOnPush (undefined: not scanned). */
  setScanner(scanner: Scanner | undefined): void;
  stop(): Promise<void>;
}


/** Does ECR refuse to move this tag? Exclusion filters turn the repository's setting around for the tags they match. */
export function tagIsImmutable(r: Pick<RepositoryRecord, 'imageTagMutability' | 'imageTagMutabilityExclusionFilters'>, tag: string): boolean {
  const excluded = (r.imageTagMutabilityExclusionFilters ?? []).some((f) => wildcardMatch(f.filter, tag));
  const immutableByDefault = r.imageTagMutability.startsWith('IMMUTABLE');
  return r.imageTagMutability.endsWith('_WITH_EXCLUSION') && excluded ? !immutableByDefault : immutableByDefault;
}

function checkMutability(mutability: string, filters: ExclusionFilter[] | undefined): void {
  const modes = ['MUTABLE', 'IMMUTABLE', 'MUTABLE_WITH_EXCLUSION', 'IMMUTABLE_WITH_EXCLUSION'];
  if (!modes.includes(mutability)) throw new AwsJsonError('InvalidParameterException', `Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member must satisfy enum value set: [${modes.join(', ')}]'`);
  const withExclusion = mutability.endsWith('_WITH_EXCLUSION');
  if (withExclusion !== (filters !== undefined && filters.length > 0)) {
    throw new AwsJsonError('InvalidParameterException', `Image tag mutability exclusion filters ${withExclusion ? 'are required' : 'are not allowed'} with image tag mutability ${mutability}`);
  }
  for (const f of filters ?? []) {
    if (f.filterType !== 'WILDCARD' || !/^[0-9a-zA-Z._*-]{1,128}$/.test(f.filter)) {
      throw new AwsJsonError('InvalidParameterException', `Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: '${f.filterType} ${f.filter}'`);
    }
  }
  if ((filters ?? []).length > 5) throw new AwsJsonError('InvalidParameterException', 'At most 5 image tag mutability exclusion filters');
}

function checkRepositoryPolicy(text: string): PolicyDocument {
  let doc: PolicyDocument;
  try {
    doc = JSON.parse(text) as PolicyDocument;
  } catch {
    throw new AwsJsonError('InvalidParameterException', "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'");
  }
  const statements = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  for (const s of statements) {
    if (!s || (s.Effect !== 'Allow' && s.Effect !== 'Deny') || (!s.Principal && !s.NotPrincipal) || (!s.Action && !s.NotAction)) {
      throw new AwsJsonError('InvalidParameterException', "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'");
    }
  }
  return doc;
}

export async function startEcrStandin(opts: {
  registry: Registry;
  /** The account whose registry this is. */
  accountId?: string;
  region?: string;
  /** Callers and their policies. Without it: one identity (accessKeyId/secretAccessKey/callerArn) allowed everything. */
  iam?: IamStore;
  accessKeyId?: string;
  secretAccessKey?: string;
  callerArn?: string;
  /** The identity `env` carries (default: the one above). */
  defaultIdentity?: Identity;
  /**
   * Put the token-checking registry front (registry-front.ts) between docker and the registry:
   * logins need a GetAuthorizationToken token, pulls and pushes are authorized per caller,
   * immutable tags cannot move. Repository URIs and the login endpoint then name the front.
   * Default: on with `iam`.
   */
  front?: boolean;
  /** Older name of `front: true`. */
  enforceImmutableTagsOnPush?: boolean;
}): Promise<EcrStandin> {
  const { registry } = opts;
  const accountId = opts.accountId ?? '123456789012';
  const region = opts.region ?? 'eu-west-1';
  const legacy: Identity = {
    accessKeyId: opts.accessKeyId ?? 'AKIDSTANDIN',
    secretAccessKey: opts.secretAccessKey ?? 'standin-secret-key',
    arn: opts.callerArn ?? `arn:aws:sts::${accountId}:assumed-role/deploy/github-actions`,
  };
  const iam = opts.iam ?? IamStore.of([legacy]);
  const defaultIdentity = opts.defaultIdentity ?? (opts.iam ? undefined : legacy);
  const images = new RegistryImages(registry);
  const scans = new ImageScans();
  const repositories = new Map<string, RepositoryRecord>();
  const calls: string[] = [];
  const spans: EcrStandin['spans'] = [];
  const registryCalls: RegistryCall[] = [];
  const faults: Fault[] = [];
  const hooks = new Map<string, () => Promise<void>>();
  const pushedAt = new Map<string, number>();
  const tokens = new Map<string, { identity: Identity; expiresAt: number }>();

  const runHook = async (operation: string) => {
    const hook = hooks.get(operation);
    if (hook) {
      hooks.delete(operation);
      await hook();
    }
  };
  const policyOf = (r: RepositoryRecord) => (r.policyText ? (JSON.parse(r.policyText) as PolicyDocument) : undefined);

  const useFront = opts.front ?? (opts.iam !== undefined || opts.enforceImmutableTagsOnPush === true);
  const front = useFront
    ? await startRegistryFront(registry, {
        isImmutable: (name, tag) => {
          const r = repositories.get(name);
          return r ? tagIsImmutable(r, tag) : false;
        },
        authorize: async (header, action, repository): Promise<FrontDecision> => {
          const [user, password] = Buffer.from(/^Basic\s+(\S+)$/i.exec(header ?? '')?.[1] ?? '', 'base64').toString('utf8').split(/:(.*)/s);
          const token = user === 'AWS' && password ? tokens.get(password) : undefined;
          const call: RegistryCall = { action, repository, caller: token?.identity.arn, allowed: false };
          const refuse = (d: Exclude<FrontDecision, { ok: true }>) => {
            if (action) registryCalls.push({ ...call, message: d.message });
            return d;
          };
          if (!token) return refuse({ ok: false, status: 401, code: 'UNAUTHORIZED', message: 'Not Authorized' });
          if (Date.now() > token.expiresAt) return refuse({ ok: false, status: 403, code: 'DENIED', message: 'Your authorization token has expired. Reauthenticate and try again.' });
          if (!action) return { ok: true };
          const r = repositories.get(repository);
          if (!r) return refuse({ ok: false, status: 404, code: 'NAME_UNKNOWN', message: `The repository with name '${repository}' does not exist in the registry with id '${accountId}'` });
          const d = await iam.authorize(token.identity, action, r.repositoryArn, { resourcePolicy: policyOf(r), resourceAccount: accountId });
          if (!d.allowed) return refuse({ ok: false, status: 403, code: 'DENIED', message: d.message });
          registryCalls.push({ ...call, allowed: true });
          await runHook(action.slice('ecr:'.length));
          return { ok: true };
        },
      })
    : undefined;
  /** Where docker logs in and pushes: the front when there is one, else the registry itself. */
  const pushHost = front?.host ?? registry.host;

  const record = (name: string, mutability = 'IMMUTABLE', scanOnPush = true): RepositoryRecord => ({
    repositoryName: name,
    registryId: accountId,
    repositoryArn: `arn:aws:ecr:${region}:${accountId}:repository/${name}`,
    repositoryUri: `${pushHost}/${name}`,
    createdAt: Date.now() / 1000,
    imageTagMutability: mutability,
    imageScanningConfiguration: { scanOnPush },
    encryptionConfiguration: { encryptionType: 'AES256' },
    tags: [],
  });

  function repo(name: unknown, registryId = accountId): RepositoryRecord {
    const r = typeof name === 'string' && registryId === accountId ? repositories.get(name) : undefined;
    if (!r) {
      throw new AwsJsonError('RepositoryNotFoundException', `The repository with name '${String(name)}' does not exist in the registry with id '${registryId}'`);
    }
    return r;
  }

  function repoByArn(arn: unknown): RepositoryRecord {
    const r = [...repositories.values()].find((x) => x.repositoryArn === arn);
    if (!r) throw new AwsJsonError('RepositoryNotFoundException', `The repository with ARN '${String(arn)}' does not exist`);
    return r;
  }

  function detail(r: RepositoryRecord, i: ImageInfo) {
    const key = `${r.repositoryName}@${i.digest}`;
    if (!pushedAt.has(key)) pushedAt.set(key, Date.now() / 1000);
    return {
      registryId: accountId,
      repositoryName: r.repositoryName,
      imageDigest: i.digest,
      imageTags: [...i.tags].sort(),
      imageSizeInBytes: i.size,
      imagePushedAt: pushedAt.get(key),
      imageManifestMediaType: i.mediaType,
    };
  }

  /** GetRepositoryPolicy's answer, or its error when the repository has no policy. */
  function withPolicy(r: RepositoryRecord) {
    if (!r.policyText) {
      throw new AwsJsonError('RepositoryPolicyNotFoundException', `Repository policy does not exist for the repository with name '${r.repositoryName}' in the registry with id '${accountId}'`);
    }
    return { registryId: accountId, repositoryName: r.repositoryName, policyText: r.policyText };
  }

  const publicView = ({ lifecyclePolicyText: _l, policyText: _p, tags: _t, ...r }: RepositoryRecord) => r;

  function issueToken(identity: Identity): { password: string; expiresAt: number } {
    const password = `ecr-${randomBytes(24).toString('base64url')}`;
    const expiresAt = Date.now() + TOKEN_HOURS * 3600_000;
    tokens.set(password, { identity, expiresAt });
    return { password, expiresAt };
  }

  /** Operations get the parsed input and the repository in the request's registry (when it names one). */
  type Operation = (input: any, caller: Identity, registryId: string) => Promise<unknown>;
  const operations: Record<string, Operation> = {
    async GetAuthorizationToken(_input, caller) {
      const { password, expiresAt } = front ? issueToken(caller) : { password: registry.password, expiresAt: Date.now() + TOKEN_HOURS * 3600_000 };
      const username = front ? 'AWS' : registry.username;
      return {
        authorizationData: [{ authorizationToken: Buffer.from(`${username}:${password}`).toString('base64'), expiresAt: expiresAt / 1000, proxyEndpoint: `http://${pushHost}` }],
      };
    },
    async CreateRepository(input, _caller, registryId) {
      const name = String(input.repositoryName ?? '');
      if (registryId !== accountId) throw new AwsJsonError('InvalidParameterException', `Repositories are created in the caller's own registry, not '${registryId}'`);
      if (repositories.has(name)) {
        throw new AwsJsonError('RepositoryAlreadyExistsException', `The repository with name '${name}' already exists in the registry with id '${accountId}'`);
      }
      const mutability = input.imageTagMutability ?? 'MUTABLE';
      checkMutability(mutability, input.imageTagMutabilityExclusionFilters);
      const r = record(name, mutability, input.imageScanningConfiguration?.scanOnPush ?? false);
      if (input.imageTagMutabilityExclusionFilters) r.imageTagMutabilityExclusionFilters = input.imageTagMutabilityExclusionFilters;
      r.tags = input.tags ?? [];
      repositories.set(name, r);
      return { repository: publicView(r) };
    },
    async DescribeRepositories(input, _caller, registryId) {
      const names: string[] | undefined = input.repositoryNames;
      const list = names ? names.map((n) => repo(n, registryId)) : registryId === accountId ? [...repositories.values()] : [];
      return { repositories: list.map(publicView) };
    },
    async PutLifecyclePolicy(input, _caller, registryId) {
      const r = repo(input.repositoryName, registryId);
      JSON.parse(String(input.lifecyclePolicyText));
      r.lifecyclePolicyText = String(input.lifecyclePolicyText);
      return { registryId: accountId, repositoryName: r.repositoryName, lifecyclePolicyText: r.lifecyclePolicyText };
    },
    async GetLifecyclePolicy(input, _caller, registryId) {
      const r = repo(input.repositoryName, registryId);
      if (!r.lifecyclePolicyText) {
        throw new AwsJsonError('LifecyclePolicyNotFoundException', `Lifecycle policy does not exist for the repository with name '${r.repositoryName}' in the registry with id '${accountId}'`);
      }
      return { registryId: accountId, repositoryName: r.repositoryName, lifecyclePolicyText: r.lifecyclePolicyText };
    },
    async SetRepositoryPolicy(input, _caller, registryId) {
      const r = repo(input.repositoryName, registryId);
      checkRepositoryPolicy(String(input.policyText ?? ''));
      r.policyText = String(input.policyText);
      return { registryId: accountId, repositoryName: r.repositoryName, policyText: r.policyText };
    },
    async GetRepositoryPolicy(input, _caller, registryId) {
      return withPolicy(repo(input.repositoryName, registryId));
    },
    async DeleteRepositoryPolicy(input, _caller, registryId) {
      const r = repo(input.repositoryName, registryId);
      const answer = withPolicy(r);
      delete r.policyText;
      return answer;
    },
    async PutImageScanningConfiguration(input, _caller, registryId) {
      const r = repo(input.repositoryName, registryId);
      r.imageScanningConfiguration = { scanOnPush: input.imageScanningConfiguration?.scanOnPush === true };
      return { registryId: accountId, repositoryName: r.repositoryName, imageScanningConfiguration: r.imageScanningConfiguration };
    },
    async PutImageTagMutability(input, _caller, registryId) {
      const r = repo(input.repositoryName, registryId);
      checkMutability(input.imageTagMutability, input.imageTagMutabilityExclusionFilters);
      r.imageTagMutability = input.imageTagMutability;
      r.imageTagMutabilityExclusionFilters = input.imageTagMutabilityExclusionFilters;
      return { registryId: accountId, repositoryName: r.repositoryName, imageTagMutability: r.imageTagMutability, imageTagMutabilityExclusionFilters: r.imageTagMutabilityExclusionFilters };
    },
    async TagResource(input) {
      const r = repoByArn(input.resourceArn);
      for (const t of input.tags ?? []) r.tags = [...r.tags.filter((x) => x.Key !== t.Key), { Key: t.Key, Value: t.Value ?? '' }];
      return {};
    },
    async UntagResource(input) {
      const r = repoByArn(input.resourceArn);
      r.tags = r.tags.filter((t) => !(input.tagKeys ?? []).includes(t.Key));
      return {};
    },
    async ListTagsForResource(input) {
      return { tags: repoByArn(input.resourceArn).tags };
    },
    async DescribeImages(input, _caller, registryId) {
      const r = repo(input.repositoryName, registryId);
      if (input.imageIds) {
        const { found, failures } = await images.resolve(r.repositoryName, input.imageIds);
        if (failures.length > 0) {
          const id = failures[0]!.imageId;
          throw new AwsJsonError(
            'ImageNotFoundException',
            `The image with imageId {imageDigest:'${id.imageDigest ?? 'null'}', imageTag:'${id.imageTag ?? 'null'}'} does not exist within the repository with name '${r.repositoryName}' in the registry with id '${accountId}'`,
          );
        }
        return { imageDetails: found.map((f) => detail(r, f.info)) };
      }
      return { imageDetails: [...(await images.images(r.repositoryName)).values()].map((i) => detail(r, i)) };
    },
    async ListImages(input, _caller, registryId) {
      const r = repo(input.repositoryName, registryId);
      const ids = [...(await images.images(r.repositoryName)).values()].flatMap((i) => i.tags.map((t) => ({ imageDigest: i.digest, imageTag: t })));
      return { imageIds: ids };
    },
    async BatchGetImage(input, _caller, registryId) {
      const r = repo(input.repositoryName, registryId);
      const { found, failures } = await images.resolve(r.repositoryName, input.imageIds ?? []);
      const accepted: string[] | undefined = input.acceptedMediaTypes;
      return {
        images: found.map(({ id, info }) => {
          if (accepted && !accepted.includes(info.mediaType)) {
            throw new AwsJsonError('UnsupportedImageTypeException', `Image manifest media type ${info.mediaType} is not accepted`);
          }
          return {
            registryId: accountId,
            repositoryName: r.repositoryName,
            imageId: { imageDigest: info.digest, ...(id.imageTag ? { imageTag: id.imageTag } : {}) },
            imageManifest: info.manifest,
            imageManifestMediaType: info.mediaType,
          };
        }),
        failures,
      };
    },
    async DescribeImageScanFindings(input, _caller, registryId) {
      const r = repo(input.repositoryName, registryId);
      if (!input.imageId?.imageDigest && !input.imageId?.imageTag) throw new AwsJsonError('InvalidParameterException', "Invalid parameter at 'imageId' failed to satisfy constraint: 'Member must not be null'");
      const { found } = await images.resolve(r.repositoryName, [input.imageId]);
      const image = found[0] ? { digest: found[0].info.digest, tags: found[0].info.tags, ...(found[0].id.imageTag ? { tag: found[0].id.imageTag } : {}) } : undefined;
      return scans.describe({ repositoryName: r.repositoryName, registryId: accountId, scanOnPush: r.imageScanningConfiguration.scanOnPush }, image, input);
    },
    async PutImage(input, _caller, registryId) {
      const r = repo(input.repositoryName, registryId);
      const body = String(input.imageManifest ?? '');
      const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
      if (input.imageDigest && input.imageDigest !== digest) {
        throw new AwsJsonError('ImageDigestDoesNotMatchException', `Invalid parameter at 'imageDigest' failed to satisfy constraint: 'digest does not match the manifest'`);
      }
      const mediaType = input.imageManifestMediaType ?? (JSON.parse(body).mediaType as string);
      const tag: string | undefined = input.imageTag;
      if (tag) {
        const existing = await images.manifest(r.repositoryName, tag);
        if (existing?.digest === digest) {
          throw new AwsJsonError('ImageAlreadyExistsException', `Image with digest '${digest}' and tag '${tag}' already exists in the repository with name '${r.repositoryName}' in registry with id '${accountId}'`);
        }
        if (existing && tagIsImmutable(r, tag)) {
          throw new AwsJsonError('ImageTagAlreadyExistsException', `The image tag '${tag}' already exists in the '${r.repositoryName}' repository and cannot be overwritten because the repository is immutable.`);
        }
      }
      const res = await images.request('PUT', `/v2/${r.repositoryName}/manifests/${tag ?? digest}`, body, mediaType);
      if (!res.ok) {
        const text = await res.text();
        if (res.status === 400 && /BLOB_UNKNOWN|MANIFEST_BLOB_UNKNOWN/.test(text)) {
          throw new AwsJsonError('LayersNotFoundException', 'The image manifest references layers that do not exist in the repository');
        }
        throw new AwsJsonError('ServerException', `registry answered ${res.status}: ${text}`, 500);
      }
      return {
        image: {
          registryId: accountId,
          repositoryName: r.repositoryName,
          imageId: { imageDigest: digest, ...(tag ? { imageTag: tag } : {}) },
          imageManifest: body,
          imageManifestMediaType: mediaType,
        },
      };
    },
    async BatchDeleteImage(input, _caller, registryId) {
      const r = repo(input.repositoryName, registryId);
      const { found, failures } = await images.resolve(r.repositoryName, (input.imageIds ?? []) as ImageId[]);
      // By tag: only that tag goes while the image keeps another; its last tag takes the image (ECR's documented behaviour).
      for (const { id, info } of found) {
        if (id.imageTag !== undefined && id.imageDigest === undefined && info.tags.length > 1) images.untag(r.repositoryName, id.imageTag);
        else await images.request('DELETE', `/v2/${r.repositoryName}/manifests/${info.digest}`);
      }
      return { imageIds: found.map((f) => ({ imageDigest: f.info.digest, imageTag: f.id.imageTag })), failures };
    },
  };

  /** The resource an operation acts on, as IAM sees it. */
  function resourceOf(op: string, input: Record<string, unknown>, registryId: string): { arn: string; record?: RepositoryRecord } {
    if (op === 'GetAuthorizationToken') return { arn: '*' };
    if (typeof input.resourceArn === 'string') return { arn: input.resourceArn, record: [...repositories.values()].find((r) => r.repositoryArn === input.resourceArn) };
    const name = typeof input.repositoryName === 'string' ? input.repositoryName : Array.isArray(input.repositoryNames) && input.repositoryNames.length === 1 ? String(input.repositoryNames[0]) : '*';
    return { arn: `arn:aws:ecr:${region}:${registryId}:repository/${name}`, record: registryId === accountId ? repositories.get(name) : undefined };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrived = performance.now();
    const body = await readBody(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    const op = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-RequestId': randomBytes(16).toString('hex') });
      res.end(JSON.stringify(payload));
    };
    try {
      if (req.method !== 'POST' || !operations[op]) throw new AwsJsonError('UnknownOperationException', `Unknown operation ${target}`);
      calls.push(op);
      const span = { op, start: arrived, end: arrived };
      spans.push(span);
      res.once('finish', () => (span.end = performance.now()));
      const input = JSON.parse(body.toString('utf8') || '{}') as Record<string, any>;
      await runHook(op);
      const caller = authenticateJsonRequest(iam, { method: req.method, url: req.url ?? '/', headers: req.headers, body }).identity;
      const registryId = typeof input.registryId === 'string' ? input.registryId : caller.account;
      const resource = resourceOf(op, input, registryId);
      const fault = faults.find((f) => f.operation === op && f.times > 0);
      if (fault) {
        fault.times--;
        if (fault.kind === 'throttle') throw new AwsJsonError('ThrottlingException', 'Rate exceeded');
        if (fault.kind === 'server-error') throw new AwsJsonError('ServerException', 'We encountered an internal error. Please try again.', 500);
        throw new AwsJsonError('AccessDeniedException', `User: ${caller.arn} is not authorized to perform: ecr:${op} on resource: ${resource.arn} because no identity-based policy allows the ecr:${op} action`);
      }
      const actions = [`ecr:${op}`, ...(op === 'CreateRepository' && Array.isArray(input.tags) && input.tags.length > 0 ? ['ecr:TagResource'] : [])];
      for (const action of actions) {
        const d = await iam.authorize(caller, action, resource.arn, { resourcePolicy: resource.record && policyOf(resource.record), resourceAccount: registryId });
        if (!d.allowed) throw new AwsJsonError('AccessDeniedException', d.message);
      }
      send(200, await operations[op]!(input, caller, registryId));
    } catch (err) {
      if (err instanceof AwsJsonError) {
        res.setHeader('x-amzn-ErrorType', err.type);
        send(err.status, { __type: err.type, message: err.message });
      } else send(500, { __type: 'ServerException', message: (err as Error).message });
    }
  }

  const server = createServer((req, res) => void handle(req, res));
  const requests = logRequests(server);
  const url = `http://127.0.0.1:${await listenLocal(server)}`;
  const envFor = (id: Identity): Record<string, string> => ({
    AWS_ENDPOINT_URL_ECR: url,
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: id.accessKeyId,
    AWS_SECRET_ACCESS_KEY: id.secretAccessKey,
    ...(id.sessionToken ? { AWS_SESSION_TOKEN: id.sessionToken } : {}),
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  return {
    url,
    accountId,
    region,
    iam,
    repositories,
    requests,
    calls,
    spans,
    registryCalls,
    uploadedBytes: () => front?.uploadedBytes() ?? 0,
    env: defaultIdentity ? envFor(defaultIdentity) : { AWS_ENDPOINT_URL_ECR: url, AWS_REGION: region, AWS_EC2_METADATA_DISABLED: 'true' },
    envFor,
    inject: (fault) => void faults.push({ ...fault }),
    onNextCall: (operation, fn) => void hooks.set(operation, fn),
    adopt: (name, mutability = 'IMMUTABLE') => {
      const r = repositories.get(name) ?? record(name, mutability);
      repositories.set(name, r);
      return r;
    },
    registryLogin: async (id = defaultIdentity) => {
      if (!front) return { host: registry.host, url: registry.url, username: registry.username, password: registry.password };
      if (!id) throw new Error('registryLogin: no identity');
      const d = await iam.authorize(id, 'ecr:GetAuthorizationToken', '*');
      if (!d.allowed) throw new Error(d.message);
      return { host: front.host, url: front.url, username: 'AWS', password: issueToken(id).password };
    },
    setScan: (repository, digest, scan) => scans.set(repository, digest, scan),
    setScanner: (scanner) => void (scans.scanner = scanner),
    stop: async () => {
      await closeServer(server);
      await front?.stop();
    },
  };
}
