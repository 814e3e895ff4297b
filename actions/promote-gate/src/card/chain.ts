/**
 * The chain at the top of the card (and of the what-runs-where view): a small Mermaid flowchart
 * (GitHub renders Mermaid in job summaries), one node per environment with the digest it runs
 * and for how long, the candidate pointing at the environment it waits to enter.
 * Labels hold only characters Mermaid cannot read as syntax.
 */
import { age, shortDigest } from './markdown';

export interface ChainNode {
  environment: string;
  digest?: string;
  since?: string;
}

export interface ChainCandidate {
  digest: string;
  commit: string;
  /** The environment it is about to enter. */
  target: string;
  /** Approvals it waits for there (`2 reviewers`, `alice, bob`), '' when none. */
  pending: string;
}

/** Only letters, digits and a few separators: nothing Mermaid or HTML reads as syntax. */
const label = (s: string) => s.replace(/[^A-Za-z0-9 ._:/,+-]/g, '');

export function chainMermaid(nodes: readonly ChainNode[], candidate: ChainCandidate | undefined, now: Date): string {
  const lines = ['```mermaid', 'flowchart LR'];
  nodes.forEach((n, i) => {
    const since = n.since ? age(n.since, now) : '';
    const running = n.digest ? `${shortDigest(n.digest)}${since && since !== '?' ? `, ${since}` : ''}` : 'nothing running';
    lines.push(`  e${i}["${label(n.environment)}<br/>${label(running)}"]`);
  });
  for (let i = 1; i < nodes.length; i++) lines.push(`  e${i - 1} --> e${i}`);
  if (candidate) {
    const target = nodes.findIndex((n) => n.environment.toLowerCase() === candidate.target.toLowerCase());
    lines.push(`  c(["candidate<br/>${label(shortDigest(candidate.digest))} ${label(candidate.commit.slice(0, 7))}"])`);
    if (target >= 0) lines.push(`  c -. "${label(candidate.pending ? `awaits ${candidate.pending}` : 'next')}" .-> e${target}`);
    lines.push('  classDef cand stroke-dasharray: 4 2', '  class c cand');
    if (target >= 0) lines.push('  classDef target stroke-width:3px', `  class e${target} target`);
  }
  lines.push('```');
  return lines.join('\n');
}
