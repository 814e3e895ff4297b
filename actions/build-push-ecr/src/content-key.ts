/**
 * The content key: what an image is built from, as one stable name. Two builds with the same key
 * produce the same image (up to labels such as the creation time), so an image found under the key
 * is reused instead of built again, whichever commit or branch asks for it.
 *
 *   key = "tree-" + first 40 hex of sha256(JSON [version, context tree, Dockerfile path,
 *                                                 Dockerfile blob, target, platforms, build args])
 *
 * - context tree: the git tree id of the build context at HEAD (`git rev-parse HEAD:<context>`);
 * - Dockerfile path: relative to the context, '/' separated; blob: its git blob id at HEAD;
 * - target: '' when none;
 * - platforms: sorted, duplicates removed; none given means the builder's default platform, which
 *   the caller fills in (DOCKER_DEFAULT_PLATFORM, else the runner's own);
 * - build args: the value docker uses for each name (the last one given), sorted by name.
 *
 * Pure functions only; the git calls that gather the material are in source.ts.
 */
import { createHash } from 'node:crypto';
import type { ExecResult } from '@deploy-actions/action-kit';

export const CONTENT_KEY_VERSION = 'deploy-actions/content-key/v1';
export const CONTENT_KEY_PREFIX = 'tree-';
export const CONTENT_KEY_LABEL = 'dev.deploy-actions.content-key';

export interface KeyMaterial {
  tree: string;
  dockerfile: string;
  dockerfileBlob: string;
  target?: string;
  platforms: string[];
  buildArgs: Array<[string, string]>;
}

/** docker keeps the last value given for a name; order does not matter to the build. */
export function normaliseBuildArgs(args: Array<[string, string]>): Array<[string, string]> {
  const last = new Map(args);
  return [...last.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export function normalisePlatforms(platforms: string[]): string[] {
  return [...new Set(platforms)].sort();
}

export function contentKey(m: KeyMaterial): string {
  const canonical = JSON.stringify([
    CONTENT_KEY_VERSION,
    m.tree,
    m.dockerfile,
    m.dockerfileBlob,
    m.target ?? '',
    normalisePlatforms(m.platforms),
    normaliseBuildArgs(m.buildArgs),
  ]);
  return CONTENT_KEY_PREFIX + createHash('sha256').update(canonical).digest('hex').slice(0, 40);
}

export function isContentKey(value: string): boolean {
  return /^tree-[0-9a-f]{40}$/.test(value);
}

/** Node's os/arch as an OCI platform (what docker builds for when no platform is given). */
export function hostPlatform(platform: string, arch: string): string {
  const os = platform === 'win32' ? 'windows' : platform;
  const cpu = ({ x64: 'amd64', ia32: '386', arm: 'arm/v7', arm64: 'arm64', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[arch] ?? arch;
  return `${os}/${cpu}`;
}

/**
 * `git rev-parse` run in the context directory: the repository's top level, the HEAD commit, the
 * context's tree and the Dockerfile's blob, one per line. `HEAD:./path` is relative to the
 * current directory, so no path arithmetic against the top level is needed.
 */
export function revParseArgs(dockerfileFromContext: string): string[] {
  return ['rev-parse', '--show-toplevel', 'HEAD', 'HEAD:./', `HEAD:./${dockerfileFromContext}`];
}

export interface RevParsed {
  toplevel?: string;
  commit?: string;
  tree?: string;
  dockerfileBlob?: string;
}

/**
 * The lines of revParseArgs' output. git prints the values it resolved before the first one it
 * cannot (a context or Dockerfile not committed), so a failed call still gives the commit.
 */
export function parseRevParse(stdout: string): RevParsed {
  const [toplevel, ...ids] = stdout.split('\n');
  const id = (v: string | undefined) => (v && /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(v) ? v : undefined);
  if (!toplevel || !/^([A-Za-z]:)?\//.test(toplevel)) return {};
  const [commit, tree, dockerfileBlob] = ids.map(id);
  if (!commit) return { toplevel };
  return { toplevel, commit, tree: tree && dockerfileBlob ? tree : undefined, dockerfileBlob: tree ? dockerfileBlob : undefined };
}

const STATUS = ['--no-optional-locks', 'status', '--porcelain=v1', '-z', '--untracked-files=all'];

/** Changes to tracked files and untracked files (not ignored ones) under the given paths. */
export function statusArgs(paths: string[]): string[] {
  return [...STATUS, '--', ...paths];
}

/**
 * Both reads in one child process: `sh -c` runs revParseArgs' git rev-parse, then statusArgs' git
 * status, and ends each one's stdout with `\0<exit code>\0` and its stderr with `\0`. git rev-parse
 * prints no NUL; status -z ends each entry with one, so the frames cannot be mistaken. One fork of
 * node instead of two: a fork costs the action about 7 ms of CPU, and the copy-on-write faults
 * that follow it as much again (issue 25). The Dockerfile and the paths are the script's
 * positional parameters, never part of its text.
 */
export function bothReadsArgs(dockerfileFromContext: string, paths: string[]): string[] {
  const script = `git rev-parse --show-toplevel HEAD HEAD:./ "HEAD:./$1"; printf '\\0%s\\0' $?; printf '\\0' >&2; shift; git ${STATUS.join(' ')} -- "$@"; printf '\\0%s\\0' $?`;
  return ['-c', script, 'sh', dockerfileFromContext, ...paths];
}

/** The rev-parse and status results of bothReadsArgs' output; undefined when a frame is missing (the script did not run through). Pure. */
export function splitBothReads(stdout: string, stderr: string): [ExecResult, ExecResult] | undefined {
  const m = /^([^\0]*)\0(\d+)\0([^]*)\0(\d+)\0$/.exec(stdout);
  const cut = stderr.indexOf('\0');
  if (!m || cut < 0) return undefined;
  return [
    { exitCode: Number(m[2]), stdout: m[1]!, stderr: stderr.slice(0, cut) },
    { exitCode: Number(m[4]), stdout: m[3]!, stderr: stderr.slice(cut + 1) },
  ];
}

/** Paths of `git status --porcelain=v1 -z` entries (a rename's second, original path is skipped). */
export function parseStatus(stdout: string): string[] {
  const fields = stdout.split('\0');
  const paths: string[] = [];
  for (let i = 0; i < fields.length; i++) {
    const entry = fields[i]!;
    if (entry.length < 4) continue;
    paths.push(entry.slice(3));
    if (entry[0] === 'R' || entry[0] === 'C') i++;
  }
  return paths;
}
