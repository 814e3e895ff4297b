/**
 * `mode: fail`: this digest failed in the environment (a bake breach, a rollback away from it).
 * Its records there get a `failure` status, so it is neither promoted (verify wants success) nor
 * rolled back to. When it has no record there yet, a record is created with only a failure
 * status: the status view shows the failed attempt, and it never was evidence.
 * With the environment's evidence key, a record carrying a signed `failed` statement is always
 * created too: signed verify reads statements, not statuses (signed-rules.ts, rule 2).
 */
import { RECORDED_BY, signStatement } from './gate';
import { evidenceTask, type DeploymentsApi } from './github';
import type { EvidenceKeys } from '@deploy-actions/aws/kms';
import { releasesIn } from './releases';

export interface FailedRelease {
  environment: string;
  repository: string;
  digest: string;
  sha: string;
  image: string;
  /** The image's registry host, '' when none was given. */
  registry: string;
  reason: string;
  runUrl: string;
  context: { runId: string; workflow: string; actor: string };
  githubRepository: string;
  /** GitHub's production_environment flag of a record created here (the pipeline's notion: pipeline.ts). */
  productionEnvironment: boolean;
}

export interface Signing {
  keys: EvidenceKeys;
  keyArn: string;
  now: () => Date;
}

export interface MarkFailedResult {
  /** Deployments given a failure status (created or earlier records). */
  marked: number[];
  created: boolean;
}

export async function markFailed(api: DeploymentsApi, f: FailedRelease, signing?: Signing): Promise<MarkFailedResult> {
  const description = f.reason.slice(0, 140);
  // Signed first: a role that may not use the key changes nothing.
  const signed = signing
    ? await signStatement(signing.keys, signing.keyArn, {
        githubRepository: f.githubRepository,
        imageRepository: f.repository,
        digest: f.digest,
        contentKey: '',
        commit: f.sha,
        environment: f.environment,
        runUrl: f.runUrl,
        registry: f.registry,
        runId: f.context.runId,
        workflow: f.context.workflow,
        actor: f.context.actor,
        time: signing.now().toISOString(),
        hotfix: false,
        status: 'failed',
      })
    : undefined;
  const ours = (await releasesIn(api, f.environment, f.repository)).filter((r) => r.digest === f.digest);
  const open = ours.filter((r) => r.state !== 'failure' && r.state !== 'error');
  const status = { state: 'failure' as const, description, ...(f.runUrl ? { log_url: f.runUrl } : {}), auto_inactive: false };
  for (const r of open) await api.createStatus(r.deploymentId, status);
  if (ours.length > 0 && !signed) return { marked: open.map((r) => r.deploymentId), created: false };

  const created = await api.create({
    ref: f.sha,
    task: evidenceTask(f.environment),
    environment: f.environment,
    description,
    payload: {
      image: f.image,
      digest: f.digest,
      repository: f.repository,
      run_url: f.runUrl,
      run_id: f.context.runId,
      workflow: f.context.workflow,
      actor: f.context.actor,
      recorded_by: RECORDED_BY,
      result: 'failed',
      ...(signed ? { signed } : {}),
    },
    production_environment: f.productionEnvironment,
    transient_environment: true,
  });
  await api.createStatus(created.id, status);
  return { marked: [...open.map((r) => r.deploymentId), created.id], created: true };
}
