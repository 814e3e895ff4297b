/**
 * What runs where: per environment, the release running (the newest record whose latest status
 * is success), who approved it, a newer attempt that failed, and what the environment before it
 * in the chain runs that this one does not (waiting to be promoted), unless it failed here.
 */
import { table } from '@deploy-actions/action-kit';
import { approvedBy, type ApprovalsApi } from './approvals';
import type { DeploymentsApi } from './github';
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

/** The job-summary table. */
export function statusMarkdown(view: readonly EnvironmentStatus[], repository: string): string {
  const rows = view.map((s) => [
    s.environment,
    s.running ? `\`${short(s.running.digest)}\` ${s.running.sha.slice(0, 7)}` : '(nothing recorded)',
    s.running ? `${s.since}${s.since !== s.running.recordedAt ? ' (restored)' : ''}` : '-',
    s.running ? runCell(s.running) : '-',
    s.approvedBy ?? '-',
    s.running ? `deployment ${s.running.deploymentId} (${s.running.state}${s.running.signed ? ', signed' : ', UNSIGNED: display only'})${s.failed ? `; newer ${short(s.failed.digest)} ${s.failed.state}: ${s.failed.stateDescription}` : ''}` : s.failed ? `${short(s.failed.digest)} ${s.failed.state}` : '-',
    s.waiting ? `\`${short(s.waiting.digest)}\` ${s.waiting.sha.slice(0, 7)} (since ${s.waiting.recordedAt})` : '-',
  ]);
  return `### What runs where: ${repository}\n\n${table(['Environment', 'Digest, commit', 'Since', 'Run', 'Approved by', 'Evidence', 'Waiting to be promoted'], rows)}`;
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
