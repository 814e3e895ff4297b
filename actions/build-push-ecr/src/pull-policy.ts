/**
 * The repository policy: the accounts whose clusters pull the image, and the deploy roles that
 * read it or record evidence tags from other accounts, kept in three statements of our own (stable Sids) beside whatever
 * else the policy holds. Read, merged, and written only when it changes.
 */
import type { ActionIO } from '@deploy-actions/action-kit';
import { awsCall, getRepositoryPolicy, mergeRepositoryPolicy, type AwsCallOptions, type EcrApi } from '@deploy-actions/aws';
import type { Inputs } from './inputs';

/** The summary line; nothing is read or written when no principal is asked for. */
export async function keepPullPolicy(
  inputs: Pick<Inputs, 'repository' | 'registryId' | 'pullPrincipals' | 'readPrincipals' | 'recordPrincipals'>,
  deps: { ecr: EcrApi; io: ActionIO },
  aws: AwsCallOptions,
): Promise<string> {
  const grants = { pull: inputs.pullPrincipals, read: inputs.readPrincipals, record: inputs.recordPrincipals };
  if (Object.values(grants).every((g) => g.length === 0)) return 'not managed (no pull-accounts, pull-principals, read-principals or record-principals)';
  const ref = { repositoryName: inputs.repository, registryId: inputs.registryId };
  const current = await getRepositoryPolicy(deps.ecr, ref, aws);
  const merged = mergeRepositoryPolicy(current, grants);
  const who = Object.entries(grants).map(([what, arns]) => `${what}: ${arns.join(', ') || 'none'}`).join('; ');
  if (!merged.changed) return `as it was (${who})`;
  await awsCall('ecr:SetRepositoryPolicy', inputs.repository, () => deps.ecr.call('SetRepositoryPolicy', { ...ref, policyText: merged.text }), aws);
  deps.io.info(`Repository policy of ${inputs.repository} updated (${who})`);
  return `updated (${who})`;
}
