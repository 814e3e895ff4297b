/** promote-gate `mode: card`: its inputs, read before the card's logic (mode.ts) is loaded. */
import { readImageKeys } from '@deploy-actions/chart/image-keys';
import { InputError, githubContext, runContextFrom, type Inputs as Raw, type RunContext } from '@deploy-actions/action-kit';
import { imageHostAgrees, keyOf, parseEvidenceKeys, type EvidenceKeyMap } from '../inputs';
import { environmentName, loadPipeline, requiredBefore } from '../pipeline';
import { DIGEST_RE, ECR_REPOSITORY_RE, SHA_RE, parseImageRef } from '../refs';
import type { CardSubject } from './gather';
import type { ChartSpec } from './sources';

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

/** A card that could not be made (GitHub, ECR, KMS or the chart unreadable): what `noCard` (mode.ts) says instead. */
export interface CardRefused {
  release: string;
  environment: string;
  why: string;
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

export function getCardInputs(i: Raw, run: RunContext = runContextFrom(process.env), env: NodeJS.ProcessEnv = process.env): CardInputs {
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
  if (!/^(\d{12})?$/.test(i.string('registry-id'))) throw new InputError('registry-id', 'must be a 12-digit AWS account ID', i.string('registry-id'));
  if (!/^([a-z]{2}(-[a-z]+)+-\d+)?$/.test(i.string('aws-region'))) throw new InputError('aws-region', 'must be an AWS region like eu-west-1', i.string('aws-region'));
  const region = imageHostAgrees(i, 'aws-region', parsed.region) || parsed.region || env.AWS_REGION || env.AWS_DEFAULT_REGION || '';
  const token = i.token('github-token');
  if (!token) throw new InputError('github-token', 'is required for mode card');
  const [o, r, ...rest] = ctx.repository.split('/');
  if (!o || !r || rest.length) throw new InputError('github-token', 'cannot be used: GITHUB_REPOSITORY is not owner/name', ctx.repository);
  const evidenceKeys = parseEvidenceKeys(i.list('evidence-keys'), (v) => environmentName('evidence-keys', v, pipeline));
  if (i.bool('require-signed-evidence', false)) {
    const unkeyed = [environment, ...(requireEnvironment ? [requireEnvironment] : [])].filter((e) => !keyOf(evidenceKeys, e));
    if (unkeyed.length) throw new InputError('evidence-keys', `must name the KMS key of ${unkeyed.join(', ')}: require-signed-evidence is true, and the card shows only signed evidence`);
  }
  const registryHost = parsed.registry;
  // The tag as helm-deploy-eks reads it: after the last ':' that follows the last '/'.
  const name = imageRef.slice(0, imageRef.lastIndexOf('@'));
  const tag = name.lastIndexOf(':') > name.lastIndexOf('/') ? name.slice(name.lastIndexOf(':') + 1) : '';
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
      imageKeys: readImageKeys(i),
      imageRepository: registryHost ? `${registryHost}/${parsed.repository}` : parsed.repository,
      ...(tag ? { candidateTag: { digest: parsed.digest, tag } } : {}),
    },
    ...(imageHostAgrees(i, 'registry-id', parsed.registryId) || parsed.registryId ? { registryId: i.string('registry-id') || parsed.registryId } : {}),
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
