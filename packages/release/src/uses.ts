/**
 * How GitHub reads a `uses:` value, and the rule this repository's releases rely on: a
 * reference to `owner/repo/<path>@<ref>` runs that ref of that repository, whoever calls it.
 * The workflow executor in test/ resolves references with these functions, so what the tests
 * run is what GitHub would run.
 */

export type Uses =
  /** `docker://image` */
  | { kind: 'docker'; image: string }
  /** `./path`: the workspace (steps) or the run's repository at the run's commit (jobs). */
  | { kind: 'local'; path: string }
  /** `$/path`: the repository of the workflow holding the line, at that workflow's commit. */
  | { kind: 'self'; path: string }
  /** `owner/repo[/path]@ref` */
  | { kind: 'remote'; repository: string; path: string; ref: string };

const REMOTE = /^([A-Za-z0-9][A-Za-z0-9_.-]*)\/([A-Za-z0-9_.-]+)((?:\/[^@/]+)*)@([^@\s]+)$/;

export function parseUses(uses: string): Uses {
  if (uses.startsWith('docker://')) return { kind: 'docker', image: uses.slice('docker://'.length) };
  if (uses.startsWith('./')) return { kind: 'local', path: trimPath(uses.slice(2)) };
  if (uses.startsWith('$/')) return { kind: 'self', path: trimPath(uses.slice(2)) };
  const m = REMOTE.exec(uses);
  if (!m) throw new Error(`uses: "${uses}" is not owner/repo[/path]@ref, ./path, $/path or docker://image`);
  return { kind: 'remote', repository: `${m[1]}/${m[2]}`, path: trimPath(m[3]!.slice(1)), ref: m[4]! };
}

function trimPath(p: string): string {
  return p.replace(/^\/+|\/+$/g, '');
}

/** Where a `uses:` line sits: the workflow file's own repository and commit, and the run's. */
export interface UsesSite {
  /** The repository and commit of the file holding the line (a called workflow's own). */
  workflowRepository: string;
  workflowSha: string;
  /** The repository and commit the run is for (the top-level workflow's). */
  runRepository: string;
  runSha: string;
}

/** A reference resolved to a repository, a path inside it and a ref (a commit SHA for ./ and $/). */
export interface ResolvedUses {
  repository: string;
  path: string;
  ref: string;
}

/**
 * Resolves a job-level reusable workflow call or an action step to repository, path and ref.
 * `./` resolves in the run's repository at the run's commit (for a step, that is the
 * checked-out workspace: callers that model checkouts handle `local` steps themselves);
 * `$/` resolves in the workflow's own repository at its commit; `owner/repo/...@ref` names
 * its ref whatever the caller ran at. Docker references are not resolved.
 */
export function resolveUses(uses: string, site: UsesSite): ResolvedUses | undefined {
  const u = parseUses(uses);
  switch (u.kind) {
    case 'docker':
      return undefined;
    case 'local':
      return { repository: site.runRepository, path: u.path, ref: site.runSha };
    case 'self':
      return { repository: site.workflowRepository, path: u.path, ref: site.workflowSha };
    case 'remote':
      return { repository: u.repository, path: u.path, ref: u.ref };
  }
}

/**
 * The commit a ref names in a repository, given its refs as `git ls-remote` lists them
 * (`refs/tags/v1` -> sha, with peeled `refs/tags/v1^{}` entries for annotated tags). A full
 * SHA names itself; otherwise a tag wins over a branch of the same name, as on GitHub.
 */
export function resolveRef(refs: ReadonlyMap<string, string>, ref: string): string | undefined {
  if (/^[0-9a-f]{40}$/.test(ref)) return ref;
  for (const full of [`refs/tags/${ref}`, `refs/heads/${ref}`]) {
    const sha = refs.get(`${full}^{}`) ?? refs.get(full);
    if (sha) return sha;
  }
  return undefined;
}

/** Parses `git ls-remote` output into ref -> sha. */
export function parseLsRemote(output: string): Map<string, string> {
  const refs = new Map<string, string>();
  for (const line of output.split('\n')) {
    const [sha, ref] = line.trim().split(/\s+/);
    if (sha && ref) refs.set(ref, sha);
  }
  return refs;
}

const USES_LINE = /^(\s*(?:-\s+)?uses:\s*)(["']?)([^"'\s#]+)\2(.*)$/;

/** Every `uses:` value of a workflow's text that points into `repository`, with its line number. */
export function ownReferences(text: string, repository: string): Array<{ line: number; uses: string; ref: string }> {
  const out: Array<{ line: number; uses: string; ref: string }> = [];
  text.split('\n').forEach((l, i) => {
    const m = USES_LINE.exec(l);
    if (!m) return;
    const u = tryParse(m[3]!);
    if (u?.kind === 'remote' && sameRepository(u.repository, repository)) out.push({ line: i + 1, uses: m[3]!, ref: u.ref });
  });
  return out;
}

/**
 * Rewrites every `uses: $/<path>` and `uses: <repository>/<path>@<ref>` line of a workflow's
 * text to `<repository>/<path>@<to>`, keeping quotes, comments and everything else byte for
 * byte. Only `uses:` lines change: comments and documentation stay as they are. This is the
 * GitHub Enterprise Server release commit, where `$/` does not exist; on github.com the
 * workflows keep `$/` and need no rewrite.
 */
export function pinOwnReferences(text: string, repository: string, to: string): { text: string; changed: number } {
  let changed = 0;
  const lines = text.split('\n').map((l) => {
    const m = USES_LINE.exec(l);
    const u = m ? tryParse(m[3]!) : undefined;
    if (!m || !u) return l;
    if (u.kind === 'self') {
      changed++;
      return `${m[1]}${m[2]}${repository}${u.path ? `/${u.path}` : ''}@${to}${m[2]}${m[4]}`;
    }
    if (u.kind !== 'remote' || !sameRepository(u.repository, repository)) return l;
    const pinned = `${u.repository}${u.path ? `/${u.path}` : ''}@${to}`;
    if (pinned !== m[3]) changed++;
    return `${m[1]}${m[2]}${pinned}${m[2]}${m[4]}`;
  });
  return { text: lines.join('\n'), changed };
}

function tryParse(uses: string): Uses | undefined {
  try {
    return parseUses(uses);
  } catch {
    return undefined;
  }
}

/** GitHub owner and repository names are case-insensitive. */
function sameRepository(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
