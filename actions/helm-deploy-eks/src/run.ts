/**
 * The deploy, phase by phase: tools and render (no cluster yet), cluster access, release
 * state, the watched upgrade, validation, report. Each phase lives in its own file.
 */
import { codeBlock, UserError, type Outputs } from '@deploy-actions/action-kit';
import { clusterAccess, resolveHelm, resolveKubectl } from './access';
import { accessError, helmRun, lastLines, timed, type Ctx, type Deps, type Timings } from './context';
import { unifiedDiff } from './diff';
import { isClusterAccessError } from './eks';
import { helmGetManifestArgs, lastGoodRevision } from './helm-args';
import type { Inputs } from './inputs';
import { listWorkloads, oneLine } from './kube';
import { chartValues, imageRef, renderChart } from './render';
import { ensureRestored, history, latest, releaseState, restore, statusOf } from './release-state';
import { failureSummary, successSummary, timingTable } from './report';
import { upgradeArgs, upgradeWatched } from './upgrade';
import { validate } from './validate';

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
  const kubectlPath = await timed(tctx, 'Install kubectl', () => resolveKubectl(inputs, deps, access.cluster));

  const c: Ctx = {
    inputs,
    deps,
    helm: tools.helm,
    major: tools.major,
    helmVersion: tools.version,
    kubeEnv,
    kubectl: { path: kubectlPath, env: kubeEnv, context: inputs.kubeContext, namespace: inputs.namespace, onError: (m) => io.debug(m) },
    ref: { release: inputs.release, namespace: inputs.namespace, kubeContext: inputs.kubeContext },
    callerArn: access.callerArn,
    timings,
  };
  const base: Outputs = { release: inputs.release, namespace: inputs.namespace, kubeconfig: access.kubeconfig, 'image-ref': imageRef(inputs) };

  const h = await timed(tctx, 'Release state', () => releaseState(c));
  const previous = lastGoodRevision(h);
  const startRevision = latest(h)?.revision ?? 0;
  /** Outputs of a failed deploy: where the release stands after the restore (never masks the failure). */
  const failureOutputs = async (): Promise<Outputs> => {
    const now = await history(c).then(latest, () => undefined);
    return { ...base, revision: now?.revision ?? '', status: now?.status ?? 'uninstalled', 'previous-revision': previous ?? '' };
  };

  if (inputs.dryRun) {
    return timed(tctx, 'Dry run: diff against the live release', async () => {
      const live = previous === undefined ? '' : (await helmRun(c, helmGetManifestArgs(c.ref))).stdout;
      const diff = unifiedDiff(live, rendered, `live/${inputs.release}${previous ? `@${previous}` : ''}`, `new/${inputs.release}`);
      io.info(diff === '' ? 'No changes.' : diff);
      await io.summary(
        `## helm-deploy-eks (dry run): ${inputs.release} in ${inputs.namespace}\n\n` +
          (diff === '' ? 'No changes against the live release.\n' : `${diff.split('\n').filter((l) => /^[+-][^+-]/.test(l)).length} changed lines against ${previous ? `revision ${previous}` : 'nothing (first install)'}:\n\n${codeBlock(diff, 'diff')}`),
      );
      return { ...base, revision: previous ?? 0, 'previous-revision': previous ?? '', status: 'dry-run', changed: diff !== '' };
    });
  }

  const args = upgradeArgs(c, values);
  const deployStart = deps.now();
  const watched = await timed(tctx, `Deploy ${inputs.release} (helm ${c.major})`, async () => {
    io.info(`helm ${args.join(' ')}`);
    return upgradeWatched(c, args, deployStart);
  });

  if (watched.helm.exitCode !== 0 || watched.diagnosis) {
    const stderr = watched.helm.stderr;
    if (!watched.diagnosis && isClusterAccessError(stderr)) throw accessError(c, stderr);
    const restored = await timed(tctx, 'Restore the previous release', () =>
      inputs.rollbackOnFailure || watched.diagnosis ? ensureRestored(c, previous, startRevision) : Promise.resolve('left as failed (rollback-on-failure is false)'),
    );
    const seconds = ((deps.now() - deployStart) / 1000).toFixed(1);
    const line = watched.diagnosis
      ? `Deploy of ${inputs.release} failed after ${seconds} s: ${oneLine(watched.diagnosis.failure)}; ${restored}`
      : `helm upgrade of ${inputs.release} failed after ${seconds} s: ${lastLines(stderr, 2) || `exit code ${watched.helm.exitCode}`}; ${restored}`;
    await io.summary(failureSummary(`${inputs.release} failed`, line, { diagnosis: watched.diagnosis, stderr }, timing()));
    throw new UserError(line, await failureOutputs());
  }

  const status = await statusOf(c);
  io.info(`${inputs.release}: revision ${status.revision} ${status.status}`);

  let validation: string[];
  try {
    validation = await validate(c);
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    const restored = inputs.rollbackOnFailure
      ? await timed(tctx, 'Restore the previous release', () => restore(c, previous, `revision ${status.revision} failed validation`))
      : 'left in place (rollback-on-failure is false)';
    const line = `${err.message}; ${restored}`;
    await io.summary(failureSummary(`${inputs.release} failed validation`, line, {}, timing()));
    throw new UserError(line, await failureOutputs());
  }

  const workloads = await listWorkloads(deps.exec, c.kubectl, inputs.podSelector);
  const rows: Array<[string, string]> = [
    ['Environment', inputs.environment || '-'],
    ['Cluster', inputs.clusterName || inputs.kubeconfig],
    ['Namespace', inputs.namespace],
    ['Release', `${inputs.release} revision ${status.revision} (previous ${previous ?? 'none'})`],
    ['Image', imageRef(inputs) || '(chart default)'],
    ['Commit', gh.sha],
    ['Helm', c.helmVersion],
  ];
  if (validation.length > 0) rows.push(['Validation', validation.join('; ')]);
  await io.summary(successSummary(`${inputs.release} revision ${status.revision} ${status.status}`, rows, workloads, timing()));
  return { ...base, revision: status.revision, status: status.status, 'previous-revision': previous ?? '' };
}
