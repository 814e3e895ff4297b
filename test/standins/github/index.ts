/**
 * A GitHub REST API stand-in: a real HTTP server speaking GitHub's JSON shapes and status
 * codes for deployments, deployment statuses, environments, deployment branch policies and
 * user/team lookups. Real clients (Octokit) reach it through GITHUB_API_URL.
 *
 * Auth: `Authorization: token <t>` or `Bearer <t>` checked against `tokens`; each token has
 * fine-grained-style permissions (a missing one answers 403 "Resource not accessible by
 * integration", as GitHub does for the Actions token). Faults can be injected per route.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { closeServer, listenLocal } from '../../harness/net';
import { SCOPES } from '../../executor/permissions';
import { ASSET_UPLOAD, releasesRoute, type StoredRelease } from './releases';
import { pullsRoute, type StoredPull } from './pulls';
import { compareRoute } from './compare';
import { defaultRepositoryInfo, setupRoute, type RepositoryInfo, type StoredVariable } from './setup-routes';

export type { StoredRelease } from './releases';
export type { RepositoryInfo, StoredVariable } from './setup-routes';

export type Level = 'none' | 'read' | 'write';
/** The scopes a GITHUB_TOKEN can carry: the workflow `permissions:` keys (one list, the executor's). */
export const JOB_TOKEN_SCOPES = SCOPES;
export type JobTokenScope = (typeof JOB_TOKEN_SCOPES)[number];
export interface Permissions extends Partial<Record<JobTokenScope, Level>> {
  deployments?: Level;
  /** Environments and branch policies: write needs administration: write (not a job-token scope). */
  administration?: Level;
  /** Reading environments and branch policies (fine-grained "Actions: read"). */
  actions?: Level;
  /** Organization members: team lookups (not a job-token scope). */
  members?: Level;
  /** Releases and their assets. */
  contents?: Level;
  /** Repository Actions variables. */
  variables?: Level;
  /** Environments' variables (fine-grained "Environments"). */
  environments?: Level;
  /** Repository metadata (every fine-grained token has read). */
  metadata?: Level;
}
export type TokenSpec = 'all' | { permissions: Permissions; login?: string };

export interface StandinUser {
  login: string;
  id: number;
  /** Commit e-mails GitHub attributes to the account (its `<id>+<login>@users.noreply.github.com` always is). */
  emails?: string[];
}
export interface StandinTeam {
  org: string;
  slug: string;
  id: number;
  name?: string;
}

export interface GithubStandinOptions {
  tokens: Record<string, TokenSpec>;
  /** Repositories that exist (owner/name). Default: acme/sample-service. */
  repositories?: string[];
  /** Branch name -> commit SHA, for deployments created with a branch ref. */
  branches?: Record<string, string>;
  users?: StandinUser[];
  teams?: StandinTeam[];
  port?: number;
  /** GitHub's immutable releases setting: a published release takes no more assets. */
  immutableReleases?: boolean;
  /** Ids, creation time and OIDC subject customization per repository (default: setup-routes.ts). */
  repositoryInfo?: Record<string, RepositoryInfo>;
  /** Organizations' OIDC subject templates (include_claim_keys). */
  orgSubjectTemplates?: Record<string, string[]>;
  /** Organizations' plans (`GET /orgs/{org}` shows `plan.name` to a token that may administer it): free, team, enterprise. */
  orgPlans?: Record<string, string>;
  /** A real git work tree per repository (owner/name): the compare API reads its history. */
  gitRoots?: Record<string, string>;
}

export interface Fault {
  method?: string;
  /** Matches the request path (without query). */
  path?: RegExp | string;
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** How many requests it hits; default 1. */
  times?: number;
}

export interface StoredDeployment {
  repo: string;
  id: number;
  sha: string;
  ref: string;
  task: string;
  payload: unknown;
  environment: string;
  original_environment: string;
  description: string | null;
  creator: string;
  created_at: string;
  updated_at: string;
  transient_environment: boolean;
  production_environment: boolean;
}
export interface StoredStatus {
  id: number;
  deploymentId: number;
  state: string;
  description: string;
  environment: string;
  log_url: string;
  environment_url: string;
  creator: string;
  created_at: string;
  updated_at: string;
}
export interface StoredEnvironment {
  repo: string;
  id: number;
  name: string;
  created_at: string;
  updated_at: string;
  wait_timer: number;
  prevent_self_review: boolean;
  /** PUT without it sets GitHub's documented default, true. */
  can_admins_bypass: boolean;
  reviewers: Array<{ type: 'User' | 'Team'; id: number }>;
  deployment_branch_policy: { protected_branches: boolean; custom_branch_policies: boolean } | null;
  ruleIds: { wait_timer: number; required_reviewers: number; branch_policy: number };
}
export interface StoredBranchPolicy {
  repo: string;
  environment: string;
  id: number;
  name: string;
  type: 'branch' | 'tag';
}
/** A review of a run's pending deployment (the environment's required reviewers). */
export interface StoredApproval {
  repo: string;
  runId: number;
  environments: string[];
  state: 'approved' | 'rejected';
  login: string;
  comment: string;
}
export interface RequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  status: number;
  token?: string;
}

export interface GithubState {
  deployments: StoredDeployment[];
  statuses: StoredStatus[];
  environments: StoredEnvironment[];
  branchPolicies: StoredBranchPolicy[];
  approvals: StoredApproval[];
  users: StandinUser[];
  teams: StandinTeam[];
  repositories: Set<string>;
  branches: Record<string, string>;
  tokens: Record<string, TokenSpec>;
  faults: Fault[];
  requests: RequestRecord[];
  releases: StoredRelease[];
  pulls: StoredPull[];
  variables: StoredVariable[];
  /** Repository (owner/name, lower case) -> git work tree the compare API reads. */
  gitRoots: Record<string, string>;
}

export interface GithubStandin {
  url: string;
  state: GithubState;
  /** Injects a fault (5xx, rate limit, ...) for the next matching requests. */
  fault(f: Fault): void;
  /** A secondary-rate-limit 403 (with retry-after) for the next matching request. */
  rateLimitNext(method: string, path: RegExp | string): void;
  /**
   * What GitHub Actions does for a job that declares `environment:`: a deployment (not transient,
   * empty payload) created with an `in_progress` status when the job starts; `finish()` adds the
   * status the job ends with (default success, with GitHub's default auto_inactive). Made through
   * the same routes as API calls, by github-actions[bot].
   */
  actionsJob(opts: { environment: string; sha: string; repository?: string; runUrl?: string }): Promise<ActionsJobDeployment>;
  /**
   * The GITHUB_TOKEN of a job: it carries exactly the job's `permissions:` (scope -> read |
   * write | none; scopes not named are none), acts as github-actions[bot], and is refused
   * (401 Bad credentials) once revoked at the end of the job.
   */
  mintToken(permissions: Record<string, string>): string;
  revokeToken(token: string): void;
  stop(): Promise<void>;
}

export interface ActionsJobDeployment {
  deploymentId: number;
  finish(state?: 'success' | 'failure' | 'error'): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const DOCS = 'https://docs.github.com/rest';
const NOT_FOUND = () => new HttpError(404, 'Not Found');
const validation = (resource: string, field: string, message: string) =>
  new HttpError(422, 'Validation Failed', { errors: [{ resource, field, code: 'invalid', message }] });

let clock = Date.parse('2026-01-01T00:00:00Z');
/** Strictly increasing timestamps, so "newest first" is well defined even within one second. */
function now(): string {
  clock = Math.max(clock + 1000, Math.floor(Date.now() / 1000) * 1000);
  return new Date(clock).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function level(token: TokenSpec, perm: keyof Permissions): Level {
  return token === 'all' ? 'write' : (token.permissions[perm] ?? 'none');
}
const rank: Record<Level, number> = { none: 0, read: 1, write: 2 };

export async function startGithubStandin(opts: GithubStandinOptions): Promise<GithubStandin> {
  const state: GithubState = {
    deployments: [],
    statuses: [],
    environments: [],
    branchPolicies: [],
    approvals: [],
    users: [...(opts.users ?? [])],
    teams: [...(opts.teams ?? [])],
    repositories: new Set((opts.repositories ?? ['acme/sample-service']).map((r) => r.toLowerCase())),
    branches: { ...(opts.branches ?? {}) },
    tokens: { ...opts.tokens },
    faults: [],
    requests: [],
    releases: [],
    pulls: [],
    variables: [],
    gitRoots: Object.fromEntries(Object.entries(opts.gitRoots ?? {}).map(([r, root]) => [r.toLowerCase(), root])),
  };
  const latestRelease = new Map<string, number>();
  let nextId = 1000;
  const id = () => ++nextId;
  let base = '';

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  base = `http://127.0.0.1:${await listenLocal(server, opts.port)}`;

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'x-github-api-version-selected': '2022-11-28',
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '4999',
      'x-ratelimit-used': '1',
      'x-ratelimit-resource': 'core',
      'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
      'x-github-request-id': `STANDIN:${id()}`,
      ...(text ? { 'content-length': String(Buffer.byteLength(text)) } : {}),
      ...headers,
    });
    res.end(text);
  }

  async function readRaw(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  async function readBody(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    if (!text) return {};
    try {
      return JSON.parse(text);
    } catch {
      throw new HttpError(400, 'Problems parsing JSON');
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', base);
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const query = Object.fromEntries(url.searchParams);
    const record: RequestRecord = { method, path, query, body: undefined, status: 0 };
    state.requests.push(record);
    try {
      const auth = /^(?:token|bearer)\s+(\S+)$/i.exec(req.headers.authorization ?? '');
      const token = auth ? state.tokens[auth[1]!] : undefined;
      if (auth) record.token = auth[1];
      const body = method === 'GET' || method === 'DELETE' ? {} : ASSET_UPLOAD.test(path) ? await readRaw(req) : await readBody(req);
      record.body = body;
      const fault = state.faults.find(
        (f) =>
          (f.times ?? 1) > 0 &&
          (!f.method || f.method.toUpperCase() === method) &&
          (!f.path || (typeof f.path === 'string' ? f.path === path : f.path.test(path))),
      );
      if (fault) {
        fault.times = (fault.times ?? 1) - 1;
        record.status = fault.status;
        return send(res, fault.status, fault.body ?? { message: 'Server Error' }, fault.headers);
      }
      if (!token) throw new HttpError(401, 'Bad credentials');
      const out = await route(method, path, query, body, token, auth![1]!, req.headers['content-type'] ?? '');
      record.status = out.status;
      send(res, out.status, out.body, out.headers);
    } catch (err) {
      const e = err instanceof HttpError ? err : new HttpError(500, `stand-in error: ${(err as Error).message}`);
      record.status = e.status;
      send(res, e.status, { message: e.message, ...e.extra, documentation_url: DOCS, status: String(e.status) }, e.headers);
    }
  }

  interface Out {
    status: number;
    body?: unknown;
    headers?: Record<string, string>;
  }

  function need(token: TokenSpec, perm: keyof Permissions, lvl: Level, alt?: keyof Permissions) {
    if (rank[level(token, perm)] >= rank[lvl]) return;
    if (alt && rank[level(token, alt)] >= rank[lvl]) return;
    throw new HttpError(403, 'Resource not accessible by integration');
  }

  function repoOf(owner: string, name: string): string {
    const full = `${owner}/${name}`.toLowerCase();
    if (!state.repositories.has(full)) throw NOT_FOUND();
    return full;
  }

  function page<T>(items: T[], query: Record<string, string>, path: string): { items: T[]; headers: Record<string, string> } {
    const perPage = Math.min(100, Math.max(1, Number(query.per_page ?? 30) || 30));
    const pageNo = Math.max(1, Number(query.page ?? 1) || 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const links: string[] = [];
    const link = (p: number, rel: string) => {
      const q = new URLSearchParams({ ...query, per_page: String(perPage), page: String(p) });
      links.push(`<${base}${path}?${q}>; rel="${rel}"`);
    };
    if (pageNo < last) {
      link(pageNo + 1, 'next');
      link(last, 'last');
    }
    if (pageNo > 1) {
      link(pageNo - 1, 'prev');
      link(1, 'first');
    }
    return { items: items.slice((pageNo - 1) * perPage, pageNo * perPage), headers: links.length ? { link: links.join(', ') } : {} };
  }

  const apiRepo = (repo: string) => `${base}/repos/${repo}`;
  const userJson = (login: string) => {
    const u = state.users.find((x) => x.login.toLowerCase() === login.toLowerCase());
    const uid = u?.id ?? 41898282;
    return {
      login: u?.login ?? login,
      id: uid,
      node_id: Buffer.from(`04:User${uid}`).toString('base64'),
      avatar_url: `https://avatars.githubusercontent.com/u/${uid}?v=4`,
      url: `${base}/users/${u?.login ?? login}`,
      html_url: `https://github.com/${u?.login ?? login}`,
      type: login.endsWith('[bot]') ? 'Bot' : 'User',
      site_admin: false,
    };
  };
  const teamJson = (t: StandinTeam) => ({
    id: t.id,
    node_id: Buffer.from(`04:Team${t.id}`).toString('base64'),
    url: `${base}/organizations/1/team/${t.id}`,
    html_url: `https://github.com/orgs/${t.org}/teams/${t.slug}`,
    name: t.name ?? t.slug,
    slug: t.slug,
    description: null,
    privacy: 'closed',
    notification_setting: 'notifications_enabled',
    permission: 'pull',
    members_url: `${base}/organizations/1/team/${t.id}/members{/member}`,
    repositories_url: `${base}/organizations/1/team/${t.id}/repos`,
    parent: null,
  });
  const deploymentJson = (d: StoredDeployment) => ({
    url: `${apiRepo(d.repo)}/deployments/${d.id}`,
    id: d.id,
    node_id: Buffer.from(`010:Deployment${d.id}`).toString('base64'),
    sha: d.sha,
    ref: d.ref,
    task: d.task,
    payload: d.payload,
    original_environment: d.original_environment,
    environment: d.environment,
    description: d.description,
    creator: userJson(d.creator),
    created_at: d.created_at,
    updated_at: d.updated_at,
    statuses_url: `${apiRepo(d.repo)}/deployments/${d.id}/statuses`,
    repository_url: apiRepo(d.repo),
    transient_environment: d.transient_environment,
    production_environment: d.production_environment,
  });
  const statusJson = (s: StoredStatus, d: StoredDeployment) => ({
    url: `${apiRepo(d.repo)}/deployments/${d.id}/statuses/${s.id}`,
    id: s.id,
    node_id: Buffer.from(`016:DeploymentStatus${s.id}`).toString('base64'),
    state: s.state,
    creator: userJson(s.creator),
    description: s.description,
    environment: s.environment,
    target_url: s.log_url,
    created_at: s.created_at,
    updated_at: s.updated_at,
    deployment_url: `${apiRepo(d.repo)}/deployments/${d.id}`,
    repository_url: apiRepo(d.repo),
    environment_url: s.environment_url,
    log_url: s.log_url,
  });
  const environmentJson = (e: StoredEnvironment) => {
    const rules: unknown[] = [];
    if (e.wait_timer > 0) {
      rules.push({ id: e.ruleIds.wait_timer, node_id: `GA_${e.ruleIds.wait_timer}`, type: 'wait_timer', wait_timer: e.wait_timer });
    }
    if (e.reviewers.length) {
      rules.push({
        id: e.ruleIds.required_reviewers,
        node_id: `GA_${e.ruleIds.required_reviewers}`,
        prevent_self_review: e.prevent_self_review,
        type: 'required_reviewers',
        reviewers: e.reviewers.map((r) => {
          if (r.type === 'User') {
            const u = state.users.find((x) => x.id === r.id)!;
            return { type: 'User', reviewer: userJson(u.login) };
          }
          return { type: 'Team', reviewer: teamJson(state.teams.find((x) => x.id === r.id)!) };
        }),
      });
    }
    if (e.deployment_branch_policy) {
      rules.push({ id: e.ruleIds.branch_policy, node_id: `GA_${e.ruleIds.branch_policy}`, type: 'branch_policy' });
    }
    return {
      id: e.id,
      node_id: Buffer.from(`011:Environment${e.id}`).toString('base64'),
      name: e.name,
      url: `${apiRepo(e.repo)}/environments/${encodeURIComponent(e.name)}`,
      html_url: `https://github.com/${e.repo}/deployments/activity_log?environments_filter=${encodeURIComponent(e.name)}`,
      created_at: e.created_at,
      updated_at: e.updated_at,
      can_admins_bypass: e.can_admins_bypass,
      protection_rules: rules,
      deployment_branch_policy: e.deployment_branch_policy,
    };
  };
  const policyJson = (p: StoredBranchPolicy) => ({
    id: p.id,
    node_id: Buffer.from(`022:GateBranchPolicy${p.id}`).toString('base64'),
    name: p.name,
    type: p.type,
  });

  function findEnv(repo: string, name: string): StoredEnvironment | undefined {
    return state.environments.find((e) => e.repo === repo && e.name.toLowerCase() === name.toLowerCase());
  }
  function ensureEnv(repo: string, name: string): StoredEnvironment {
    let env = findEnv(repo, name);
    if (!env) {
      const t = now();
      env = {
        repo,
        id: id(),
        name,
        created_at: t,
        updated_at: t,
        wait_timer: 0,
        prevent_self_review: false,
        can_admins_bypass: true,
        reviewers: [],
        deployment_branch_policy: null,
        ruleIds: { wait_timer: id(), required_reviewers: id(), branch_policy: id() },
      };
      state.environments.push(env);
    }
    return env;
  }
  const byNewest = <T extends { id: number }>(a: T, b: T) => b.id - a.id;
  const latestStatus = (d: StoredDeployment) => state.statuses.filter((s) => s.deploymentId === d.id).sort(byNewest)[0];
  const login = (token: TokenSpec) => (token === 'all' ? 'github-actions[bot]' : (token.login ?? 'github-actions[bot]'));

  async function route(
    method: string,
    path: string,
    query: Record<string, string>,
    rawBody: unknown,
    token: TokenSpec,
    _tokenValue: string,
    contentType = '',
  ): Promise<Out> {
    const body = (rawBody ?? {}) as Record<string, any>;
    let m: RegExpExecArray | null;

    if ((m = /^\/users\/([^/]+)$/.exec(path)) && method === 'GET') {
      const u = state.users.find((x) => x.login.toLowerCase() === decodeURIComponent(m![1]!).toLowerCase());
      if (!u) throw NOT_FOUND();
      return { status: 200, body: { ...userJson(u.login), name: u.login, public_repos: 1, followers: 0, following: 0 } };
    }
    if ((m = /^\/orgs\/([^/]+)\/teams\/([^/]+)$/.exec(path)) && method === 'GET') {
      need(token, 'members', 'read');
      const [org, slug] = [decodeURIComponent(m[1]!).toLowerCase(), decodeURIComponent(m[2]!).toLowerCase()];
      const t = state.teams.find((x) => x.org.toLowerCase() === org && x.slug.toLowerCase() === slug);
      if (!t) throw NOT_FOUND();
      return { status: 200, body: { ...teamJson(t), members_count: 1, repos_count: 1 } };
    }

    if ((m = /^\/orgs\/([^/]+)$/.exec(path)) && method === 'GET') {
      const org = decodeURIComponent(m[1]!);
      const plan = Object.entries(opts.orgPlans ?? {}).find(([o]) => o.toLowerCase() === org.toLowerCase())?.[1];
      const owner = level(token, 'administration') !== 'none';
      return { status: 200, body: { login: org, id: 190000001, type: 'Organization', ...(owner && plan ? { plan: { name: plan, space: 976562499, private_repos: 999999 } } : {}) } };
    }
    if ((m = /^\/orgs\/([^/]+)\/actions\/oidc\/customization\/sub$/.exec(path)) && method === 'GET') {
      need(token, 'members', 'read', 'administration');
      const keys = Object.entries(opts.orgSubjectTemplates ?? {}).find(([o]) => o.toLowerCase() === decodeURIComponent(m![1]!).toLowerCase())?.[1];
      if (!keys) throw NOT_FOUND();
      return { status: 200, body: { include_claim_keys: keys } };
    }

    m = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path);
    if (!m) throw NOT_FOUND();
    const repo = repoOf(decodeURIComponent(m[1]!), decodeURIComponent(m[2]!));
    const rest = m[3] ?? '';
    const rpath = `/repos/${repo}${rest}`.split('?')[0]!;

    if (rest.startsWith('/releases')) {
      const ctx = {
        base,
        releases: state.releases,
        latest: latestRelease,
        immutable: opts.immutableReleases ?? false,
        id,
        now,
        needContents: (lvl: 'read' | 'write') => need(token, 'contents', lvl),
        error: (status: number, message: string, extra?: Record<string, unknown>) => new HttpError(status, message, extra),
      };
      const out = releasesRoute(ctx, repo, method, rest, query, rawBody, contentType);
      if (out) return out;
    }

    if (rest.startsWith('/pulls') || /^\/commits\/[^/]+\/pulls$/.test(rest)) {
      const ctx = {
        base,
        pulls: state.pulls,
        nextNumber: (r: string) => 1 + Math.max(0, ...state.pulls.filter((p) => p.repo === r).map((p) => p.number)),
        now,
        login: login(token),
        need: (lvl: 'read' | 'write') => need(token, 'pull-requests', lvl),
        error: (status: number, message: string, extra?: Record<string, unknown>) => new HttpError(status, message, extra),
      };
      const out = pullsRoute(ctx, repo, method, rest, query, body);
      if (out) return out;
    }
    if (rest.startsWith('/compare/')) {
      const out = await compareRoute(
        {
          base,
          gitRoot: (r) => state.gitRoots[r],
          loginOf: (email) => {
            const e = email.toLowerCase();
            const noreply = /^(?:\d+\+)?([^@]+)@users\.noreply\.github\.com$/.exec(e)?.[1];
            return state.users.find((u) => u.login.toLowerCase() === noreply || (u.emails ?? []).some((x) => x.toLowerCase() === e))?.login;
          },
          userJson,
          needContents: () => need(token, 'contents', 'read'),
          error: (status, message) => new HttpError(status, message),
        },
        repo,
        method,
        rest,
        query,
      );
      if (out) return out;
    }
    const setupOut = setupRoute(
      {
        info: (r) => Object.entries(opts.repositoryInfo ?? {}).find(([k]) => k.toLowerCase() === r)?.[1] ?? defaultRepositoryInfo(r),
        variables: state.variables,
        environment: (r, name) => findEnv(r, name)?.name,
        now,
        need: (perm, lvl) => (perm === 'metadata' ? undefined : need(token, perm, lvl, perm === 'environments' ? 'administration' : undefined)),
        error: (status, message, extra) => new HttpError(status, message, extra),
      },
      repo,
      method,
      rest,
      body,
    );
    if (setupOut) return setupOut;

    // --- Deployments
    if (rest === '/deployments' && method === 'GET') {
      need(token, 'deployments', 'read');
      const list = state.deployments
        .filter((d) => d.repo === repo)
        .filter((d) => !query.sha || d.sha === query.sha)
        .filter((d) => !query.ref || d.ref === query.ref)
        .filter((d) => !query.task || d.task === query.task)
        .filter((d) => !query.environment || d.environment === query.environment)
        .sort(byNewest);
      const p = page(list, query, rpath);
      return { status: 200, body: p.items.map(deploymentJson), headers: p.headers };
    }
    if (rest === '/deployments' && method === 'POST') {
      need(token, 'deployments', 'write');
      if (typeof body.ref !== 'string' || body.ref === '') throw validation('Deployment', 'ref', 'ref is required');
      const sha = /^[0-9a-f]{40}$/.test(body.ref) ? body.ref : state.branches[body.ref.replace(/^refs\/heads\//, '')];
      if (!sha) throw new HttpError(422, `No ref found for: ${body.ref}`);
      if (body.required_contexts !== undefined && !Array.isArray(body.required_contexts)) {
        throw validation('Deployment', 'required_contexts', 'required_contexts must be an array');
      }
      if (Array.isArray(body.required_contexts) && body.required_contexts.length > 0) {
        // The stand-in has no commit statuses: any required context is unmet, as GitHub answers.
        throw new HttpError(409, 'Conflict: Commit status checks failed for ' + body.ref, {
          errors: [{ contexts: [], resource: 'Deployment', field: 'required_contexts' }],
        });
      }
      const environment = typeof body.environment === 'string' && body.environment ? body.environment : 'production';
      const env = ensureEnv(repo, environment);
      const t = now();
      const d: StoredDeployment = {
        repo,
        id: id(),
        sha,
        ref: body.ref,
        task: typeof body.task === 'string' && body.task ? body.task : 'deploy',
        payload: body.payload ?? {},
        environment: env.name,
        original_environment: env.name,
        description: typeof body.description === 'string' ? body.description : null,
        creator: login(token),
        created_at: t,
        updated_at: t,
        transient_environment: body.transient_environment === true,
        production_environment:
          typeof body.production_environment === 'boolean' ? body.production_environment : env.name === 'production',
      };
      state.deployments.push(d);
      return { status: 201, body: deploymentJson(d) };
    }
    if ((m = /^\/deployments\/(\d+)$/.exec(rest)) && method === 'GET') {
      need(token, 'deployments', 'read');
      const d = state.deployments.find((x) => x.repo === repo && x.id === Number(m![1]));
      if (!d) throw NOT_FOUND();
      return { status: 200, body: deploymentJson(d) };
    }
    if ((m = /^\/deployments\/(\d+)\/statuses(?:\/(\d+))?$/.exec(rest))) {
      const d = state.deployments.find((x) => x.repo === repo && x.id === Number(m![1]));
      if (method === 'GET') {
        need(token, 'deployments', 'read');
        if (!d) throw NOT_FOUND();
        const list = state.statuses.filter((s) => s.deploymentId === d.id).sort(byNewest);
        if (m[2]) {
          const s = list.find((x) => x.id === Number(m![2]));
          if (!s) throw NOT_FOUND();
          return { status: 200, body: statusJson(s, d) };
        }
        const p = page(list, query, rpath);
        return { status: 200, body: p.items.map((s) => statusJson(s, d)), headers: p.headers };
      }
      if (method === 'POST' && !m[2]) {
        need(token, 'deployments', 'write');
        if (!d) throw NOT_FOUND();
        const states = ['error', 'failure', 'inactive', 'in_progress', 'queued', 'pending', 'success'];
        if (!states.includes(body.state)) throw validation('DeploymentStatus', 'state', `state is not included in the list`);
        if (typeof body.environment === 'string' && body.environment) d.environment = ensureEnv(repo, body.environment).name;
        const t = now();
        const s: StoredStatus = {
          id: id(),
          deploymentId: d.id,
          state: body.state,
          description: typeof body.description === 'string' ? body.description.slice(0, 140) : '',
          environment: d.environment,
          log_url: typeof body.log_url === 'string' ? body.log_url : typeof body.target_url === 'string' ? body.target_url : '',
          environment_url: typeof body.environment_url === 'string' ? body.environment_url : '',
          creator: login(token),
          created_at: t,
          updated_at: t,
        };
        state.statuses.push(s);
        d.updated_at = t;
        if (s.state === 'success' && body.auto_inactive !== false) {
          // GitHub (create a deployment status, auto_inactive, default true): "Adds a new inactive
          // status to all prior non-transient, non-production environment deployments with the same
          // repository and environment name as the created status's deployment. An inactive status
          // is only added to deployments that had a success state." "Prior" is taken in the widest
          // sense: every other deployment whose latest status is already success, whether it was
          // created before or after this one (an Actions job's deployment is created when the job
          // starts and succeeds when it ends, after anything recorded during the job).
          for (const other of state.deployments) {
            if (other === d || other.repo !== repo || other.environment !== d.environment) continue;
            if (other.transient_environment || other.production_environment) continue;
            if (latestStatus(other)?.state !== 'success') continue;
            const ti = now();
            state.statuses.push({
              ...s,
              id: id(),
              deploymentId: other.id,
              state: 'inactive',
              description: '',
              environment: other.environment,
              log_url: '',
              environment_url: '',
              created_at: ti,
              updated_at: ti,
            });
          }
        }
        return { status: 201, body: statusJson(s, d) };
      }
    }

    // --- Reviews of a run's deployments (GET /repos/{o}/{r}/actions/runs/{id}/approvals)
    if ((m = /^\/actions\/runs\/(\d+)\/approvals$/.exec(rest)) && method === 'GET') {
      need(token, 'actions', 'read');
      const runId = Number(m[1]);
      const body = state.approvals
        .filter((a) => a.repo === repo && a.runId === runId)
        .map((a) => ({
          environments: a.environments.map((name) => {
            const e = findEnv(repo, name);
            return e ? environmentJson(e) : { name };
          }),
          state: a.state,
          user: userJson(a.login),
          comment: a.comment,
        }));
      return { status: 200, body };
    }

    // --- Environments
    if (rest === '/environments' && method === 'GET') {
      need(token, 'actions', 'read', 'administration');
      const list = state.environments.filter((e) => e.repo === repo).sort((a, b) => a.name.localeCompare(b.name));
      const p = page(list, query, rpath);
      return { status: 200, body: { total_count: list.length, environments: p.items.map(environmentJson) }, headers: p.headers };
    }
    if ((m = /^\/environments\/([^/]+)$/.exec(rest))) {
      const name = decodeURIComponent(m[1]!);
      if (method === 'GET') {
        need(token, 'actions', 'read', 'administration');
        const e = findEnv(repo, name);
        if (!e) throw NOT_FOUND();
        return { status: 200, body: environmentJson(e) };
      }
      if (method === 'DELETE') {
        need(token, 'administration', 'write');
        const e = findEnv(repo, name);
        if (!e) throw NOT_FOUND();
        state.environments = state.environments.filter((x) => x !== e);
        state.branchPolicies = state.branchPolicies.filter((p) => !(p.repo === repo && p.environment === e.name));
        return { status: 204 };
      }
      if (method === 'PUT') {
        need(token, 'administration', 'write');
        const wait = body.wait_timer ?? 0;
        if (!Number.isInteger(wait) || wait < 0 || wait > 43200) {
          throw validation('Environment', 'wait_timer', 'wait_timer must be an integer between 0 and 43200');
        }
        const reviewers = (body.reviewers ?? []) as Array<{ type: string; id: number }>;
        if (!Array.isArray(reviewers) || reviewers.length > 6) {
          throw validation('Environment', 'reviewers', 'reviewers must be an array of at most 6 users or teams');
        }
        for (const r of reviewers) {
          const known =
            r?.type === 'User'
              ? state.users.some((u) => u.id === r.id)
              : r?.type === 'Team'
                ? state.teams.some((t) => t.id === r.id)
                : false;
          if (!known) throw validation('Environment', 'reviewers', `reviewer ${JSON.stringify(r)} is not a user or team with access to the repository`);
        }
        const policy = body.deployment_branch_policy ?? null;
        if (policy !== null) {
          if (typeof policy.protected_branches !== 'boolean' || typeof policy.custom_branch_policies !== 'boolean' || policy.protected_branches === policy.custom_branch_policies) {
            throw validation(
              'Environment',
              'deployment_branch_policy',
              'exactly one of protected_branches and custom_branch_policies must be true',
            );
          }
        }
        if (body.prevent_self_review !== undefined && typeof body.prevent_self_review !== 'boolean') {
          throw validation('Environment', 'prevent_self_review', 'prevent_self_review must be a boolean');
        }
        if (body.can_admins_bypass !== undefined && typeof body.can_admins_bypass !== 'boolean') {
          throw validation('Environment', 'can_admins_bypass', 'can_admins_bypass must be a boolean');
        }
        const e = ensureEnv(repo, name);
        e.can_admins_bypass = body.can_admins_bypass !== false;
        e.wait_timer = wait;
        e.reviewers = reviewers.map((r) => ({ type: r.type as 'User' | 'Team', id: r.id }));
        e.prevent_self_review = body.prevent_self_review === true;
        e.deployment_branch_policy = policy
          ? { protected_branches: policy.protected_branches, custom_branch_policies: policy.custom_branch_policies }
          : null;
        if (!e.deployment_branch_policy?.custom_branch_policies) {
          state.branchPolicies = state.branchPolicies.filter((p) => !(p.repo === repo && p.environment === e.name));
        }
        e.updated_at = now();
        return { status: 200, body: environmentJson(e) };
      }
    }
    if ((m = /^\/environments\/([^/]+)\/deployment-branch-policies(?:\/(\d+))?$/.exec(rest))) {
      const e = findEnv(repo, decodeURIComponent(m[1]!));
      const policyId = m[2] ? Number(m[2]) : undefined;
      const mine = () => state.branchPolicies.filter((p) => e && p.repo === repo && p.environment === e.name);
      if (method === 'GET') need(token, 'actions', 'read', 'administration');
      else need(token, 'administration', 'write');
      if (!e) throw NOT_FOUND();
      if (policyId === undefined && method === 'GET') {
        const list = mine().sort((a, b) => a.id - b.id);
        const p = page(list, query, rpath);
        return { status: 200, body: { total_count: list.length, branch_policies: p.items.map(policyJson) }, headers: p.headers };
      }
      if (policyId === undefined && method === 'POST') {
        if (!e.deployment_branch_policy?.custom_branch_policies) throw NOT_FOUND();
        if (typeof body.name !== 'string' || body.name === '') throw validation('DeploymentBranchPolicy', 'name', 'name is required');
        const type = body.type === 'tag' ? 'tag' : 'branch';
        const dup = mine().find((p) => p.name === body.name && p.type === type);
        if (dup) return { status: 303, headers: { location: `${base}${rpath}/${dup.id}` } };
        const p: StoredBranchPolicy = { repo, environment: e.name, id: id(), name: body.name, type };
        state.branchPolicies.push(p);
        return { status: 200, body: policyJson(p) };
      }
      const p = mine().find((x) => x.id === policyId);
      if (!p) throw NOT_FOUND();
      if (method === 'GET') return { status: 200, body: policyJson(p) };
      if (method === 'PUT') {
        if (typeof body.name !== 'string' || body.name === '') throw validation('DeploymentBranchPolicy', 'name', 'name is required');
        p.name = body.name;
        return { status: 200, body: policyJson(p) };
      }
      if (method === 'DELETE') {
        state.branchPolicies = state.branchPolicies.filter((x) => x !== p);
        return { status: 204 };
      }
    }
    throw NOT_FOUND();
  }

  async function actionsJob(o: { environment: string; sha: string; repository?: string; runUrl?: string }): Promise<ActionsJobDeployment> {
    const [owner, name] = (o.repository ?? 'acme/sample-service').split('/');
    const prefix = `/repos/${owner}/${name}`;
    const created = await route('POST', `${prefix}/deployments`, {}, { ref: o.sha, environment: o.environment, required_contexts: [] }, 'all', '');
    const deploymentId = (created.body as { id: number }).id;
    const statuses = `${prefix}/deployments/${deploymentId}/statuses`;
    const logUrl = o.runUrl ?? `https://github.com/${owner}/${name}/actions/runs/1000`;
    await route('POST', statuses, {}, { state: 'in_progress', log_url: logUrl }, 'all', '');
    return {
      deploymentId,
      finish: async (st = 'success') => void (await route('POST', statuses, {}, { state: st, log_url: logUrl }, 'all', '')),
    };
  }

  function mintToken(permissions: Record<string, string>): string {
    const granted: Permissions = {};
    for (const [scope, lvl] of Object.entries(permissions)) {
      if (!(JOB_TOKEN_SCOPES as readonly string[]).includes(scope)) throw new Error(`mintToken: '${scope}' is not a GITHUB_TOKEN permission`);
      const allowed = scope === 'id-token' ? ['none', 'write'] : ['none', 'read', 'write'];
      if (!allowed.includes(lvl)) throw new Error(`mintToken: ${scope} must be one of ${allowed.join(', ')} (got '${lvl}')`);
      granted[scope as JobTokenScope] = lvl as Level;
    }
    const token = `ghs_${randomBytes(18).toString('base64url')}`;
    state.tokens[token] = { permissions: granted, login: 'github-actions[bot]' };
    return token;
  }

  return {
    url: base,
    state,
    actionsJob,
    mintToken,
    revokeToken: (token) => void delete state.tokens[token],
    fault: (f) => void state.faults.push({ times: 1, ...f }),
    rateLimitNext: (method, path) =>
      void state.faults.push({
        method,
        path,
        times: 1,
        status: 403,
        body: {
          message:
            'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID STANDIN.',
          documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
        },
        headers: { 'retry-after': '1', 'x-ratelimit-remaining': '4000' },
      }),
    stop: () => closeServer(server),
  };
}
