/** Escapes a value for a markdown table cell. */
export function cell(value: unknown): string {
  return String(value ?? '')
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/\r?\n/g, '<br>');
}

export function table(headers: readonly string[], rows: ReadonlyArray<readonly unknown[]>): string {
  const head = `| ${headers.map(cell).join(' | ')} |`;
  const rule = `| ${headers.map(() => '---').join(' | ')} |`;
  return [head, rule, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n') + '\n';
}

export function codeBlock(text: string, lang = ''): string {
  const fence = text.includes('```') ? '~~~~' : '```';
  return `${fence}${lang}\n${text.replace(/\s+$/, '')}\n${fence}\n`;
}
