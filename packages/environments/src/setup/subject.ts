/**
 * What GitHub will put in the OIDC token of a job of a service repository, and the trust
 * conditions that admit exactly the jobs deploy-actions runs there.
 *
 * - `sub`: the default `repo:OWNER/REPO:<context>`, the immutable `repo:OWNER@OWNER_ID/REPO@REPO_ID:<context>`
 *   (repositories created or renamed on or after 2026-07-15, or opted in), or the repository's
 *   custom template (`include_claim_keys`), which replaces the whole subject.
 * - GitHub claim keys AWS STS evaluates in trust policies: `repository_id` (immutable),
 *   `job_workflow_ref` (binds the role to deploy-actions' reusable workflow), `environment`, `ref`.
 * IAM refuses a GitHub trust policy that does not scope `sub` or `job_workflow_ref` with
 * StringEquals/StringLike, so both are always there.
 */
export const GITHUB_ISSUER_HOST = 'token.actions.githubusercontent.com';
export const AUDIENCE = 'sts.amazonaws.com';
/** Repositories created (or renamed) from this day get immutable subjects by default. */
export const IMMUTABLE_SUBJECTS_SINCE = '2026-07-15T00:00:00Z';

export type SubjectFormat = { kind: 'legacy' } | { kind: 'immutable' } | { kind: 'custom'; claimKeys: string[]; immutable: boolean };

/** The ids and subject format of a service repository, from the GitHub API or --offline arguments. */
export interface RepoIdentity {
  /** owner/name */
  repository: string;
  repositoryId: string;
  ownerId: string;
  subject: SubjectFormat;
}

/** The job a role admits: a deploy job in an environment, or a branch job (build, rollback plan). */
export type JobContext = { environment: string; refs?: undefined } | { environment?: undefined; refs: string[] };

export interface SubjectMatch {
  values: string[];
  /** Some part is not known in advance (a `*` stands for it): StringLike. */
  like: boolean;
}

function repoPart(id: RepoIdentity, immutable: boolean): string {
  const [owner, name] = id.repository.split('/') as [string, string];
  return immutable ? `${owner}@${id.ownerId}/${name}@${id.repositoryId}` : `${owner}/${name}`;
}

const hasWildcard = (v: string) => v.includes('*') || v.includes('?');

/** The `sub` values the role's jobs will carry (one per admitted ref for branch jobs). */
export function subjects(id: RepoIdentity, job: JobContext, jobWorkflowRef: string): SubjectMatch {
  const contexts = job.environment !== undefined ? [`environment:${job.environment}`] : job.refs.map((r) => `ref:${r}`);
  const fmt = id.subject;
  if (fmt.kind !== 'custom') {
    const values = contexts.map((c) => `repo:${repoPart(id, fmt.kind === 'immutable')}:${c}`);
    return { values, like: values.some(hasWildcard) };
  }
  const [owner] = id.repository.split('/') as [string];
  const values = contexts.map((context) => {
    const ref = job.environment === undefined ? context.slice('ref:'.length) : '*';
    const claim: Record<string, string> = {
      repo: repoPart(id, fmt.immutable),
      context,
      repository: id.repository,
      repository_owner: owner,
      repository_id: id.repositoryId,
      repository_owner_id: id.ownerId,
      job_workflow_ref: jobWorkflowRef,
      environment: job.environment ?? '*',
      ref,
      ref_type: job.environment === undefined ? 'branch' : '*',
    };
    // `context` contributes its value alone (environment:prod); every other key is key:value.
    return fmt.claimKeys.map((k) => (k === 'context' ? context : `${k}:${claim[k] ?? '*'}`)).join(':');
  });
  return { values, like: values.some(hasWildcard) };
}

/** A job of the repository as its token describes it: where it runs and which workflow file holds it. */
export interface TokenJob {
  environment?: string;
  /** The job's ref (refs/heads/main). */
  ref: string;
  /** `owner/repo/.github/workflows/<file>@<ref>` of the workflow the job is defined in. */
  jobWorkflowRef: string;
}

/**
 * The claims GitHub puts in such a job's OIDC token that AWS STS can evaluate (keyed by claim
 * name), `sub` built in the repository's real format: what `doctor` checks a deployed trust against.
 */
export function tokenClaims(id: RepoIdentity, job: TokenJob): Record<string, string> {
  const [owner] = id.repository.split('/') as [string];
  const context = job.environment !== undefined ? `environment:${job.environment}` : `ref:${job.ref}`;
  const claims: Record<string, string> = {
    aud: AUDIENCE,
    repository: id.repository,
    repository_owner: owner,
    repository_id: id.repositoryId,
    repository_owner_id: id.ownerId,
    job_workflow_ref: job.jobWorkflowRef,
    ref: job.ref,
    ref_type: job.ref.startsWith('refs/tags/') ? 'tag' : 'branch',
    ...(job.environment !== undefined ? { environment: job.environment } : {}),
  };
  const fmt = id.subject;
  const repo = repoPart(id, fmt.kind === 'immutable' || (fmt.kind === 'custom' && fmt.immutable));
  claims.sub =
    fmt.kind === 'custom'
      ? fmt.claimKeys.map((k) => (k === 'context' ? context : k === 'repo' ? `repo:${repo}` : `${k}:${claims[k] ?? ''}`)).join(':')
      : `repo:${repo}:${context}`;
  return claims;
}

export type Condition = Record<string, Record<string, string | string[]>>;

const one = (v: string[]) => (v.length === 1 ? v[0]! : v);

/**
 * The trust conditions of a role: audience, repository id, the reusable workflow, the
 * environment (deploy) or refs (branch jobs), and the subject in the repository's real format.
 * `jobWorkflowRef` undefined: any workflow of the repository (the rollback plan's read-only role).
 */
export function trustConditions(id: RepoIdentity, job: JobContext, jobWorkflowRef: string | undefined): Condition {
  const key = (k: string) => `${GITHUB_ISSUER_HOST}:${k}`;
  const equals: Record<string, string | string[]> = { [key('aud')]: AUDIENCE, [key('repository_id')]: id.repositoryId };
  const like: Record<string, string | string[]> = {};
  if (job.environment !== undefined) equals[key('environment')] = job.environment;
  else (job.refs.some(hasWildcard) ? like : equals)[key('ref')] = one(job.refs);
  if (jobWorkflowRef) like[key('job_workflow_ref')] = jobWorkflowRef;
  const sub = subjects(id, job, jobWorkflowRef ?? '*');
  (sub.like ? like : equals)[key('sub')] = one(sub.values);
  return Object.keys(like).length ? { StringEquals: equals, StringLike: like } : { StringEquals: equals };
}

/** `org/deploy-actions/.github/workflows/deploy.yml@*`: any ref of deploy-actions' own workflow. */
export function workflowRef(deployActions: string, file: 'build.yml' | 'deploy.yml'): string {
  return `${deployActions}/.github/workflows/${file}@*`;
}

/** Parses `immutable`, `legacy` or `custom:repo,context,...` (--subject). */
export function parseSubjectFormat(text: string, immutableDefault = true): SubjectFormat | undefined {
  if (text === 'immutable') return { kind: 'immutable' };
  if (text === 'legacy') return { kind: 'legacy' };
  const m = /^custom:([a-z_]+(?:,[a-z_]+)*)$/.exec(text);
  return m ? { kind: 'custom', claimKeys: m[1]!.split(','), immutable: immutableDefault } : undefined;
}

export function describeSubject(f: SubjectFormat): string {
  return f.kind === 'custom' ? `custom:${f.claimKeys.join(',')}` : f.kind;
}
