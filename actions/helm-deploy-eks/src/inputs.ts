import { bakeInputs, type BakeInputs } from './bake/inputs';
import { existsSync, readFileSync } from 'node:fs';
import { confinedPath, InputError, realPathFs, type Inputs as Raw, type PathFs } from '@deploy-actions/action-kit';
import { ecrSource, type EcrSource } from './pull-access';
import { KEY_INPUTS, readImageKeys, valuesKey, valuesLayers, type ImageKeys, type ImageRef } from '@deploy-actions/chart';

/**
 * The newest patched helm of each line known when this release was cut (helm's release notes;
 * 4.3.0 and 3.22.0 of 2026-09-09, 3.22 being Helm 3's last minor). `helm-version` takes a major
 * alone (4 or 3) for these. Their archives are pinned in tools.ts.
 */
export const DEFAULT_HELM_VERSIONS = { 4: '4.3.0', 3: '3.22.0' } as const;
export const DEFAULT_HELM_VERSION = DEFAULT_HELM_VERSIONS[4];
export const DEFAULT_HELM_BASE_URL = 'https://get.helm.sh';

export type { ImageRef };

export interface Inputs {
  /** The bake window after validation (bake/inputs.ts). */
  bake: BakeInputs;
  release: string;
  namespace: string;
  createNamespace: boolean;
  /** Chart directory, absolute. */
  chart: string;
  environment: string;
  /** Extra values files, absolute, in the order given. */
  valuesFiles: string[];
  /** --set pairs: helm types the values (true, 3, null, {a,b}). */
  set: Array<[string, string]>;
  /** --set-string pairs: always strings. */
  setString: Array<[string, string]>;
  /** Deploy with values.yaml alone when the chart has no values file for the environment. */
  allowMissingValuesFile: boolean;
  image?: ImageRef;
  /** The ECR registry and repository of the image (pull-access.ts), when known. */
  imageSource?: EcrSource;
  /** Values keys of the image ('' = not set); see image-layout.ts and imageKeysOf. */
  imageRegistryKey: string;
  imageRepositoryKey: string;
  imageDigestKey: string;
  imageTagKey: string;
  imageReferenceKey: string;
  podAnnotationsKey: string;
  timeoutSeconds: number;
  /** The timeout as the user wrote it (a Go duration), passed to helm as is. */
  timeout: string;
  historyMax: number;
  rollbackOnFailure: boolean;
  force: boolean;
  clusterName: string;
  region: string;
  /** A kubeconfig file given instead of an EKS cluster, absolute. */
  kubeconfig: string;
  /** The API server the given kubeconfig names (for messages; set by readInputs); '' with an EKS cluster. */
  kubeServer: string;
  kubeContext: string;
  exportKubeconfig: boolean;
  helmVersion: string;
  helmBaseUrl: string;
  toolsFromPath: boolean;
  dryRun: boolean;
  failFast: boolean;
  crashLoopRestarts: number;
  readinessTimeoutSeconds: number;
  podSelector: string;
  logLines: number;
  helmTest: boolean;
  smokeUrl: string;
  smokeAttempts: number;
}

const RELEASE_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const NAMESPACE_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const VERSION_RE = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;
const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

/** Helm's release name rule: a lowercase RFC 1123 subdomain of at most 53 characters. */
export function isValidReleaseName(name: string): boolean {
  return name.length <= 53 && RELEASE_RE.test(name);
}

/** A Kubernetes namespace: an RFC 1123 label of at most 63 characters. */
export function isValidNamespace(name: string): boolean {
  return name.length <= 63 && NAMESPACE_RE.test(name);
}

const UNIT_SECONDS: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };

/** Parses a Go duration as helm accepts it (5m, 300s, 1m30s, 1h); returns seconds, or undefined. */
export function parseGoDuration(text: string): number | undefined {
  if (!/^(\d+(\.\d+)?(h|ms|m|s))+$/.test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s)/g)) total += Number(m[1]) * UNIT_SECONDS[m[2]!]!;
  return total;
}

/** Parses `repo[:tag]@sha256:<hex>`; returns undefined when it is not pinned by a well-formed digest. */
export function parseImageRef(ref: string): ImageRef | undefined {
  const at = ref.indexOf('@');
  if (at <= 0) return undefined;
  const name = ref.slice(0, at);
  const digest = ref.slice(at + 1);
  if (!DIGEST_RE.test(digest)) return undefined;
  // A tag is after the last ':' that comes after the last '/' (a ':' before it is a registry port).
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  const repository = colon > slash ? name.slice(0, colon) : name;
  const tag = colon > slash ? name.slice(colon + 1) : undefined;
  if (!/^[a-z0-9]+([._-][a-z0-9]+)*(:\d+)?(\/[a-z0-9]+([._/-]+[a-z0-9]+)*)*$/.test(repository)) return undefined;
  if (tag !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) return undefined;
  return tag === undefined ? { repository, digest } : { repository, tag, digest };
}

export interface InputContext extends PathFs {
  workspace: string;
  exists: (path: string) => boolean;
  isDirectory: (path: string) => boolean;
  /** AWS_REGION / AWS_DEFAULT_REGION from the environment. */
  envRegion: string;
  /** A file's text, or undefined when it cannot be read (the given kubeconfig is read, never written). */
  readText?: (path: string) => string | undefined;
}

/** Go's largest time.Duration (int64 nanoseconds), in seconds: helm's flag parser refuses more. */
export const GO_MAX_DURATION_SECONDS = 9_223_372_036;

/** A free-form input that must still be one line (it reaches command lines and the log). */
function noControl(i: Raw, name: string): string {
  const v = i.string(name);
  if (/[\0-\x1f\x7f]/.test(v)) throw new InputError(name, 'must not contain control characters (newline, tab, NUL...)', v);
  return v;
}

function resolvePath(workspace: string, p: string): string {
  return p.startsWith('/') ? p : `${workspace.replace(/\/$/, '')}/${p}`;
}

function duration(i: Raw, name: string, fallback: string): [string, number] {
  const text = i.string(name, fallback);
  const seconds = parseGoDuration(text);
  if (seconds === undefined || seconds <= 0) {
    throw new InputError(name, 'must be a Go duration such as 5m, 300s or 1m30s', text);
  }
  if (seconds > GO_MAX_DURATION_SECONDS) throw new InputError(name, "must be at most 2562047h (Go's largest duration)", text);
  return [text, seconds];
}

/** The values keys the pinned image goes to. */
export function imageKeysOf(i: Pick<Inputs, 'imageRegistryKey' | 'imageRepositoryKey' | 'imageDigestKey' | 'imageTagKey' | 'imageReferenceKey'>): ImageKeys {
  return { registryKey: i.imageRegistryKey, repositoryKey: i.imageRepositoryKey, digestKey: i.imageDigestKey, tagKey: i.imageTagKey, referenceKey: i.imageReferenceKey };
}

/** Reads and validates every input. Nothing here has side effects; the filesystem is only looked at. */
/**
 * The action's inputs, all checked: getInputs, then the given kubeconfig parsed as the action's
 * API client connects with it (server, trust, credentials, the files it names). The kubeconfig
 * parser and YAML load only when a kubeconfig is given, so a refusal of any other input costs the
 * entry alone (issue 25: the bad-input path).
 */
export async function readInputs(i: Raw, ctx: InputContext = defaultContext()): Promise<Inputs> {
  const inputs = getInputs(i, ctx);
  if (inputs.kubeconfig === '') return inputs;
  const { kubeconfigServer } = await import('./kubeconfig-check');
  return { ...inputs, kubeServer: kubeconfigServer(inputs.kubeconfig, inputs.kubeContext, ctx.readText ?? readText, i.string('kubeconfig')) };
}

/** Every check but the kubeconfig's contents (readInputs adds that one). */
export function getInputs(i: Raw, ctx: InputContext = defaultContext()): Inputs {
  const release = i.required('release');
  if (!isValidReleaseName(release)) {
    throw new InputError('release', 'must be a lowercase RFC 1123 name (a-z, 0-9, - and .) of at most 53 characters', release);
  }
  const namespace = i.string('namespace', 'default');
  if (!isValidNamespace(namespace)) {
    throw new InputError('namespace', 'must be a lowercase RFC 1123 label (a-z, 0-9, -) of at most 63 characters', namespace);
  }
  const chart = confinedPath('chart', i.string('chart', 'chart'), { workspace: ctx.workspace, kind: 'directory', what: 'a chart directory', fs: ctx });
  if (!ctx.exists(`${chart}/Chart.yaml`)) throw new InputError('chart', 'must be a chart directory holding Chart.yaml', i.string('chart', 'chart'));

  const environment = i.string('environment');
  if (environment !== '' && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(environment)) {
    throw new InputError('environment', 'must be a name of letters, digits, _ . -', environment);
  }
  const valuesFiles = i.list('values-files').map((f) => {
    return confinedPath('values-files', f, { workspace: ctx.workspace, kind: 'file', what: 'a values file', fs: ctx });
  });
  const allowMissingValuesFile = i.bool('allow-missing-values-file', false);
  if (environment !== '' && !allowMissingValuesFile && valuesLayers(chart, environment, [], ctx.exists).length === 0) {
    throw new InputError(
      'environment',
      `has no values file in the chart: add values-${environment.toLowerCase()}.yaml to ${i.string('chart', 'chart')}, or set allow-missing-values-file: true to deploy with values.yaml`,
      environment,
    );
  }
  const set = i.keyValues('set');
  const setString = i.keyValues('set-string');
  refuseRepeatedKeys(set, setString);

  let image: ImageRef | undefined;
  const imageText = i.string('image');
  const repoText = i.string('image-repository');
  const digestText = i.string('image-digest');
  if (imageText !== '') {
    if (repoText !== '' || digestText !== '') {
      throw new InputError('image', 'cannot be combined with image-repository/image-digest', imageText);
    }
    image = parseImageRef(imageText);
    if (!image) throw new InputError('image', 'must be an image pinned by digest: repository[:tag]@sha256:<64 hex>', imageText);
  } else if (repoText !== '' || digestText !== '') {
    if (!DIGEST_RE.test(digestText)) throw new InputError('image-digest', 'must be sha256: followed by 64 lowercase hex digits', digestText);
    const parsed = parseImageRef(`${repoText}@${digestText}`);
    if (!parsed || parsed.tag !== undefined) throw new InputError('image-repository', 'must be an image repository such as 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app', repoText);
    image = parsed;
  }
  const imageTag = i.string('image-tag');
  if (imageTag !== '') {
    if (!image) throw new InputError('image-tag', 'needs image or image-repository/image-digest', imageTag);
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(imageTag)) throw new InputError('image-tag', 'must be a Docker tag', imageTag);
    if (image.tag !== undefined && image.tag !== imageTag) throw new InputError('image-tag', `must equal the tag in image ('${image.tag}'), or be left out`, imageTag);
    image = { ...image, tag: imageTag };
  }

  const imageKeys = readImageKeys(i);
  if (image) {
    // A key the image pin is written to, or one above it, given in set/set-string would replace the pin.
    for (const [name, pairs] of [['set', set], ['set-string', setString]] as const) {
      for (const [key] of pairs) {
        const hit = KEY_INPUTS.find(([f]) => imageKeys[f] !== '' && (key === imageKeys[f] || imageKeys[f].startsWith(`${key}.`)));
        if (hit) throw new InputError(name, `must not set ${key}: the action sets it from image (${hit[1]}); give the image through image instead`, key);
      }
    }
  }

  const [timeout, timeoutSeconds] = duration(i, 'timeout', '5m');
  const bake = bakeInputs(i);
  const [, readinessTimeoutSeconds] = duration(i, 'readiness-timeout', '2m');

  const kubeconfigText = noControl(i, 'kubeconfig');
  const clusterName = i.string('cluster-name');
  if (kubeconfigText !== '' && clusterName !== '') {
    throw new InputError('kubeconfig', 'cannot be combined with cluster-name (give one of them)', kubeconfigText);
  }
  if (kubeconfigText === '' && clusterName === '') throw new InputError('cluster-name', 'is required (or give kubeconfig)');
  if (clusterName !== '' && !/^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/.test(clusterName)) {
    throw new InputError('cluster-name', 'must be an EKS cluster name (letters, digits, - and _, at most 100)', clusterName);
  }
  const kubeconfig = kubeconfigText === '' ? '' : resolvePath(ctx.workspace, kubeconfigText);
  if (kubeconfig !== '' && (!ctx.exists(kubeconfig) || ctx.isDirectory(kubeconfig))) {
    throw new InputError('kubeconfig', `must be a kubeconfig file that exists${ctx.isDirectory(kubeconfig) ? ', not a directory' : ''}`, kubeconfigText);
  }
  const kubeContext = noControl(i, 'kube-context');
  if (kubeContext !== '' && kubeconfig === '') {
    throw new InputError('kube-context', 'is read only with kubeconfig (with cluster-name the action writes a kubeconfig of its own, with one context); remove it', kubeContext);
  }
  const watchesAlarms = bake.alarmNames.length > 0 || bake.alarmPrefix !== '';
  if (kubeconfig !== '' && i.string('aws-region') !== '' && !watchesAlarms) {
    throw new InputError('aws-region', 'is read only with cluster-name or bake alarms (with kubeconfig the cluster is the one the kubeconfig names)', i.string('aws-region'));
  }
  const region = i.string('aws-region', ctx.envRegion);
  if (kubeconfig !== '' && watchesAlarms && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
    throw new InputError('aws-region', 'must be the AWS region of the bake alarms, such as eu-west-1 (or set AWS_REGION)', region);
  }
  if (clusterName !== '' && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
    throw new InputError('aws-region', 'must be an AWS region such as eu-west-1 (or set AWS_REGION)', region);
  }
  const registryId = i.string('registry-id');
  if (registryId !== '' && !/^\d{12}$/.test(registryId)) throw new InputError('registry-id', 'must be a 12-digit AWS account id', registryId);
  if (registryId !== '' && !image) throw new InputError('registry-id', 'needs image or image-repository/image-digest', registryId);
  const imageSource = image ? ecrSource(image, registryId || undefined, region) : undefined;
  if (registryId !== '' && imageSource?.registryId !== registryId) {
    throw new InputError('registry-id', `must be the account in the image's ECR host (${imageSource?.registryId})`, registryId);
  }

  const helmVersionText = i.string('helm-version', DEFAULT_HELM_VERSION).replace(/^v/, '');
  const helmVersion = helmVersionText === '3' || helmVersionText === '4' ? DEFAULT_HELM_VERSIONS[helmVersionText] : helmVersionText;
  if (!VERSION_RE.test(helmVersion)) throw new InputError('helm-version', `must be a version such as ${DEFAULT_HELM_VERSION}, or 4 or 3 for the newest known of that line`, helmVersion);
  if (!/^[34]\./.test(helmVersion)) throw new InputError('helm-version', `must be a helm 3 or helm 4 version (3.x.y or 4.x.y, or 3 or 4)`, helmVersion);
  const toolsFromPath = i.bool('tools-from-path', false);
  const notWithPath = ([['helm-version', DEFAULT_HELM_VERSION], ['helm-base-url', DEFAULT_HELM_BASE_URL]] as const).find(([name, fallback]) => i.string(name, fallback) !== fallback);
  if (toolsFromPath && notWithPath) {
    throw new InputError(notWithPath[0], 'is not read with tools-from-path: true (the helm on PATH is used as it is); remove one of them', i.string(notWithPath[0]));
  }
  const url = (name: string, fallback: string): string => {
    const v = i.string(name, fallback).replace(/\/+$/, '');
    if (!/^https?:\/\/[^\s/]+/.test(v)) throw new InputError(name, 'must be an http(s) URL', v);
    return v;
  };
  const smokeUrl = i.string('smoke-url');
  if (smokeUrl !== '' && !/^https?:\/\/[^\s/]+\S*$/.test(smokeUrl)) throw new InputError('smoke-url', 'must be an http(s) URL', smokeUrl);
  const smokeAttempts = i.int('smoke-attempts', 10, { min: 1, max: 100 });
  if (smokeUrl === '' && i.string('smoke-attempts', '10') !== '10') {
    throw new InputError('smoke-attempts', 'is read only with smoke-url (set smoke-url, or remove it)', i.string('smoke-attempts'));
  }

  const dryRun = i.bool('dry-run', false);
  const helmTest = i.bool('helm-test', false);
  if (dryRun) {
    const validation: Array<[string, boolean]> = [['helm-test', helmTest], ['smoke-url', smokeUrl !== ''], ['bake-duration', bake.durationMs > 0]];
    const given = validation.find(([, on]) => on);
    if (given) throw new InputError(given[0], 'is not read with dry-run: true (a dry run deploys nothing to validate); remove one of them', i.string(given[0]));
  }

  const podSelector = i.string('pod-selector', `app.kubernetes.io/instance=${release}`);
  if (!/^[A-Za-z0-9_./=!, -]+$/.test(podSelector)) throw new InputError('pod-selector', 'must be an equality-based label selector (k=v, k!=v, k, !k; comma separated)', podSelector);

  return {
    bake,
    release,
    namespace,
    createNamespace: i.bool('create-namespace', false),
    chart,
    environment,
    valuesFiles,
    set,
    setString,
    allowMissingValuesFile,
    image,
    imageSource,
    imageRegistryKey: imageKeys.registryKey,
    imageRepositoryKey: imageKeys.repositoryKey,
    imageDigestKey: imageKeys.digestKey,
    imageTagKey: imageKeys.tagKey,
    imageReferenceKey: imageKeys.referenceKey,
    podAnnotationsKey: valuesKey(i, 'pod-annotations-key', 'podAnnotations', true),
    timeout,
    timeoutSeconds,
    historyMax: i.int('history-max', 10, { min: 0, max: 1000 }),
    rollbackOnFailure: i.bool('rollback-on-failure', true),
    force: i.bool('force', false),
    clusterName,
    region,
    kubeconfig,
    kubeServer: '',
    kubeContext,
    exportKubeconfig: i.bool('export-kubeconfig', false),
    helmVersion,
    helmBaseUrl: url('helm-base-url', DEFAULT_HELM_BASE_URL),
    toolsFromPath,
    dryRun,
    failFast: i.bool('fail-fast', true),
    crashLoopRestarts: i.int('crash-loop-restarts', 3, { min: 1, max: 100 }),
    readinessTimeoutSeconds,
    podSelector,
    logLines: i.int('log-lines', 30, { min: 0, max: 1000 }),
    helmTest,
    smokeUrl,
    smokeAttempts,
  };
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** A key given twice, or in both set and set-string: which one helm applies is not what a reader expects. */
function refuseRepeatedKeys(set: Array<[string, string]>, setString: Array<[string, string]>): void {
  const seen = new Map<string, string>();
  for (const [name, pairs] of [['set', set], ['set-string', setString]] as const) {
    for (const [key] of pairs) {
      const first = seen.get(key);
      if (first !== undefined) {
        throw new InputError(name, first === name ? `must give each key once (${key} is given twice)` : `must not give a key that ${first} gives (${key})`, key);
      }
      seen.set(key, name);
    }
  }
}

function defaultContext(): InputContext {
  return {
    workspace: process.env.GITHUB_WORKSPACE ?? process.cwd(),
    exists: (p) => existsSync(p),
    ...realPathFs,
    envRegion: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? '',
  };
}
