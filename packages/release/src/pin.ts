import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { UserError } from '@deploy-actions/action-kit';
import { parseUses, pinOwnReferences } from './uses';

/** The workflow files of a directory (`*.yml`, `*.yaml`), relative to `root`. */
export function workflowFiles(root: string, dir: string): string[] {
  return readdirSync(join(root, dir))
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => `${dir}/${f}`);
}

/** Rewrites the references into `repository` (`$/` ones included) of every workflow file to `@tag`; returns the files changed. */
export function pinWorkflows(root: string, files: readonly string[], repository: string, tag: string): string[] {
  const changed: string[] = [];
  for (const f of files) {
    const text = readFileSync(join(root, f), 'utf8');
    const pinned = pinOwnReferences(text, repository, tag);
    if (pinned.changed === 0) continue;
    writeFileSync(join(root, f), pinned.text);
    changed.push(f);
  }
  return changed;
}

/** Every `uses:` value of a parsed workflow: jobs' reusable workflow calls and steps' actions. */
export function usesOf(doc: unknown): string[] {
  const jobs = (doc as { jobs?: Record<string, { uses?: unknown; steps?: Array<{ uses?: unknown }> }> })?.jobs ?? {};
  return Object.values(jobs).flatMap((job) => [job?.uses, ...(Array.isArray(job?.steps) ? job.steps.map((s) => s?.uses) : [])]).filter(
    (u): u is string => typeof u === 'string',
  );
}

/**
 * Reads the files back as YAML (independently of the line rewrite) and refuses any reference
 * into `repository` that does not name `tag`: a release whose nested references disagree is
 * never tagged.
 */
export function checkPinned(root: string, files: readonly string[], repository: string, tag: string): void {
  const wrong = ownUses(root, files, repository).filter(({ p }) => p.kind === 'self' || (p.kind === 'remote' && p.ref !== tag));
  if (wrong.length) throw new UserError(`the release commit would reference other versions than ${tag}: ${wrong.map((w) => w.where).join('; ')}`);
}

/**
 * github.com: the workflows must reach this repository by `$/` only (the commit that runs), so a
 * caller pinned to the release tag or its SHA gets that one commit at every level. A reference
 * that names a ref (`org/deploy-actions/x@v1`) would run whatever that ref names later, and fails
 * an organization's SHA-pinning policy: the release is refused before anything is tagged.
 */
export function checkSelfReferences(root: string, files: readonly string[], repository: string): void {
  const wrong = ownUses(root, files, repository).filter(({ p }) => p.kind === 'remote');
  if (wrong.length) {
    throw new UserError(`the workflows reference ${repository} by a ref instead of $/<path> (the running commit): ${wrong.map((w) => w.where).join('; ')}`);
  }
}

/** The `uses:` values of the files that reach `repository`: `$/` ones and `<repository>/...@ref` ones. */
function ownUses(root: string, files: readonly string[], repository: string) {
  return files.flatMap((f) =>
    usesOf(parse(readFileSync(join(root, f), 'utf8')))
      .map((u) => ({ where: `${f}: ${u}`, p: parseUses(u) }))
      .filter(({ p }) => p.kind === 'self' || (p.kind === 'remote' && p.repository.toLowerCase() === repository.toLowerCase())),
  );
}
