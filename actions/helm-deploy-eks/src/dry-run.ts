/** The dry run: what the upgrade would change, as the server would render it (charts that `lookup` see the cluster). */
import { codeBlock, UserError, type Outputs } from '@deploy-actions/action-kit';
import { helmRun, type Ctx } from './context';
import { unifiedDiff } from './diff';
import { helmGetManifestArgs, helmServerDryRunArgs, type ChartValues } from '@deploy-actions/chart';

export async function dryRun(c: Ctx, values: ChartValues, previous: number | undefined, base: Outputs): Promise<Outputs> {
  const { inputs, deps } = c;
  const r = await helmRun(c, helmServerDryRunArgs(inputs.release, values, inputs.kubeContext));
  let planned: string;
  try {
    planned = String((JSON.parse(r.stdout) as { manifest?: string }).manifest ?? '');
  } catch {
    throw new UserError(`helm upgrade --dry-run=server printed no release JSON: ${r.stdout.slice(0, 200)}`);
  }
  const live = previous === undefined ? '' : (await helmRun(c, helmGetManifestArgs(c.ref))).stdout;
  const diff = unifiedDiff(live, planned, `live/${inputs.release}${previous ? `@${previous}` : ''}`, `new/${inputs.release}`);
  deps.io.info(diff === '' ? 'No changes.' : diff);
  const changed = diff.split('\n').filter((l) => /^[+-](?![+-]{2} )/.test(l)).length;
  await deps.io.summary(
    `## helm-deploy-eks (dry run): ${inputs.release} in ${inputs.namespace}\n\n` +
      (diff === '' ? 'No changes against the live release.\n' : `${changed} changed lines against ${previous ? `revision ${previous}` : 'nothing (first install)'}:\n\n${codeBlock(diff, 'diff')}`),
  );
  return { ...base, revision: previous ?? 0, 'previous-revision': previous ?? '', status: 'dry-run', changed: diff !== '' };
}
