/**
 * The bake window: after the rollout and validation, watch the alarms, the smoke URL and the
 * release's pods for `bake-duration`. The first breach rolls the release back to the last
 * validated release of the environment and fails the step in one line naming the check.
 */
import { errorMessage, InputError, table, UserError, type Outputs } from '@deploy-actions/action-kit';
import { helmRun, type Ctx } from '../context';
import { helmRollbackArgs, type HelmRevision } from '@deploy-actions/chart';
import { listPods } from '../kube';
import { history, restore } from '../release-state';
import { alarmBreach, httpBreach, podBreach, podWatch, servingPods, type Alarm } from './checks';
import { describeAlarms, type CloudWatch } from './cloudwatch';

export interface BakeResult {
  timeline: Array<[number, string]>;
  breach?: string;
}

/** Requests to the smoke URL per check. */
const REQUESTS_PER_CHECK = 4;

async function probe(c: Ctx, url: string): Promise<boolean> {
  try {
    const res = await c.deps.fetch(url, { signal: AbortSignal.timeout(5_000), redirect: 'manual' });
    await res.body?.cancel();
    return res.status >= 400;
  } catch {
    return true;
  }
}

/** Watches until the window ends or the first breach. */
export async function watchBake(c: Ctx, cw: CloudWatch | undefined): Promise<BakeResult> {
  const { deps, inputs } = c;
  const b = inputs.bake;
  const start = deps.now();
  const timeline: Array<[number, string]> = [];
  const note = (what: string) => {
    timeline.push([(deps.now() - start) / 1000, what]);
    deps.io.info(`bake +${((deps.now() - start) / 1000).toFixed(0)} s: ${what}`);
  };
  // A bake that cannot read what it watches fails closed: the read failing is a breach.
  const serving = async () => {
    const listed = await listPods(c.kube, inputs.podSelector);
    return listed ? servingPods(listed) : undefined;
  };
  const pods = podWatch((await serving()) ?? []);
  const answers: boolean[] = [];
  const watchAlarms = cw && (b.alarmNames.length > 0 || b.alarmPrefix !== '');
  note(`watching for ${b.durationMs / 1000} s: ${[watchAlarms ? `alarms ${b.alarmPrefix ? `${b.alarmPrefix}*` : b.alarmNames.join(', ')}` : '', inputs.smokeUrl ? `HTTP error ratio of ${inputs.smokeUrl} <= ${b.errorRatio}` : '', `pods (restarts <= ${b.maxRestarts}, ready)`].filter(Boolean).join('; ')}`);
  let last = '';
  for (;;) {
    // Each check is judged as soon as it is read: a breach does not wait for the slower checks.
    let alarms: Alarm[] = [];
    let breach: string | undefined;
    if (watchAlarms) {
      try {
        alarms = await describeAlarms(cw, { names: b.alarmNames, prefix: b.alarmPrefix }, { onRetry: (m) => deps.io.warning(m) });
        breach = alarmBreach(alarms);
      } catch (err) {
        breach = `the alarms cannot be read (${errorMessage(err)})`;
      }
    }
    if (!breach && inputs.smokeUrl) {
      // Sent together: a service that stops answering costs one timeout per check, not four.
      answers.push(...(await Promise.all(Array.from({ length: REQUESTS_PER_CHECK }, () => probe(c, inputs.smokeUrl)))));
      breach = httpBreach(answers, b.errorRatio, inputs.smokeUrl);
    }
    const current = breach ? [] : await serving();
    if (!current) breach = `the pods of ${inputs.podSelector} cannot be read`;
    breach ??= podBreach(pods, current ?? [], deps.now(), b.maxRestarts, b.unreadyMs);
    if (breach) {
      note(`BREACH: ${breach}`);
      return { timeline, breach };
    }
    const state = `${alarms.length} alarm(s) OK; ${answers.filter(Boolean).length} HTTP error(s) in ${answers.length}; ${current?.length ?? 0} pod(s)`;
    if (state.replace(/\d+ HTTP error\(s\) in \d+/, '') !== last.replace(/\d+ HTTP error\(s\) in \d+/, '')) note(state);
    last = state;
    if (deps.now() - start >= b.durationMs) break;
    await deps.sleep(Math.min(b.intervalMs, Math.max(0, b.durationMs - (deps.now() - start))));
  }
  note(`passed: ${last}`);
  return { timeline };
}

/**
 * Before the rollout: the alarms the bake will watch can be read, and are there. Credentials,
 * permissions, a name CloudWatch does not have or a prefix that matches nothing are known now,
 * so they refuse the deploy instead of failing its bake after the new revision serves.
 */
export async function checkBakeAlarms(c: Pick<Ctx, 'inputs' | 'deps'>, cw: CloudWatch | undefined): Promise<void> {
  const b = c.inputs.bake;
  if (b.durationMs === 0 || (b.alarmNames.length === 0 && !b.alarmPrefix)) return;
  if (!cw) throw new UserError('The bake watches alarms but no CloudWatch client was made: set aws-region (or AWS_REGION)');
  let alarms: Alarm[];
  try {
    alarms = await describeAlarms(cw, { names: b.alarmNames, prefix: b.alarmPrefix }, { onRetry: (m) => c.deps.io.warning(m) });
  } catch (err) {
    throw new UserError(`The bake's alarms cannot be read, so nothing was deployed: ${errorMessage(err)}`);
  }
  if (b.alarmPrefix && alarms.length === 0) throw new InputError('bake-alarm-prefix', 'must match at least one CloudWatch alarm of this account and region; none does', b.alarmPrefix);
  const missing = b.alarmNames.filter((n) => !alarms.some((a) => a.name === n));
  if (missing.length) throw new InputError('bake-alarms', 'must name CloudWatch alarms of this account and region; these do not exist', missing.join(', '));
  c.deps.io.info(`The bake will watch ${alarms.length} alarm(s): ${alarms.map((a) => `${a.name} (${a.state})`).join(', ')}`);
}

/** The digest a revision runs: from the description helm-deploy-eks gives it, following "Rollback to N". */
export function digestOfRevision(h: readonly HelmRevision[], revision: number, depth = 0): string | undefined {
  const r = h.find((x) => x.revision === revision);
  const d = r?.description ?? '';
  const own = /\bimage (sha256:[0-9a-f]{64})\b/.exec(d)?.[1];
  if (own) return own;
  const to = /^Rollback to (\d+)/i.exec(d)?.[1];
  return to && depth < 20 ? digestOfRevision(h, Number(to), depth + 1) : undefined;
}

/** The newest helm revision running `digest` (read before the bake, so a breach rolls back at once). */
export async function revisionOf(c: Ctx, digest: string): Promise<number | undefined> {
  if (!digest) return undefined;
  const h = await history(c);
  return [...h]
    .sort((a, b) => b.revision - a.revision)
    .find((r) => r.status !== 'failed' && r.status !== 'pending-upgrade' && digestOfRevision(h, r.revision) === digest)?.revision;
}

/** Rolls back to `revision` (running `digest`); without a validated release, to `previous` (the last good helm revision). */
export async function rollBackTo(c: Ctx, digest: string, revision: number | undefined, previous: number | undefined, why: string): Promise<string> {
  if (!digest) return restore(c, previous, `${why}; no validated release in ${c.inputs.environment || 'this environment'}, so the previous helm revision`);
  if (revision === undefined) throw new UserError(`${why}; could not roll back: no helm revision of ${c.ref.release} runs the last validated release ${digest} (history-max ${c.inputs.historyMax})`);
  c.deps.io.info(`Rolling back ${c.ref.release} to revision ${revision} (${digest})`);
  await helmRun(c, helmRollbackArgs(c.ref, revision, c.inputs.timeout, c.major, c.inputs.historyMax), { silent: false });
  return `rolled back ${c.ref.release} to revision ${revision}, the last validated release ${digest}`;
}

export function bakeMarkdown(r: BakeResult): string {
  return `\n**Bake**\n\n${table(['+s', 'What'], r.timeline.map(([s, w]) => [s.toFixed(0), w]))}`;
}

/** Runs the bake; on a breach rolls back and throws the step's one-line failure. */
export async function bakePhase(c: Ctx, cw: CloudWatch | undefined, previous: number | undefined, outputs: Outputs): Promise<BakeResult> {
  const digest = c.inputs.bake.rollbackDigest;
  const revision = await revisionOf(c, digest);
  const r = await watchBake(c, cw);
  if (!r.breach) return r;
  const t0 = c.deps.now();
  let restored: string;
  try {
    restored = await rollBackTo(c, digest, revision, previous, 'bake breach');
  } catch (err) {
    restored = errorMessage(err);
  }
  r.timeline.push([r.timeline.at(-1)![0] + (c.deps.now() - t0) / 1000, restored]);
  const line = `Bake of ${c.ref.release} failed: ${r.breach}; ${restored}`;
  await c.deps.io.summary(`## helm-deploy-eks: ${c.ref.release} failed the bake\n\n${line}\n${bakeMarkdown(r)}`);
  throw new UserError(line, { ...outputs, 'bake-result': 'breached', 'bake-breach': r.breach, 'rolled-back-to': c.inputs.bake.rollbackDigest });
}
