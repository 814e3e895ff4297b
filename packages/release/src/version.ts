import semver from 'semver';
import { InputError } from '@deploy-actions/action-kit';

/** What a release version means for the tags: the one it creates, the major tag it may move. */
export interface VersionPlan {
  version: string;
  /** `vX.Y.Z`: created once, never moved. */
  tag: string;
  /** `vX`: moved to this release unless it is a prerelease. */
  majorTag: string;
  prerelease: boolean;
  /** Whether this release becomes the repository's latest (greatest of all versions). */
  latest: boolean;
  /** The greatest earlier release of the same major, if any. */
  previous?: string;
}

const RELEASE_TAG = /^v(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)$/;

/** The release versions among tag names: `v1.2.3` -> `1.2.3` (others, like `v1`, are ignored). */
export function releaseVersions(tags: readonly string[]): string[] {
  return tags.flatMap((t) => {
    const v = RELEASE_TAG.exec(t)?.[1];
    return v && semver.valid(v) ? [v] : [];
  });
}

/**
 * Checks a requested version against the released ones. Accepted: `X.Y.Z` or a prerelease
 * `X.Y.Z-rc.1` (no `v`, no build metadata), greater than every release of its major line, and,
 * for a new major line, greater than every release at all. So `1.4.1` after `2.0.0` is a
 * maintenance release of major 1, and `1.0.0` after `1.1.0` is refused.
 */
export function planVersion(requested: string, existingTags: readonly string[]): VersionPlan {
  const version = requested.trim();
  if (!semver.valid(version) || version.startsWith('v') || version.includes('+') || semver.clean(version) !== version) {
    throw new InputError('version', 'must be a semantic version X.Y.Z (e.g. 1.2.0; no "v", no build metadata)', requested);
  }
  const released = releaseVersions(existingTags);
  if (released.includes(version)) throw new InputError('version', `is already released (tag v${version} exists)`, requested);
  const major = semver.major(version);
  const sameMajor = released.filter((v) => semver.major(v) === major).sort(semver.rcompare);
  const greatest = [...released].sort(semver.rcompare)[0];
  const previous = sameMajor[0];
  const bar = previous ?? greatest;
  if (bar && !semver.gt(version, bar)) {
    throw new InputError('version', `must be greater than the latest ${previous ? `${major}.x ` : ''}release ${bar}`, requested);
  }
  const prerelease = semver.prerelease(version) !== null;
  return {
    version,
    tag: `v${version}`,
    majorTag: `v${major}`,
    prerelease,
    latest: !prerelease && (!greatest || semver.gt(version, greatest)),
    previous,
  };
}

/** Whether moving the major tag from the release `from` to `to` goes forward. */
export function movesForward(from: string | undefined, to: string): boolean {
  return from === undefined || semver.gt(to, from);
}
