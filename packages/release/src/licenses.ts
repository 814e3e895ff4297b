/**
 * The licenses of the packages inside a bundle, in the form ncc's `--license` writes (for each
 * bundled package its name, its license field, then the license text), and the check CI runs
 * against the allow-list in scripts/license-allowlist.json. The build writes the file itself
 * (licensesText, from the modules of every chunk): ncc's own misses packages that only chunks
 * loaded by a dynamic import hold, and packages of the entry as well (yaml in promote-gate's). Parsed by hand: the file
 * has no structured form; a package is a name line (after a blank line or at the top) followed
 * by an SPDX expression line.
 */
export interface BundledLicense {
  name: string;
  license: string;
}

const NAME = /^(?:@[a-z0-9][\w.~-]*\/)?[a-z0-9][\w.~-]*$/;
const SPDX = /^\(?[A-Za-z0-9.+-]+(?:\s+(?:OR|AND|WITH)\s+\(?[A-Za-z0-9.+-]+\)?)*\)?$/;

export function parseNccLicenses(text: string): BundledLicense[] {
  const lines = text.split(/\r?\n/);
  const out: BundledLicense[] = [];
  lines.forEach((line, i) => {
    const next = lines[i + 1]?.trim() ?? '';
    if ((i === 0 || lines[i - 1]!.trim() === '') && NAME.test(line) && SPDX.test(next)) out.push({ name: line, license: next });
  });
  return out;
}

/**
 * The packages whose license expression is not allowed: every license of an AND, at least one
 * of an OR (a package under `MIT OR GPL-3.0` may be used under MIT).
 */
export function disallowed<T extends BundledLicense>(entries: readonly T[], allowed: readonly string[]): T[] {
  const ok = new Set(allowed);
  const allows = (expr: string): boolean => {
    const e = expr.trim().replace(/^\((.*)\)$/, '$1');
    if (/\sOR\s/.test(e)) return e.split(/\s+OR\s+/).some(allows);
    if (/\sAND\s/.test(e)) return e.split(/\s+AND\s+/).every(allows);
    return ok.has(e);
  };
  return entries.filter((e) => !allows(e.license));
}

/** A package as licensesText writes it: its name, license expression and license file's text ('' when it ships none). */
export interface LicensedPackage extends BundledLicense {
  text: string;
}

/** The license file of a bundle: one entry per package name (the first of its versions), sorted by name. */
export function licensesText(packages: readonly LicensedPackage[]): string {
  const byName = new Map<string, LicensedPackage>();
  for (const p of packages) if (!byName.has(p.name)) byName.set(p.name, p);
  return [...byName.values()]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((p) => `${p.name}\n${p.license}\n${p.text.trim()}`.trimEnd() + '\n')
    .join('\n');
}

/** The license file of an installed package: LICENSE, LICENCE or COPYING, with or without an extension. */
export function licenseFileName(names: readonly string[]): string | undefined {
  return [...names].sort().find((n) => /^(licen[cs]e|copying)(\.[a-z]+)?$/i.test(n));
}
