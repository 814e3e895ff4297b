import { UserError, table, type ActionIO, type Outputs } from '@deploy-actions/action-kit';
import { ecrApi, type AwsCallOptions, type EcrLike } from '@deploy-actions/aws';
import { recordPromotion, verifyPromotion, type Check } from './gate';
import { octokitDeployments, type DeploymentsApi } from './github';
import type { Inputs } from './inputs';
import { kmsEvidenceKeys, type EvidenceKeys } from '@deploy-actions/aws/kms';

export interface Deps {
  io: ActionIO;
  github?: DeploymentsApi;
  /** ECR: ecrApi (the JSON-protocol client, no SDK) in the action; tests may pass a mocked SDK client. */
  ecr?: EcrLike;
  aws?: AwsCallOptions;
  keys?: EvidenceKeys;
  now?: () => Date;
}

export function realDeps(io: ActionIO, inputs: Inputs): Deps {
  const onRetry = (m: string) => io.warning(m);
  return {
    io,
    ...(inputs.evidence.includes('github')
      ? {
          github: octokitDeployments({
            token: inputs.token,
            apiUrl: inputs.apiUrl,
            owner: inputs.owner,
            repo: inputs.repo,
            need: inputs.mode === 'record' ? 'write' : 'read',
            onRetry,
          }),
        }
      : {}),
    ...(inputs.evidence.includes('ecr') || inputs.provenanceKey ? { ecr: ecrApi(inputs.region) } : {}),
    aws: { onRetry },
    ...(Object.keys(inputs.evidenceKeys).length || inputs.provenanceKey ? { keys: kmsEvidenceKeys({ onRetry }) } : {}),
  };
}

function evidenceJson(inputs: Inputs, checks: Check[], environment: string): string {
  return JSON.stringify({
    mode: inputs.mode,
    environment,
    ...(inputs.mode === 'verify' ? { target: inputs.targetEnvironment } : {}),
    ref: inputs.ref,
    sha: inputs.sha,
    digest: inputs.digest,
    repository: inputs.repository,
    checks,
  });
}

function summary(title: string, inputs: Inputs, checks: Check[]): string {
  return (
    `### ${title}\n\n` +
    table(['Image', 'Commit', 'Ref'], [[`${inputs.repository}@${inputs.digest}`, inputs.sha, inputs.ref]]) +
    '\n' +
    table(['Check', 'Result', 'Detail'], checks.map((c) => [c.source, c.ok ? 'pass' : 'FAIL', c.warning ? `${c.detail}. WARNING: ${c.warning}` : c.detail]))
  );
}

export async function run(inputs: Inputs, deps: Deps): Promise<Outputs> {
  const { io } = deps;
  if (inputs.token) io.setSecret(inputs.token);
  const gateDeps = {
    ...(deps.github ? { github: deps.github } : {}),
    ...(deps.ecr ? { ecr: deps.ecr } : {}),
    ...(deps.aws ? { aws: deps.aws } : {}),
    ...(deps.keys ? { keys: deps.keys } : {}),
    ...(deps.now ? { now: deps.now } : {}),
    info: (m: string) => io.info(m),
    weakened: (m: string) => io.error(m),
  };
  const env = inputs.evidenceEnvironment;

  if (inputs.mode === 'verify') {
    for (const rule of inputs.weakened) io.error(rule);
    io.info(
      `Verifying ${inputs.repository}@${inputs.digest} (commit ${inputs.sha}, ${inputs.ref}) for ${inputs.targetEnvironment}: ` +
        (env ? `requires ${inputs.evidence.join(' + ')} evidence from ${env}` : 'no evidence required (not a promotion target), ref checked'),
    );
    const result = await io.group(`Verify ${env || 'ref'} for ${inputs.targetEnvironment}`, () => verifyPromotion(inputs, gateDeps));
    for (const c of result.checks) io.info(`${c.ok ? 'pass' : 'FAIL'} ${c.source}: ${c.detail}`);
    for (const c of result.checks) if (c.warning) io.warning(c.warning, { title: 'release card' });
    const outputs: Outputs = {
      verified: result.verified,
      environment: inputs.targetEnvironment,
      evidence: evidenceJson(inputs, result.checks, env),
      'deployment-id': result.deploymentId ?? '',
      tag: inputs.evidence.includes('ecr') ? inputs.tag : '',
      'tag-result': '',
      digest: inputs.digest,
      repository: inputs.repository,
    };
    await io.summary(summary(`Promotion to ${inputs.targetEnvironment}: ${result.verified ? 'verified' : 'REFUSED'}`, inputs, result.checks));
    if (!result.verified) {
      const missing = result.checks.filter((c) => !c.ok).map((c) => c.detail);
      const hint = inputs.refusalHint ? `. ${inputs.refusalHint}` : '';
      const message = `Promotion of ${inputs.repository}@${inputs.digest} to ${inputs.targetEnvironment} refused: ${missing.join('; ')}${hint}`;
      // One error annotation: the step's failure line names every missing piece of evidence (each
      // check is also in the log above, pass or FAIL, and in the summary).
      throw new UserError(message, outputs);
    }
    return outputs;
  }

  io.info(`Recording ${inputs.repository}@${inputs.digest} (commit ${inputs.sha}) as validated in ${env} (${inputs.evidence.join(' + ')})`);
  if (inputs.cardNote) io.warning(inputs.cardNote);
  if (inputs.cardSha256) io.info(`The release card the reviewers saw: ${inputs.cardSha256}`);
  const result = await io.group(`Record ${env} evidence`, () => recordPromotion(inputs, gateDeps));
  await io.summary(summary(`Recorded evidence in ${env}`, inputs, result.checks));
  return {
    verified: true,
    environment: env,
    evidence: evidenceJson(inputs, result.checks, env),
    'deployment-id': result.deploymentId ?? '',
    tag: inputs.evidence.includes('ecr') ? inputs.tag : '',
    'tag-result': result.tagResult ?? '',
    digest: inputs.digest,
    repository: inputs.repository,
  };
}
