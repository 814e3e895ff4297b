import { InputError, githubContext, parseArn, refuseRepositoryUri, repositoryUriHint, runContextFrom, type GitHubContext, type Inputs as Raw, type RunContext } from '@deploy-actions/action-kit';
import {
  DIGEST_RE,
  ECR_REPOSITORY_RE,
  ENVIRONMENT_RE,
  SHA_RE,
  TAG_RE,
  parseImageRef,
  EXACT_REF_RE,
  renderTag,
  KMS_KEY_ARN_RE,
} from './refs';
import { CARD_HASH_RE } from './statement';
import { cardHash } from './card/hash';
import { environmentName as knownEnvironment, isProductionEnvironment, loadPipeline, requiredBefore, type Pipeline } from './pipeline';
import { DEFAULT_PROMOTION } from '@deploy-actions/environments/promotion';

export type Mode = 'record' | 'verify';
export type EvidenceSource = 'github' | 'ecr';
export const EVIDENCE_SOURCES: readonly EvidenceSource[] = ['github', 'ecr'];

export interface Inputs {
  mode: Mode;
  /** `<repository>@<digest>` or the image-ref given. */
  image: string;
  digest: string;
  repository: string;
  /** The image-ref's registry host, '' when it named none. */
  registry: string;
  registryId?: string;
  /** '' when ECR is not used. */
  region: string;
  /** record: the environment passed; verify: the environment required ('' when the target requires none). */
  evidenceEnvironment: string;
  /** verify only. */
  targetEnvironment: string;
  allowedRefs: string[];
  evidence: EvidenceSource[];
  /** The rendered evidence tag. */
  tag: string;
  /** The rendered commit build tag (record; verify with a content key), '' to skip the check. */
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
  /** record only: sha256:<hex> of the release card the reviewers saw (signed in the statement), '' when none. */
  cardSha256: string;
  /** record only: the card itself, stored (unsigned, display) in the deployment payload; '' when not given. */
  card: string;
  /** record only: why the card given was not kept ('' when it was, or none was given). */
  cardNote: string;
  /** verify only: appended to the refusal, saying how to proceed. */
  refusalHint: string;
  context: Pick<GitHubContext, 'runId' | 'workflow' | 'actor' | 'eventName'>;
  /** The GitHub repository (owner/name) of the run. */
  githubRepository: string;
  /** KMS key ARN of each environment's evidence key, by lowercase environment name. */
  evidenceKeys: EvidenceKeyMap;
  /** record, verify: the build provenance KMS key (PROVENANCE_KMS_KEY); the digest must carry a statement it signed for this commit (or content key). Unset: not checked, an error annotation. */
  provenanceKey?: string;
  /** verify: the rules weaken-promotion-gate switched off for this run, one error annotation each. */
  weakened: string[];
}

export type EvidenceKeyMap = Record<string, string>;

/** The key of `environment` (compared case-insensitively, as GitHub compares names). */
export const keyOf = (keys: EvidenceKeyMap, environment: string): string | undefined => keys[environment.toLowerCase()];

/**
 * `evidence-keys`: `environment=arn:aws:kms:<region>:<account>:key/<id>` entries (comma or
 * newline separated). Key ARNs only: an alias can be pointed at another key by whoever may
 * update it. `name` canonicalises (and refuses unknown) environment names.
 */
export function parseEvidenceKeys(entries: readonly string[], name: (value: string) => string = (v) => v): EvidenceKeyMap {
  const keys: EvidenceKeyMap = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new InputError('evidence-keys', 'must be environment=<KMS key ARN> entries', entry);
    const environment = name(entry.slice(0, eq).trim()).toLowerCase();
    const arn = entry.slice(eq + 1).trim();
    if (!KMS_KEY_ARN_RE.test(arn)) throw new InputError('evidence-keys', `must give ${environment} a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>; not an alias)`, arn);
    parseArn('evidence-keys', arn, { service: 'kms', what: 'KMS key ARNs' });
    if (keys[environment] && keys[environment] !== arn) throw new InputError('evidence-keys', `names two keys for ${environment}`, entry);
    keys[environment] = arn;
  }
  return keys;
}

/**
 * `registry-id` / `aws-region` as given ('' when not), refused when the image reference's ECR
 * host names another account or region: the evidence would be looked for in another registry.
 */
export function imageHostAgrees(i: Raw, name: 'registry-id' | 'aws-region', fromHost: string | undefined): string {
  const given = i.string(name);
  if (given && fromHost && given !== fromHost) {
    throw new InputError(name, `must match the image reference's registry host (${name === 'registry-id' ? 'account' : 'region'} ${fromHost}), or be left empty`, given);
  }
  return given;
}

/** A known environment's configured name (pipeline.ts), which must also fit in an ECR tag. */
function environmentName(name: string, value: string, pipeline: Pipeline): string {
  const canonical = knownEnvironment(name, value, pipeline);
  if (!ENVIRONMENT_RE.test(canonical)) {
    throw new InputError(name, 'must be an environment name of letters, digits, . _ - (at most 100 characters)', value);
  }
  return canonical;
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

/** Validates every input before anything is called. `env` is the runner's environment, `run` its context. */
export function getInputs(i: Raw, env: NodeJS.ProcessEnv = process.env, run: RunContext = runContextFrom(env)): Inputs {
  const ctx = githubContext(run);
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
    refuseRepositoryUri('repository', repository);
    if (!ECR_REPOSITORY_RE.test(repository)) {
      throw new InputError('repository', `must be an ECR repository name (lowercase path like team/service)${repositoryUriHint(repository)}`, repository);
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
  imageHostAgrees(i, 'registry-id', parsed?.registryId);

  // Evidence sources.
  const evidenceRaw = i.list('evidence');
  const evidence: EvidenceSource[] = [];
  for (const s of evidenceRaw.length ? evidenceRaw : ['github', 'ecr']) {
    const hit = EVIDENCE_SOURCES.find((e) => e === s.toLowerCase());
    if (!hit) throw new InputError('evidence', 'must list github and/or ecr', s);
    if (!evidence.includes(hit)) evidence.push(hit);
  }

  if (!evidence.includes('ecr')) {
    // Read only for the ECR evidence tag: given without it, the user believes it applies.
    for (const name of ['registry-id', 'aws-region']) {
      if (i.string(name)) throw new InputError(name, 'is read only with ECR evidence (evidence: github,ecr): remove it, or add ecr to evidence', i.string(name));
    }
  }
  const region = evidence.includes('ecr')
    ? i.string('aws-region') || parsed?.region || env.AWS_REGION || env.AWS_DEFAULT_REGION || ''
    : '';
  if (evidence.includes('ecr')) {
    if (!region) throw new InputError('aws-region', 'is required for ECR evidence (or set AWS_REGION)');
    if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) throw new InputError('aws-region', 'must be an AWS region like eu-west-1', region);
    imageHostAgrees(i, 'aws-region', parsed?.region);
  }

  // Commit and ref.
  const sha = (i.string('sha') || ctx.sha).toLowerCase();
  if (!SHA_RE.test(sha)) {
    throw new InputError('sha', 'must be a full 40-hex commit SHA (defaults to the run commit)', sha);
  }
  const ref = ctx.ref;

  // Environments: known names only; what the target requires comes from the pipeline's chain.
  const pipeline = loadPipeline(i.string('environments-file'), env.GITHUB_WORKSPACE || process.cwd(), ctx.repository.split('/')[0] ?? '');
  let evidenceEnvironment: string;
  let targetEnvironment = '';
  let allowedRefs = i.list('allowed-refs');
  for (const r of allowedRefs) {
    if (!EXACT_REF_RE.test(r)) throw new InputError('allowed-refs', 'must be exact refs like refs/heads/main (no patterns)', r);
  }
  if (mode === 'record') {
    if (i.string('environment') === '') throw new InputError('environment', 'is required');
    evidenceEnvironment = environmentName('environment', i.exact('environment'), pipeline);
  } else {
    targetEnvironment = environmentName('target-environment', i.exact('target-environment') || 'production', pipeline);
    const required = requiredBefore(targetEnvironment, pipeline);
    const asked = i.exact('require-environment') === '' ? '' : environmentName('require-environment', i.exact('require-environment'), pipeline);
    if (required && asked && asked !== required) {
      throw new InputError('require-environment', `must be ${required}: the pipeline promotes ${required} -> ${targetEnvironment}`, asked);
    }
    if (!required && asked === targetEnvironment) throw new InputError('target-environment', 'must differ from require-environment', targetEnvironment);
    evidenceEnvironment = required ?? asked;
    if (!ref) throw new InputError('allowed-refs', 'cannot be checked: GITHUB_REF is not set');
    if (required) {
      // A promotion target deploys from the pipeline's refs only; a caller cannot widen them.
      const wider = allowedRefs.filter((r) => !pipeline.promotion.refs.includes(r));
      if (wider.length) {
        throw new InputError('allowed-refs', `cannot widen the refs of ${targetEnvironment}: the pipeline allows only ${pipeline.promotion.refs.join(', ')}`, wider.join(', '));
      }
      allowedRefs = [...pipeline.promotion.refs];
    }
  }
  // Empty: the pipeline's refs for a promotion target (above); no ref restriction otherwise.

  const vars = { environment: evidenceEnvironment || targetEnvironment, sha };
  const tag = tagFrom('tag-template', i.string('tag-template', '{environment}-{sha7}'), vars);
  const contentKey = i.string('content-key') || undefined;
  if (contentKey && !/^tree-[0-9a-f]{40}$/.test(contentKey)) {
    throw new InputError('content-key', "must be build-push-ecr's content-key output, tree- followed by 40 hex", contentKey);
  }
  // record proves the commit/digest pair by the commit's build tag; verify too when a content key
  // stands in for the commit (source-proof.ts).
  const commitTemplate = i.string('commit-tag-template');
  const commitTag = (mode === 'record' || contentKey || (mode === 'verify' && i.string('provenance-kms-key'))) && commitTemplate ? tagFrom('commit-tag-template', commitTemplate, vars) : '';
  if (commitTag && commitTag === tag) {
    throw new InputError('commit-tag-template', 'must render to a different tag than tag-template', commitTag);
  }
  // (record without either only stores the key, under the error annotation of an unproven pair.)
  if (contentKey && mode === 'verify' && (!commitTag || !evidence.includes('ecr'))) {
    throw new InputError(
      'content-key',
      "needs ecr evidence and a commit-tag-template: a content key is accepted only with the commit it was built from, which verify reads from the image's tags in ECR",
      contentKey,
    );
  }

  const token = i.token('github-token');
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
  const productionEnvironment = i.bool('production-environment', isProductionEnvironment(evidenceEnvironment, pipeline));
  const transientEnvironment = i.bool('transient-environment', true);
  const cardSha256 = i.string('card-sha256').toLowerCase();
  if (cardSha256 && !CARD_HASH_RE.test(cardSha256)) throw new InputError('card-sha256', "must be the card mode's card-sha256 output, sha256: followed by 64 hex", cardSha256);
  if (cardSha256 && mode !== 'record') throw new InputError('card-sha256', 'is for record only (it goes into the signed statement)');
  // The card as the card job wrote it (its `card` output): kept with the record for display, never trusted.
  const card = i.exact('card');
  if (card && mode !== 'record') throw new InputError('card', 'is for record only');
  if (card && !cardSha256) throw new InputError('card', 'needs card-sha256 (the hash the reviewers saw)');
  // record runs after the deploy: a card that does not hash to what was shown is left out (and
  // said so), never a reason to leave the deploy without evidence. The hash is what is signed.
  const cardKept = card && cardHash(card) === cardSha256 ? card : '';
  const cardNote = card && !cardKept ? `the card input hashes to ${cardHash(card)}, not card-sha256 ${cardSha256}: only the hash is recorded` : '';
  const hotfix = i.bool('hotfix', false);
  if (hotfix && mode !== 'record') throw new InputError('hotfix', 'is for record only (verify is skipped on a hotfix)');

  const evidenceKeys = parseEvidenceKeys(i.list('evidence-keys'), (v) => knownEnvironment('evidence-keys', v, pipeline));
  // record signs, and verify checks, the statements of this environment.
  const signedEnvironment = evidenceEnvironment;
  if (signedEnvironment && keyOf(evidenceKeys, signedEnvironment) && !evidence.includes('github')) {
    throw new InputError('evidence', 'must include github when evidence-keys are given (signed statements live in GitHub deployments)', evidence.join(','));
  }
  if (signedEnvironment && i.bool('require-signed-evidence', false) && !keyOf(evidenceKeys, signedEnvironment)) {
    throw new InputError(
      'evidence-keys',
      `must name the KMS key of ${signedEnvironment}: require-signed-evidence is true, and ${mode === 'record' ? 'record signs' : 'verify requires'} ${signedEnvironment}'s evidence with it (set the EVIDENCE_KMS_KEYS variable, workflows/README.md)`,
    );
  }

  const provenanceKey = mode === 'record' || mode === 'verify' ? i.string('provenance-kms-key') : '';
  if (provenanceKey) {
    if (!KMS_KEY_ARN_RE.test(provenanceKey)) throw new InputError('provenance-kms-key', 'must be the ARN of a KMS key (arn:aws:kms:<region>:<account>:key/<id>; not an alias)', provenanceKey);
    parseArn('provenance-kms-key', provenanceKey, { service: 'kms', what: 'KMS key ARNs' });
  }

  const weakened = mode === 'verify' ? failClosed(i, { targetEnvironment, evidenceEnvironment, evidenceKeys, pipeline }) : [];

  return {
    mode,
    image: imageRef || `${repository}@${digest}`,
    digest,
    repository,
    registry: parsed?.registry ?? '',
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
    cardSha256,
    card: cardKept,
    cardNote,
    refusalHint: i.string('refusal-hint'),
    context: { runId: ctx.runId, workflow: ctx.workflow, actor: ctx.actor, eventName: ctx.eventName },
    githubRepository: ctx.repository,
    evidenceKeys,
    ...(provenanceKey ? { provenanceKey } : {}),
    weakened,
  };
}

export const WEAKENED = 'Weakened promotion gate: ';

/**
 * Fail closed (issue 20): a promotion target (production, by the default chain) takes signed
 * evidence only, and the environment named production always has one before it in the chain.
 * Either gap refuses here, naming the input, unless `weaken-promotion-gate` is true: then the run
 * goes on and each weakened rule is an error annotation (WEAKENED ...) in every such run.
 */
function failClosed(
  i: Raw,
  s: { targetEnvironment: string; evidenceEnvironment: string; evidenceKeys: EvidenceKeyMap; pipeline: Pipeline },
): string[] {
  const gaps: Array<[string, string]> = [];
  const T = s.targetEnvironment;
  const R = s.evidenceEnvironment;
  const production = DEFAULT_PROMOTION.chain[DEFAULT_PROMOTION.chain.length - 1]!;
  if (!R && T.toLowerCase() === production) {
    gaps.push([
      'environments-file',
      `gives ${T} no environment before it in the promotion chain (${s.pipeline.source}: ${DEFAULT_PROMOTION.chain.join(' -> ')} is not there), so ${T} would take any digest without evidence`,
    ]);
  }
  const required = requiredBefore(T, s.pipeline);
  if (required && !keyOf(s.evidenceKeys, required)) {
    gaps.push([
      'evidence-keys',
      `names no key of ${required}: ${T} is a promotion target, and unsigned evidence (a GitHub deployment and an ECR tag) can be forged by anyone with deployments: write and the build role`,
    ]);
  }
  if (gaps.length === 0) return [];
  if (!i.bool('weaken-promotion-gate', false)) {
    const [input, why] = gaps[0]!;
    throw new InputError(input, `${why}; ${T} is refused (set weaken-promotion-gate: true to accept it, an error annotation in every run; deploy.yml: the WEAKEN_PROMOTION_GATE variable)`);
  }
  return gaps.map(([input, why]) => `${WEAKENED}${input} ${why}; accepted because weaken-promotion-gate is true (docs/promote-gate.md, Threat model)`);
}
