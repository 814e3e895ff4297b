/**
 * An Amazon ECR stand-in for tests: an HTTP server speaking the AWS JSON 1.1 protocol
 * (X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<Operation>) that the real
 * @aws-sdk/client-ecr reaches through AWS_ENDPOINT_URL_ECR. Images live in a real
 * registry (test/harness/registry.ts): tags, digests and manifests are the registry's
 * own; repository settings and lifecycle policies are kept here. Faults (throttling,
 * 5xx, AccessDenied) can be injected per operation.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import type { Registry } from '../../harness/registry';
import { startRegistryFront } from './registry-front';
import { closeServer, listenLocal, readBody } from '../../harness/net';

const TARGET_PREFIX = 'AmazonEC2ContainerRegistry_V20150921.';
const ACCEPT = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

export type FaultKind = 'throttle' | 'server-error' | 'access-denied';

export interface Fault {
  operation: string;
  kind: FaultKind;
  /** How many calls fail before the operation works again. */
  times: number;
}

export interface RepositoryRecord {
  repositoryName: string;
  registryId: string;
  repositoryArn: string;
  repositoryUri: string;
  createdAt: number;
  imageTagMutability: string;
  imageScanningConfiguration: { scanOnPush: boolean };
  encryptionConfiguration: { encryptionType: string };
  lifecyclePolicyText?: string;
}

export interface EcrStandin {
  url: string;
  accountId: string;
  region: string;
  repositories: Map<string, RepositoryRecord>;
  /** Every call received, in order: operation names. */
  calls: string[];
  /** Environment that points the AWS SDK (and so the actions) at this stand-in. */
  env: Record<string, string>;
  inject(fault: Fault): void;
  /** Runs `fn` when `operation` is next called, before answering it (e.g. a concurrent run's push). */
  onNextCall(operation: string, fn: () => Promise<void>): void;
  /** Adds a repository record for images pushed straight to the registry. */
  adopt(name: string, mutability?: string): RepositoryRecord;
  stop(): Promise<void>;
}

class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

interface ImageInfo {
  digest: string;
  tags: string[];
  mediaType: string;
  manifest: string;
  size: number;
}

export async function startEcrStandin(opts: {
  registry: Registry;
  accountId?: string;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Caller identity named in AccessDenied messages. */
  callerArn?: string;
  /**
   * Put a registry front (registry-front.ts) between docker and the registry, so that, as on
   * ECR, `docker push` cannot move an existing tag of an immutable repository. Repository URIs
   * and the login endpoint then name the front.
   */
  enforceImmutableTagsOnPush?: boolean;
}): Promise<EcrStandin> {
  const { registry } = opts;
  const accountId = opts.accountId ?? '123456789012';
  const region = opts.region ?? 'eu-west-1';
  const accessKeyId = opts.accessKeyId ?? 'AKIDSTANDIN';
  const callerArn = opts.callerArn ?? `arn:aws:sts::${accountId}:assumed-role/deploy/github-actions`;
  const repositories = new Map<string, RepositoryRecord>();
  const calls: string[] = [];
  const faults: Fault[] = [];
  const hooks = new Map<string, () => Promise<void>>();
  const pushedAt = new Map<string, number>();
  const front = opts.enforceImmutableTagsOnPush
    ? await startRegistryFront(registry, (name) => repositories.get(name)?.imageTagMutability.startsWith('IMMUTABLE') ?? false)
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
  });

  async function reg(method: string, path: string, body?: string, contentType?: string): Promise<Response> {
    const headers: Record<string, string> = { Authorization: registry.authHeader, Accept: ACCEPT };
    if (contentType) headers['Content-Type'] = contentType;
    return fetch(`${registry.url}${path}`, { method, headers, body });
  }

  function repo(name: unknown): RepositoryRecord {
    const r = typeof name === 'string' ? repositories.get(name) : undefined;
    if (!r) {
      throw new AwsError(
        'RepositoryNotFoundException',
        `The repository with name '${String(name)}' does not exist in the registry with id '${accountId}'`,
      );
    }
    return r;
  }

  async function manifest(name: string, reference: string): Promise<{ body: string; mediaType: string; digest: string } | undefined> {
    const res = await reg('GET', `/v2/${name}/manifests/${reference}`);
    if (res.status === 404) return undefined;
    if (!res.ok) throw new AwsError('ServerException', `registry answered ${res.status}`, 500);
    const body = await res.text();
    const digest = res.headers.get('docker-content-digest') ?? `sha256:${createHash('sha256').update(body).digest('hex')}`;
    return { body, mediaType: (res.headers.get('content-type') ?? '').split(';')[0]!, digest };
  }

  async function tagsOf(name: string): Promise<string[]> {
    const res = await reg('GET', `/v2/${name}/tags/list`);
    if (res.status === 404) return [];
    const json = (await res.json()) as { tags?: string[] | null };
    return json.tags ?? [];
  }

  /** Every tagged image of the repository, grouped by digest. */
  async function images(name: string): Promise<Map<string, ImageInfo>> {
    const byDigest = new Map<string, ImageInfo>();
    for (const tag of await tagsOf(name)) {
      const m = await manifest(name, tag);
      if (!m) continue;
      let info = byDigest.get(m.digest);
      if (!info) {
        info = { digest: m.digest, tags: [], mediaType: m.mediaType, manifest: m.body, size: imageSize(m.body) };
        byDigest.set(m.digest, info);
      }
      info.tags.push(tag);
    }
    return byDigest;
  }

  function imageSize(body: string): number {
    try {
      const json = JSON.parse(body) as { layers?: Array<{ size?: number }>; config?: { size?: number } };
      return (json.layers ?? []).reduce((n, l) => n + (l.size ?? 0), json.config?.size ?? 0);
    } catch {
      return body.length;
    }
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

  type ImageId = { imageTag?: string; imageDigest?: string };

  async function resolveIds(r: RepositoryRecord, ids: ImageId[]) {
    const all = await images(r.repositoryName);
    const found: Array<{ id: ImageId; info: ImageInfo }> = [];
    const failures: Array<{ imageId: ImageId; failureCode: string; failureReason: string }> = [];
    for (const id of ids) {
      const info = [...all.values()].find(
        (i) => (id.imageDigest === undefined || i.digest === id.imageDigest) && (id.imageTag === undefined || i.tags.includes(id.imageTag)),
      );
      if (info) found.push({ id, info });
      else {
        const digestOnly = id.imageDigest ? await manifest(r.repositoryName, id.imageDigest) : undefined;
        if (digestOnly && id.imageTag === undefined) {
          found.push({ id, info: { digest: digestOnly.digest, tags: [], mediaType: digestOnly.mediaType, manifest: digestOnly.body, size: imageSize(digestOnly.body) } });
        } else {
          const mismatch = id.imageTag !== undefined && id.imageDigest !== undefined && [...all.values()].some((i) => i.tags.includes(id.imageTag!));
          failures.push({
            imageId: id,
            failureCode: mismatch ? 'ImageTagDoesNotMatchDigest' : 'ImageNotFound',
            failureReason: mismatch ? 'Requested image tag does not match image digest' : 'Requested image not found',
          });
        }
      }
    }
    return { found, failures };
  }

  const operations: Record<string, (input: any) => Promise<unknown>> = {
    async GetAuthorizationToken() {
      return {
        authorizationData: [
          {
            authorizationToken: Buffer.from(`${registry.username}:${registry.password}`).toString('base64'),
            expiresAt: Date.now() / 1000 + 12 * 3600,
            proxyEndpoint: `http://${pushHost}`,
          },
        ],
      };
    },
    async CreateRepository(input) {
      const name = String(input.repositoryName ?? '');
      if (repositories.has(name)) {
        throw new AwsError('RepositoryAlreadyExistsException', `The repository with name '${name}' already exists in the registry with id '${accountId}'`);
      }
      const r = record(name, input.imageTagMutability ?? 'MUTABLE', input.imageScanningConfiguration?.scanOnPush ?? false);
      repositories.set(name, r);
      return { repository: r };
    },
    async DescribeRepositories(input) {
      const names: string[] | undefined = input.repositoryNames;
      const list = names ? names.map((n) => repo(n)) : [...repositories.values()];
      return { repositories: list.map(({ lifecyclePolicyText: _l, ...r }) => r) };
    },
    async PutLifecyclePolicy(input) {
      const r = repo(input.repositoryName);
      JSON.parse(String(input.lifecyclePolicyText));
      r.lifecyclePolicyText = String(input.lifecyclePolicyText);
      return { registryId: accountId, repositoryName: r.repositoryName, lifecyclePolicyText: r.lifecyclePolicyText };
    },
    async GetLifecyclePolicy(input) {
      const r = repo(input.repositoryName);
      if (!r.lifecyclePolicyText) {
        throw new AwsError('LifecyclePolicyNotFoundException', `Lifecycle policy does not exist for the repository with name '${r.repositoryName}'`);
      }
      return { registryId: accountId, repositoryName: r.repositoryName, lifecyclePolicyText: r.lifecyclePolicyText };
    },
    async DescribeImages(input) {
      const r = repo(input.repositoryName);
      if (input.imageIds) {
        const { found, failures } = await resolveIds(r, input.imageIds);
        if (failures.length > 0) {
          const id = failures[0]!.imageId;
          throw new AwsError(
            'ImageNotFoundException',
            `The image with imageId {imageDigest:'${id.imageDigest ?? 'null'}', imageTag:'${id.imageTag ?? 'null'}'} does not exist within the repository with name '${r.repositoryName}' in the registry with id '${accountId}'`,
          );
        }
        return { imageDetails: found.map((f) => detail(r, f.info)) };
      }
      return { imageDetails: [...(await images(r.repositoryName)).values()].map((i) => detail(r, i)) };
    },
    async ListImages(input) {
      const r = repo(input.repositoryName);
      const ids = [...(await images(r.repositoryName)).values()].flatMap((i) => i.tags.map((t) => ({ imageDigest: i.digest, imageTag: t })));
      return { imageIds: ids };
    },
    async BatchGetImage(input) {
      const r = repo(input.repositoryName);
      const { found, failures } = await resolveIds(r, input.imageIds ?? []);
      const accepted: string[] | undefined = input.acceptedMediaTypes;
      return {
        images: found.map(({ id, info }) => {
          if (accepted && !accepted.includes(info.mediaType)) {
            throw new AwsError('UnsupportedImageTypeException', `Image manifest media type ${info.mediaType} is not accepted`);
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
    async PutImage(input) {
      const r = repo(input.repositoryName);
      const body = String(input.imageManifest ?? '');
      const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
      if (input.imageDigest && input.imageDigest !== digest) {
        throw new AwsError('ImageDigestDoesNotMatchException', `Invalid parameter at 'imageDigest' failed to satisfy constraint: 'digest does not match the manifest'`);
      }
      const mediaType = input.imageManifestMediaType ?? (JSON.parse(body).mediaType as string);
      const tag: string | undefined = input.imageTag;
      if (tag) {
        const existing = await manifest(r.repositoryName, tag);
        if (existing?.digest === digest) {
          throw new AwsError('ImageAlreadyExistsException', `Image with digest '${digest}' and tag '${tag}' already exists in the repository with name '${r.repositoryName}' in registry with id '${accountId}'`);
        }
        if (existing && r.imageTagMutability.startsWith('IMMUTABLE')) {
          throw new AwsError('ImageTagAlreadyExistsException', `The image tag '${tag}' already exists in the '${r.repositoryName}' repository and cannot be overwritten because the repository is immutable.`);
        }
      }
      const res = await reg('PUT', `/v2/${r.repositoryName}/manifests/${tag ?? digest}`, body, mediaType);
      if (!res.ok) {
        const text = await res.text();
        if (res.status === 400 && /BLOB_UNKNOWN|MANIFEST_BLOB_UNKNOWN/.test(text)) {
          throw new AwsError('LayersNotFoundException', 'The image manifest references layers that do not exist in the repository');
        }
        throw new AwsError('ServerException', `registry answered ${res.status}: ${text}`, 500);
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
    async BatchDeleteImage(input) {
      const r = repo(input.repositoryName);
      const { found, failures } = await resolveIds(r, input.imageIds ?? []);
      for (const { info } of found) await reg('DELETE', `/v2/${r.repositoryName}/manifests/${info.digest}`);
      return { imageIds: found.map((f) => ({ imageDigest: f.info.digest, imageTag: f.id.imageTag })), failures };
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    const op = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-RequestId': cryptoId() });
      res.end(text);
    };
    try {
      if (req.method !== 'POST' || !operations[op]) throw new AwsError('UnknownOperationException', `Unknown operation ${target}`);
      calls.push(op);
      const input = JSON.parse(body.toString('utf8') || '{}');
      const hook = hooks.get(op);
      if (hook) {
        hooks.delete(op);
        await hook();
      }
      const auth = String(req.headers.authorization ?? '');
      const key = /Credential=([^/]+)\//.exec(auth)?.[1];
      if (!auth.startsWith('AWS4-HMAC-SHA256 ') || !key) throw new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token', 403);
      if (key !== accessKeyId) throw new AwsError('UnrecognizedClientException', 'The security token included in the request is invalid.');
      const fault = faults.find((f) => f.operation === op && f.times > 0);
      if (fault) {
        fault.times--;
        if (fault.kind === 'throttle') throw new AwsError('ThrottlingException', 'Rate exceeded');
        if (fault.kind === 'server-error') throw new AwsError('ServerException', 'We encountered an internal error. Please try again.', 500);
        throw new AwsError(
          'AccessDeniedException',
          `User: ${callerArn} is not authorized to perform: ecr:${op} on resource: arn:aws:ecr:${region}:${accountId}:repository/${input.repositoryName ?? '*'} because no identity-based policy allows the ecr:${op} action`,
        );
      }
      send(200, await operations[op]!(input));
    } catch (err) {
      if (err instanceof AwsError) {
        res.setHeader('x-amzn-ErrorType', err.type);
        send(err.status, { __type: err.type, message: err.message });
      } else send(500, { __type: 'ServerException', message: (err as Error).message });
    }
  }

  const server = createServer((req, res) => void handle(req, res));
  const url = `http://127.0.0.1:${await listenLocal(server)}`;
  return {
    url,
    accountId,
    region,
    repositories,
    calls,
    env: {
      AWS_ENDPOINT_URL_ECR: url,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: accessKeyId,
      AWS_SECRET_ACCESS_KEY: opts.secretAccessKey ?? 'standin-secret-key',
      AWS_EC2_METADATA_DISABLED: 'true',
    },
    inject: (fault) => void faults.push({ ...fault }),
    onNextCall: (operation, fn) => void hooks.set(operation, fn),
    adopt: (name, mutability = 'IMMUTABLE') => {
      const r = repositories.get(name) ?? record(name, mutability);
      repositories.set(name, r);
      return r;
    },
    stop: async () => {
      await closeServer(server);
      await front?.stop();
    },
  };
}

function cryptoId(): string {
  return createHash('sha1').update(String(Math.random())).digest('hex').slice(0, 32);
}
