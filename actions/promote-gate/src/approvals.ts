/**
 * Who approved a run's deployment to an environment: GitHub's review history of a workflow run
 * (`GET /repos/{owner}/{repo}/actions/runs/{run_id}/approvals`, readable by anyone with read
 * access to the repository; fine-grained tokens need Actions: read).
 */
import { getOctokit } from '@actions/github';
import { githubCall, githubRequestOptions, httpStatus, type GithubCallOptions } from '@deploy-actions/github';
import { sameEnvironment } from './refs';

export interface Approval {
  environments: Array<{ name?: string }>;
  state: string;
  user?: { login?: string } | null;
  comment?: string;
}

export interface ApprovalsApi {
  /** The run's reviews, or undefined when the token may not read them. */
  ofRun(runId: string): Promise<Approval[] | undefined>;
}

export function octokitApprovals(o: GithubCallOptions & { token: string; apiUrl: string; owner: string; repo: string }): ApprovalsApi {
  const octokit = getOctokit(o.token, { baseUrl: o.apiUrl, userAgent: 'deploy-actions-promote-gate', ...githubRequestOptions() });
  return {
    async ofRun(runId) {
      try {
        return await githubCall<Approval[]>(`read the reviews of run ${runId}`, () =>
          octokit.request('GET /repos/{owner}/{repo}/actions/runs/{run_id}/approvals', { owner: o.owner, repo: o.repo, run_id: Number(runId) }),
        o);
      } catch (err) {
        if ([403, 404].includes(httpStatus(err))) return undefined;
        throw err;
      }
    },
  };
}

/**
 * `api`, except for the run whose reviews were handed in (`run-reviews`, read by a job whose token
 * may: pipeline.yml's preprod-reviews job), which are answered from them.
 */
export function withRunReviews(api: ApprovalsApi | undefined, runId: string, reviews: Approval[] | undefined): ApprovalsApi | undefined {
  if (!reviews || !runId) return api;
  return { ofRun: async (id) => (id === runId ? reviews : api ? api.ofRun(id) : undefined) };
}

/**
 * Who approved `environment` in the run: the logins of its `approved` reviews, '(no review)' when
 * the environment needed none, '(unknown)' when they cannot be read.
 */
export async function approvedBy(api: ApprovalsApi | undefined, runId: string, environment: string): Promise<string> {
  if (!api || !/^\d+$/.test(runId)) return '(unknown)';
  const reviews = await api.ofRun(runId);
  if (!reviews) return '(unknown: the token cannot read the run reviews; it needs actions: read)';
  const logins = reviews
    .filter((r) => r.state === 'approved' && r.environments.some((e) => sameEnvironment(e.name, environment)))
    .map((r) => r.user?.login ?? '?');
  return logins.length ? [...new Set(logins)].join(', ') : '(no review)';
}
