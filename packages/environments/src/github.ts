import { getOctokit } from '@actions/github';
import { UserError, type Sleep } from '@deploy-actions/action-kit';
import { allPages, firstLine, githubCall, githubRequestOptions, httpStatus, isRetryableGithubError } from '@deploy-actions/github';

export interface Reviewer {
  type: 'User' | 'Team';
  id: number;
}
export interface BranchPolicySettings {
  protected_branches: boolean;
  custom_branch_policies: boolean;
}
export interface EnvironmentJson {
  id: number;
  name: string;
  protection_rules?: Array<{
    type: string;
    wait_timer?: number;
    prevent_self_review?: boolean;
    reviewers?: Array<{ type: 'User' | 'Team'; reviewer: { id: number; login?: string; slug?: string } }>;
  }>;
  deployment_branch_policy: BranchPolicySettings | null;
  can_admins_bypass?: boolean;
}
export interface BranchPolicy {
  id: number;
  name: string;
  type?: 'branch' | 'tag';
}
export interface PutEnvironment {
  wait_timer: number;
  prevent_self_review: boolean;
  /** Whether administrators may deploy without the required reviews (GitHub's default: true). */
  can_admins_bypass: boolean;
  reviewers: Reviewer[];
  deployment_branch_policy: BranchPolicySettings | null;
}

/** The GitHub API calls environments-as-code makes. */
export interface EnvironmentsApi {
  userId(login: string): Promise<number | undefined>;
  teamId(org: string, slug: string): Promise<number | undefined>;
  listEnvironments(): Promise<string[]>;
  getEnvironment(name: string): Promise<EnvironmentJson | undefined>;
  putEnvironment(name: string, body: PutEnvironment): Promise<EnvironmentJson>;
  listBranchPolicies(env: string): Promise<BranchPolicy[]>;
  addBranchPolicy(env: string, policy: { name: string; type: 'branch' | 'tag' }): Promise<BranchPolicy>;
  deleteBranchPolicy(env: string, id: number): Promise<void>;
}

export interface ApiOptions {
  token: string;
  apiUrl: string;
  owner: string;
  repo: string;
  sleep?: Sleep;
  onRetry?: (message: string) => void;
}

export function octokitEnvironments(opts: ApiOptions): EnvironmentsApi {
  const octokit = getOctokit(opts.token, { baseUrl: opts.apiUrl.replace(/\/+$/, ''), userAgent: 'deploy-actions-environments', ...githubRequestOptions() });
  const { owner, repo } = opts;
  const full = `${owner}/${repo}`;
  async function call<T>(what: string, permission: string, fn: () => Promise<{ data: unknown }>, notFound?: () => T): Promise<T> {
    try {
      return await githubCall<T>(what, fn, opts);
    } catch (err) {
      const status = httpStatus(err);
      const said = firstLine(err) ? ` (${firstLine(err)})` : '';
      if (status === 404 && notFound) return notFound();
      if (status === 401) throw new UserError(`GitHub rejected the token${said}: set GITHUB_TOKEN to a valid token`);
      if (status === 403 && !isRetryableGithubError(err)) {
        throw new UserError(`GitHub refused to ${what}${said}: the token needs ${permission}`);
      }
      if (status === 404) {
        throw new UserError(`GitHub answered 404 to ${what}${said}: ${full} does not exist or the token cannot see it (it needs ${permission})`);
      }
      if (status === 422) throw new UserError(`GitHub rejected ${what}${said}`);
      throw err;
    }
  }
  const READ = "'Actions: read' (fine-grained) or the repo scope";
  const WRITE = "'Administration: write' on the repository (fine-grained) or the repo scope and admin rights";
  return {
    userId: async (login) =>
      (await call<{ id: number } | undefined>(`look up user ${login}`, 'no special permission', () => octokit.request('GET /users/{username}', { username: login }), () => undefined))?.id,
    teamId: async (org, slug) =>
      (
        await call<{ id: number } | undefined>(
          `look up team ${org}/${slug}`,
          "'Members: read' on the organization (fine-grained) or the read:org scope",
          () => octokit.request('GET /orgs/{org}/teams/{team_slug}', { org, team_slug: slug }),
          () => undefined,
        )
      )?.id,
    async listEnvironments() {
      const envs = await allPages(async (page, per_page) => {
        const res = await call<{ environments?: Array<{ name: string }> }>(`list the environments of ${full}`, READ, () =>
          octokit.request('GET /repos/{owner}/{repo}/environments', { owner, repo, per_page, page }),
        );
        return res.environments ?? [];
      });
      return envs.map((e) => e.name);
    },
    getEnvironment: (name) =>
      call<EnvironmentJson | undefined>(
        `read environment ${name}`,
        READ,
        () => octokit.request('GET /repos/{owner}/{repo}/environments/{environment_name}', { owner, repo, environment_name: name }),
        () => undefined,
      ),
    putEnvironment: (name, body) =>
      call<EnvironmentJson>(`create or update environment ${name} in ${full}`, WRITE, () =>
        octokit.request('PUT /repos/{owner}/{repo}/environments/{environment_name}', { owner, repo, environment_name: name, ...body }),
      ),
    listBranchPolicies: (env) =>
      allPages(async (page, per_page) => {
        const res = await call<{ branch_policies?: BranchPolicy[] }>(`list the deployment branch policies of ${env}`, READ, () =>
          octokit.request('GET /repos/{owner}/{repo}/environments/{environment_name}/deployment-branch-policies', {
            owner,
            repo,
            environment_name: env,
            per_page,
            page,
          }),
        );
        return res.branch_policies ?? [];
      }),
    addBranchPolicy: (env, policy) =>
      call<BranchPolicy>(`add deployment ${policy.type} policy ${policy.name} to ${env}`, WRITE, () =>
        octokit.request('POST /repos/{owner}/{repo}/environments/{environment_name}/deployment-branch-policies', {
          owner,
          repo,
          environment_name: env,
          name: policy.name,
          type: policy.type,
        }),
      ),
    async deleteBranchPolicy(env, id) {
      await call<unknown>(`remove deployment branch policy ${id} from ${env}`, WRITE, () =>
        octokit.request('DELETE /repos/{owner}/{repo}/environments/{environment_name}/deployment-branch-policies/{branch_policy_id}', {
          owner,
          repo,
          environment_name: env,
          branch_policy_id: id,
        }),
      );
    },
  };
}
