import { readFileSync } from 'node:fs';

/** The parts of the GitHub Actions run context the actions use, read from the runner's variables. */
export interface GitHubContext {
  /** The commit the run is about: for pull_request events the PR head, not the merge commit. */
  sha: string;
  eventName: string;
  ref: string;
  refName: string;
  refType: string;
  repository: string;
  serverUrl: string;
  apiUrl: string;
  runId: string;
  runNumber: string;
  runAttempt: string;
  actor: string;
  workflow: string;
  /** Link to this run, for annotations and summaries. */
  runUrl: string;
  /** Branch name for push events, head branch for pull requests. */
  branch: string;
}

export function githubContext(env: NodeJS.ProcessEnv = process.env): GitHubContext {
  const eventName = env.GITHUB_EVENT_NAME ?? '';
  let event: Record<string, any> = {};
  if (env.GITHUB_EVENT_PATH) {
    try {
      event = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, 'utf8'));
    } catch {
      event = {};
    }
  }
  const pr = eventName.startsWith('pull_request') ? event.pull_request : undefined;
  const sha = (pr?.head?.sha as string | undefined) ?? env.GITHUB_SHA ?? '';
  const ref = env.GITHUB_REF ?? '';
  const refType = env.GITHUB_REF_TYPE ?? (ref.startsWith('refs/tags/') ? 'tag' : 'branch');
  const refName = env.GITHUB_REF_NAME ?? ref.replace(/^refs\/(heads|tags)\//, '');
  const serverUrl = env.GITHUB_SERVER_URL ?? 'https://github.com';
  const repository = env.GITHUB_REPOSITORY ?? '';
  const runId = env.GITHUB_RUN_ID ?? '';
  const branch = pr ? (env.GITHUB_HEAD_REF ?? pr.head?.ref ?? '') : refType === 'branch' ? refName : '';
  return {
    sha,
    eventName,
    ref,
    refName,
    refType,
    repository,
    serverUrl,
    apiUrl: env.GITHUB_API_URL ?? 'https://api.github.com',
    runId,
    runNumber: env.GITHUB_RUN_NUMBER ?? '',
    runAttempt: env.GITHUB_RUN_ATTEMPT ?? '1',
    actor: env.GITHUB_ACTOR ?? '',
    workflow: env.GITHUB_WORKFLOW ?? '',
    runUrl: repository && runId ? `${serverUrl}/${repository}/actions/runs/${runId}` : '',
    branch,
  };
}
