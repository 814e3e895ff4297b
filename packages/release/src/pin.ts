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

/** Rewrites the references into `repository` of every workflow file to `@tag`; returns the files changed. */
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
  const wrong = files.flatMap((f) =>
    usesOf(parse(readFileSync(join(root, f), 'utf8')))
      .map((u) => ({ u, p: parseUses(u) }))
      .filter(({ p }) => p.kind === 'remote' && p.repository.toLowerCase() === repository.toLowerCase() && p.ref !== tag)
      .map(({ u }) => `${f}: ${u}`),
  );
  if (wrong.length) throw new UserError(`the release commit would reference other versions than ${tag}: ${wrong.join('; ')}`);
}
