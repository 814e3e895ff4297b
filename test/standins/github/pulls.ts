/**
 * Pull-request endpoints of the GitHub stand-in, the part a bot that proposes a change uses:
 * list (state, head `owner:branch`, base), create, update title/body. Permissions as GitHub
 * checks them for a GITHUB_TOKEN: pull-requests read to list, write to create or update.
 * Merges are state set by the test (`merged`: when, and the commits the merge put on the base
 * branch: the merge commit and the pull request's commits, the squash commit, or the rebased
 * commits), answered by "list pull requests associated with a commit"
 * (`GET /repos/{o}/{r}/commits/{sha}/pulls`): the merged pull request that introduced the commit.
 * Not modelled: that `head` exists in the repository (GitHub answers 422), the merge button itself,
 * reviews, drafts, open pull requests of a commit not on the default branch, and that a pull
 * request opened with a GITHUB_TOKEN starts no workflow run.
 */
export interface StoredPull {
  repo: string;
  number: number;
  head: string;
  base: string;
  title: string;
  body: string;
  state: 'open' | 'closed';
  user: string;
  createdAt: string;
  updatedAt: string;
  /** A merged pull request: when, and the full SHAs the merge put on the base branch. */
  merged?: { at: string; commits: string[] };
}

export interface PullsContext {
  base: string;
  pulls: StoredPull[];
  /** The next pull request number of the repository (shared with issues on GitHub; one counter here). */
  nextNumber(repo: string): number;
  now(): string;
  login: string;
  need(level: 'read' | 'write'): void;
  error(status: number, message: string, extra?: Record<string, unknown>): Error;
}

export function pullsRoute(ctx: PullsContext, repo: string, method: string, rest: string, query: Record<string, string>, body: Record<string, unknown>): { status: number; body: unknown } | undefined {
  const owner = repo.split('/')[0]!;
  const json = (p: StoredPull) => ({
    number: p.number,
    url: `${ctx.base}/repos/${repo}/pulls/${p.number}`,
    html_url: `https://github.com/${repo}/pull/${p.number}`,
    state: p.state,
    merged_at: p.merged?.at ?? null,
    title: p.title,
    body: p.body,
    user: { login: p.user },
    head: { ref: p.head, label: `${owner}:${p.head}` },
    base: { ref: p.base, label: `${owner}:${p.base}` },
    created_at: p.createdAt,
    updated_at: p.updatedAt,
  });
  const text = (name: string, required: boolean): string | undefined => {
    const v = body[name];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'string' || (required && v === '')) throw ctx.error(422, 'Validation Failed', { errors: [{ resource: 'PullRequest', field: name, code: 'missing_field' }] });
    return v;
  };
  if (rest === '/pulls' && method === 'GET') {
    ctx.need('read');
    const state = query.state ?? 'open';
    const head = query.head?.includes(':') ? query.head.split(':')[1] : query.head;
    const list = ctx.pulls
      .filter((p) => p.repo === repo && (state === 'all' || p.state === state))
      .filter((p) => !head || p.head === head)
      .filter((p) => !query.base || p.base === query.base)
      .sort((a, b) => b.number - a.number);
    return { status: 200, body: list.map(json) };
  }
  if (rest === '/pulls' && method === 'POST') {
    ctx.need('write');
    const head = text('head', true)!.replace(new RegExp(`^${owner}:`), '');
    const base = text('base', true)!;
    const title = text('title', true)!;
    if (ctx.pulls.some((p) => p.repo === repo && p.state === 'open' && p.head === head && p.base === base)) {
      throw ctx.error(422, 'Validation Failed', { errors: [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${owner}:${head}.` }] });
    }
    const t = ctx.now();
    const p: StoredPull = { repo, number: ctx.nextNumber(repo), head, base, title, body: text('body', false) ?? '', state: 'open', user: ctx.login, createdAt: t, updatedAt: t };
    ctx.pulls.push(p);
    return { status: 201, body: json(p) };
  }
  const c = /^\/commits\/([^/]+)\/pulls$/.exec(rest);
  if (c && method === 'GET') {
    ctx.need('read');
    const sha = c[1]!.toLowerCase();
    return { status: 200, body: ctx.pulls.filter((p) => p.repo === repo && p.merged?.commits.includes(sha)).map(json) };
  }
  const m = /^\/pulls\/(\d+)$/.exec(rest);
  if (m && (method === 'GET' || method === 'PATCH')) {
    ctx.need(method === 'GET' ? 'read' : 'write');
    const p = ctx.pulls.find((x) => x.repo === repo && x.number === Number(m[1]));
    if (!p) throw ctx.error(404, 'Not Found');
    if (method === 'PATCH') {
      p.title = text('title', false) ?? p.title;
      p.body = text('body', false) ?? p.body;
      p.updatedAt = ctx.now();
    }
    return { status: 200, body: json(p) };
  }
  return undefined;
}
