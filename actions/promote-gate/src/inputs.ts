import { InputError, githubContext, type GitHubContext, type Inputs as Raw } from '@deploy-actions/action-kit';
import {
  DIGEST_RE,
  ECR_REPOSITORY_RE,
  ENVIRONMENT_RE,
  SHA_RE,
  TAG_RE,
  parseImageRef,
  refPatternToRegExp,
  renderTag,
} from './refs';

export type Mode = 'record' | 'verify';
export type EvidenceSource = 'github' | 'ecr';
export const EVIDENCE_SOURCES: readonly EvidenceSource[] = ['github', 'ecr'];

export interface Inputs {
  mode: Mode;
  /** `<repository>@<digest>` or the image-ref given. */
  image: string;
  digest: string;
  repository: string;
  registryId?: string;
  /** '' when ECR is not used. */
  region: string;
  /** record: the environment passed; verify: the environment required. */
  evidenceEnvironment: string;
  /** verify only. */
  targetEnvironment: string;
  allowedRefs: string[];
  evidence: EvidenceSource[];
  /** The rendered evidence tag. */
  tag: string;
  /** record only: the rendered commit tag, '' to skip the check. */
  commitTag: string;
  sha: string;
  /** The run's ref (GITHUB_REF), never an input. */
  ref: string;
  token: string;
  owner: string;
  repo: string;
  apiUrl: string;
  runUrl: string;
  environmentUrl: string;
  description: string;
  productionEnvironment: boolean;
  transientEnvironment: boolean;
  /** build-push-ecr's content-key (tree-<40 hex>): verify also accepts evidence of another commit with this key. */
  contentKey?: string;
  /** record only: the image is deployed without the usual evidence (a hotfix); stored in the evidence. */
  hotfix: boolean;
  /** verify only: appended to the refusal, saying how to proceed. */
  refusalHint: string;
  context: Pick<GitHubContext, 'runId' | 'workflow' | 'actor' | 'eventName'>;
}

function environmentName(name: string, value: string): string {
  if (!ENVIRONMENT_RE.test(value)) {
    throw new InputError(name, 'must be an environment name of letters, digits, . _ - (at most 100 characters)', value);
  }
  return value;
}

function tagFrom(name: string, template: string, vars: { environment: string; sha: string }): string {
  let tag: string;
  try {
    tag = renderTag(template, vars);
  } catch (err) {
    throw new InputError(name, `may only use the placeholders {environment}, {sha7}, {sha}: ${(err as Error).message}`, template);
  }
  if (!TAG_RE.test(tag)) {
    throw new InputError(name, 'must render to a valid image tag (letters, digits, _ . -, at most 128 characters)', tag);
  }
  return tag;
}

/** Validates every input before anything is called. `env` is the runner's environment. */
export function getInputs(i: Raw, env: NodeJS.ProcessEnv = process.env): Inputs {
  const ctx = githubContext(env);
  if (i.string('mode') === '') throw new InputError('mode', 'is required (record or verify)');
  const mode = i.oneOf('mode', ['record', 'verify'] as const, 'verify');

  // Image identity.
  const imageRef = i.string('image-ref');
  const parsed = imageRef ? parseImageRef(imageRef) : undefined;
  if (imageRef && !parsed) {
    throw new InputError('image-ref', 'must be [registry/]repository@sha256:<64 hex>', imageRef);
  }
  let digest = i.string('digest');
  if (digest) {
    digest = digest.toLowerCase();
    if (!DIGEST_RE.test(digest)) throw new InputError('digest', 'must be sha256: followed by 64 hex characters', digest);
    if (parsed && parsed.digest !== digest) {
      throw new InputError('digest', `must equal the digest in image-ref (${parsed.digest})`, digest);
    }
  } else if (parsed) digest = parsed.digest;
  else throw new InputError('digest', 'is required (or give image-ref)');

  let repository = i.string('repository');
  if (repository) {
    if (!ECR_REPOSITORY_RE.test(repository)) {
      throw new InputError('repository', 'must be an ECR repository name (lowercase path like team/service)', repository);
    }
    if (parsed && parsed.repository !== repository) {
      throw new InputError('repository', `must equal the repository in image-ref (${parsed.repository})`, repository);
    }
  } else if (parsed) repository = parsed.repository;
  else throw new InputError('repository', 'is required (or give image-ref)');

  const registryId = i.string('registry-id') || parsed?.registryId;
  if (registryId !== undefined && !/^\d{12}$/.test(registryId)) {
    throw new InputError('registry-id', 'must be a 12-digit AWS account ID', registryId);
  }

  // Evidence sources.
  const evidenceRaw = i.list('evidence');
  const evidence: EvidenceSource[] = [];
  for (const s of evidenceRaw.length ? evidenceRaw : ['github', 'ecr']) {
    const hit = EVIDENCE_SOURCES.find((e) => e === s.toLowerCase());
    if (!hit) throw new InputError('evidence', 'must list github and/or ecr', s);
    if (!evidence.includes(hit)) evidence.push(hit);
  }

  const region = evidence.includes('ecr')
    ? i.string('aws-region') || parsed?.region || env.AWS_REGION || env.AWS_DEFAULT_REGION || ''
    : '';
  if (evidence.includes('ecr')) {
    if (!region) throw new InputError('aws-region', 'is required for ECR evidence (or set AWS_REGION)');
    if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) throw new InputError('aws-region', 'must be an AWS region like eu-west-1', region);
  }

  // Commit and ref.
  const sha = (i.string('sha') || ctx.sha).toLowerCase();
  if (!SHA_RE.test(sha)) {
    throw new InputError('sha', 'must be a full 40-hex commit SHA (defaults to the run commit)', sha);
  }
  const ref = ctx.ref;

  // Environments.
  let evidenceEnvironment: string;
  let targetEnvironment = '';
  if (mode === 'record') {
    evidenceEnvironment = environmentName('environment', i.required('environment'));
  } else {
    evidenceEnvironment = environmentName('require-environment', i.string('require-environment', 'preprod'));
    targetEnvironment = environmentName('target-environment', i.string('target-environment', 'production'));
    if (targetEnvironment.toLowerCase() === evidenceEnvironment.toLowerCase()) {
      throw new InputError('target-environment', 'must differ from require-environment', targetEnvironment);
    }
    if (!ref) throw new InputError('allowed-refs', 'cannot be checked: GITHUB_REF is not set');
  }
  const allowedRefs = i.list('allowed-refs');
  if (allowedRefs.length === 0) allowedRefs.push('refs/heads/main');
  for (const p of allowedRefs) {
    if (!p.startsWith('refs/')) throw new InputError('allowed-refs', 'must be full refs like refs/heads/main', p);
    refPatternToRegExp(p);
  }

  const vars = { environment: evidenceEnvironment, sha };
  const tag = tagFrom('tag-template', i.string('tag-template', '{environment}-{sha7}'), vars);
  const commitTemplate = i.string('commit-tag-template');
  const commitTag = mode === 'record' && commitTemplate ? tagFrom('commit-tag-template', commitTemplate, vars) : '';
  if (commitTag && commitTag === tag) {
    throw new InputError('commit-tag-template', 'must render to a different tag than tag-template', commitTag);
  }

  const token = i.string('github-token');
  if (evidence.includes('github') && !token) throw new InputError('github-token', 'is required for GitHub evidence');
  const [owner, repo, ...rest] = ctx.repository.split('/');
  if (evidence.includes('github') && (!owner || !repo || rest.length)) {
    throw new InputError('github-token', 'cannot be used: GITHUB_REPOSITORY is not owner/name', ctx.repository);
  }

  const environmentUrl = i.string('environment-url');
  if (environmentUrl && !/^https?:\/\/\S+$/.test(environmentUrl)) {
    throw new InputError('environment-url', 'must be an http(s) URL', environmentUrl);
  }
  const description = i.string('description');
  if (description.length > 140) throw new InputError('description', 'must be at most 140 characters');
  const productionEnvironment = i.bool('production-environment', /^(production|prod)$/i.test(evidenceEnvironment));
  const transientEnvironment = i.bool('transient-environment', true);
  const contentKey = i.string('content-key') || undefined;
  if (contentKey && !/^tree-[0-9a-f]{40}$/.test(contentKey)) {
    throw new InputError('content-key', "must be build-push-ecr's content-key output, tree- followed by 40 hex", contentKey);
  }
  const hotfix = i.bool('hotfix', false);
  if (hotfix && mode !== 'record') throw new InputError('hotfix', 'is for record only (verify is skipped on a hotfix)');

  return {
    mode,
    image: imageRef || `${repository}@${digest}`,
    digest,
    repository,
    ...(registryId ? { registryId } : {}),
    region,
    evidenceEnvironment,
    targetEnvironment,
    allowedRefs,
    evidence,
    tag,
    commitTag,
    sha,
    ref,
    token,
    owner: owner ?? '',
    repo: repo ?? '',
    apiUrl: ctx.apiUrl.replace(/\/+$/, ''),
    runUrl: ctx.runUrl,
    environmentUrl,
    description,
    productionEnvironment,
    transientEnvironment,
    ...(contentKey ? { contentKey } : {}),
    hotfix,
    refusalHint: i.string('refusal-hint'),
    context: { runId: ctx.runId, workflow: ctx.workflow, actor: ctx.actor, eventName: ctx.eventName },
  };
}
