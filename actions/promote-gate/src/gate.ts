import { DescribeImagesCommand, type ECRClient } from '@aws-sdk/client-ecr';
import { UserError } from '@deploy-actions/action-kit';
import { awsCall, awsErrorName, findImageByTag, tagExistingImage, type AwsCallOptions, type TagResult } from '@deploy-actions/aws';
import { newestFirst, payloadOf, type Deployment, type DeploymentsApi, type DeploymentStatus } from './github';
import type { Inputs } from './inputs';
import { refAllowed, sameEnvironment } from './refs';

export interface Check {
  source: 'ref' | 'github' | 'ecr';
  ok: boolean;
  detail: string;
  deploymentId?: number;
  tag?: string;
}

export interface GateDeps {
  github?: DeploymentsApi;
  ecr?: ECRClient;
  aws?: AwsCallOptions;
  info(message: string): void;
}

type Subject = Pick<Inputs, 'digest' | 'repository' | 'registryId' | 'sha' | 'tag' | 'evidenceEnvironment'>;

const short = (sha: string) => sha.slice(0, 7);

export function checkRef(ref: string, allowed: readonly string[], target: string): Check {
  const ok = refAllowed(ref, allowed);
  return {
    source: 'ref',
    ok,
    detail: ok
      ? `${ref} may deploy to ${target}`
      : `${ref} may not deploy to ${target} (allowed: ${allowed.join(', ')})`,
  };
}

function latestStatus(statuses: readonly DeploymentStatus[]): DeploymentStatus | undefined {
  return newestFirst(statuses)[0];
}

/** Deployments of this commit to this environment whose payload names this digest (and repository), newest first. */
function matching(deployments: readonly Deployment[], s: Subject): { hits: Deployment[]; sameCommit: Deployment[] } {
  const sameCommit = newestFirst(
    deployments.filter((d) => d.sha === s.sha && sameEnvironment(d.environment, s.evidenceEnvironment)),
  );
  const hits = sameCommit.filter((d) => {
    const p = payloadOf(d);
    return p.digest === s.digest && (p.repository === undefined || p.repository === s.repository);
  });
  return { hits, sameCommit };
}

/** A successful GitHub deployment of this digest and commit in the environment, if there is one. */
export async function githubEvidence(api: DeploymentsApi, s: Subject): Promise<Check> {
  const env = s.evidenceEnvironment;
  const { hits, sameCommit } = matching(await api.list({ environment: env, sha: s.sha }), s);
  if (hits.length === 0) {
    const others = [...new Set(sameCommit.map((d) => String(payloadOf(d).digest ?? 'no digest')))];
    return {
      source: 'github',
      ok: false,
      detail:
        `no GitHub deployment to ${env} of commit ${short(s.sha)} carries digest ${s.digest}` +
        (others.length ? ` (its ${env} deployments carry ${others.join(', ')})` : ` (commit ${short(s.sha)} was never recorded in ${env})`),
    };
  }
  const seen: string[] = [];
  for (const d of hits) {
    const latest = latestStatus(await api.statuses(d.id));
    if (latest?.state === 'success') {
      return { source: 'github', ok: true, detail: `deployment ${d.id} to ${env} is successful`, deploymentId: d.id };
    }
    seen.push(`deployment ${d.id}: ${latest?.state ?? 'no status'}`);
  }
  return {
    source: 'github',
    ok: false,
    detail: `no ${env} deployment of digest ${s.digest} has success as its latest status (${seen.join('; ')})`,
  };
}

/** The ECR evidence tag exists and is on this digest. */
export async function ecrEvidence(ecr: ECRClient, s: Subject, aws: AwsCallOptions = {}): Promise<Check> {
  const image = await findImageByTag(ecr, { repositoryName: s.repository, registryId: s.registryId }, s.tag, aws);
  if (!image) return { source: 'ecr', ok: false, detail: `ECR tag ${s.tag} does not exist in ${s.repository}`, tag: s.tag };
  if (image.imageDigest !== s.digest) {
    return {
      source: 'ecr',
      ok: false,
      detail: `ECR tag ${s.tag} in ${s.repository} is on ${image.imageDigest}, not ${s.digest}`,
      tag: s.tag,
    };
  }
  return { source: 'ecr', ok: true, detail: `ECR tag ${s.tag} is on ${s.digest}`, tag: s.tag };
}

export interface VerifyResult {
  checks: Check[];
  verified: boolean;
  deploymentId?: number;
}

/** Every check is made (so a refusal lists everything missing); nothing is written. */
export async function verifyPromotion(inputs: Inputs, deps: GateDeps): Promise<VerifyResult> {
  const checks: Check[] = [checkRef(inputs.ref, inputs.allowedRefs, inputs.targetEnvironment)];
  if (inputs.evidence.includes('github')) checks.push(await githubEvidence(need(deps.github, 'github'), inputs));
  if (inputs.evidence.includes('ecr')) checks.push(await ecrEvidence(need(deps.ecr, 'ecr'), inputs, deps.aws));
  const deploymentId = checks.find((c) => c.deploymentId !== undefined)?.deploymentId;
  return { checks, verified: checks.every((c) => c.ok), ...(deploymentId !== undefined ? { deploymentId } : {}) };
}

export interface RecordResult {
  checks: Check[];
  deploymentId?: number;
  tagResult?: TagResult;
}

/**
 * Writes the evidence. Everything that can refuse is checked first (tags on other digests,
 * a missing image, existing evidence), then the GitHub deployment is created (so a token
 * without `deployments: write` fails before ECR is touched), then the ECR tag, then the
 * success status that turns the deployment into evidence. A failure after the deployment
 * exists marks it `error`. A re-run finds its own evidence and writes nothing new.
 */
export async function recordPromotion(inputs: Inputs, deps: GateDeps): Promise<RecordResult> {
  const env = inputs.evidenceEnvironment;
  const checks: Check[] = [];
  const ref = { repositoryName: inputs.repository, registryId: inputs.registryId };

  // 1. Refusals before any write.
  let tagExists = false;
  if (inputs.evidence.includes('ecr')) {
    const ecr = need(deps.ecr, 'ecr');
    if (inputs.commitTag) {
      const built = await findImageByTag(ecr, ref, inputs.commitTag, deps.aws);
      if (built && built.imageDigest !== inputs.digest) {
        throw new UserError(
          `Refusing to record ${inputs.digest} for commit ${short(inputs.sha)}: the commit's tag ${inputs.commitTag} in ${inputs.repository} is on ${built.imageDigest}, so this digest is not the build of this commit`,
        );
      }
      deps.info(built ? `Commit tag ${inputs.commitTag} is on ${inputs.digest}` : `Commit tag ${inputs.commitTag} does not exist in ${inputs.repository}; not checked`);
    }
    const current = await findImageByTag(ecr, ref, inputs.tag, deps.aws);
    if (current && current.imageDigest !== inputs.digest) {
      throw new UserError(
        `Refusing to record ${inputs.digest} in ${env}: tag ${inputs.tag} in ${inputs.repository} already points at ${current.imageDigest}`,
      );
    }
    tagExists = current !== undefined;
    if (!current && !(await imageExists(ecr, ref, inputs.digest, deps.aws))) {
      throw new UserError(`Refusing to record: image ${inputs.repository}@${inputs.digest} does not exist in ECR`);
    }
  }
  let existing: Deployment | undefined;
  if (inputs.evidence.includes('github')) {
    const found = await githubEvidence(need(deps.github, 'github'), inputs);
    if (found.ok) existing = { id: found.deploymentId! } as Deployment;
  }

  // 2. The GitHub deployment (no status yet: not evidence until the success status).
  const api = inputs.evidence.includes('github') ? need(deps.github, 'github') : undefined;
  let created: Deployment | undefined;
  if (api && !existing) {
    created = await api.create({
      ref: inputs.sha,
      environment: env,
      description: inputs.description || `${inputs.repository}@${inputs.digest} validated in ${env}`.slice(0, 140),
      payload: {
        image: inputs.image,
        digest: inputs.digest,
        repository: inputs.repository,
        ...(inputs.registryId ? { registry_id: inputs.registryId } : {}),
        ...(inputs.evidence.includes('ecr') ? { tag: inputs.tag } : {}),
        run_url: inputs.runUrl,
        run_id: inputs.context.runId,
        workflow: inputs.context.workflow,
        actor: inputs.context.actor,
        recorded_by: 'deploy-actions/promote-gate',
      },
      production_environment: inputs.productionEnvironment,
      transient_environment: inputs.transientEnvironment,
    });
  }
  // Leave no pending deployment behind: a failure below marks it errored.
  const failed = async (err: unknown): Promise<never> => {
    if (api && created) {
      await api
        .createStatus(created.id, { state: 'error', description: 'promote-gate could not record the evidence' })
        .catch(() => undefined);
    }
    throw err;
  };

  // 3. ECR tag (PutImage of the existing manifest: no layers move).
  let tagResult: TagResult | undefined;
  if (inputs.evidence.includes('ecr')) {
    tagResult = tagExists
      ? 'existed'
      : await tagExistingImage(need(deps.ecr, 'ecr'), ref, inputs.digest, inputs.tag, deps.aws).catch(failed);
    deps.info(`ECR tag ${inputs.tag} ${tagResult === 'created' ? 'created on' : 'already on'} ${inputs.digest}`);
    checks.push({ source: 'ecr', ok: true, detail: `ECR tag ${inputs.tag} ${tagResult} on ${inputs.digest}`, tag: inputs.tag });
  }

  // 4. The success status that makes the deployment evidence.
  let deploymentId: number | undefined;
  if (existing) {
    deploymentId = existing.id;
    deps.info(`GitHub deployment ${existing.id} already records ${inputs.digest} in ${env}`);
    checks.push({ source: 'github', ok: true, detail: `deployment ${existing.id} already successful`, deploymentId });
  } else if (api && created) {
    deploymentId = created.id;
    await api
      .createStatus(created.id, {
        state: 'success',
        description: `Digest validated in ${env}`,
        ...(inputs.runUrl ? { log_url: inputs.runUrl } : {}),
        ...(inputs.environmentUrl ? { environment_url: inputs.environmentUrl } : {}),
      })
      .catch(failed);
    deps.info(`GitHub deployment ${created.id} to ${env} created with a success status`);
    checks.push({ source: 'github', ok: true, detail: `deployment ${created.id} created with status success`, deploymentId });
  }
  return { checks, ...(deploymentId !== undefined ? { deploymentId } : {}), ...(tagResult ? { tagResult } : {}) };
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`internal: ${what} client missing`);
  return value;
}

async function imageExists(ecr: ECRClient, ref: { repositoryName: string; registryId?: string }, digest: string, aws?: AwsCallOptions): Promise<boolean> {
  try {
    const res = await awsCall(
      'ecr:DescribeImages',
      ref.repositoryName,
      () => ecr.send(new DescribeImagesCommand({ ...ref, imageIds: [{ imageDigest: digest }] })),
      aws,
    );
    return (res.imageDetails ?? []).some((d) => d.imageDigest === digest);
  } catch (err) {
    if (awsErrorName(err) === 'ImageNotFoundException') return false;
    throw err;
  }
}
