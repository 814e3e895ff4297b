/**
 * The GitHub API calls of deploy-setup beyond environments: a repository's ids and OIDC subject
 * template (what its tokens will carry), and Actions variables (repository and environment).
 * Every request has a deadline and the retry policy of @deploy-actions/github.
 */
import { getOctokit } from '@actions/github';
import { DEADLINES, UserError } from '@deploy-actions/action-kit';
import { firstLine, githubCall, httpStatus, isRetryableGithubError } from '@deploy-actions/github';
import { IMMUTABLE_SUBJECTS_SINCE, type RepoIdentity, type SubjectFormat } from './subject';

/** Per request (DEADLINES, as every GitHub call of the actions). */
export const GITHUB_DEADLINE_MS = DEADLINES.githubMs;

export interface SetupGithubApi {
  /** The repository's id, its owner's id, when it was created and whether it is private. */
  repository(repo: string): Promise<{ id: number; ownerId: number; createdAt: string; private: boolean }>;
  /** The organization's plan (`plan.name` of GET /orgs/{org}: shown to its owners); undefined when not shown or not an organization. */
  orgPlan(org: string): Promise<string | undefined>;
  /** GET /repos/{owner}/{repo}/actions/oidc/customization/sub */
  repoSubjectTemplate(repo: string): Promise<{ use_default: boolean; include_claim_keys?: string[] }>;
  /** GET /orgs/{org}/actions/oidc/customization/sub; undefined when there is none (or the owner is a user). */
  orgSubjectTemplate(org: string): Promise<string[] | undefined>;
  /** A variable's value, undefined when unset; `environment` undefined: the repository's. */
  getVariable(repo: string, environment: string | undefined, name: string): Promise<string | undefined>;
  setVariable(repo: string, environment: string | undefined, name: string, value: string, exists: boolean): Promise<void>;
}

/**
 * What GitHub will put in `sub` for this repository: its custom template (repository, else the
 * organization's when the repository defers to it), else immutable ids for a repository created
 * on or after 2026-07-15 (or `immutableOverride`, for an older repository whose admins opted in).
 */
export async function readIdentity(api: SetupGithubApi, repo: string, immutableOverride?: boolean): Promise<RepoIdentity & { createdAt: string; private: boolean }> {
  const r = await api.repository(repo);
  const immutable = immutableOverride ?? r.createdAt >= IMMUTABLE_SUBJECTS_SINCE;
  const t = await api.repoSubjectTemplate(repo);
  let keys: string[] | undefined;
  if (!t.use_default) keys = t.include_claim_keys?.length ? t.include_claim_keys : await api.orgSubjectTemplate(repo.split('/')[0]!);
  const subject: SubjectFormat = keys?.length ? { kind: 'custom', claimKeys: keys, immutable } : { kind: immutable ? 'immutable' : 'legacy' };
  return { repository: repo, repositoryId: String(r.id), ownerId: String(r.ownerId), subject, createdAt: r.createdAt, private: r.private };
}

export function octokitSetup(opts: { token: string; apiUrl: string; onRetry?: (m: string) => void }): SetupGithubApi {
  const octokit = getOctokit(opts.token, { baseUrl: opts.apiUrl.replace(/\/+$/, ''), userAgent: 'deploy-actions-setup' });
  const deadline = () => ({ request: { signal: AbortSignal.timeout(GITHUB_DEADLINE_MS) } });
  async function call<T>(what: string, permission: string, fn: () => Promise<{ data: unknown }>, notFound?: () => T): Promise<T> {
    try {
      return await githubCall<T>(what, fn, { onRetry: opts.onRetry });
    } catch (err) {
      const status = httpStatus(err);
      const said = firstLine(err) ? ` (${firstLine(err)})` : '';
      if (status === 404 && notFound) return notFound();
      if ((err as Error)?.name === 'TimeoutError' || (err as Error)?.name === 'AbortError') {
        throw new UserError(`GitHub did not answer within ${GITHUB_DEADLINE_MS / 1000} s to ${what}`);
      }
      if (status === 401) throw new UserError(`GitHub rejected the token${said}: set GITHUB_TOKEN to a valid token`);
      if ((status === 403 && !isRetryableGithubError(err)) || status === 404) {
        throw new UserError(`GitHub answered ${status} to ${what}${said}: the token needs ${permission}`);
      }
      if (status === 422) throw new UserError(`GitHub rejected ${what}${said}`);
      throw err;
    }
  }
  const split = (repo: string) => {
    const [owner, name] = repo.split('/') as [string, string];
    return { owner, repo: name };
  };
  const VARS = "'Variables: write' (repository) and 'Environments: write' (environment variables), or the repo scope";
  const path = (environment: string | undefined) =>
    environment === undefined ? '/repos/{owner}/{repo}/actions/variables' : '/repos/{owner}/{repo}/environments/{environment_name}/variables';
  return {
    async repository(repo) {
      const r = await call<{ id: number; owner: { id: number }; created_at: string; private?: boolean }>(`read repository ${repo}`, "'Metadata: read' on the repository", () =>
        octokit.request('GET /repos/{owner}/{repo}', { ...split(repo), ...deadline() }),
      );
      return { id: r.id, ownerId: r.owner.id, createdAt: r.created_at, private: r.private === true };
    },
    async orgPlan(org) {
      const o = await call<{ plan?: { name?: string } } | undefined>(`read organization ${org}`, "'Members: read' on the organization", () => octokit.request('GET /orgs/{org}', { org, ...deadline() }), () => undefined);
      return o?.plan?.name;
    },
    repoSubjectTemplate: (repo) =>
      call(`read the OIDC subject template of ${repo}`, "'Actions: read' on the repository", () =>
        octokit.request('GET /repos/{owner}/{repo}/actions/oidc/customization/sub', { ...split(repo), ...deadline() }),
      ),
    async orgSubjectTemplate(org) {
      const t = await call<{ include_claim_keys?: string[] } | undefined>(
        `read the OIDC subject template of the organization ${org}`,
        "'Administration: read' on the organization (or the read:org scope)",
        () => octokit.request('GET /orgs/{org}/actions/oidc/customization/sub', { org, ...deadline() }),
        () => undefined,
      );
      return t?.include_claim_keys;
    },
    async getVariable(repo, environment, name) {
      const v = await call<{ value: string } | undefined>(
        `read variable ${name}${environment ? ` of environment ${environment}` : ''} in ${repo}`,
        VARS,
        () => octokit.request(`GET ${path(environment)}/{name}`, { ...split(repo), environment_name: environment, name, ...deadline() }),
        () => undefined,
      );
      return v?.value;
    },
    async setVariable(repo, environment, name, value, exists) {
      const where = `variable ${name}${environment ? ` of environment ${environment}` : ''} in ${repo}`;
      await call<unknown>(exists ? `update ${where}` : `create ${where}`, VARS, () =>
        exists
          ? octokit.request(`PATCH ${path(environment)}/{name}`, { ...split(repo), environment_name: environment, name, value, ...deadline() })
          : octokit.request(`POST ${path(environment)}`, { ...split(repo), environment_name: environment, name, value, ...deadline() }),
      );
    },
  };
}
