/**
 * Text from outside (commit messages, author names, API fields, rendered manifests) as the card
 * shows it: one line, no HTML, no Markdown links or images, no Mermaid syntax. The card is read in
 * the run summary (HTML after Markdown) and in a terminal; neither may be steered by a commit
 * message.
 */

/** One line of inline text: control characters and line breaks become spaces, markup is escaped. */
export function plain(value: unknown, max = 200): string {
  const one = String(value ?? '')
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
    .trim();
  const cut = one.length > max ? `${one.slice(0, max - 1)}…` : one;
  return cut.replace(/[\\`*_[\]<>|&~]/g, (c) => `\\${c}`);
}

/** A Markdown table of cells already made safe (`plain`, or our own text): nothing is escaped twice. */
export function mdTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const line = (cells: readonly string[]) => `| ${cells.map((c) => c.replace(/\r?\n/g, ' ')).join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n') + '\n';
}

/** A fenced block that no line of `text` can close: a fence longer than any backtick run inside. */
export function fenced(text: string, lang = ''): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${lang}\n${text.replace(/\s+$/, '')}\n${fence}`;
}

export function bytes(n: number): string {
  const abs = Math.abs(n);
  if (abs < 1024) return `${n} B`;
  if (abs < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (abs < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}

/** `3d 4h`, `2h 5m`, `25m`, `40s` between two instants (`from` before `to`). */
export function age(from: string, to: Date): string {
  const ms = to.getTime() - Date.parse(from);
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m`;
  return `${s}s`;
}

export const shortDigest = (digest: string) => digest.replace(/^sha256:/, '').slice(0, 12);
