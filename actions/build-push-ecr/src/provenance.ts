/**
 * Build provenance (docs/build-push-ecr.md, "Build provenance"): an image this action builds gets
 * a signed in-toto/SLSA statement stored beside it in ECR; an image found under this commit's tag
 * or its content key is reused only when such a statement, signed with the provenance key,
 * says build.yml built it for this commit or from this content. Tags alone are not proof: anyone
 * holding a role with ecr:PutImage can put one on an image of their own.
 */
import type { EcrApi } from '@deploy-actions/aws';
import { UserError, type GitHubContext } from '@deploy-actions/action-kit';
import type { AwsCallOptions } from '@deploy-actions/aws';
import type { EvidenceKeys } from '@deploy-actions/aws/kms';
import { checkProvenance, ecrRegistry, encodeProvenance, pushProvenance, signEnvelope, type OciRegistry, type ProvenanceVerdict, type Stored } from '@deploy-actions/aws/provenance';

export interface ReuseClaim {
  digest: string;
  commit: string;
  contentKey?: string;
}

export interface BuiltImage {
  digest: string;
  commit: string;
  contentKey: string;
  time: Date;
}

/** The provenance of this run's repository, signed and checked with one KMS key. */
export interface Provenance {
  keyArn: string;
  verify(c: ReuseClaim): Promise<ProvenanceVerdict>;
  write(b: BuiltImage): Promise<Stored>;
}

export interface ProvenanceWiring {
  keyArn: string;
  repository: string;
  registryId?: string;
  ecr: EcrApi;
  context: GitHubContext;
  aws: AwsCallOptions;
  keys: Pick<EvidenceKeys, 'sign' | 'verifier'>;
  /** The job_workflow_ref of the running job (from its OIDC token): build.yml's, when the build role could be assumed. */
  workflowRef: () => Promise<string>;
}

export function ecrProvenance(w: ProvenanceWiring): Provenance {
  let registry: Promise<OciRegistry> | undefined;
  const reg = () => (registry ??= ecrRegistry(w.ecr, w.registryId, w.aws));
  return {
    keyArn: w.keyArn,
    async verify(c) {
      const verify = await w.keys.verifier(w.keyArn);
      return checkProvenance(await reg(), verify, { digest: c.digest, ecrRepository: w.repository, githubRepository: w.context.repository, commit: c.commit, contentKey: c.contentKey });
    },
    async write(b) {
      const time = b.time.toISOString();
      const { context } = w;
      const statement = encodeProvenance(
        {
          digest: b.digest,
          ecrRepository: w.repository,
          contentKey: b.contentKey,
          commit: b.commit,
          githubRepository: context.repository,
          workflowRef: await w.workflowRef(),
          runUrl: `${context.serverUrl}/${context.repository}/actions/runs/${context.runId}/attempts/${context.runAttempt || '1'}`,
          time,
        },
        context.serverUrl,
      );
      const envelope = Buffer.from(JSON.stringify(await signEnvelope(w.keys, w.keyArn, statement)), 'utf8');
      return pushProvenance(await reg(), w.repository, b.digest, envelope, time);
    },
  };
}

/** The one line saying where the statement went. */
export function storedLine(digest: string, keyArn: string, s: Stored): string {
  const where =
    s.via === 'referrers'
      ? 'found through the referrers API'
      : s.via === 'tag'
        ? `listed under tag ${digest.replace(':', '-')} (the registry has no referrers API)`
        : `already listed under tag ${digest.replace(':', '-')}`;
  return `Provenance of ${digest} signed with ${keyArn}: artifact ${s.artifact}, ${where}`;
}

/** The job's OIDC token claims: job_workflow_ref is the workflow file that runs this job. */
export async function jobWorkflowRef(env: NodeJS.ProcessEnv, fetchImpl: typeof fetch): Promise<string> {
  const url = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const token = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!url || !token) {
    throw new UserError('Input provenance-kms-key needs the job\'s OIDC token to name the workflow that built the image: give the job permissions id-token: write (build.yml does)');
  }
  const res = await fetchImpl(`${url}${url.includes('?') ? '&' : '?'}audience=deploy-actions-provenance`, { headers: { Authorization: `Bearer ${token}` } });
  if (!res.ok) throw new UserError(`the job's OIDC token could not be had: the runner answered ${res.status}`);
  const jwt = ((await res.json()) as { value?: string }).value ?? '';
  let claims: { job_workflow_ref?: unknown } = {};
  try {
    claims = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as typeof claims;
  } catch {
    claims = {};
  }
  if (typeof claims.job_workflow_ref !== 'string') throw new UserError("the job's OIDC token carries no job_workflow_ref claim");
  return claims.job_workflow_ref;
}
