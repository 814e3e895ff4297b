/**
 * What runs where: per environment, the release running (the newest record whose latest status
 * is success), who approved it, a newer attempt that failed, and what the environment before it
 * in the chain runs that this one does not (waiting to be promoted), unless it failed here.
 */
import { table } from '@deploy-actions/action-kit';
import { approvedBy, type ApprovalsApi } from './approvals';
import type { DeploymentsApi } from './github';
import { chainMermaid, type ChainCandidate } from './card/chain';
import { cardHash } from './card/hash';
import { releasesIn, running, type Release, type SignedView } from './releases';

export interface EnvironmentStatus {
  environment: string;
  running?: Release;
  approvedBy?: string;
  /** Since when it runs: its record, or the failure of a newer attempt it was restored after (a bake rollback). */
  since?: string;
  /** The newest record when it is newer than the running one and not validated. */
  failed?: Release;
  /** What the previous environment of the chain runs, when this one runs something else. */
  waiting?: Release;
}

/** The digest's newest record here was marked failed (a bake breach, a rollback away from it): it does not wait here. */
function failedHere(releases: readonly Release[], digest: string): boolean {
  const newest = releases.find((r) => r.digest === digest);
  return newest !== undefined && (newest.state === 'failure' || newest.state === 'error');
}

export async function statusView(
  deps: { github: DeploymentsApi; approvals?: ApprovalsApi; signed?: (environment: string) => Promise<SignedView | undefined> },
  environments: readonly string[],
  repository: string,
): Promise<EnvironmentStatus[]> {
  const histories = await Promise.all(environments.map(async (e) => releasesIn(deps.github, e, repository, await deps.signed?.(e))));
  return Promise.all(
    environments.map(async (environment, i) => {
      const releases = histories[i]!;
      const now = running(releases);
      const newest = releases[0];
      const before = i > 0 ? running(histories[i - 1]!) : undefined;
      const failed = newest && newest !== now && !newest.validated && (!now || newest.recordedAt >= now.recordedAt) ? newest : undefined;
      return {
        environment,
        ...(now
          ? {
              running: now,
              since: failed && failed.stateAt > now.recordedAt ? failed.stateAt : now.recordedAt,
              approvedBy: await approvedBy(deps.approvals, now.runId, environment),
            }
          : {}),
        ...(failed ? { failed } : {}),
        ...(before && before.digest !== now?.digest && !failedHere(releases, before.digest) ? { waiting: before } : {}),
      };
    }),
  );
}

const short = (digest: string) => digest.replace(/^sha256:/, '').slice(0, 12);

function runCell(r: Release): string {
  return /^https?:\/\/[^\s()<>]+$/.test(r.runUrl) ? `[${(r.workflow || 'run').replace(/[[\]]/g, '')} #${r.runId}](${r.runUrl})` : r.runId || '-';
}

/**
 * The chain as the release card draws it: each environment with what it runs and since when; the
 * release waiting nearest the end of the chain as the candidate, pointing at where it waits.
 */
export function statusChain(view: readonly EnvironmentStatus[], now: Date): string {
  const waiting = [...view].reverse().find((s) => s.waiting);
  const candidate: ChainCandidate | undefined = waiting?.waiting && { digest: waiting.waiting.digest, commit: waiting.waiting.sha, target: waiting.environment, pending: 'promotion' };
  return chainMermaid(
    view.map((s) => ({ environment: s.environment, ...(s.running ? { digest: s.running.digest } : {}), ...(s.since ? { since: s.since } : {}) })),
    candidate,
    now,
  );
}

/**
 * The release card kept with what runs in `environment`, and whether it is the card approved: its
 * sha256 against the hash the signed statement names. Unsigned records are display only.
 */
export function runningCard(view: readonly EnvironmentStatus[], environment: string): string[] {
  const s = view.find((v) => v.environment.toLowerCase() === environment.toLowerCase());
  if (!s) return [`${environment} is not in the chain (${view.map((v) => v.environment).join(', ')})`];
  const r = s.running;
  if (!r) return [`${s.environment}: nothing recorded, so no release card`];
  const { text, signedSha256 } = r.card;
  const what = `${s.environment} runs ${r.digest} (commit ${r.sha.slice(0, 7)}, deployment ${r.deploymentId})`;
  if (!text) return [`${what}: no release card kept with its record${signedSha256 ? ` (its signed statement names card ${signedSha256})` : ''}`];
  const hash = cardHash(text);
  const verdict = !r.signed
    ? `card ${hash}: UNSIGNED record, display only (anyone with deployments: write can write it)`
    : signedSha256 === hash
      ? `card ${hash}: the card the reviewers approved (its hash is in the signed statement)`
      : signedSha256
        ? `WARNING: this card hashes to ${hash}, not ${signedSha256}, the card the signed statement says the reviewers saw: it is not the card approved`
        : `WARNING: the signed statement names no card: this card was not part of the approval`;
  return [`${what}, release card:`, '', ...text.split('\n'), '', verdict];
}

/** The job-summary table. */
export function statusMarkdown(view: readonly EnvironmentStatus[], repository: string, now: Date): string {
  const rows = view.map((s) => [
    s.environment,
    s.running ? `\`${short(s.running.digest)}\` ${s.running.sha.slice(0, 7)}` : '(nothing recorded)',
    s.running ? `${s.since}${s.since !== s.running.recordedAt ? ' (restored)' : ''}` : '-',
    s.running ? runCell(s.running) : '-',
    s.approvedBy ?? '-',
    s.running ? `deployment ${s.running.deploymentId} (${s.running.state}${s.running.signed ? ', signed' : ', UNSIGNED: display only'})${s.failed ? `; newer ${short(s.failed.digest)} ${s.failed.state}: ${s.failed.stateDescription}` : ''}` : s.failed ? `${short(s.failed.digest)} ${s.failed.state}` : '-',
    s.waiting ? `\`${short(s.waiting.digest)}\` ${s.waiting.sha.slice(0, 7)} (since ${s.waiting.recordedAt})` : '-',
  ]);
  return `### What runs where: ${repository}\n\n${statusChain(view, now)}\n\n${table(['Environment', 'Digest, commit', 'Since', 'Run', 'Approved by', 'Evidence', 'Waiting to be promoted'], rows)}`;
}

/** The same view as plain lines, for the log and the command line. */
export function statusLines(view: readonly EnvironmentStatus[]): string[] {
  const out: string[] = [];
  for (const s of view) {
    const r = s.running;
    out.push(
      r
        ? `${s.environment}: ${r.digest} (commit ${r.sha}) since ${s.since}${s.since !== r.recordedAt ? ` (restored; validated ${r.recordedAt})` : ''}, run ${r.runUrl || r.runId || '-'} by ${r.actor || '?'}, approved by ${s.approvedBy}, evidence: deployment ${r.deploymentId} ${r.state}${r.signed ? ' (signed)' : ' (UNSIGNED: display only, anyone with deployments: write can write it)'}`
        : `${s.environment}: nothing recorded`,
    );
    if (s.failed) out.push(`  newer attempt ${s.failed.digest} (commit ${s.failed.sha}) ${s.failed.state} at ${s.failed.stateAt}: ${s.failed.stateDescription}`);
    if (s.waiting) out.push(`  waiting to be promoted: ${s.waiting.digest} (commit ${s.waiting.sha}), running in the environment before since ${s.waiting.recordedAt}`);
  }
  return out;
}
