/**
 * Before the rollout: when the image lives in another account's ECR registry, may the EKS
 * cluster's account pull it? The nodes pull as a role of the cluster's account, which needs the
 * repository policy to allow that account; without it every pod would sit in ImagePullBackOff
 * until the rollout times out. The policy is read and checked here (packages/aws
 * missingPullActions); a policy that cannot be read is said so, and the deploy goes on.
 */
import { errorMessage, UserError, type ActionIO } from '@deploy-actions/action-kit';
import { missingPullActions, type PolicyDocument } from '@deploy-actions/aws';
import type { ClusterInfo } from './eks';
import type { ImageRef } from './inputs';

const ECR_HOST = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/;

export interface EcrSource {
  registryId: string;
  region: string;
  repository: string;
}

/**
 * The ECR registry and repository an image is pulled from: the account and region of an ECR
 * host, else `registryId` (the registry-id input, for a registry reached by another name) in the
 * deploy's region. Undefined when the image is not known to be in ECR.
 */
export function ecrSource(image: Pick<ImageRef, 'repository'>, registryId: string | undefined, region: string): EcrSource | undefined {
  const slash = image.repository.indexOf('/');
  if (slash <= 0) return undefined;
  const host = image.repository.slice(0, slash);
  const repository = image.repository.slice(slash + 1);
  const ecr = ECR_HOST.exec(host);
  if (ecr) return { registryId: ecr[1]!, region: ecr[2]!, repository };
  return registryId ? { registryId, region, repository } : undefined;
}

/** The repository policy text; undefined when the repository has none (real-deps.ts reads it from ECR). */
export type ReadPolicy = (source: EcrSource) => Promise<string | undefined>;

/**
 * Fails with one line when the cluster's account may not pull the image's repository; says
 * so and goes on when the policy cannot be read. Nothing to check without an EKS cluster, for
 * an image not in ECR, or in the cluster's own account (IAM alone decides there).
 */
export async function checkPullAccess(
  deps: { io: ActionIO; readPolicy?: ReadPolicy },
  image: ImageRef | undefined,
  source: EcrSource | undefined,
  cluster: ClusterInfo | undefined,
): Promise<void> {
  const account = cluster?.arn.split(':')[4];
  if (!image || !source || !cluster || !account || account === source.registryId || !deps.readPolicy) return;
  const what = `ECR repository ${source.repository} in account ${source.registryId}`;
  let text: string | undefined;
  try {
    text = await deps.readPolicy(source);
  } catch (err) {
    deps.io.warning(`Could not read the repository policy of ${what} (${errorMessage(err).split('\n')[0]}), so whether account ${account} (EKS cluster ${cluster.name}) may pull ${image.digest} is not checked before the rollout`);
    return;
  }
  const missing = text === undefined ? [] : missingPullActions(JSON.parse(text) as PolicyDocument, account);
  if (text === undefined || missing.length > 0) {
    const why = text === undefined ? 'it has no repository policy' : `its repository policy does not allow ${missing.join(', ')} to that account`;
    throw new UserError(
      `Account ${account} (EKS cluster ${cluster.name}) may not pull from ${what}: ${why}; add ${account} to build-push-ecr's pull-accounts. Nothing was deployed`,
    );
  }
  deps.io.info(`Account ${account} (EKS cluster ${cluster.name}) may pull from ${what}`);
}
