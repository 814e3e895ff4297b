import { githubClient } from '@deploy-actions/github/octokit';
import { UserError, type Sleep } from '@deploy-actions/action-kit';
import { firstLine, githubCall, githubRequestOptions, httpStatus, isRetryableGithubError } from '@deploy-actions/github';

export { isRetryableGithubError };

export interface Deployment {
  id: number;
  sha: string;
  ref: string;
  environment: string;
  payload: unknown;
  created_at: string;
  description?: string | null;
  production_environment?: boolean;
  transient_environment?: boolean;
}

export interface DeploymentStatus {
  id: number;
  state: string;
  created_at: string;
  environment?: string;
  description?: string | null;
  log_url?: string;
  environment_url?: string;
}

export interface CreateDeployment {
  ref: string;
  /** GitHub's `task` (default `deploy`): evidence records use evidenceTask(environment). */
  task?: string;
  environment: string;
  description: string;
  payload: Record<string, unknown>;
  production_environment: boolean;
  transient_environment: boolean;
}

export interface CreateStatus {
  state: 'success' | 'error' | 'failure' | 'inactive' | 'in_progress' | 'queued' | 'pending';
  description: string;
  log_url?: string;
  environment_url?: string;
  /** false: GitHub does not add `inactive` to other deployments of the environment. Default (unset): GitHub's default, true. */
  auto_inactive?: boolean;
}

/**
 * The task of promote-gate's evidence records in `environment`. A deployment's task is fixed when
 * it is created, while its `environment` can be changed by any later status (GitHub REST API,
 * *Create a deployment status*: the environment "can be changed when setting a deploy status"):
 * signed evidence is therefore listed by task, and its environment read from the signed statement.
 */
export const evidenceTask = (environment: string) => `deploy:evidence:${environment.toLowerCase()}`;

export interface ListQuery {
  /** The deployment's current environment (a status can change it). */
  environment?: string;
  task?: string;
  sha?: string;
  /** The newest `max` only. */
  max?: number;
  /** Pages of 100 read at most (default 20). */
  maxPages?: number;
  /** After each page, with everything read so far (newest first): true stops the read. */
  until?: (read: readonly Deployment[]) => boolean;
  /** The read must reach its end (or `until`): more than `maxPages` pages fails instead of returning a part. */
  complete?: boolean;
}

/** The part of the GitHub deployments API promote-gate uses. */
export interface DeploymentsApi {
  /** Deployments matching the query, newest first: all pages (at most `maxPages`), or until `until`, or the newest `max`. */
  list(query: ListQuery): Promise<Deployment[]>;
  /** Statuses of a deployment, newest first (the first 100). */
  statuses(deploymentId: number): Promise<DeploymentStatus[]>;
  create(body: CreateDeployment): Promise<Deployment>;
  createStatus(deploymentId: number, body: CreateStatus): Promise<DeploymentStatus>;
}

export type Permission = 'read' | 'write';

/** Maps an HTTP error of a deployments call to a UserError naming what is missing. */
export function githubUserError(err: unknown, what: string, need: Permission, repository: string): unknown {
  const status = httpStatus(err);
  const said = firstLine(err) ? `: ${firstLine(err)}` : '';
  if (status === 401) {
    return new UserError(`GitHub rejected the token while trying to ${what} (401${said}); check the github-token input`);
  }
  if (status === 403 && !isRetryableGithubError(err)) {
    return new UserError(
      `GitHub refused to ${what} in ${repository} (403${said}): the token needs the 'deployments: ${need}' permission (add 'permissions: deployments: ${need}' to the job)`,
    );
  }
  if (status === 404) {
    return new UserError(
      `GitHub answered 404 to ${what} in ${repository}${said}: the repository is not visible to the token or it lacks the 'deployments: ${need}' permission (add 'permissions: deployments: ${need}' to the job)`,
    );
  }
  return err;
}

export interface OctokitDeploymentsOptions {
  token: string;
  apiUrl: string;
  owner: string;
  repo: string;
  /** The permission the caller's mode needs, named in errors. */
  need: Permission;
  sleep?: Sleep;
  random?: () => number;
  attempts?: number;
  onRetry?: (message: string) => void;
}

/** The deployments API over Octokit (githubClient) (baseUrl = GITHUB_API_URL), with our retry policy. */
export function octokitDeployments(opts: OctokitDeploymentsOptions): DeploymentsApi {
  const octokit = githubClient(opts.token, { baseUrl: opts.apiUrl, userAgent: 'deploy-actions-promote-gate', ...githubRequestOptions() });
  const { owner, repo } = opts;
  const repository = `${owner}/${repo}`;
  const call = async <T>(what: string, fn: () => Promise<{ data: unknown }>): Promise<T> => {
    try {
      return await githubCall<T>(what, fn, opts);
    } catch (err) {
      throw githubUserError(err, what, opts.need, repository);
    }
  };
  return {
    async list(query) {
      const { environment, task, sha, max = Infinity, maxPages = 20, until, complete = false } = query;
      const out: Deployment[] = [];
      const perPage = Math.min(100, Math.max(1, max));
      const what = `list ${environment ?? task ?? ''} deployments`;
      for (let page = 1; out.length < max; page++) {
        if (page > maxPages) {
          if (complete) throw new UserError(tooMany(query, out.length));
          break;
        }
        const batch = await call<Deployment[]>(what, () =>
          octokit.request('GET /repos/{owner}/{repo}/deployments', {
            owner,
            repo,
            ...(environment ? { environment } : {}),
            ...(task ? { task } : {}),
            ...(sha ? { sha } : {}),
            per_page: perPage,
            page,
          }),
        );
        out.push(...batch);
        if (batch.length < perPage || until?.(out)) break;
      }
      return out.slice(0, max);
    },
    statuses: (id) =>
      call<DeploymentStatus[]>(`list the statuses of deployment ${id}`, () =>
        octokit.request('GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses', {
          owner,
          repo,
          deployment_id: id,
          per_page: 100,
        }),
      ),
    create: (body) =>
      call<Deployment>(`create a ${body.environment} deployment`, () =>
        octokit.request('POST /repos/{owner}/{repo}/deployments', {
          owner,
          repo,
          ref: body.ref,
          task: body.task ?? 'deploy',
          auto_merge: false,
          required_contexts: [],
          payload: body.payload,
          environment: body.environment,
          description: body.description,
          production_environment: body.production_environment,
          transient_environment: body.transient_environment,
        }),
      ),
    createStatus: (id, body) =>
      call<DeploymentStatus>(`create a status on deployment ${id}`, () =>
        octokit.request('POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses', {
          owner,
          repo,
          deployment_id: id,
          state: body.state,
          description: body.description,
          ...(body.log_url ? { log_url: body.log_url } : {}),
          ...(body.environment_url ? { environment_url: body.environment_url } : {}),
          ...(body.auto_inactive !== undefined ? { auto_inactive: body.auto_inactive } : {}),
        }),
      ),
  };
}

/** The one line of a read that would not end: the decision is refused rather than made from a part. */
export function tooMany(query: ListQuery, read: number): string {
  const which = [query.task && `task ${query.task}`, query.environment && `environment ${query.environment}`, query.sha && `commit ${query.sha.slice(0, 7)}`].filter(Boolean).join(', ');
  return `Refusing to decide from part of the evidence: more than ${read} deployments (${which}) were read without reaching the end; someone may be flooding the repository with deployments (delete them, then re-run)`;
}

/** The payload object of a deployment (GitHub returns what was sent: an object or a JSON string). */
export function payloadOf(d: Deployment): Record<string, unknown> {
  let p = d.payload;
  if (typeof p === 'string') {
    try {
      p = JSON.parse(p);
    } catch {
      return {};
    }
  }
  return p && typeof p === 'object' && !Array.isArray(p) ? (p as Record<string, unknown>) : {};
}

/** Newest first by creation time, then id. */
export function newestFirst<T extends { id: number; created_at: string }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => (b.created_at === a.created_at ? b.id - a.id : b.created_at < a.created_at ? -1 : 1));
}

/**
 * A rate-limited answer with `retry-after` (seconds, at most 60 honoured) waits that long before
 * the error goes on to the retry loop, whose own jittered delay comes on top.
 */
