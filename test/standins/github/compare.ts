/**
 * "Compare two commits" of the GitHub stand-in (`GET /repos/{owner}/{repo}/compare/{base}...{head}`),
 * answered from a real git repository of the service (the executor's checkout source), as GitHub
 * documents it (docs.github.com/rest/commits/commits#compare-two-commits):
 *   - base and head are commit SHAs or branch names; `status` ahead | behind | diverged | identical,
 *     `ahead_by`/`behind_by` counted from their merge base, `total_commits` = ahead_by;
 *   - `commits` are `git log base..head` in chronological order (oldest first); without `page` or
 *     `per_page` at most 250, the last one being the most recent of the whole comparison; with
 *     either, pages of `per_page` (default 30, at most 100) with a `Link` header;
 *   - each commit's `author`/`committer` is the GitHub account the git e-mail belongs to, or null;
 *   - `files` (first page only): the files changed from the merge base to head;
 *   - 404 when a side does not resolve or the two have no common ancestor.
 * Contents: read is required (a job token without it gets 403).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CompareContext {
  base: string;
  /** The git directory (work tree) of the repository, when the stand-in serves one. */
  gitRoot(repo: string): string | undefined;
  /** The GitHub login of a commit e-mail (users' noreply addresses and known e-mails), if any. */
  loginOf(email: string): string | undefined;
  userJson(login: string): Record<string, unknown>;
  needContents(): void;
  error(status: number, message: string): Error;
}

interface GitCommit {
  sha: string;
  parents: string[];
  author: { name: string; email: string; date: string };
  committer: { name: string; email: string; date: string };
  tree: string;
  message: string;
}

const FIELD = '%x00';
const FORMAT = ['%H', '%P', '%an', '%ae', '%aI', '%cn', '%ce', '%cI', '%T', '%B'].join(FIELD) + '%x1e';

async function git(root: string, args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd: root, maxBuffer: 64 * 1024 * 1024, timeout: 30_000 });
  return stdout;
}

async function resolve(root: string, ref: string): Promise<string | undefined> {
  if (!/^[\w./-]+$/.test(ref) || ref.startsWith('-')) return undefined;
  try {
    return (await git(root, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`])).trim() || undefined;
  } catch {
    return undefined;
  }
}

function parseLog(text: string): GitCommit[] {
  return text
    .split('\x1e')
    .map((r) => r.replace(/^\n/, ''))
    .filter((r) => r.length > 0)
    .map((r) => {
      const [sha, parents, an, ae, ad, cn, ce, cd, tree, ...message] = r.split('\x00');
      return {
        sha: sha!,
        parents: parents ? parents.split(' ') : [],
        author: { name: an!, email: ae!, date: ad! },
        committer: { name: cn!, email: ce!, date: cd! },
        tree: tree!,
        message: message.join('\x00').replace(/\n+$/, ''),
      };
    });
}

async function commitsOf(root: string, range: string[]): Promise<GitCommit[]> {
  return parseLog(await git(root, ['log', '--reverse', '--topo-order', `--format=${FORMAT}`, ...range, '--']));
}

/** GitHub's dates are UTC with a Z. */
const utc = (iso: string) => new Date(iso).toISOString().replace(/\.\d{3}Z$/, 'Z');

function commitJson(ctx: CompareContext, repo: string, c: GitCommit) {
  const api = `${ctx.base}/repos/${repo}`;
  const web = `https://github.com/${repo}`;
  const account = (email: string) => {
    const login = ctx.loginOf(email);
    return login ? ctx.userJson(login) : null;
  };
  return {
    sha: c.sha,
    node_id: `C_${Buffer.from(c.sha).toString('base64url').slice(0, 20)}`,
    commit: {
      author: { ...c.author, date: utc(c.author.date) },
      committer: { ...c.committer, date: utc(c.committer.date) },
      message: c.message,
      tree: { sha: c.tree, url: `${api}/git/trees/${c.tree}` },
      url: `${api}/git/commits/${c.sha}`,
      comment_count: 0,
      verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
    },
    url: `${api}/commits/${c.sha}`,
    html_url: `${web}/commit/${c.sha}`,
    comments_url: `${api}/commits/${c.sha}/comments`,
    author: account(c.author.email),
    committer: account(c.committer.email),
    parents: c.parents.map((p) => ({ sha: p, url: `${api}/commits/${p}`, html_url: `${web}/commit/${p}` })),
  };
}

const FILE_STATUS: Record<string, string> = { A: 'added', D: 'removed', M: 'modified', R: 'renamed', C: 'copied', T: 'changed' };

async function filesOf(root: string, from: string, to: string) {
  const numstat = (await git(root, ['diff', '--numstat', '-M', from, to])).split('\n').filter(Boolean);
  const status = (await git(root, ['diff', '--name-status', '-M', from, to])).split('\n').filter(Boolean);
  return status.map((line, i) => {
    const [code, ...paths] = line.split('\t');
    const [add, del] = (numstat[i] ?? '0\t0').split('\t');
    const filename = paths.at(-1)!;
    const additions = Number(add) || 0;
    const deletions = Number(del) || 0;
    return {
      filename,
      status: FILE_STATUS[code![0]!] ?? 'modified',
      additions,
      deletions,
      changes: additions + deletions,
      ...(code![0] === 'R' ? { previous_filename: paths[0] } : {}),
    };
  });
}

export async function compareRoute(ctx: CompareContext, repo: string, method: string, rest: string, query: Record<string, string>): Promise<{ status: number; body: unknown; headers?: Record<string, string> } | undefined> {
  const m = /^\/compare\/(.+)$/.exec(rest);
  if (!m || method !== 'GET') return undefined;
  ctx.needContents();
  const basehead = decodeURIComponent(m[1]!);
  const parts = basehead.split('...');
  if (parts.length !== 2 || !parts[0] || !parts[1]) throw ctx.error(404, 'Not Found');
  const root = ctx.gitRoot(repo);
  if (!root) throw ctx.error(404, 'Not Found');
  const [baseSha, headSha] = await Promise.all([resolve(root, parts[0]), resolve(root, parts[1])]);
  if (!baseSha || !headSha) throw ctx.error(404, 'Not Found');
  let mergeBase: string;
  try {
    mergeBase = (await git(root, ['merge-base', baseSha, headSha])).trim();
  } catch {
    throw ctx.error(404, `No common ancestor between ${parts[0]} and ${parts[1]}.`);
  }
  const count = async (range: string) => Number((await git(root, ['rev-list', '--count', range])).trim());
  const [ahead, behind] = await Promise.all([count(`${baseSha}..${headSha}`), count(`${headSha}..${baseSha}`)]);
  const status = ahead === 0 && behind === 0 ? 'identical' : behind === 0 ? 'ahead' : ahead === 0 ? 'behind' : 'diverged';
  const all = await commitsOf(root, [`${baseSha}..${headSha}`]);

  const paged = query.page !== undefined || query.per_page !== undefined;
  const perPage = Math.min(100, Math.max(1, Number(query.per_page ?? 30) || 30));
  const page = Math.max(1, Number(query.page ?? 1) || 1);
  const listed = paged ? all.slice((page - 1) * perPage, page * perPage) : all.slice(-250);
  const headers: Record<string, string> = {};
  if (paged) {
    const last = Math.max(1, Math.ceil(all.length / perPage));
    const link = (p: number, rel: string) => `<${ctx.base}/repos/${repo}/compare/${encodeURIComponent(basehead)}?per_page=${perPage}&page=${p}>; rel="${rel}"`;
    const links = [...(page > 1 ? [link(page - 1, 'prev'), link(1, 'first')] : []), ...(page < last ? [link(page + 1, 'next'), link(last, 'last')] : [])];
    if (links.length) headers.link = links.join(', ');
  }
  const [baseCommit] = await commitsOf(root, ['-1', baseSha]);
  const [mergeBaseCommit] = await commitsOf(root, ['-1', mergeBase]);
  const web = `https://github.com/${repo}`;
  return {
    status: 200,
    headers,
    body: {
      url: `${ctx.base}/repos/${repo}/compare/${basehead}`,
      html_url: `${web}/compare/${basehead}`,
      permalink_url: `${web}/compare/${baseSha.slice(0, 7)}...${headSha.slice(0, 7)}`,
      diff_url: `${web}/compare/${basehead}.diff`,
      patch_url: `${web}/compare/${basehead}.patch`,
      base_commit: commitJson(ctx, repo, baseCommit!),
      merge_base_commit: commitJson(ctx, repo, mergeBaseCommit!),
      status,
      ahead_by: ahead,
      behind_by: behind,
      total_commits: ahead,
      commits: listed.map((c) => commitJson(ctx, repo, c)),
      ...(page === 1 ? { files: await filesOf(root, mergeBase, headSha) } : {}),
    },
  };
}
