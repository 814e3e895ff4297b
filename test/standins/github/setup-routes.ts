/**
 * What deploy-setup reads and writes beyond environments, in GitHub's shapes: the repository
 * (`GET /repos/{o}/{r}`: id, owner id, created_at), its OIDC subject customization
 * (`GET /repos/{o}/{r}/actions/oidc/customization/sub`, and the organization's), and Actions
 * variables of the repository and of its environments (GET one, POST create, PATCH update,
 * DELETE; names are upper-cased as GitHub stores them; 409 when creating one that exists).
 */
export interface RepositoryInfo {
  id: number;
  ownerId: number;
  createdAt: string;
  /** A private repository (default public). */
  private?: boolean;
  /** The repository's subject customization; default `{ use_default: true }`. */
  subject?: { use_default: boolean; include_claim_keys?: string[] };
}

export interface StoredVariable {
  repo: string;
  /** Lower-cased environment name; undefined for a repository variable. */
  environment?: string;
  name: string;
  value: string;
  createdAt: string;
  updatedAt: string;
}

export interface SetupRoutesContext {
  info(repo: string): RepositoryInfo;
  variables: StoredVariable[];
  /** The environment's canonical name, or undefined when the repository has none of that name. */
  environment(repo: string, name: string): string | undefined;
  now(): string;
  need(perm: 'actions' | 'variables' | 'environments' | 'metadata', level: 'read' | 'write'): void;
  error(status: number, message: string, extra?: Record<string, unknown>): Error;
}

/** The example's repository (workflows/aws/stacks.json): created after 2026-07-15, so immutable subjects. */
export const SAMPLE_REPOSITORY_INFO: RepositoryInfo = { id: 1041000001, ownerId: 190000001, createdAt: '2026-09-01T09:00:00Z' };

/** Stable ids for other repositories, created before immutable subjects (2024). */
export function defaultRepositoryInfo(repo: string): RepositoryInfo {
  if (repo === 'acme/sample-service') return SAMPLE_REPOSITORY_INFO;
  let h = 7;
  for (const c of repo) h = (h * 31 + c.charCodeAt(0)) % 900_000_000;
  return { id: 100_000_000 + h, ownerId: 190000001, createdAt: '2024-03-01T09:00:00Z' };
}

export function setupRoute(
  ctx: SetupRoutesContext,
  repo: string,
  method: string,
  rest: string,
  body: Record<string, unknown>,
): { status: number; body?: unknown } | undefined {
  const [owner, name] = repo.split('/') as [string, string];
  if (rest === '' && method === 'GET') {
    ctx.need('metadata', 'read');
    const i = ctx.info(repo);
    return {
      status: 200,
      body: { id: i.id, node_id: `R_${i.id}`, name, full_name: repo, private: i.private === true, visibility: i.private ? 'private' : 'public', owner: { login: owner, id: i.ownerId, type: 'Organization' }, created_at: i.createdAt, default_branch: 'main' },
    };
  }
  if (rest === '/actions/oidc/customization/sub' && method === 'GET') {
    ctx.need('actions', 'read');
    return { status: 200, body: ctx.info(repo).subject ?? { use_default: true } };
  }
  const m = /^(?:\/environments\/([^/]+))?\/(?:actions\/)?variables(?:\/([^/]+))?$/.exec(rest);
  if (!m) return undefined;
  const envPath = m[1] !== undefined;
  // Repository variables live under /actions/variables, environment variables under /environments/{e}/variables.
  if (envPath === rest.includes('/actions/')) return undefined;
  let environment: string | undefined;
  if (envPath) {
    ctx.need('environments', method === 'GET' ? 'read' : 'write');
    environment = ctx.environment(repo, decodeURIComponent(m[1]!))?.toLowerCase();
    if (!environment) throw ctx.error(404, 'Not Found');
  } else ctx.need('variables', method === 'GET' ? 'read' : 'write');
  const mine = (v: StoredVariable) => v.repo === repo && v.environment === environment;
  const json = (v: StoredVariable) => ({ name: v.name, value: v.value, created_at: v.createdAt, updated_at: v.updatedAt });
  const varName = m[2] ? decodeURIComponent(m[2]).toUpperCase() : undefined;
  if (!varName && method === 'GET') {
    const list = ctx.variables.filter(mine);
    return { status: 200, body: { total_count: list.length, variables: list.map(json) } };
  }
  if (!varName && method === 'POST') {
    const n = typeof body.name === 'string' ? body.name.toUpperCase() : '';
    if (!/^[A-Z_][A-Z0-9_]*$/.test(n) || n.startsWith('GITHUB_')) throw ctx.error(422, 'Validation Failed', { errors: [{ resource: 'Variable', field: 'name', code: 'invalid' }] });
    if (typeof body.value !== 'string') throw ctx.error(422, 'Validation Failed', { errors: [{ resource: 'Variable', field: 'value', code: 'missing_field' }] });
    if (ctx.variables.some((v) => mine(v) && v.name === n)) throw ctx.error(409, 'Already exists - Variable already exists');
    const t = ctx.now();
    ctx.variables.push({ repo, environment, name: n, value: body.value, createdAt: t, updatedAt: t });
    return { status: 201, body: {} };
  }
  const v = ctx.variables.find((x) => mine(x) && x.name === varName);
  if (!v) throw ctx.error(404, 'Not Found');
  if (method === 'GET') return { status: 200, body: json(v) };
  if (method === 'PATCH') {
    if (typeof body.value === 'string') v.value = body.value;
    if (typeof body.name === 'string') v.name = body.name.toUpperCase();
    v.updatedAt = ctx.now();
    return { status: 204 };
  }
  if (method === 'DELETE') {
    ctx.variables.splice(ctx.variables.indexOf(v), 1);
    return { status: 204 };
  }
  return undefined;
}
