import { InputError, type GitHubContext } from '@deploy-actions/action-kit';

/** Docker/ECR tag grammar: up to 128 characters, [A-Za-z0-9_] first, then [A-Za-z0-9_.-]. */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export function validateTag(tag: string, input: string): string {
  if (!TAG.test(tag)) {
    throw new InputError(input, 'must hold image tags of up to 128 letters, digits, _ . - (not starting with . or -)', tag);
  }
  return tag;
}

export interface TagOptions {
  tagSemver: boolean;
  tagBranch: boolean;
  tagRunNumber: boolean;
  tagTimestamp: boolean;
  extraTags: string[];
}

/** Lowercase, runs of anything but [a-z0-9._-] become '-', trimmed to 128 with no leading/trailing separators. */
export function slug(value: string): string {
  return value
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, 128)
    .replace(/[.-]+$/, '');
}

/** 'refs/tags/v1.2.3-rc.1+build.5' -> '1.2.3-rc.1-build.5' (a tag cannot hold '+'); undefined for other refs. */
export function semverTag(ref: string): string | undefined {
  const m = /^refs\/tags\/v(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$/.exec(ref);
  return m ? m[1]!.replace(/\+/g, '-') : undefined;
}

export function timestampTag(now: Date): string {
  const iso = now.toISOString(); // 2026-11-21T10:24:07.123Z
  return `${iso.slice(0, 10).replace(/-/g, '')}T${iso.slice(11, 19).replace(/:/g, '')}Z`;
}

/**
 * The image's tags, the 7-character commit SHA first. Deterministic for a given context
 * and clock; duplicates removed keeping the first.
 */
export function computeTags(ctx: Pick<GitHubContext, 'sha' | 'ref' | 'branch' | 'runNumber'>, opts: TagOptions, now: Date): string[] {
  if (!/^[0-9a-f]{40}$/.test(ctx.sha)) throw new Error(`GITHUB_SHA '${ctx.sha}' is not a 40-character commit SHA`);
  const tags = [ctx.sha.slice(0, 7)];
  if (opts.tagSemver) {
    const v = semverTag(ctx.ref);
    if (v) tags.push(v);
  }
  if (opts.tagBranch && ctx.branch) {
    const s = slug(ctx.branch);
    if (s) tags.push(s);
  }
  if (opts.tagRunNumber && ctx.runNumber) tags.push(`run-${ctx.runNumber}`);
  if (opts.tagTimestamp) tags.push(timestampTag(now));
  tags.push(...opts.extraTags);
  for (const t of tags) validateTag(t, 'extra-tags');
  return [...new Set(tags)];
}
