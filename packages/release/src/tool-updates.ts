/**
 * Keeps helm-deploy-eks's tool pins current: the default helm of each line (4, 3) and the
 * kubectl of each cluster minor it knows. Dependabot cannot see these pins (they are strings in
 * TypeScript, not dependencies), so .github/workflows/tool-updates.yml runs this on a schedule
 * and opens a pull request with the new versions and their sha256 pins.
 *
 * Data flow: the pinned versions read from the sources -> the newest stable patch of each line
 * from the upstream release lists -> the checksum of each new download from its official
 * checksum file -> the sources rewritten. Pure except for `readSources`/`writeSources`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';

export const SOURCES = {
  inputs: 'actions/helm-deploy-eks/src/inputs.ts',
  tools: 'actions/helm-deploy-eks/src/tools.ts',
  action: 'helm-deploy-eks/action.yml',
} as const;
export type Sources = Record<keyof typeof SOURCES, string>;

export interface Pins {
  /** Default helm per major line ('4', '3'). */
  helm: Record<string, string>;
  /** kubectl per cluster minor ('1.36'). */
  kubectl: Record<string, string>;
  defaultKubectl: string;
}

export interface Update {
  tool: 'helm' | 'kubectl';
  /** The line: a helm major, a kubectl minor. */
  line: string;
  from: string;
  to: string;
}

const HELM_DEFAULTS = /export const DEFAULT_HELM_VERSIONS = \{ 4: '([\d.]+)', 3: '([\d.]+)' \} as const;/;
const KUBECTL_TABLE = /export const KUBECTL_FOR_MINOR: Record<string, string> = \{\n([\s\S]*?)\n\};/;
const KUBECTL_DEFAULT = /export const DEFAULT_KUBECTL_VERSION = '([\d.]+)';/;

function need(m: RegExpExecArray | null, what: string, file: string): RegExpExecArray {
  if (!m) throw new Error(`${file}: ${what} not found in the form this script rewrites; update tool-updates.ts with it`);
  return m;
}

export function readPins(src: Sources): Pins {
  const h = need(HELM_DEFAULTS.exec(src.inputs), 'DEFAULT_HELM_VERSIONS', SOURCES.inputs);
  const table = need(KUBECTL_TABLE.exec(src.tools), 'KUBECTL_FOR_MINOR', SOURCES.tools)[1]!;
  const kubectl: Record<string, string> = {};
  for (const m of table.matchAll(/'(\d+\.\d+)': '([\d.]+)'/g)) kubectl[m[1]!] = m[2]!;
  return { helm: { '4': h[1]!, '3': h[2]! }, kubectl, defaultKubectl: need(KUBECTL_DEFAULT.exec(src.tools), 'DEFAULT_KUBECTL_VERSION', SOURCES.tools)[1]! };
}

/** The newest stable (no pre-release) version of each line among release tags such as `v4.3.1`. */
export function newestPerLine(tags: string[], lineOf: (v: string) => string, lines: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const tag of tags) {
    const v = semver.valid(tag.replace(/^v/, ''));
    if (!v || semver.prerelease(v)) continue;
    const line = lineOf(v);
    if (!lines.includes(line)) continue;
    if (!out[line] || semver.gt(v, out[line]!)) out[line] = v;
  }
  return out;
}

export const helmLine = (v: string) => String(semver.major(v));
export const kubectlLine = (v: string) => `${semver.major(v)}.${semver.minor(v)}`;

/** Which pins move forward (never backwards: a withdrawn release upstream changes nothing here). */
export function planUpdates(pins: Pins, helmTags: string[], kubernetesTags: string[]): Update[] {
  const updates: Update[] = [];
  const helm = newestPerLine(helmTags, helmLine, Object.keys(pins.helm));
  for (const [line, from] of Object.entries(pins.helm)) {
    const to = helm[line];
    if (to && semver.gt(to, from)) updates.push({ tool: 'helm', line, from, to });
  }
  const kube = newestPerLine(kubernetesTags, kubectlLine, Object.keys(pins.kubectl));
  for (const [line, from] of Object.entries(pins.kubectl)) {
    const to = kube[line];
    if (to && semver.gt(to, from)) updates.push({ tool: 'kubectl', line, from, to });
  }
  return updates;
}

/** Official download locations of linux-amd64 builds and their checksum files. */
export function checksumUrl(u: Update, bases: { helm: string; kubectl: string }): string {
  return u.tool === 'helm'
    ? `${bases.helm}/helm-v${u.to}-linux-amd64.tar.gz.sha256sum`
    : `${bases.kubectl}/v${u.to}/bin/linux/amd64/kubectl.sha256`;
}

/** The first 64-hex word of a checksum file, or undefined. */
export function parseSha256(text: string): string | undefined {
  return /^\s*([a-fA-F0-9]{64})(\s|$)/.exec(text)?.[1]?.toLowerCase();
}

/** The sources with the updates applied; `sha256` holds each update's pin (by `tool to`). */
export function applyUpdates(src: Sources, updates: Update[], sha256: Record<string, string>): Sources {
  let { inputs, tools, action } = src;
  const pins = readPins(src);
  const newPins: string[] = [];
  for (const u of updates) {
    const pin = sha256[`${u.tool} ${u.to}`];
    if (!pin) throw new Error(`no sha256 for ${u.tool} ${u.to}`);
    newPins.push(`  '${u.tool} ${u.to} linux-amd64': { archive: '${pin}' },`);
    if (u.tool === 'helm') {
      pins.helm[u.line] = u.to;
    } else {
      tools = tools.replace(`'${u.line}': '${u.from}',`, `'${u.line}': '${u.to}',`);
      if (pins.defaultKubectl === u.from) tools = tools.replace(KUBECTL_DEFAULT, `export const DEFAULT_KUBECTL_VERSION = '${u.to}';`);
    }
  }
  const helmChanged = updates.some((u) => u.tool === 'helm');
  if (helmChanged) {
    inputs = inputs.replace(HELM_DEFAULTS, `export const DEFAULT_HELM_VERSIONS = { 4: '${pins.helm['4']}', 3: '${pins.helm['3']}' } as const;`);
    const before = readPins(src).helm;
    action = action.replace(`default: '${before['4']}'`, `default: '${pins.helm['4']}'`).replace(`(${before['4']} / ${before['3']})`, `(${pins.helm['4']} / ${pins.helm['3']})`);
  }
  if (newPins.length) {
    const open = 'export const PINNED_SHA256: Readonly<Record<string, { archive?: string; binary?: string }>> = {\n';
    if (!tools.includes(open)) throw new Error(`${SOURCES.tools}: PINNED_SHA256 not found in the form this script rewrites`);
    tools = tools.replace(open, open + newPins.filter((line) => !tools.includes(line.split(':')[0]!)).map((l) => `${l}\n`).join(''));
  }
  return { inputs, tools, action };
}

export function readSources(root: string): Sources {
  return {
    inputs: readFileSync(join(root, SOURCES.inputs), 'utf8'),
    tools: readFileSync(join(root, SOURCES.tools), 'utf8'),
    action: readFileSync(join(root, SOURCES.action), 'utf8'),
  };
}

export function writeSources(root: string, src: Sources): void {
  for (const key of Object.keys(SOURCES) as Array<keyof typeof SOURCES>) writeFileSync(join(root, SOURCES[key]), src[key]);
}

/** Pull request title and body for the updates. */
export function describeUpdates(updates: Update[], sha256: Record<string, string>, urls: Record<string, string>): { title: string; body: string } {
  const names = updates.map((u) => `${u.tool} ${u.to}`);
  const title = `helm-deploy-eks: ${names.join(', ')}`;
  const rows = updates.map((u) => `| ${u.tool} | ${u.line} | ${u.from} | ${u.to} | \`${sha256[`${u.tool} ${u.to}`]}\` | ${urls[`${u.tool} ${u.to}`]} |`);
  const body = [
    'New upstream patches of the tools helm-deploy-eks pins (opened by .github/workflows/tool-updates.yml).',
    '',
    '| tool | line | pinned | new | sha256 (linux-amd64 download) | checksum file |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    'Before merging: read the release notes for breaking changes and advisories, update `HELM_ADVISORIES` in',
    '`actions/helm-deploy-eks/src/helm-support.ts` when a release fixes one, and add a CHANGELOG entry.',
  ].join('\n');
  return { title, body };
}
