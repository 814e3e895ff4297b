/**
 * The inputs of the modes that read the evidence rather than gate a deploy:
 *   status         what runs where (per environment), to the log, the job summary and `status`
 *   last-validated the newest validated release of an environment other than a digest: the
 *                  rollback target (rollback.yml, and the bake's rollback in deploy.yml)
 *   fail           mark a digest's records in an environment failed (a bake breach, a rollback)
 */
import { InputError, githubContext, refuseRepositoryUri, repositoryUriHint, runContextFrom, type Inputs as Raw, type RunContext } from '@deploy-actions/action-kit';
import { keyOf, parseEvidenceKeys, type EvidenceKeyMap } from './inputs';
import { environmentName as knownEnvironment, isProductionEnvironment, loadPipeline } from './pipeline';
import { DIGEST_RE, ECR_REPOSITORY_RE, ENVIRONMENT_RE, SHA_RE, parseImageRef } from './refs';

export const QUERY_MODES = ['status', 'last-validated', 'fail'] as const;
export type QueryMode = (typeof QUERY_MODES)[number];

export interface QueryInputs {
  mode: QueryMode;
  repository: string;
  /** status: the promotion chain, in order. */
  environments: string[];
  /** last-validated, fail. */
  environment: string;
  /** last-validated: the digest to look past ('' = the one running); fail: the digest that failed. */
  digest: string;
  /** fail: the image as given, for a record created by fail. */
  image: string;
  /** fail: the image-ref's registry host ('' when none). */
  registry: string;
  /** fail: the commit of the digest. */
  sha: string;
  /** fail: why (the deployment status description). */
  description: string;
  /** last-validated: fail when there is none. */
  required: boolean;
  token: string;
  owner: string;
  repo: string;
  apiUrl: string;
  runUrl: string;
  context: { runId: string; workflow: string; actor: string };
  githubRepository: string;
  /**
   * The environments' evidence keys: fail signs a `failed` statement with its environment's key;
   * status and last-validated read only records whose statements verify under the key.
   */
  evidenceKeys: EvidenceKeyMap;
  /** fail: GitHub is told the deployment is a production one (the last environment of the promotion chain). */
  productionEnvironment: boolean;
}

export function isQueryMode(mode: string): mode is QueryMode {
  return (QUERY_MODES as readonly string[]).includes(mode.toLowerCase());
}

function environmentName(name: string, value: string): string {
  if (!ENVIRONMENT_RE.test(value)) throw new InputError(name, 'must be an environment name of letters, digits, . _ - (at most 100 characters)', value);
  return value;
}

export function getQueryInputs(i: Raw, run: RunContext = runContextFrom(process.env), env: NodeJS.ProcessEnv = process.env): QueryInputs {
  const ctx = githubContext(run);
  const mode = i.oneOf('mode', QUERY_MODES, 'status');
  const imageRef = i.string('image-ref');
  const parsed = imageRef ? parseImageRef(imageRef) : undefined;
  if (imageRef && !parsed) throw new InputError('image-ref', 'must be [registry/]repository@sha256:<64 hex>', imageRef);
  const repository = i.string('repository') || parsed?.repository || '';
  refuseRepositoryUri('repository', repository);
  if (!ECR_REPOSITORY_RE.test(repository)) {
    throw new InputError('repository', `must be an ECR repository name (lowercase path like team/service), or give image-ref${repositoryUriHint(repository)}`, repository);
  }
  let digest = i.string('digest').toLowerCase() || parsed?.digest || '';
  if (digest && !DIGEST_RE.test(digest)) throw new InputError('digest', 'must be sha256: followed by 64 hex characters', digest);
  if (parsed && digest !== parsed.digest) throw new InputError('digest', `must equal the digest in image-ref (${parsed.digest})`, digest);
  if (mode === 'fail' && !digest) throw new InputError('digest', 'is required for mode fail (or give image-ref)');

  const environments = mode === 'status' ? i.list('environments') : [];
  if (mode === 'status' && environments.length === 0) environments.push('qa', 'preprod', 'production');
  for (const e of environments) environmentName('environments', e);
  let environment = mode === 'status' ? '' : environmentName('environment', i.required('environment'));
  // fail writes a record: the environment as the pipeline spells it, and GitHub's production flag
  // from the promotion chain, never from the spelling of the name.
  const pipeline = mode === 'fail' ? loadPipeline(i.string('environments-file'), env.GITHUB_WORKSPACE || process.cwd(), ctx.repository.split('/')[0] ?? '') : undefined;
  if (pipeline) environment = knownEnvironment('environment', environment, pipeline);

  const sha = mode === 'fail' ? (i.string('sha') || ctx.sha).toLowerCase() : '';
  if (mode === 'fail' && !SHA_RE.test(sha)) throw new InputError('sha', 'must be a full 40-hex commit SHA (defaults to the run commit)', sha);
  // fail: the reason is often a tool's one-line failure; GitHub keeps 140 characters of it.
  const description = mode === 'fail' ? i.string('description').slice(0, 140) : i.string('description');
  if (description.length > 140) throw new InputError('description', 'must be at most 140 characters');

  const evidenceKeys = parseEvidenceKeys(i.list('evidence-keys'));
  if (i.bool('require-signed-evidence', false)) {
    const unkeyed = (mode === 'status' ? environments : [environment]).filter((e) => !keyOf(evidenceKeys, e));
    const why = mode === 'fail' ? 'fail signs a failed statement with it' : `${mode} reads only evidence signed with it`;
    if (unkeyed.length) throw new InputError('evidence-keys', `must name the KMS key of ${unkeyed.join(', ')}: require-signed-evidence is true, and ${why}`);
  }

  const token = i.token('github-token');
  if (!token) throw new InputError('github-token', `is required for mode ${mode}`);
  const [owner, repo, ...rest] = ctx.repository.split('/');
  if (!owner || !repo || rest.length) throw new InputError('github-token', 'cannot be used: GITHUB_REPOSITORY is not owner/name', ctx.repository);

  return {
    mode,
    repository,
    environments,
    environment,
    digest,
    image: imageRef || (digest ? `${repository}@${digest}` : ''),
    registry: parsed?.registry ?? '',
    sha,
    description: description || (mode === 'fail' ? `${repository}@${digest.slice(0, 19)} failed in ${environment}` : ''),
    required: i.bool('required', true),
    token,
    owner,
    repo,
    apiUrl: ctx.apiUrl.replace(/\/+$/, ''),
    runUrl: ctx.runUrl,
    context: { runId: ctx.runId, workflow: ctx.workflow, actor: ctx.actor },
    githubRepository: ctx.repository,
    evidenceKeys,
    productionEnvironment: pipeline ? isProductionEnvironment(environment, pipeline) : false,
  };
}
