// What GitHub would run for a caller's `uses:` line: every reusable workflow and action it
// reaches, each resolved with the release package's rule (resolveUses + resolveRef) against
// the remote's refs, read at the resolved commit from a bare repository.
import { execFileSync } from 'node:child_process';
import { posix } from 'node:path';
import { parse } from 'yaml';
import { parseLsRemote, resolveRef, resolveUses, usesOf, type UsesSite } from '../src';

export interface Resolved {
  uses: string;
  /** The workflow or action.yml file, and the commit it was read at. */
  file: string;
  sha: string;
  /** For an action: the git blob id of the bundle its action.yml runs. */
  bundle?: string;
}

export function resolveTree(bare: string, repository: string, uses: string, site: UsesSite): Resolved[] {
  const refs = parseLsRemote(execFileSync('git', ['ls-remote', bare], { encoding: 'utf8' }));
  const cache = new Map<string, string>();
  const git = (...args: string[]) => {
    const key = args.join(' ');
    if (!cache.has(key)) cache.set(key, execFileSync('git', ['--git-dir', bare, ...args], { encoding: 'utf8' }).trim());
    return cache.get(key)!;
  };
  const show = (sha: string, path: string) => git('show', `${sha}:${path}`);
  const out: Resolved[] = [];
  const visit = (u: string, at: UsesSite) => {
    const r = resolveUses(u, at);
    if (!r || r.repository.toLowerCase() !== repository.toLowerCase()) return; // third-party actions are not ours to follow
    const sha = resolveRef(refs, r.ref);
    if (!sha) throw new Error(`${u}: ${r.ref} does not exist in ${repository}`);
    if (/\.ya?ml$/.test(r.path)) {
      out.push({ uses: u, file: r.path, sha });
      const doc = parse(show(sha, r.path));
      for (const inner of usesOf(doc)) visit(inner, { ...at, workflowRepository: r.repository, workflowSha: sha });
      return;
    }
    const file = posix.join(r.path, 'action.yml');
    const main = (parse(show(sha, file)) as { runs: { main: string } }).runs.main;
    const bundle = git('rev-parse', `${sha}:${posix.join(r.path, main)}`);
    out.push({ uses: u, file, sha, bundle });
  };
  visit(uses, site);
  return out;
}
