/**
 * promote-gate `mode: card`: the release card of a candidate image for an environment, written
 * to the job summary and the log, with outputs `card` (the Markdown) and `card-sha256` (what
 * `record` signs after the approval). Reads GitHub (deployments, run reviews, compare), ECR
 * (manifests, scan findings) when AWS credentials are there, and renders the chart with helm;
 * no cluster.
 */
import { errorMessage, exec, type ActionIO, type Exec, type Outputs } from '@deploy-actions/action-kit';
import { ecrApi } from '@deploy-actions/aws';
import { octokitApprovals, type ApprovalsApi } from '../approvals';
import { octokitDeployments, type DeploymentsApi } from '../github';
import { keyOf } from '../inputs';
import { kmsEvidenceKeys, type EvidenceKeys } from '@deploy-actions/aws/kms';
import type { SignedView } from '../releases';
import { gatherCard } from './gather';
import type { CardInputs, CardRefused } from './inputs';
import { cardHash } from './hash';
import { plain } from './markdown';
import { renderCard } from './render';
import { ecrRegistry, findHelm, helmRender, octokitCompare, type CompareApi, type RegistryApi, type RenderApi } from './sources';

export interface CardModeDeps {
  io: ActionIO;
  github: DeploymentsApi;
  approvals?: ApprovalsApi;
  keys?: EvidenceKeys;
  compare?: CompareApi;
  registry?: RegistryApi;
  render?: RenderApi;
  now?: () => Date;
}

const hasAwsCredentials = (env: NodeJS.ProcessEnv) => Boolean(env.AWS_ACCESS_KEY_ID || env.AWS_WEB_IDENTITY_TOKEN_FILE || env.AWS_PROFILE || env.AWS_CONTAINER_CREDENTIALS_FULL_URI);

export function realCardDeps(io: ActionIO, inputs: CardInputs, env: NodeJS.ProcessEnv = process.env, run: Exec = exec): CardModeDeps {
  const gh = { token: inputs.token, apiUrl: inputs.apiUrl, owner: inputs.owner, repo: inputs.repo, onRetry: (m: string) => io.warning(m) };
  const aws = hasAwsCredentials(env) && inputs.region;
  return {
    io,
    github: octokitDeployments({ ...gh, need: 'read' }),
    approvals: octokitApprovals(gh),
    compare: octokitCompare(gh),
    ...(Object.keys(inputs.evidenceKeys).length ? { keys: kmsEvidenceKeys({ onRetry: gh.onRetry }) } : {}),
    ...(aws ? { registry: ecrRegistry(ecrApi(inputs.region), { repositoryName: inputs.subject.imageRepository, ...(inputs.registryId ? { registryId: inputs.registryId } : {}) }, { onRetry: gh.onRetry }) } : {}),
    render: helmRender({ exec: run, helm: findHelm(inputs.helm, env), workspace: inputs.workspace, spec: inputs.chart, ...(env.RUNNER_TEMP ? { tmp: env.RUNNER_TEMP } : {}) }),
  };
}

/**
 * When the card cannot be made (the evidence cannot be read or verified, an input the gate will
 * refuse): a card saying so, a warning, and its hash, so the evidence records that the reviewers
 * were shown no card. Never a failed step: the deploy job's gate decides, in its own words.
 */
export async function noCard(o: CardRefused, io: ActionIO): Promise<Outputs> {
  const card = `## Release card: ${plain(o.release, 100)} to ${plain(o.environment, 100)}\n\n**No card could be made**: ${plain(o.why, 400)}`;
  io.warning(`No release card: ${o.why}`, { title: 'release card' });
  await io.summary(card);
  return { card, 'card-sha256': cardHash(card), environment: o.environment };
}

export async function runCard(inputs: CardInputs, deps: CardModeDeps): Promise<Outputs> {
  const { io } = deps;
  io.setSecret(inputs.token);
  const signed = async (environment: string): Promise<SignedView | undefined> => {
    const arn = keyOf(inputs.evidenceKeys, environment);
    if (!arn || !deps.keys) return undefined;
    return { githubRepository: inputs.subject.githubRepository, verify: await deps.keys.verifier(arn) };
  };
  const started = Date.now();
  let data;
  try {
    data = await gatherCard(inputs.subject, {
      github: deps.github,
      ...(deps.approvals ? { approvals: deps.approvals } : {}),
      signed,
      ...(deps.compare ? { compare: deps.compare } : {}),
      ...(deps.registry ? { registry: deps.registry } : {}),
      ...(deps.render ? { render: deps.render } : {}),
      now: deps.now ?? (() => new Date()),
    });
  } catch (err) {
    return noCard({ release: inputs.subject.release, environment: inputs.subject.environment, why: errorMessage(err).split('\n')[0]! }, io);
  }
  const card = renderCard(data);
  const hash = cardHash(card);
  io.info(card);
  io.info(`Release card ${hash} (${Buffer.byteLength(card, 'utf8')} bytes, made in ${Date.now() - started} ms)`);
  await io.summary(`${card}\n\n_Card ${hash}: the approval's signed evidence records this hash._\n`);
  return { card, 'card-sha256': hash, environment: inputs.subject.environment };
}

export { getCardInputs, type CardInputs, type CardRefused } from './inputs';
