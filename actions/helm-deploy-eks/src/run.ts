/**
 * The deploy, phase by phase: tools and render (no cluster yet), cluster access, release
 * state, the watched upgrade, validation, report. Each phase lives in its own file.
 */
import { UserError, type Outputs } from '@deploy-actions/action-kit';
import { clusterAccess, resolveHelm } from './access';
import { accessError, helmFault, lastLines, timed, type Ctx, type Deps, type Timings } from './context';
import { dryRun } from './dry-run';
import { isClusterAccessError } from './eks';
import { lastGoodRevision } from '@deploy-actions/chart';
import type { Inputs } from './inputs';
import { listWorkloads, oneLine } from './kube';
import { chartValues, imageRef, renderChart } from './render';
import { ensureRestored, history, latest, notRestored, releaseState, restore, statusOf } from './release-state';
import { failureSummary, successSummary, timingTable } from './report';
import { upgradeArgs, upgradeWatched } from './upgrade';
import { validate, ValidationError, type Validation } from './validate';
import { watchedWorkloads } from './release-pods';
import { checkPullAccess } from './pull-access';
import { bakeMarkdown, bakePhase, checkBakeAlarms } from './bake/bake';

export type { Deps, Proc } from './context';
export { realDeps } from './real-deps';

export async function run(inputs: Inputs, deps: Deps): Promise<Outputs> {
  const { io } = deps;
  const startedAll = deps.now();
  const timings: Timings = [];
  const tctx = { deps, timings };
  const gh = deps.github;
  const timing = () => timingTable(timings, startedAll, deps.now());

  const tools = await timed(tctx, 'Install helm', () => resolveHelm(inputs, deps));
  const values = chartValues(inputs, deps);
  const rendered = await timed(tctx, 'Lint and render the chart', () => renderChart(inputs, deps, tools.helm, values));

  const access = await timed(tctx, 'Cluster access', () => clusterAccess(inputs, deps));
  const kubeEnv: Record<string, string> = { KUBECONFIG: access.kubeconfig };
  if (inputs.clusterName) kubeEnv.AWS_REGION = inputs.region;
  if (inputs.exportKubeconfig) deps.appendEnv('KUBECONFIG', access.kubeconfig);
  await timed(tctx, 'Image pull access', () => checkPullAccess(deps, inputs.image, inputs.imageSource, access.cluster));
  if (!inputs.dryRun) await checkBakeAlarms({ inputs, deps }, deps.cloudwatch);

  const c: Ctx = {
    inputs,
    deps,
    helm: tools.helm,
    major: tools.major,
    helmVersion: tools.version,
    kubeEnv,
    kube: { api: deps.kubeClient(access.connection), namespace: inputs.namespace, onError: (m) => io.debug(m) },
    ref: { release: inputs.release, namespace: inputs.namespace, kubeContext: inputs.kubeContext },
    callerArn: access.callerArn,
    apiServer: access.cluster?.endpoint ?? inputs.kubeServer,
    timings,
  };
  const base: Outputs = { release: inputs.release, namespace: inputs.namespace, kubeconfig: access.kubeconfig, 'image-ref': imageRef(inputs) };

  const h = await timed(tctx, 'Release state', () => releaseState(c));
  const previous = lastGoodRevision(h);
  const startRevision = latest(h)?.revision ?? 0;
  /** Outputs of a failed deploy: where the release stands after the restore (never masks the failure). */
  const failureOutputs = async (clusterLost = false): Promise<Outputs> => {
    // A cluster the restore could not reach is not asked again (helm's own retries take seconds).
    const read = clusterLost ? 'lost' : await history(c).then(latest, () => 'lost' as const);
    const now = read === 'lost' ? undefined : read;
    return { ...base, revision: now?.revision ?? '', status: read === 'lost' ? 'unknown' : (now?.status ?? 'uninstalled'), 'previous-revision': previous ?? '' };
  };

  if (inputs.dryRun) return timed(tctx, 'Dry run: diff against the live release', () => dryRun(c, values, previous, base));

  const workloads = watchedWorkloads(rendered.objects);
  const args = upgradeArgs(c, values);
  const deployStart = deps.now();
  const watched = await timed(tctx, `Deploy ${inputs.release} (helm ${c.major})`, async () => {
    io.info(`helm ${args.join(' ')}`);
    return upgradeWatched(c, args, deployStart, workloads);
  });

  if (watched.helm.exitCode !== 0 || watched.diagnosis) {
    const stderr = watched.helm.stderr;
    if (!watched.diagnosis && isClusterAccessError(stderr)) throw accessError(c, stderr);
    const waitedMs = deps.now() - deployStart;
    const fault = watched.diagnosis ? undefined : (watched.deadline ?? helmFault(c, 'helm upgrade', stderr, waitedMs));
    let clusterLost = false;
    const restored = await timed(tctx, 'Restore the previous release', () =>
      inputs.rollbackOnFailure || watched.diagnosis
        ? ensureRestored(c, previous, startRevision).catch((err: unknown) => ((clusterLost = true), notRestored(err)))
        : Promise.resolve('left as failed (rollback-on-failure is false)'),
    );
    const seconds = (waitedMs / 1000).toFixed(1);
    const line = watched.diagnosis
      ? `Deploy of ${inputs.release} failed after ${seconds} s: ${oneLine(watched.diagnosis.failure)}; ${restored}`
      : fault
        ? `${fault.message}; ${restored}`
        : `helm upgrade of ${inputs.release} failed after ${seconds} s: ${lastLines(stderr, 2) || `exit code ${watched.helm.exitCode}`}; ${restored}`;
    await io.summary(failureSummary(`${inputs.release} failed`, line, { diagnosis: watched.diagnosis, stderr }, timing()));
    throw new UserError(line, await failureOutputs(clusterLost));
  }

  const status = await statusOf(c);
  io.info(`${inputs.release}: revision ${status.revision} ${status.status}`);

  let validation: Validation;
  try {
    validation = await validate(c, rendered.objects, workloads);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const restored = inputs.rollbackOnFailure
      ? await timed(tctx, 'Restore the previous release', () => restore(c, previous, `revision ${status.revision} failed validation`))
      : 'left in place (rollback-on-failure is false)';
    const line = `${err.message}; ${restored}`;
    await io.summary(failureSummary(`${inputs.release} failed validation`, line, { detail: err.detail }, timing()));
    throw new UserError(line, await failureOutputs());
  }

  const done: Outputs = { ...base, revision: status.revision, status: status.status, 'previous-revision': previous ?? '', 'running-images': validation.running.join('\n') };
  const baked = inputs.bake.durationMs > 0 ? await timed(tctx, 'Bake', () => bakePhase(c, deps.cloudwatch, previous, done)) : undefined;

  const resources = await listWorkloads(c.kube, inputs.podSelector);
  const rows: Array<[string, string]> = [
    ['Environment', inputs.environment || '-'],
    ['Cluster', inputs.clusterName || inputs.kubeconfig],
    ['Namespace', inputs.namespace],
    ['Release', `${inputs.release} revision ${status.revision} (previous ${previous ?? 'none'})`],
    ['Image', imageRef(inputs) || '(chart default)'],
    ['Commit', gh.sha],
    ['Helm', c.helmVersion],
  ];
  if (validation.running.length > 0) rows.push(['Running', validation.running.join('<br>')]);
  if (validation.passed.length > 0) rows.push(['Validation', validation.passed.join('; ')]);
  await io.summary(successSummary(`${inputs.release} revision ${status.revision} ${status.status}`, rows, resources, timing()) + (baked ? bakeMarkdown(baked) : ''));
  return { ...done, 'bake-result': baked ? 'passed' : 'skipped' };
}
