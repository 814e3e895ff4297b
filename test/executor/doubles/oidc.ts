/**
 * GitHub Actions' OIDC token service as a job meets it. A job granted `id-token: write` gets
 * ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN in its environment
 * (`jobEnv`); `GET <url>&audience=<aud>` with `Authorization: Bearer <token>` answers
 * `{"value": "<JWT>"}`, an RS256 JWT carrying the claims GitHub issues for that job
 * (`jobClaims`), signed with a key generated at start. `POST /jobs` with `{github, job}` answers
 * the same variables over HTTP, for a runner that only knows the service's URL. The token's `iss` is GitHub's
 * (https://token.actions.githubusercontent.com), so trust policies keep their real condition
 * keys; relying parties fetch the discovery document and JWKS from this server's `url`
 * (`/.well-known/openid-configuration`, `/.well-known/jwks`), as they would from GitHub's.
 *
 * Claims and subject formats: https://docs.github.com/en/actions/reference/security/oidc. The
 * `sub` follows the repository's format, which the service reads from the GitHub API as GitHub
 * knows it (`subjectsFromGithub`: the repository's `created_at` and ids, its subject
 * customization, then its organization's):
 * `repo:OWNER@OWNER_ID/REPO@REPO_ID:<context>` for a repository with immutable subject claims
 * (created on or after 2026-07-15), `repo:OWNER/REPO:<context>` before, and a custom template's
 * `key:value` pairs joined by `:` when the repository (or its organization) has one; `<context>`
 * is `environment:NAME`, `pull_request` or `ref:REF`. `job_workflow_ref` is the reusable
 * workflow the job runs in (the called workflow's path@ref, not the caller's).
 * jose signs (a maintained JOSE implementation; nothing here is hand-rolled cryptography).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { closeServer, listenLocal } from '../../harness/net';
import type { ActionDoubleContext } from './types';

export const GITHUB_OIDC_ISSUER = 'https://token.actions.githubusercontent.com';

export interface JobIdentity {
  github: Record<string, unknown>;
  job: Pick<ActionDoubleContext['job'], 'environment' | 'workflowRef' | 'permissions'>;
}

const str = (v: unknown): string | undefined => (v === undefined || v === null || v === '' ? undefined : String(v));

/** The `sub` GitHub issues for a repository: its default format, or the claim keys of a custom template. */
export type SubjectFormat = { kind: 'default'; immutable: boolean } | { kind: 'custom'; immutable: boolean; includeClaimKeys: readonly string[] };

/** The first day GitHub issues immutable subjects by default (repositories created from then on; renames, transfers and opt-ins are not modelled). */
export const IMMUTABLE_SUBJECTS_FROM = '2026-07-15T00:00:00Z';

/**
 * A repository's subject format from GitHub's answers: immutable when created on/after
 * 2026-07-15; `use_default: false` with `include_claim_keys` is the repository's template,
 * without them the organization's when it has one.
 */
export function subjectFormatOf(
  repository: { created_at: string },
  customization: { use_default: boolean; include_claim_keys?: string[] } | undefined,
  organization: { include_claim_keys?: string[] } | undefined,
): SubjectFormat {
  const immutable = Date.parse(repository.created_at) >= Date.parse(IMMUTABLE_SUBJECTS_FROM);
  if (!customization || customization.use_default) return { kind: 'default', immutable };
  const keys = customization.include_claim_keys?.length ? customization.include_claim_keys : organization?.include_claim_keys;
  return keys?.length ? { kind: 'custom', immutable, includeClaimKeys: keys } : { kind: 'default', immutable };
}

/** Reads a repository's subject format from the GitHub API at `url` (GET the repository, its customization, its organization's). */
export function subjectsFromGithub(url: string, token: string): (repository: string) => Promise<SubjectFormat> {
  const get = async <T>(path: string): Promise<T | undefined> => {
    const res = await fetch(`${url}${path}`, { headers: { authorization: `token ${token}`, accept: 'application/vnd.github+json' }, signal: AbortSignal.timeout(10_000) });
    if (res.status === 404) return undefined;
    if (!res.ok) throw new Error(`OIDC double: GET ${path} answered ${res.status}`);
    return (await res.json()) as T;
  };
  return async (repository) => {
    const repo = await get<{ created_at: string }>(`/repos/${repository}`);
    if (!repo) throw new Error(`OIDC double: repository ${repository} is not known to the GitHub API at ${url}`);
    const customization = await get<{ use_default: boolean; include_claim_keys?: string[] }>(`/repos/${repository}/actions/oidc/customization/sub`);
    const organization = customization && !customization.use_default ? await get<{ include_claim_keys?: string[] }>(`/orgs/${repository.split('/')[0]}/actions/oidc/customization/sub`) : undefined;
    return subjectFormatOf(repo, customization, organization);
  };
}

/** GitHub's default subject format, for a repository created before immutable subject claims. */
const NAME_ONLY: SubjectFormat = { kind: 'default', immutable: false };

/** The job's context part of `sub`: its environment when it has one, else the pull request or the ref. */
function subjectContext(github: Record<string, unknown>, environment?: string): string {
  if (environment) return `environment:${environment}`;
  const event = String(github.event_name ?? '');
  if (event === 'pull_request' || event === 'pull_request_target') return 'pull_request';
  return `ref:${String(github.ref ?? '')}`;
}

/** The repository part of `sub`: owner/name, with `@id` after each name under immutable subject claims. */
function subjectRepository(github: Record<string, unknown>, immutable: boolean): string {
  const repo = String(github.repository ?? '');
  if (!immutable) return repo;
  const [owner, name] = repo.split('/');
  return `${owner}@${String(github.repository_owner_id ?? '')}/${name}@${String(github.repository_id ?? '')}`;
}

/** The job's `sub` in the repository's format (default: name-only, as for a repository created before 2026-07-15). */
export function subjectFor(github: Record<string, unknown>, environment?: string, format: SubjectFormat = NAME_ONLY, claims: Record<string, string | undefined> = {}): string {
  const repo = `repo:${subjectRepository(github, format.immutable)}`;
  const context = subjectContext(github, environment);
  if (format.kind === 'default') return `${repo}:${context}`;
  return format.includeClaimKeys.map((key) => (key === 'repo' ? repo : key === 'context' ? context : `${key}:${claims[key] ?? ''}`)).join(':');
}

/** The custom claims GitHub puts in a job's token (registered claims are added at signing). */
export function jobClaims({ github, job }: JobIdentity, format: SubjectFormat = NAME_ONLY): Record<string, string> {
  const event = (github.event ?? {}) as { repository?: { visibility?: string } };
  const claims: Record<string, string | undefined> = {
    sub: undefined,
    actor: str(github.actor),
    actor_id: str(github.actor_id),
    base_ref: str(github.base_ref) ?? '',
    environment: job.environment,
    event_name: str(github.event_name),
    head_ref: str(github.head_ref) ?? '',
    job_workflow_ref: job.workflowRef,
    ref: str(github.ref),
    ref_protected: str(github.ref_protected) ?? 'false',
    ref_type: str(github.ref_type),
    repository: str(github.repository),
    repository_id: str(github.repository_id),
    repository_owner: str(github.repository_owner) ?? str(github.repository)?.split('/')[0],
    repository_owner_id: str(github.repository_owner_id),
    repository_visibility: str(event.repository?.visibility) ?? 'private',
    run_attempt: str(github.run_attempt) ?? '1',
    run_id: str(github.run_id),
    run_number: str(github.run_number),
    runner_environment: 'github-hosted',
    sha: str(github.sha),
    workflow: str(github.workflow),
    workflow_ref: str(github.workflow_ref),
    workflow_sha: str(github.workflow_sha),
  };
  claims.sub = subjectFor(github, job.environment, format, claims);
  return Object.fromEntries(Object.entries(claims).filter((e): e is [string, string] => e[1] !== undefined));
}

export interface IssuedToken {
  audience: string;
  claims: Record<string, string>;
  jwt: string;
}

export interface OidcTokenService {
  /** Where the discovery document and JWKS are served. */
  url: string;
  issuer: string;
  /** The variables GitHub gives a job: empty without `id-token: write`. */
  jobEnv(identity: JobIdentity): Record<string, string>;
  /** Signs a token with arbitrary claims (for tests of the relying party). */
  sign(claims: Record<string, unknown>, opts?: { audience?: string; expiresInSeconds?: number; issuer?: string }): Promise<string>;
  issued: IssuedToken[];
  stop(): Promise<void>;
}

/** Lifetime of a job token (GitHub does not document it; its tokens are short-lived). */
const TOKEN_LIFETIME_S = 5 * 60;

export async function startOidcTokenService(
  opts: {
    issuer?: string;
    port?: number;
    /** The subject format of a repository (owner/name), e.g. `subjectsFromGithub(github.url, token)`. Default: name-only. */
    subjects?: (repository: string) => Promise<SubjectFormat>;
  } = {},
): Promise<OidcTokenService> {
  const issuer = opts.issuer ?? GITHUB_OIDC_ISSUER;
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomBytes(8).toString('hex');
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const jobs = new Map<string, JobIdentity>();
  const issued: IssuedToken[] = [];

  const signWithKey: OidcTokenService['sign'] = async (claims, o = {}) => {
    const now = Math.floor(Date.now() / 1000);
    let jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT', x5t: kid })
      .setIssuer(o.issuer ?? issuer)
      .setIssuedAt(now)
      .setNotBefore(now - 5)
      .setExpirationTime(now + (o.expiresInSeconds ?? TOKEN_LIFETIME_S))
      .setJti(randomUUID());
    if (o.audience) jwt = jwt.setAudience(o.audience);
    return jwt.sign(privateKey);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && url.pathname === '/.well-known/openid-configuration') {
      return json(200, {
        issuer,
        jwks_uri: `${base}/.well-known/jwks`,
        subject_types_supported: ['public', 'pairwise'],
        response_types_supported: ['id_token'],
        claims_supported: ['sub', 'aud', 'exp', 'iat', 'iss', 'jti', 'nbf', ...Object.keys(jobClaims({ github: {}, job: { workflowRef: '', permissions: {}, environment: 'x' } }))],
        id_token_signing_alg_values_supported: ['RS256'],
        scopes_supported: ['openid'],
      });
    }
    if (req.method === 'GET' && url.pathname === '/.well-known/jwks') return json(200, { keys: [jwk] });
    if (req.method === 'POST' && url.pathname === '/jobs') {
      // What the Actions service does when a job starts: the job's token variables (jobEnv).
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => json(200, jobEnv(JSON.parse(Buffer.concat(chunks).toString('utf8')) as JobIdentity)));
      return;
    }
    if (req.method === 'GET' && url.pathname === '/idtoken') {
      const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
      const identity = bearer ? jobs.get(bearer) : undefined;
      if (!identity) return json(401, { message: 'Unauthorized: the job token is not valid' });
      const repository = String(identity.github.repository ?? '');
      void (opts.subjects?.(repository) ?? Promise.resolve(NAME_ONLY))
        .then(async (format) => {
          const claims = jobClaims(identity, format);
          const audience = url.searchParams.get('audience') || `https://github.com/${claims.repository_owner ?? ''}`;
          const jwt = await signWithKey(claims, { audience });
          issued.push({ audience, claims, jwt });
          json(200, { count: 1, value: jwt });
        })
        .catch((err: Error) => json(500, { message: err.message }));
      return;
    }
    json(404, { message: 'Not Found' });
  });
  const base = `http://127.0.0.1:${await listenLocal(server, opts.port)}`;

  function jobEnv(identity: JobIdentity): Record<string, string> {
    if (identity.job.permissions['id-token'] !== 'write') return {};
    const token = randomBytes(24).toString('hex');
    jobs.set(token, identity);
    return { ACTIONS_ID_TOKEN_REQUEST_URL: `${base}/idtoken?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: token };
  }

  return {
    url: base,
    issuer,
    issued,
    jobEnv,
    sign: signWithKey,
    stop: () => closeServer(server),
  };
}
