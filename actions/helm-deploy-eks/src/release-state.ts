/** The release as helm records it: history, stuck releases from cancelled runs, restoring a good revision. */
import { DeadlineError, UserError } from '@deploy-actions/action-kit';
import { helmRun, type Ctx } from './context';
import {
  helmHistoryArgs,
  helmRollbackArgs,
  helmStatusArgs,
  helmUninstallArgs,
  lastGoodRevision,
  planRecovery,
  type HelmRevision,
} from '@deploy-actions/chart';

const STATUS_OK = 'deployed';

export async function history(c: Ctx): Promise<HelmRevision[]> {
  const r = await helmRun(c, helmHistoryArgs(c.ref), { allowFailure: true });
  if (r.exitCode !== 0) {
    if (/not found/i.test(r.stderr)) return [];
    throw new UserError(`helm history failed: ${r.stderr.trim().split('\n').pop()}`);
  }
  try {
    const parsed = JSON.parse(r.stdout) as HelmRevision[];
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    throw new UserError(`helm history printed no JSON: ${r.stdout.slice(0, 200)}`);
  }
}

export function latest(h: HelmRevision[]): HelmRevision | undefined {
  return h.reduce<HelmRevision | undefined>((a, b) => (!a || b.revision > a.revision ? b : a), undefined);
}

/** Puts the release back to `to` (or removes it when there is nothing to go back to). */
export async function restore(c: Ctx, to: number | undefined, why: string): Promise<string> {
  if (to === undefined) {
    await helmRun(c, helmUninstallArgs(c.ref, c.inputs.timeout), { silent: false });
    return `uninstalled ${c.ref.release} (${why}; it had no earlier good revision)`;
  }
  await helmRun(c, helmRollbackArgs(c.ref, to, c.inputs.timeout, c.major, c.inputs.historyMax), { silent: false });
  return `rolled back ${c.ref.release} to revision ${to} (${why})`;
}

/** Reads the release state; a release left pending by a cancelled run is restored first (not on a dry run). */
export async function releaseState(c: Ctx): Promise<HelmRevision[]> {
  const got = await history(c);
  const last = latest(got);
  const { inputs, deps } = c;
  deps.io.info(last ? `${inputs.release}: revision ${last.revision} ${last.status}` : `${inputs.release} is not installed in ${inputs.namespace}: first install`);
  if (inputs.dryRun) return got;
  const plan = planRecovery(got);
  if (plan.kind === 'none') return got;
  const what = await restore(c, plan.kind === 'rollback' ? plan.to : undefined, `revision ${plan.stuckRevision} was left ${plan.status}`);
  deps.io.warning(`Release ${c.ref.release} was stuck in ${plan.status} (revision ${plan.stuckRevision}), probably by a cancelled run: ${what} before upgrading`);
  return history(c);
}

/** After a failed upgrade: make sure the release is back on `previous` (or gone after a first install). */
export async function ensureRestored(c: Ctx, previous: number | undefined, startRevision: number): Promise<string> {
  const h = await history(c);
  const last = latest(h);
  if (!last || last.revision <= startRevision) {
    return previous === undefined && !last ? 'nothing was installed' : `release still at revision ${previous ?? last?.revision}`;
  }
  if (last.status === STATUS_OK && /^Rollback to/i.test(last.description ?? '')) {
    return `helm rolled back to revision ${/Rollback to (\d+)/i.exec(last.description ?? '')?.[1] ?? previous}`;
  }
  const to = previous ?? lastGoodRevision(h, last.revision);
  return restore(c, to, `revision ${last.revision} failed`);
}

/**
 * What a restore that could not reach the cluster leaves: the release as helm left it (a pending
 * one is restored by the next run before it upgrades, see releaseState). Other errors are thrown.
 */
export function notRestored(err: unknown): string {
  if (!(err instanceof DeadlineError)) throw err;
  return `not restored, the cluster could not be reached (${err.message}): the next run restores a release left pending before it upgrades`;
}

export async function statusOf(c: Ctx): Promise<{ revision: number; status: string }> {
  const r = await helmRun(c, helmStatusArgs(c.ref));
  const s = JSON.parse(r.stdout) as { version?: number; info?: { status?: string } };
  return { revision: s.version ?? 0, status: s.info?.status ?? 'unknown' };
}
