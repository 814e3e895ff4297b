/**
 * Who approved a run's deployment to an environment: GitHub's review history of a workflow run
 * (`GET /repos/{owner}/{repo}/actions/runs/{run_id}/approvals`, readable by anyone with read
 * access to the repository; a GITHUB_TOKEN needs actions: read). One request per run, under the
 * GitHub deadline; the answer is one array (no pages).
 */
import { githubClient } from '@deploy-actions/github/octokit';
import { errorMessage } from '@deploy-actions/action-kit';
import { githubCall, githubRequestOptions, httpStatus, type GithubCallOptions } from '@deploy-actions/github';
import { sameEnvironment } from './refs';

export interface Approval {
  environments: Array<{ name?: string }>;
  state: string;
  user?: { login?: string } | null;
  comment?: string;
}

export interface ApprovalsApi {
  /** The run's reviews, or undefined when the token may not read them; throws why not otherwise. */
  ofRun(runId: string): Promise<Approval[] | undefined>;
}

export function octokitApprovals(o: GithubCallOptions & { token: string; apiUrl: string; owner: string; repo: string }): ApprovalsApi {
  const octokit = githubClient(o.token, { baseUrl: o.apiUrl, userAgent: 'deploy-actions-promote-gate', ...githubRequestOptions() });
  // A run is asked once however many rows name it (the card's running release, its rollback target).
  const asked = new Map<string, Promise<Approval[] | undefined>>();
  const read = async (runId: string) => {
    try {
      return await githubCall<Approval[]>(`read the reviews of run ${runId}`, () =>
        octokit.request('GET /repos/{owner}/{repo}/actions/runs/{run_id}/approvals', { owner: o.owner, repo: o.repo, run_id: Number(runId) }),
      o);
    } catch (err) {
      if (httpStatus(err) === 403) return undefined;
      if (httpStatus(err) === 404) throw new Error(`run ${runId} is not in ${o.owner}/${o.repo} any more (deleted?)`);
      throw err;
    }
  };
  return {
    ofRun(runId) {
      if (!asked.has(runId)) asked.set(runId, read(runId));
      return asked.get(runId)!;
    },
  };
}

/**
 * Who approved `environment` in the run: the logins of its `approved` reviews, '(no review)' when
 * the environment needed none, '(unknown: why)' when they cannot be read (never an error: who
 * approved is shown beside the evidence, it decides nothing).
 */
export async function approvedBy(api: ApprovalsApi | undefined, runId: string, environment: string): Promise<string> {
  if (!api || !/^\d+$/.test(runId)) return '(unknown)';
  let reviews: Approval[] | undefined;
  try {
    reviews = await api.ofRun(runId);
  } catch (err) {
    return `(unknown: ${errorMessage(err).split('\n')[0]!})`;
  }
  if (!reviews) return '(unknown: the token cannot read the run reviews; it needs actions: read)';
  const logins = reviews
    .filter((r) => r.state === 'approved' && r.environments.some((e) => sameEnvironment(e.name, environment)))
    .map((r) => r.user?.login ?? '?');
  return logins.length ? [...new Set(logins)].join(', ') : '(no review)';
}
