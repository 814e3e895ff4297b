/**
 * What the GitHub stand-in knows of a repository beyond its name, and the routes that expose it:
 *   - `GET /repos/{owner}/{repo}`: `id`, `owner.id`, `created_at`, `full_name`, `private`,
 *     `visibility` (what a set-up tool reads to write a trust policy for the repository);
 *   - `GET|PUT /repos/{owner}/{repo}/actions/oidc/customization/sub` (`{use_default,
 *     include_claim_keys?}`; PUT needs actions: write) and `GET|PUT
 *     /orgs/{org}/actions/oidc/customization/sub` (`{include_claim_keys}`), GitHub's OIDC
 *     subject customization (docs: REST "GitHub Actions OIDC").
 * `subjectFormat` is the GitHub side of it: which `sub` the OIDC token service issues for the
 * repository. Immutable subject claims (ids in `sub`) apply to repositories created on or after
 * 2026-07-15 (OIDC reference, "Immutable subject claims"; changelog 2026-04-23); renames,
 * transfers and admin opt-ins are not modelled. A repository whose customization has
 * `use_default: false` and `include_claim_keys` uses those keys; `use_default: false` without
 * keys falls back to the organization's template when it has one; otherwise GitHub's default.
 */
export interface RepositorySpec {
  /** owner/name */
  name: string;
  id?: number;
  ownerId?: number;
  /** ISO date; default 2026-09-01 (after immutable subjects became the default). */
  createdAt?: string;
  visibility?: 'public' | 'private' | 'internal';
  /** The repository's subject customization (PUT .../actions/oidc/customization/sub). */
  subject?: { useDefault: boolean; includeClaimKeys?: string[] };
}

export interface RepositoryFacts {
  fullName: string;
  id: number;
  ownerId: number;
  createdAt: string;
  visibility: 'public' | 'private' | 'internal';
  subject: { useDefault: boolean; includeClaimKeys?: string[] };
}

/** The first day GitHub issues immutable subjects by default (for repositories created from then on). */
export const IMMUTABLE_SUBJECTS_FROM = '2026-07-15T00:00:00Z';
const DEFAULT_CREATED_AT = '2026-09-01T00:00:00Z';

/** The `sub` GitHub issues for a repository: its default format, or the claim keys of a custom template. */
export type SubjectFormat = { kind: 'default'; immutable: boolean } | { kind: 'custom'; immutable: boolean; includeClaimKeys: readonly string[] };

export class RepositoryDirectory {
  readonly facts = new Map<string, RepositoryFacts>();
  /** Organization subject templates (owner, lower case -> claim keys). */
  readonly orgSubjects = new Map<string, string[]>();
  private readonly ownerIds = new Map<string, number>();
  private nextRepoId = 1041000000;
  private nextOwnerId = 190000000;

  constructor(specs: Array<string | RepositorySpec>) {
    for (const spec of specs) this.add(typeof spec === 'string' ? { name: spec } : spec);
  }

  add(spec: RepositorySpec): RepositoryFacts {
    const fullName = spec.name.toLowerCase();
    const owner = fullName.split('/')[0]!;
    const ownerId = spec.ownerId ?? this.ownerIds.get(owner) ?? ++this.nextOwnerId;
    this.ownerIds.set(owner, ownerId);
    const id = spec.id ?? ++this.nextRepoId;
    this.nextRepoId = Math.max(this.nextRepoId, id);
    const facts: RepositoryFacts = {
      fullName: spec.name,
      id,
      ownerId,
      createdAt: spec.createdAt ?? DEFAULT_CREATED_AT,
      visibility: spec.visibility ?? 'private',
      subject: spec.subject ?? { useDefault: true },
    };
    this.facts.set(fullName, facts);
    return facts;
  }

  get(fullName: string): RepositoryFacts | undefined {
    return this.facts.get(fullName.toLowerCase());
  }

  subjectFormat(fullName: string): SubjectFormat {
    const f = this.get(fullName);
    const immutable = f !== undefined && Date.parse(f.createdAt) >= Date.parse(IMMUTABLE_SUBJECTS_FROM);
    if (!f || f.subject.useDefault) return { kind: 'default', immutable };
    const keys = f.subject.includeClaimKeys ?? this.orgSubjects.get(fullName.split('/')[0]!.toLowerCase());
    return keys?.length ? { kind: 'custom', immutable, includeClaimKeys: keys } : { kind: 'default', immutable };
  }
}

export interface RepositoriesContext {
  directory: RepositoryDirectory;
  base: string;
  /** Throws GitHub's 403 unless the token has `scope` at `level` (actions for a repository's template, administration for an organization's). */
  need(scope: 'actions' | 'administration', level: 'read' | 'write'): void;
  error(status: number, message: string, extra?: Record<string, unknown>): Error;
}

const CLAIM_KEY = /^[A-Za-z0-9_]+$/;

function claimKeys(ctx: RepositoriesContext, body: Record<string, unknown>, required: boolean): string[] | undefined {
  const keys = body.include_claim_keys;
  if (keys === undefined && !required) return undefined;
  if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'string' || !CLAIM_KEY.test(k)) || new Set(keys).size !== keys.length) {
    throw ctx.error(422, 'Invalid request.\n\n"include_claim_keys" must be an array of unique strings of alphanumeric characters and underscores.');
  }
  return keys as string[];
}

/** `GET /repos/{o}/{r}` and the repository's subject customization; undefined for other paths. */
export function repositoryRoute(ctx: RepositoriesContext, repo: string, method: string, rest: string, body: Record<string, unknown>): { status: number; body?: unknown } | undefined {
  const f = ctx.directory.get(repo);
  if (!f) return undefined;
  if (rest === '' && method === 'GET') {
    const [owner, name] = f.fullName.split('/');
    return {
      status: 200,
      body: {
        id: f.id,
        node_id: Buffer.from(`010:Repository${f.id}`).toString('base64'),
        name,
        full_name: f.fullName,
        owner: { login: owner, id: f.ownerId, type: 'Organization' },
        private: f.visibility !== 'public',
        visibility: f.visibility,
        created_at: f.createdAt,
        url: `${ctx.base}/repos/${f.fullName}`,
      },
    };
  }
  if (rest !== '/actions/oidc/customization/sub') return undefined;
  if (method === 'GET') {
    ctx.need('actions', 'read');
    return { status: 200, body: { use_default: f.subject.useDefault, ...(f.subject.includeClaimKeys ? { include_claim_keys: f.subject.includeClaimKeys } : {}) } };
  }
  if (method === 'PUT') {
    ctx.need('actions', 'write');
    if (typeof body.use_default !== 'boolean') throw ctx.error(422, 'Invalid request.\n\n"use_default" is required and must be a boolean.');
    const keys = body.use_default ? undefined : claimKeys(ctx, body, false);
    f.subject = { useDefault: body.use_default, ...(keys ? { includeClaimKeys: keys } : {}) };
    return { status: 201, body: {} };
  }
  return undefined;
}

/** `GET|PUT /orgs/{org}/actions/oidc/customization/sub`; undefined for other paths. */
export function organizationSubjectRoute(ctx: RepositoriesContext, path: string, method: string, body: Record<string, unknown>): { status: number; body?: unknown } | undefined {
  const m = /^\/orgs\/([^/]+)\/actions\/oidc\/customization\/sub$/.exec(path);
  if (!m) return undefined;
  const org = decodeURIComponent(m[1]!).toLowerCase();
  if (method === 'GET') return { status: 200, body: { include_claim_keys: ctx.directory.orgSubjects.get(org) ?? [] } };
  if (method === 'PUT') {
    ctx.need('administration', 'write');
    ctx.directory.orgSubjects.set(org, claimKeys(ctx, body, true)!);
    return { status: 201, body: {} };
  }
  return undefined;
}
