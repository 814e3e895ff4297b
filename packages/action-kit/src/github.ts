import { readFileSync } from 'node:fs';
import type { context } from '@actions/github';

/**
 * What the actions read of @actions/github's `context`. Actions pass `context` itself.
 * This module imports only its type, so a bundle that cannot afford @actions/github
 * does not carry it (see runContextFrom).
 */
export type RunContext = Pick<
  typeof context,
  'payload' | 'eventName' | 'sha' | 'ref' | 'workflow' | 'actor' | 'runAttempt' | 'runNumber' | 'runId' | 'apiUrl' | 'serverUrl' | 'repo'
>;

/**
 * The run context as the actions use it: @actions/github's `Context` (which reads the
 * runner's variables and the event payload), flattened to strings, plus the few facts
 * every caller derives the same way (the PR head commit, the branch, the run's link).
 */
export interface GitHubContext {
  /** The commit the run is about: for pull_request events the PR head, not the merge commit. */
  sha: string;
  eventName: string;
  ref: string;
  refName: string;
  refType: 'branch' | 'tag';
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

const text = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : '');

/** `owner/name`, or '' when the runner names no repository (context.repo throws then). */
function repositoryOf(c: RunContext): string {
  try {
    const { owner, repo } = c.repo;
    return owner && repo ? `${owner}/${repo}` : '';
  } catch {
    return '';
  }
}

export function githubContext(c: RunContext): GitHubContext {
  const pr = text(c.eventName).startsWith('pull_request') ? c.payload.pull_request : undefined;
  const ref = text(c.ref);
  const refType = ref.startsWith('refs/tags/') ? 'tag' : 'branch';
  const refName = ref.replace(/^refs\/(heads|tags)\//, '');
  const repository = repositoryOf(c);
  const runId = text(c.runId);
  const serverUrl = text(c.serverUrl);
  return {
    sha: text(pr?.head?.sha) || text(c.sha),
    eventName: text(c.eventName),
    ref,
    refName,
    refType,
    repository,
    serverUrl,
    apiUrl: text(c.apiUrl),
    runId,
    runNumber: text(c.runNumber),
    runAttempt: text(c.runAttempt) || '1',
    actor: text(c.actor),
    workflow: text(c.workflow),
    runUrl: repository && runId ? `${serverUrl}/${repository}/actions/runs/${runId}` : '',
    branch: pr ? text(pr.head?.ref) : refType === 'branch' ? refName : '',
  };
}

/**
 * A RunContext read from a given set of runner variables, the way @actions/github's
 * `context` reads process.env. For tests that describe a run by its variables, and for
 * helm-deploy-eks: importing `context` brings Octokit and its REST plugins into a bundle
 * (helm-deploy-eks 1.42 MB -> 1.56 MB, over the 1.5 MB goal; README "Bundle size").
 */
export function runContextFrom(env: NodeJS.ProcessEnv): RunContext {
  let payload: RunContext['payload'] = {};
  try {
    if (env.GITHUB_EVENT_PATH) payload = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, 'utf8'));
  } catch {
    payload = {};
  }
  const [owner = '', repo = ''] = (env.GITHUB_REPOSITORY ?? '').split('/');
  return {
    payload,
    eventName: env.GITHUB_EVENT_NAME ?? '',
    sha: env.GITHUB_SHA ?? '',
    ref: env.GITHUB_REF ?? '',
    workflow: env.GITHUB_WORKFLOW ?? '',
    actor: env.GITHUB_ACTOR ?? '',
    runAttempt: Number(env.GITHUB_RUN_ATTEMPT ?? 1),
    runNumber: Number(env.GITHUB_RUN_NUMBER),
    runId: Number(env.GITHUB_RUN_ID),
    apiUrl: env.GITHUB_API_URL ?? 'https://api.github.com',
    serverUrl: env.GITHUB_SERVER_URL ?? 'https://github.com',
    repo: { owner, repo },
  };
}
