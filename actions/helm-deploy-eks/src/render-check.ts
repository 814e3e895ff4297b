/**
 * The render check: before anything touches the cluster, the rendered workloads must run the
 * pinned digest, and every image they name must be a well-formed reference. Pure.
 */
import { parse } from 'yaml';
import { keysText, NO_KEYS, normalizeImage, normalText, sameKeys, type ImageKeys, type NormalRef } from '@deploy-actions/chart';
import type { ImageRef } from './inputs';
import { isWellFormedImage, type RenderedContainer } from './manifests';
import { shortenDigests } from './shorten';

export type RenderVerdict =
  | { ok: true; pinned: RenderedContainer[] }
  | { ok: false; kind: 'malformed' | 'missing' | 'elsewhere'; containers: RenderedContainer[] };

function sameImage(a: NormalRef | undefined, b: NormalRef): boolean {
  return !!a && a.registry === b.registry && a.path === b.path && a.digest === b.digest;
}

/**
 * Each workload container's whole normalised reference against the pinned image: no container
 * may render a malformed image, none may render the pinned digest under another registry or
 * repository, and at least one must render exactly the pinned registry, repository and digest.
 */
export function judgeRender(containers: readonly RenderedContainer[], image: ImageRef | undefined): RenderVerdict {
  const malformed = containers.filter((c) => !isWellFormedImage(c.image) || !normalizeImage(c.image));
  if (malformed.length > 0) return { ok: false, kind: 'malformed', containers: malformed };
  if (!image) return { ok: true, pinned: [] };
  const want = expected(image);
  const rendered = containers.map((c) => ({ c, n: normalizeImage(c.image) }));
  const elsewhere = rendered.filter(({ n }) => n?.digest === image.digest && !sameImage(n, want)).map(({ c }) => c);
  if (elsewhere.length > 0) return { ok: false, kind: 'elsewhere', containers: elsewhere };
  const pinned = rendered.filter(({ n }) => sameImage(n, want)).map(({ c }) => c);
  return pinned.length > 0 ? { ok: true, pinned } : { ok: false, kind: 'missing', containers: [...containers] };
}

/** The pinned image in normal form (the repository was validated as a reference by the inputs). */
function expected(image: ImageRef): NormalRef {
  return normalizeImage(`${image.repository}@${image.digest}`) ?? { registry: '', path: image.repository, digest: image.digest };
}

function where(c: RenderedContainer): string {
  return `${c.kind} ${c.name}${c.hook ? ` (${c.hook} hook)` : ''}${c.init ? ` init container ${c.container}` : ''}`;
}

/** `"img" in Deployment web, Job web-migrate (pre-upgrade hook)`: each distinct image once, with where it is. */
export function renderedImagesText(containers: readonly RenderedContainer[]): string {
  if (containers.length === 0) return 'no workload containers';
  const byImage = new Map<string, string[]>();
  for (const c of containers) byImage.set(c.image, [...(byImage.get(c.image) ?? []), where(c)]);
  return [...byImage].map(([img, at]) => `"${shortenDigests(img)}" in ${[...new Set(at)].join(', ')}`).join('; ');
}

const REPO_KEYS = ['repository', 'repo', 'image', 'name'];
const DIGEST_KEYS = ['digest', 'ref', 'sha', 'tag', 'version'];
const REFERENCE_KEY = /^(image|imageRef|imageReference|reference)$/i;

/** Whether a values.yaml value may hold an image's part: a string, a number (tags like 1.0) or null. */
function scalar(v: unknown): boolean {
  return v === null || ['string', 'number'].includes(typeof v);
}

/**
 * Image layouts in the chart's values.yaml, each as the keys to pass: a map with a repository-like
 * string key next to a digest/tag-like key (e.g. container.image.repo + container.image.ref),
 * with its `registry` key when it has one (the repository then takes the path alone) and its
 * `tag` key beside a `digest` (cleared, so the digest is what the chart renders); or a key named
 * like an image holding a whole reference (`image: repo:1.0`). Paths with the usual test/hook
 * names come last.
 */
export function imageKeyCandidates(valuesYaml: string, current: ImageKeys): ImageKeys[] {
  let root: unknown;
  try {
    root = parse(valuesYaml);
  } catch {
    return [];
  }
  const found: ImageKeys[] = [];
  const walk = (node: unknown, path: string[]): void => {
    if (!node || typeof node !== 'object' || Array.isArray(node) || path.length > 8) return;
    const obj = node as Record<string, unknown>;
    const prefix = path.length > 0 ? `${path.join('.')}.` : '';
    const repo = REPO_KEYS.find((k) => typeof obj[k] === 'string');
    const digest = DIGEST_KEYS.find((k) => k !== repo && k in obj && scalar(obj[k]));
    if (repo && digest) {
      const registry = typeof obj.registry === 'string' ? `${prefix}registry` : '';
      const tag = digest !== 'tag' && 'tag' in obj && scalar(obj.tag) ? `${prefix}tag` : '';
      const keys = { ...NO_KEYS, registryKey: registry, repositoryKey: `${prefix}${repo}`, digestKey: `${prefix}${digest}` };
      if (tag) found.push({ ...keys, tagKey: tag });
      found.push(keys);
    }
    for (const [k, v] of Object.entries(obj)) {
      if (!/^[A-Za-z0-9_-]+$/.test(k)) continue;
      if (REFERENCE_KEY.test(k) && typeof v === 'string' && (v === '' || normalizeImage(v))) found.push({ ...NO_KEYS, referenceKey: `${prefix}${k}` });
      walk(v, [...path, k]);
    }
  };
  walk(root, []);
  const auxiliary = (k: ImageKeys) => (/(^|\.)(tests?|hooks?|migrations?|init)\b/i.test(k.repositoryKey || k.referenceKey) ? 1 : 0);
  return found.filter((k) => !sameKeys(k, current)).sort((a, b) => auxiliary(a) - auxiliary(b));
}

function normalOf(image: string): string {
  const n = normalizeImage(image);
  return n ? normalText(n) : image;
}

/** The one line of a failed render check. */
export function renderFailureLine(v: Extract<RenderVerdict, { ok: false }>, image: ImageRef | undefined, used: ImageKeys, fitting: ImageKeys[]): string {
  const keys = `values keys set: ${keysText(used)}`;
  const hint = fitting.length > 0 ? `; these keys render it: ${fitting.map(keysText).join(' or ')}` : '';
  if (v.kind === 'elsewhere') {
    // Hosts are kept whole: "docker.io/..." against "<ecr host>/..." is the point of the line.
    const first = v.containers[0]!;
    const rendered = [...new Set(v.containers.map((c) => c.image))];
    const shown = rendered.map((img) => `"${shortenDigests(normalOf(img))}"`).join(', ');
    return (
      `The chart renders the pinned digest from another image: rendered ${shown} in ${where(first)}${v.containers.length > 1 ? ` and ${v.containers.length - 1} more` : ''}, ` +
      `expected "${shortenDigests(normalText(expected(image!)))}" (${keys})${hint}`
    );
  }
  const head =
    v.kind === 'malformed'
      ? `The chart renders a malformed image (${image ? keys : 'values keys left at the chart defaults'})`
      : `The chart does not render the pinned image ${shortenDigests(normalText(expected(image!)))} in any workload container (${keys})`;
  return `${head}: ${renderedImagesText(v.containers)}${hint}`;
}
