/**
 * The generated files: per stack `<label>.template.json` and `<label>.parameters.json` (the
 * CloudFormation parameter list that `aws cloudformation deploy --parameter-overrides file://...`
 * and `create-stack --parameters file://...` both read), and `stacks.json`, the index: which
 * template goes to which account and region, under which stack name, and the GitHub identities
 * the trust policies were written for.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SetupPlan } from './template';
import { describeSubject, type RepoIdentity } from './subject';

export const INDEX_FILE = 'stacks.json';

export interface StackIndexEntry {
  label: string;
  stackName: string;
  account: string;
  region: string;
  environments: string[];
  template: string;
  parameters: string;
}

export interface StackIndex {
  generatedBy: string;
  source: string;
  stacks: StackIndexEntry[];
  repositories: Array<{ repository: string; repositoryId: string; ownerId: string; subject: string }>;
}

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

/** Every file's name and text, in a stable order. */
export function renderFiles(p: SetupPlan, identities: readonly RepoIdentity[], source: string): Map<string, string> {
  const files = new Map<string, string>();
  const index: StackIndex = {
    generatedBy: 'deploy-setup generate',
    source,
    stacks: [],
    repositories: identities.map((i) => ({ repository: i.repository, repositoryId: i.repositoryId, ownerId: i.ownerId, subject: describeSubject(i.subject) })),
  };
  for (const s of p.stacks) {
    const template = `${s.label}.template.json`;
    const parameters = `${s.label}.parameters.json`;
    files.set(template, json(s.template));
    files.set(parameters, json(s.parameters));
    index.stacks.push({ label: s.label, stackName: s.stackName, account: s.account, region: s.region, environments: s.environments, template, parameters });
  }
  files.set(INDEX_FILE, json(index));
  return files;
}

/** Writes the files; removes generated files of stacks that no longer exist. Returns the names written. */
export function writeFiles(dir: string, files: Map<string, string>): string[] {
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(dir)) {
    if ((f.endsWith('.template.json') || f.endsWith('.parameters.json')) && !files.has(f)) rmSync(join(dir, f));
  }
  for (const [name, text] of files) writeFileSync(join(dir, name), text);
  return [...files.keys()];
}

/** Files that differ from what is in `dir` (missing, changed or left over). */
export function driftedFiles(dir: string, files: Map<string, string>): string[] {
  const out: string[] = [];
  let present: string[] = [];
  try {
    present = readdirSync(dir);
  } catch {
    return [...files.keys()];
  }
  for (const [name, text] of files) {
    let have: string | undefined;
    try {
      have = readFileSync(join(dir, name), 'utf8');
    } catch {
      have = undefined;
    }
    if (have !== text) out.push(name);
  }
  for (const f of present) if ((f.endsWith('.template.json') || f.endsWith('.parameters.json')) && !files.has(f)) out.push(f);
  return out;
}
