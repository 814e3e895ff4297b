/**
 * The render check: before anything touches the cluster, the rendered workloads must run the
 * pinned digest, and every image they name must be a well-formed reference. Pure.
 */
import { parse } from 'yaml';
import type { ImageRef } from './inputs';
import { isWellFormedImage, type RenderedContainer } from './manifests';
import { shortenImage } from './shorten';

export interface ImageKeys {
  repositoryKey: string;
  digestKey: string;
}

export type RenderVerdict =
  | { ok: true; pinned: RenderedContainer[] }
  | { ok: false; kind: 'malformed' | 'missing'; containers: RenderedContainer[] };

/** The pinned digest must be in at least one workload container; no container may render a malformed image. */
export function judgeRender(containers: readonly RenderedContainer[], image: ImageRef | undefined): RenderVerdict {
  const malformed = containers.filter((c) => !isWellFormedImage(c.image));
  if (malformed.length > 0) return { ok: false, kind: 'malformed', containers: malformed };
  if (!image) return { ok: true, pinned: [] };
  const pinned = containers.filter((c) => c.image.endsWith(`@${image.digest}`));
  return pinned.length > 0 ? { ok: true, pinned } : { ok: false, kind: 'missing', containers: [...containers] };
}

function where(c: RenderedContainer): string {
  return `${c.kind} ${c.name}${c.hook ? ` (${c.hook} hook)` : ''}${c.init ? ` init container ${c.container}` : ''}`;
}

/** `"img" in Deployment web, Job web-migrate (pre-upgrade hook)`: each distinct image once, with where it is. */
export function renderedImagesText(containers: readonly RenderedContainer[]): string {
  if (containers.length === 0) return 'no workload containers';
  const byImage = new Map<string, string[]>();
  for (const c of containers) byImage.set(c.image, [...(byImage.get(c.image) ?? []), where(c)]);
  return [...byImage].map(([img, at]) => `"${shortenImage(img)}" in ${[...new Set(at)].join(', ')}`).join('; ');
}

const REPO_KEYS = ['repository', 'repo', 'image', 'name'];
const DIGEST_KEYS = ['digest', 'ref', 'sha', 'tag', 'version'];

/**
 * Maps in the chart's values.yaml that look like an image: a repository-like string key next to
 * a digest/tag-like key (e.g. container.image.repo + container.image.ref). Paths with the
 * usual test/hook names come last.
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
    const repo = REPO_KEYS.find((k) => typeof obj[k] === 'string');
    const digest = DIGEST_KEYS.find((k) => k in obj && (obj[k] === null || ['string', 'number'].includes(typeof obj[k])));
    if (repo && digest && repo !== digest) {
      const prefix = path.length > 0 ? `${path.join('.')}.` : '';
      found.push({ repositoryKey: `${prefix}${repo}`, digestKey: `${prefix}${digest}` });
    }
    for (const [k, v] of Object.entries(obj)) if (/^[A-Za-z0-9_-]+$/.test(k)) walk(v, [...path, k]);
  };
  walk(root, []);
  const auxiliary = (k: ImageKeys) => (/(^|\.)(tests?|hooks?|migrations?|init)\b/i.test(k.repositoryKey) ? 1 : 0);
  return found
    .filter((k) => k.repositoryKey !== current.repositoryKey || k.digestKey !== current.digestKey)
    .sort((a, b) => auxiliary(a) - auxiliary(b));
}

export function keysText(k: ImageKeys): string {
  return `image-repository-key: ${k.repositoryKey}, image-digest-key: ${k.digestKey}`;
}

/** The one line of a failed render check. */
export function renderFailureLine(v: Extract<RenderVerdict, { ok: false }>, image: ImageRef | undefined, used: ImageKeys, fitting: ImageKeys[]): string {
  const keys = `${used.repositoryKey}/${used.digestKey}`;
  const head =
    v.kind === 'malformed'
      ? `The chart renders a malformed image (values keys ${image ? `set: ${keys}` : 'left at the chart defaults'})`
      : `The chart does not render the pinned digest ${image!.digest.slice(0, 19)}… in any workload container (values keys set: ${keys})`;
  const hint = fitting.length > 0 ? `; these keys render it: ${fitting.map(keysText).join(' or ')}` : '';
  return `${head}: ${renderedImagesText(v.containers)}${hint}`;
}
