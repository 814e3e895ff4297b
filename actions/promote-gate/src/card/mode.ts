/**
 * promote-gate `mode: card`: the release card of a candidate image for an environment, written
 * to the job summary and the log, with outputs `card` (the Markdown) and `card-sha256` (what
 * `record` signs after the approval). Reads GitHub (deployments, run reviews, compare), ECR
 * (manifests, scan findings) when AWS credentials are there, and renders the chart with helm;
 * no cluster.
 */
import { context } from '@actions/github';
import { InputError, exec, githubContext, type ActionIO, type Exec, type Inputs as Raw, type Outputs, type RunContext } from '@deploy-actions/action-kit';
import { makeEcrClient } from '@deploy-actions/aws';
import { octokitApprovals, type ApprovalsApi } from '../approvals';
import { octokitDeployments, type DeploymentsApi } from '../github';
import { keyOf, parseEvidenceKeys, type EvidenceKeyMap } from '../inputs';
import { kmsEvidenceKeys, type EvidenceKeys } from '../kms';
import { environmentName, loadPipeline, requiredBefore } from '../pipeline';
import { DIGEST_RE, ECR_REPOSITORY_RE, SHA_RE, parseImageRef } from '../refs';
import type { SignedView } from '../releases';
import { gatherCard, type CardSubject } from './gather';
import { cardHash } from './hash';
import { renderCard } from './render';
import { ecrRegistry, findHelm, helmRender, octokitCompare, type ChartSpec, type CompareApi, type RegistryApi, type RenderApi } from './sources';

export interface CardInputs {
  mode: 'card';
  subject: CardSubject;
  chart: ChartSpec;
  registryId?: string;
  region: string;
  helm: string;
  token: string;
  owner: string;
  repo: string;
  apiUrl: string;
  workspace: string;
  evidenceKeys: EvidenceKeyMap;
}

const GO_DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;

function guards(i: Raw): { bake: string; alarms: string } {
  const duration = i.string('bake-duration');
  if (duration && !GO_DURATION.test(duration)) throw new InputError('bake-duration', 'must be a Go duration like 10m', duration);
  const baking = duration !== '' && !/^0+(\.0+)?[a-zµ]*$/.test(duration);
  const alarms = i.list('bake-alarms');
  const prefix = i.string('bake-alarm-prefix');
  return {
    bake: baking ? `${duration} after the rollout: alarms, the smoke URL's error ratio, pod restarts and readiness` : 'none (bake-duration is 0s or not set for this card)',
    alarms: alarms.length ? alarms.join(', ') : prefix ? `every CloudWatch alarm named ${prefix}*` : 'none named',
  };
}

export function getCardInputs(i: Raw, run: RunContext = context, env: NodeJS.ProcessEnv = process.env): CardInputs {
  const ctx = githubContext(run);
  const imageRef = i.required('image-ref');
  const parsed = parseImageRef(imageRef);
  if (!parsed) throw new InputError('image-ref', 'must be [registry/]repository@sha256:<64 hex>', imageRef);
  if (!DIGEST_RE.test(parsed.digest) || !ECR_REPOSITORY_RE.test(parsed.repository)) throw new InputError('image-ref', 'must name an ECR repository and a digest', imageRef);
  const commit = (i.string('sha') || ctx.sha).toLowerCase();
  if (!SHA_RE.test(commit)) throw new InputError('sha', 'must be a full 40-hex commit SHA (defaults to the run commit)', commit);
  const workspace = env.GITHUB_WORKSPACE || process.cwd();
  const owner = ctx.repository.split('/')[0] ?? '';
  const pipeline = loadPipeline(i.string('environments-file'), workspace, owner);
  if (i.string('environment') === '') throw new InputError('environment', 'is required (the environment the card is for)');
  const environment = environmentName('environment', i.exact('environment'), pipeline);
  const asked = i.exact('require-environment');
  const requireEnvironment = asked ? environmentName('require-environment', asked, pipeline) : (requiredBefore(environment, pipeline) ?? '');
  const listed = i.list('environments');
  const environments = (listed.length ? listed : pipeline.names).map((e) => environmentName('environments', e, pipeline));
  const release = i.required('release');
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(release) || release.length > 53) throw new InputError('release', 'must be a Helm release name (lowercase letters, digits, -; at most 53)', release);
  const namespace = i.string('namespace', 'default');
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace)) throw new InputError('namespace', 'must be a Kubernetes namespace name', namespace);
  const chart = i.string('chart', 'chart');
  const valuesFiles = i.list('values-files');
  for (const p of [chart, ...valuesFiles]) {
    if (p.startsWith('/') || p.split('/').includes('..')) throw new InputError(p === chart ? 'chart' : 'values-files', 'must be a path inside the repository', p);
  }
  const key = (name: string, fallback: string) => {
    const v = i.string(name, fallback);
    if (!/^[A-Za-z0-9_.-]+$/.test(v)) throw new InputError(name, 'must be a values key like image.repository', v);
    return v;
  };
  const region = i.string('aws-region') || parsed.region || env.AWS_REGION || env.AWS_DEFAULT_REGION || '';
  const token = i.string('github-token');
  if (!token) throw new InputError('github-token', 'is required for mode card');
  const [o, r, ...rest] = ctx.repository.split('/');
  if (!o || !r || rest.length) throw new InputError('github-token', 'cannot be used: GITHUB_REPOSITORY is not owner/name', ctx.repository);
  const evidenceKeys = parseEvidenceKeys(i.list('evidence-keys'), (v) => environmentName('evidence-keys', v, pipeline));
  if (i.bool('require-signed-evidence', false)) {
    const unkeyed = [environment, ...(requireEnvironment ? [requireEnvironment] : [])].filter((e) => !keyOf(evidenceKeys, e));
    if (unkeyed.length) throw new InputError('evidence-keys', `must name the KMS key of ${unkeyed.join(', ')}: require-signed-evidence is true, and the card shows only signed evidence`);
  }
  const registryHost = parsed.registry;
  return {
    mode: 'card',
    subject: {
      release,
      environment,
      requireEnvironment,
      environments,
      githubRepository: ctx.repository,
      imageRepository: parsed.repository,
      namespace,
      digest: parsed.digest,
      commit,
      hotfix: i.bool('hotfix', false),
      ...guards(i),
      pending: `${environment} reviewers`,
    },
    chart: {
      release,
      chart,
      namespace,
      environment,
      valuesFiles,
      set: i.keyValues('set'),
      setString: i.keyValues('set-string'),
      repositoryKey: key('image-repository-key', 'image.repository'),
      digestKey: key('image-digest-key', 'image.digest'),
      imageRepository: registryHost ? `${registryHost}/${parsed.repository}` : parsed.repository,
    },
    ...(i.string('registry-id') || parsed.registryId ? { registryId: i.string('registry-id') || parsed.registryId } : {}),
    region,
    helm: i.string('helm'),
    token,
    owner: o,
    repo: r,
    apiUrl: ctx.apiUrl.replace(/\/+$/, ''),
    workspace,
    evidenceKeys,
  };
}

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
    ...(aws ? { registry: ecrRegistry(makeEcrClient(inputs.region), { repositoryName: inputs.subject.imageRepository, ...(inputs.registryId ? { registryId: inputs.registryId } : {}) }, { onRetry: gh.onRetry }) } : {}),
    render: helmRender({ exec: run, helm: findHelm(inputs.helm, env), workspace: inputs.workspace, spec: inputs.chart, ...(env.RUNNER_TEMP ? { tmp: env.RUNNER_TEMP } : {}) }),
  };
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
  const data = await gatherCard(inputs.subject, {
    github: deps.github,
    ...(deps.approvals ? { approvals: deps.approvals } : {}),
    signed,
    ...(deps.compare ? { compare: deps.compare } : {}),
    ...(deps.registry ? { registry: deps.registry } : {}),
    ...(deps.render ? { render: deps.render } : {}),
    now: deps.now ?? (() => new Date()),
  });
  const card = renderCard(data);
  const hash = cardHash(card);
  io.info(card);
  io.info(`Release card ${hash} (${Buffer.byteLength(card, 'utf8')} bytes, made in ${Date.now() - started} ms)`);
  await io.summary(`${card}\n\n_Card ${hash}: the approval's signed evidence records this hash._\n`);
  return { card, 'card-sha256': hash, environment: inputs.subject.environment };
}
