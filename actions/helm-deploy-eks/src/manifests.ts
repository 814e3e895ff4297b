/**
 * Rendered manifests as objects (parsed with `yaml`): the workloads a chart renders and the
 * images of their containers, hooks and tests included.
 */
import { parseAllDocuments } from 'yaml';

export interface K8sObject {
  apiVersion?: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
}

export function parseManifests(text: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    const o = doc.toJS() as unknown;
    if (o && typeof o === 'object' && typeof (o as K8sObject).kind === 'string') {
      const k = o as K8sObject;
      out.push({ ...k, metadata: { ...k.metadata, name: String(k.metadata?.name ?? '') } });
    }
  }
  return out;
}

/** The helm.sh/hook annotation (e.g. "pre-upgrade", "test"), or undefined for a plain release object. */
export function hookOf(o: K8sObject): string | undefined {
  return o.metadata.annotations?.['helm.sh/hook'] || undefined;
}

interface PodSpec {
  containers?: Array<{ name?: string; image?: unknown }>;
  initContainers?: Array<{ name?: string; image?: unknown }>;
}

/** Where each workload kind keeps its pod spec. */
function podSpecOf(o: K8sObject): PodSpec | undefined {
  const spec = o.spec as Record<string, any> | undefined;
  switch (o.kind) {
    case 'Pod':
      return spec as PodSpec | undefined;
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'Job':
      return spec?.template?.spec as PodSpec | undefined;
    case 'CronJob':
      return spec?.jobTemplate?.spec?.template?.spec as PodSpec | undefined;
    default:
      return undefined;
  }
}

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Pod'];

export interface RenderedContainer {
  kind: string;
  name: string;
  container: string;
  /** As rendered; '' when the chart rendered none or a non-string. */
  image: string;
  init: boolean;
  hook?: string;
}

export function renderedContainers(objects: readonly K8sObject[]): RenderedContainer[] {
  const out: RenderedContainer[] = [];
  for (const o of objects) {
    const pod = podSpecOf(o);
    if (!pod) continue;
    const hook = hookOf(o);
    for (const [list, init] of [[pod.initContainers, true], [pod.containers, false]] as const) {
      for (const c of list ?? []) {
        const entry: RenderedContainer = { kind: o.kind, name: o.metadata.name, container: String(c.name ?? ''), image: typeof c.image === 'string' ? c.image : '', init };
        out.push(hook ? { ...entry, hook } : entry);
      }
    }
  }
  return out;
}

/**
 * Whether an image reference is well formed: [registry[:port]/]path[:tag][@algo:hex]. Written
 * from the grammar of the distribution project's reference package (no maintained npm package
 * parses references); it rejects what charts render when keys are missing: "", ":", "repo:",
 * ":tag", "@sha256:...", "repo@".
 */
const DOMAIN = String.raw`(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?`;
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const IMAGE_RE = new RegExp(
  String.raw`^(?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*(?::[\w][\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$`,
);

export function isWellFormedImage(ref: string): boolean {
  return ref.length <= 4096 && IMAGE_RE.test(ref);
}
