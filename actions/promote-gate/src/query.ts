/**
 * The modes that read the evidence (their inputs: query-inputs.ts) rather than gate a deploy:
 *   status         what runs where (per environment), to the log, the job summary and `status`
 *   last-validated the newest validated release of an environment other than a digest: the
 *                  rollback target (rollback.yml, and the bake's rollback in deploy.yml)
 *   fail           mark a digest's records in an environment failed (a bake breach, a rollback)
 */
import { UserError, type ActionIO, type Outputs } from '@deploy-actions/action-kit';
import { octokitApprovals, approvedBy, type ApprovalsApi } from './approvals';
import { octokitDeployments, type DeploymentsApi } from './github';
import { keyOf } from './inputs';
import type { QueryInputs } from './query-inputs';
import { kmsEvidenceKeys, type EvidenceKeys } from '@deploy-actions/aws/kms';
import { markFailed } from './mark-failed';
import { parseImageRef } from './refs';
import { lastValidated, releasesIn, running, type Release, type SignedView } from './releases';
import { statusLines, statusMarkdown, statusView } from './status';

export interface QueryDeps {
  io: ActionIO;
  github: DeploymentsApi;
  approvals?: ApprovalsApi;
  keys?: EvidenceKeys;
  now?: () => Date;
}

export function realQueryDeps(io: ActionIO, inputs: QueryInputs): QueryDeps {
  const gh = { token: inputs.token, apiUrl: inputs.apiUrl, owner: inputs.owner, repo: inputs.repo, onRetry: (m: string) => io.warning(m) };
  return {
    io,
    github: octokitDeployments({ ...gh, need: inputs.mode === 'fail' ? 'write' : 'read' }),
    approvals: octokitApprovals(gh),
    ...(Object.keys(inputs.evidenceKeys).length ? { keys: kmsEvidenceKeys({ onRetry: gh.onRetry }) } : {}),
  };
}

/** The release as outputs (what rollback.yml prints and deploys). */
function releaseOutputs(r: Release, approved: string): Outputs {
  const parsed = parseImageRef(r.image);
  return {
    found: true,
    digest: r.digest,
    sha: r.sha,
    'image-ref': parsed && parsed.digest === r.digest ? r.image : `${r.repository}@${r.digest}`,
    repository: r.repository,
    'deployment-id': r.deploymentId,
    'validated-at': r.recordedAt,
    'validated-by': r.actor,
    'approved-by': approved,
    'run-url': r.runUrl,
  };
}

export async function runQuery(inputs: QueryInputs, deps: QueryDeps): Promise<Outputs> {
  const { io } = deps;
  io.setSecret(inputs.token);

  const signed = async (environment: string): Promise<SignedView | undefined> => {
    const arn = keyOf(inputs.evidenceKeys, environment);
    if (!arn) return undefined;
    if (!deps.keys) throw new Error('internal: kms client missing');
    return { githubRepository: inputs.githubRepository, verify: await deps.keys.verifier(arn) };
  };

  if (inputs.mode === 'status') {
    const view = await statusView({ ...deps, signed }, inputs.environments, inputs.repository);
    for (const line of statusLines(view)) io.info(line);
    await io.summary(statusMarkdown(view, inputs.repository, (deps.now ?? (() => new Date()))()));
    return { status: JSON.stringify(view), repository: inputs.repository };
  }

  if (inputs.mode === 'fail') {
    const keyArn = keyOf(inputs.evidenceKeys, inputs.environment);
    const signing = keyArn && deps.keys ? { keys: deps.keys, keyArn, now: deps.now ?? (() => new Date()) } : undefined;
    if (keyArn && !signing) throw new Error('internal: kms client missing');
    const r = await markFailed(deps.github, { ...inputs, reason: inputs.description }, signing);
    io.info(
      `${inputs.repository}@${inputs.digest} marked failed in ${inputs.environment} (${r.created ? 'new record' : 'deployment'} ${r.marked.join(', ') || 'none: already failed'}): ${inputs.description}`,
    );
    return { digest: inputs.digest, repository: inputs.repository, 'deployment-id': r.marked.join(',') };
  }

  const releases = await releasesIn(deps.github, inputs.environment, inputs.repository, await signed(inputs.environment));
  const exclude = inputs.digest || running(releases)?.digest;
  const target = lastValidated(releases, exclude);
  if (!target) {
    const read = `${releases.length} ${keyOf(inputs.evidenceKeys, inputs.environment) ? 'signed record(s)' : 'record(s)'} read`;
    const line = `No validated release of ${inputs.repository} in ${inputs.environment}${exclude ? ` other than ${exclude}` : ''} (${read})`;
    if (inputs.required) throw new UserError(line, { found: false });
    io.info(line);
    return { found: false };
  }
  const approved = await approvedBy(deps.approvals, target.runId, inputs.environment);
  io.info(
    `Last validated release of ${inputs.repository} in ${inputs.environment}${exclude ? ` before ${exclude}` : ''}: ${target.digest} (commit ${target.sha}), validated ${target.recordedAt} by ${target.actor || '?'} in ${target.runUrl || `run ${target.runId}`}, approved by ${approved}`,
  );
  return releaseOutputs(target, approved);
}

export { getQueryInputs, isQueryMode, QUERY_MODES, type QueryInputs, type QueryMode } from './query-inputs';
