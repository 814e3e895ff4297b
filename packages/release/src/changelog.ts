import { UserError } from '@deploy-actions/action-kit';

const HEADING = /^## \[([^\]]+)\]/;

/**
 * The body of a version's section of a Keep a Changelog file: the lines after
 * `## [X.Y.Z] - date` up to the next `## ` heading (link reference definitions at the end of
 * the file excluded), trimmed. Refuses a missing or empty section.
 */
export function changelogSection(text: string, version: string, file = 'CHANGELOG.md'): string {
  const lines = text.split(/\r?\n/);
  const start = lines.findIndex((l) => HEADING.exec(l)?.[1] === version);
  if (start < 0) {
    throw new UserError(`${file} has no section for ${version}: add "## [${version}] - YYYY-MM-DD" (rename "## [Unreleased]") and merge it first`);
  }
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((l) => l.startsWith('## '));
  const body = (end < 0 ? rest : rest.slice(0, end))
    .filter((l) => !/^\[[^\]]+\]:\s*\S+/.test(l))
    .join('\n')
    .trim();
  if (!body) throw new UserError(`${file}'s section for ${version} is empty: write what changed`);
  return body;
}
