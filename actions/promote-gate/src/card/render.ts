/**
 * The release card as Markdown: what a reviewer reads before "Approve and deploy". Pure: every
 * fact comes in `CardData` (card.ts gathers them); outside text goes through `plain`.
 * The whole card stays under CARD_BUDGET bytes: the manifest diff gets what the other parts
 * leave, and what does not fit is counted.
 */
import { chainMermaid, type ChainNode } from './chain';
import type { CommitRange } from './commits';
import { compareScans, severityLine, type Finding, type ImageChange } from './image';
import { limitDiff, type ManifestChanges } from './manifests';
import { age, bytes, fenced, mdTable as table, plain, shortDigest } from './markdown';

/**
 * At most this many bytes (UTF-8). GitHub takes 1 MiB of summary per step; the card also travels
 * as a job output and a step input (an environment variable, at most 128 KiB on Linux) and in
 * the record's payload, and a reviewer reads it: 40 KB is far inside all of these.
 */
export const CARD_BUDGET = 40_000;

export interface CardRelease {
  digest: string;
  commit: string;
  /** When it was recorded (running) or signed in the environment before (candidate). */
  since?: string;
  runUrl?: string;
  actor?: string;
  approvedBy?: string;
}

export interface LetThrough {
  environment: string;
  /** success, failed, or hotfix (deployed without the evidence the environment before asks). */
  status: string;
  time: string;
  runUrl: string;
  approvedBy: string;
  signed: boolean;
}

export type Maybe<T> = T | { unavailable: string };
export const isUnavailable = <T>(v: Maybe<T>): v is { unavailable: string } => typeof v === 'object' && v !== null && 'unavailable' in v;

export interface CardData {
  release: string;
  environment: string;
  githubRepository: string;
  imageRepository: string;
  now: Date;
  chain: ChainNode[];
  /** The approval the candidate waits for ('' when the environment has no required reviewers). */
  pending: string;
  running?: CardRelease;
  candidate: CardRelease;
  letThrough: LetThrough[];
  hotfix: boolean;
  commits: Maybe<CommitRange>;
  manifests: Maybe<ManifestChanges>;
  /** Values files used, for the heading of the diff. */
  valuesFiles: string[];
  image: Maybe<ImageChange>;
  /** Findings of the running image (undefined: nothing runs, or its scan is not available: why) and of the candidate. */
  scan: Maybe<{ running?: Finding[]; runningUnavailable?: string; candidate: Finding[] }>;
  guards: { bake: string; alarms: string; rollbackTo?: CardRelease };
}

const link = (url: string | undefined, text: string) => (url && /^https?:\/\/[^\s()<>]+$/.test(url) ? `[${text}](${url})` : text);
const commitCell = (sha: string) => `\`${sha.slice(0, 7)}\``;

function headline(d: CardData): string {
  const parts: string[] = [];
  if (!d.running) parts.push('**first deploy**: nothing runs here yet');
  const m = d.manifests;
  if (isUnavailable(m)) parts.push('manifest diff not available (see below)');
  else {
    parts.push(`objects: ${m.added.length} added, ${m.changed.length} changed, ${m.removed.length} removed`);
    for (const r of m.replicas) parts.push(`replicas ${plain(r.id)} ${r.from ?? '-'} → ${r.to ?? '-'}`);
    const resources = new Set(m.resources.map((r) => `${r.id}/${r.container}`));
    if (resources.size) parts.push(`resources changed: ${plain([...resources].join(', '))}`);
    const images = [...new Set(m.images.map((i) => `${shortImage(i.from)} → ${shortImage(i.to)}`))];
    if (images.length) parts.push(`image ${images.join('; ')}`);
    const secretKeys = m.secrets.reduce((n, s) => n + s.added.length + s.removed.length + s.changed.length, 0);
    if (secretKeys) parts.push(`secret keys changed: ${secretKeys}`);
  }
  if (!isUnavailable(d.commits) && d.commits.direction === 'rollback') parts.push(`**rollback**: ${d.commits.total} commit(s) taken away`);
  if (d.hotfix) parts.push('**hotfix**');
  return parts.join(' · ');
}

function shortImage(image: string | undefined): string {
  if (!image) return '-';
  const at = image.lastIndexOf('@');
  return `\`${plain(at > 0 ? `${image.slice(image.lastIndexOf('/', at) + 1, at)}@${shortDigest(image.slice(at + 1))}` : image.slice(image.lastIndexOf('/') + 1), 80)}\``;
}

function runsSection(d: CardData): string {
  const row = (what: string, r: CardRelease | undefined) =>
    r
      ? [what, `\`${r.digest}\``, commitCell(r.commit), r.since ? `${r.since} (${age(r.since, d.now)} ago)` : '-', link(r.runUrl, plain(r.actor || 'run', 60)), plain(r.approvedBy ?? '-', 120)]
      : [what, 'nothing running', '-', '-', '-', '-'];
  let out = `### What runs now and what will run\n\n${table(['', 'Digest', 'Commit', 'Since', 'Recorded by', 'Approved by'], [row(`Running in ${d.environment}`, d.running), row('Candidate', d.candidate)])}`;
  out += '\n';
  if (d.letThrough.length) {
    out += `What let the candidate through:\n\n${table(
      ['Environment', 'Statement', 'At', 'Run', 'Approved by'],
      d.letThrough.map((l) => [l.environment, `${l.status}${l.signed ? ' (signed)' : ' (unsigned)'}`, l.time, link(l.runUrl, 'run'), plain(l.approvedBy, 120)] as string[]),
    )}`;
  } else out += d.hotfix ? 'Nothing let the candidate through: it is a **hotfix**, deployed without the evidence the environment before would give.\n' : 'No environment before this one is required.\n';
  return out;
}

function commitsSection(d: CardData): string {
  const c = d.commits;
  let out = '### Commits\n\n';
  if (isUnavailable(c)) return `${out}Not available: ${plain(c.unavailable, 300)}\n`;
  if (c.direction === 'first') return `${out}First deploy: every commit up to \`${d.candidate.commit.slice(0, 7)}\`.\n`;
  if (c.direction === 'same') return `${out}Same commit as what runs (\`${d.candidate.commit.slice(0, 7)}\`): a redeploy.\n`;
  const lead =
    c.direction === 'rollback'
      ? `**Rollback**: the candidate is ${c.total} commit(s) behind what runs; these are taken away:`
      : c.direction === 'diverged'
        ? `The candidate is not a descendant of what runs: ${c.total} commit(s) on its side, ${c.dropped ?? 0} on the running side are taken away. The candidate's side:`
        : `${c.total} commit(s) from what runs to the candidate:`;
  const rows = c.commits.slice(0, 50).map((x) => [commitCell(x.sha), plain(x.author, 60), plain(x.title, 120), x.pr !== undefined ? `#${x.pr}` : '-']);
  const more = c.total > rows.length ? `\n_${c.total - rows.length} more commit(s) not listed._\n` : '';
  const note = c.pullsNote ? `\n_PR: ${plain(c.pullsNote, 300)}._\n` : '';
  return `${out}${lead}\n\n${table(['Commit', 'Author', 'Title', 'PR'], rows)}${more}${note}`;
}

function manifestSection(d: CardData, budget: number): string {
  const m = d.manifests;
  const files = ['values.yaml', ...d.valuesFiles].map((f) => `\`${plain(f, 100)}\``).join(', ');
  let out = `### Manifest diff\n\n\`helm template\` of the chart at each commit with ${files} and each digest.\n\n`;
  if (isUnavailable(m)) return `${out}Not available: ${plain(m.unavailable, 300)}\n`;
  out += `${m.added.length} added, ${m.changed.length} changed, ${m.removed.length} removed, ${m.unchanged} unchanged.\n`;
  for (const s of m.secrets) {
    const parts = [s.changed.length ? `changed ${s.changed.join(', ')}` : '', s.added.length ? `added ${s.added.join(', ')}` : '', s.removed.length ? `removed ${s.removed.join(', ')}` : ''].filter(Boolean);
    out += `\n- ${plain(s.id)}: keys ${plain(parts.join('; '), 400)} (values are never shown)`;
  }
  if (m.secrets.length) out += '\n';
  if (!m.patches.length) return `${out}\nNo change in the rendered objects.\n`;
  const diff = limitDiff(m.patches, Math.max(0, budget - Buffer.byteLength(out, 'utf8') - 600));
  if (diff.text) out += `\n${fenced(diff.text, 'diff')}\n`;
  if (diff.omittedLines) {
    const names = diff.omittedObjects.slice(0, 20).map((id) => plain(id)).join(', ');
    out += `\n_Diff cut to fit the card: ${diff.omittedLines} more line(s) in ${diff.omittedObjects.length} object(s) not shown (${names}${diff.omittedObjects.length > 20 ? ', …' : ''})._\n`;
  }
  return out;
}

function imageSection(d: CardData): string {
  let out = '### Image\n\n';
  const i = d.image;
  if (isUnavailable(i)) out += `Size and layers not available: ${plain(i.unavailable, 300)}\n`;
  else {
    const rows = [
      ...(i.from ? [['Running', bytes(i.from.size), String(i.from.layers.length), '-']] : []),
      ['Candidate', `${bytes(i.to.size)}${i.sizeDelta !== undefined ? ` (${i.sizeDelta >= 0 ? '+' : ''}${bytes(i.sizeDelta)})` : ''}`, String(i.to.layers.length), `${i.newLayers} new (${bytes(i.newBytes)}), ${i.droppedLayers} dropped`],
    ];
    out += table(['', 'Size (compressed)', 'Layers', 'Layers changed'], rows);
  }
  out += '\n';
  const s = d.scan;
  if (isUnavailable(s)) out += `Scan not available: ${plain(s.unavailable, 200)}\n`;
  else {
    const c = compareScans(s.running, s.candidate);
    const top = c.addedIds.filter((f) => f.severity === 'CRITICAL' || f.severity === 'HIGH').slice(0, 10);
    // Without the running image's scan every finding would look new: say so instead of comparing.
    out +=
      s.runningUnavailable !== undefined
        ? `Scan findings of the candidate: ${severityLine(c.total)}; new and fixed not known (the running image's scan is not available: ${plain(s.runningUnavailable, 160)}).`
        : `Scan findings: new ${severityLine(c.added)}; fixed ${severityLine(c.fixed)}; candidate in all ${severityLine(c.total)}.`;
    if (top.length) out += ` ${s.runningUnavailable !== undefined ? 'Critical/high' : 'New critical/high'}: ${top.map((f) => plain(`${f.id}${f.package ? ` (${f.package})` : ''}`, 80)).join(', ')}.`;
    out += '\n';
  }
  return out;
}

function guardsSection(d: CardData): string {
  const r = d.guards.rollbackTo;
  const back = r
    ? `a failed rollout or a breached bake goes back to \`${shortDigest(r.digest)}\` (commit \`${r.commit.slice(0, 7)}\`${r.since ? `, validated ${r.since}` : ''}${r.approvedBy ? `, approved by ${plain(r.approvedBy, 120)}` : ''})`
    : 'nothing to go back to: a failed first install is removed';
  return `### Guards\n\n- Bake window: ${plain(d.guards.bake, 200)}\n- Alarms: ${plain(d.guards.alarms, 400)}\n- Rollback: ${back}\n`;
}

/** The card. Deterministic for the same data (the hash the reviewers' approval is signed with). */
export function renderCard(d: CardData, budget = CARD_BUDGET): string {
  const head = [
    `## Release card: ${plain(d.release, 100)} to ${plain(d.environment, 100)}`,
    chainMermaid(d.chain, { digest: d.candidate.digest, commit: d.candidate.commit, target: d.environment, pending: d.pending }, d.now),
    headline(d),
  ].join('\n\n');
  const rest = [runsSection(d), commitsSection(d), imageSection(d), guardsSection(d)];
  const fixed = Buffer.byteLength([head, ...rest].join('\n'), 'utf8');
  const diff = manifestSection(d, budget - fixed);
  const card = [head, rest[0], rest[1], diff, rest[2], rest[3], `_${plain(d.githubRepository)}, image ${plain(d.imageRepository)}, made ${d.now.toISOString()}._`].join('\n').replace(/\s+$/, '');
  return card;
}
