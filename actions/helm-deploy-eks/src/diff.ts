/** A unified diff of two manifest texts, by the `diff` package (jsdiff). */
import { createTwoFilesPatch } from 'diff';

/** Without trailing blank lines: helm get manifest and helm template differ only in those. */
function trimEnd(text: string): string {
  const t = text.replace(/\s+$/, '');
  return t === '' ? '' : `${t}\n`;
}

/** Unified diff text with `context` lines around changes; empty when the texts are equal. */
export function unifiedDiff(oldText: string, newText: string, oldName: string, newName: string, context = 3): string {
  const a = trimEnd(oldText);
  const b = trimEnd(newText);
  if (a === b) return '';
  const patch = createTwoFilesPatch(oldName, newName, a, b, undefined, undefined, { context });
  // Drop the "Index"/"====" preamble: start at the --- line, as `diff -u` does.
  return patch.slice(patch.indexOf(`--- ${oldName}`)).replace(/^(---|\+\+\+) (\S+)\t$/gm, '$1 $2');
}
