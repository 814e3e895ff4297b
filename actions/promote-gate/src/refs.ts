/** Pure helpers: digests, image references, ref patterns, tag templates. */

export const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;
export const SHA_RE = /^[0-9a-f]{40}$/;
/** ECR repository names: lowercase path components separated by '/', 2 to 256 characters. */
export const ECR_REPOSITORY_RE = /^(?=.{2,256}$)(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
/** Docker/ECR tag grammar. */
export const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
/** Environment names this action accepts: they end up in ECR tags, so tag-safe characters only. */
export const ENVIRONMENT_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const ECR_HOST_RE = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/;

export interface ParsedImageRef {
  /** The registry host, '' when the reference has none. */
  registry: string;
  repository: string;
  digest: string;
  /** Set when the registry is an ECR host. */
  registryId?: string;
  region?: string;
}

/** Parses `[registry/]repository[:tag]@sha256:<hex>`; undefined when it is not of that form. */
export function parseImageRef(ref: string): ParsedImageRef | undefined {
  const at = ref.lastIndexOf('@');
  if (at <= 0) return undefined;
  const digest = ref.slice(at + 1);
  if (!DIGEST_RE.test(digest)) return undefined;
  let name = ref.slice(0, at);
  const slash = name.indexOf('/');
  let registry = '';
  if (slash > 0) {
    const first = name.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      registry = first;
      name = name.slice(slash + 1);
    }
  }
  // Drop a tag: a ':' after the last '/'.
  const colon = name.lastIndexOf(':');
  if (colon > name.lastIndexOf('/')) name = name.slice(0, colon);
  if (!ECR_REPOSITORY_RE.test(name)) return undefined;
  const ecr = ECR_HOST_RE.exec(registry);
  return { registry, repository: name, digest, ...(ecr ? { registryId: ecr[1], region: ecr[2] } : {}) };
}

/** Exact branch or tag refs only: no patterns, so `refs/**` or `refs/heads/*` can never widen what may deploy. */
export { EXACT_REF_RE } from '@deploy-actions/environments/promotion';

export function refAllowed(ref: string, allowed: readonly string[]): boolean {
  return allowed.includes(ref);
}

export interface TagVars {
  environment: string;
  sha: string;
}

/** Renders `{environment}`, `{sha7}`, `{sha}`; unknown placeholders are an error. */
export function renderTag(template: string, vars: TagVars): string {
  return template.replace(/\{([^}]*)\}/g, (_, key: string) => {
    if (key === 'environment') return vars.environment;
    if (key === 'sha7') return vars.sha.slice(0, 7);
    if (key === 'sha') return vars.sha;
    throw new Error(`unknown placeholder {${key}}`);
  });
}

/** GitHub compares environment names case-insensitively. */
export function sameEnvironment(a: string | undefined, b: string): boolean {
  return (a ?? '').toLowerCase() === b.toLowerCase();
}

export { KMS_KEY_ARN_RE } from '@deploy-actions/action-kit';
