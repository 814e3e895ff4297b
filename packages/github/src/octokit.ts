/**
 * Octokit as @actions/github's getOctokit builds it (core with the REST endpoint methods and
 * pagination, token auth, the user agent with ACTIONS_ORCHESTRATION_ID), without @actions/github.
 * Its module builds a proxy agent and a proxy fetch at import, loading @actions/http-client and
 * undici (about 0.5 MB of JavaScript) on every run, while our clients pass their own `request.fetch`
 * (githubRequestOptions: the deadline), which replaces that fetch whole (Octokit merges its
 * defaults shallowly). Issue 25: the same client for less load.
 */
import { Octokit } from '@octokit/core';
import { paginateRest } from '@octokit/plugin-paginate-rest';
import { restEndpointMethods } from '@octokit/plugin-rest-endpoint-methods';

const GitHub = Octokit.plugin(restEndpointMethods, paginateRest);
export type GitHubClient = InstanceType<typeof GitHub>;

/** The user agent @actions/github sends: ours, then `actions_orchestration_id/<id>` when the runner gives one. */
export function userAgentOf(base: string, env: NodeJS.ProcessEnv = process.env): string {
  const id = env.ACTIONS_ORCHESTRATION_ID?.trim();
  if (!id) return base;
  const tag = `actions_orchestration_id/${id.replace(/[^a-z0-9_.-]/gi, '_')}`;
  return base.includes(tag) ? base : `${base} ${tag}`;
}

export interface GitHubClientOptions {
  baseUrl: string;
  userAgent: string;
  request?: { fetch?: typeof fetch };
}

/** An Octokit for `token` (as getOctokit(token, options)); an empty token is refused as getOctokit refuses it. */
export function githubClient(token: string, options: GitHubClientOptions): GitHubClient {
  if (!token) throw new Error('Parameter token or opts.auth is required');
  return new GitHub({ ...options, auth: `token ${token}`, userAgent: userAgentOf(options.userAgent) });
}
