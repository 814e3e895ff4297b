/**
 * The commits part of the release card, from GitHub's compare API
 * (`GET /repos/{owner}/{repo}/compare/{base}...{head}`: `status` is ahead, behind, diverged or
 * identical; `commits` lists at most 250, oldest first; `total_commits` counts them all).
 * A pull request number is read from the message GitHub's merge button writes
 * (`Merge pull request #N from ...`, or a squash commit's title ending in `(#N)`); a commit whose
 * message names none (a "Rebase and merge" commit keeps its own message) is looked up with
 * GitHub's "list pull requests associated with a commit", one request per commit, for at most
 * PR_LOOKUPS commits, stopping at the first refusal or failure (withPullRequests).
 */
import { errorMessage } from '@deploy-actions/action-kit';

export interface CommitLine {
  sha: string;
  /** The GitHub login, else the git author name. */
  author: string;
  date: string;
  title: string;
  pr?: number;
}

export interface Comparison {
  status: 'ahead' | 'behind' | 'diverged' | 'identical';
  ahead_by: number;
  behind_by: number;
  total_commits: number;
  commits: Array<{
    sha: string;
    commit: { message: string; author?: { name?: string; date?: string } | null };
    author?: { login?: string } | null;
  }>;
}

export type Direction = 'first' | 'forward' | 'rollback' | 'same' | 'diverged';

export interface CommitRange {
  direction: Direction;
  /** forward: the commits the candidate adds; rollback: those it takes away; diverged: both, candidate's side first. */
  commits: CommitLine[];
  /** How many commits there are in all (the API lists at most 250). */
  total: number;
  /** diverged: commits running has that the candidate does not. */
  dropped?: number;
  /** Why some commits' pull requests were not looked up (one line for the card). */
  pullsNote?: string;
}

/** At most this many commits get a pull request lookup (one GitHub request each). */
export const PR_LOOKUPS = 20;

/**
 * The range with the pull request of each listed commit whose message names none, asked one
 * commit at a time (newest first) through `pullOf`; a refusal (undefined: the token may not read
 * pull requests) or a failure stops the lookups, and the card says so in one line.
 */
export async function withPullRequests(range: CommitRange, pullOf: ((sha: string) => Promise<number | null | undefined>) | undefined, max = PR_LOOKUPS): Promise<CommitRange> {
  const missing = range.commits.filter((c) => c.pr === undefined);
  if (!pullOf || !missing.length) return range;
  const found = new Map<string, number>();
  let note = '';
  for (const c of missing.slice(0, max)) {
    let pr: number | null | undefined;
    try {
      pr = await pullOf(c.sha);
    } catch (err) {
      note = `pull requests of commits without one in their message not looked up: ${errorMessage(err).split('\n')[0]}`;
      break;
    }
    if (pr === undefined) {
      note = 'pull requests of commits without one in their message (e.g. "Rebase and merge") not looked up: the token cannot read pull requests (it needs pull-requests: read)';
      break;
    }
    if (pr !== null) found.set(c.sha, pr);
  }
  if (!note && missing.length > max) note = `pull requests looked up for the newest ${max} of ${missing.length} commits without one in their message`;
  const commits = range.commits.map((c) => (found.has(c.sha) ? { ...c, pr: found.get(c.sha)! } : c));
  return { ...range, commits, ...(note ? { pullsNote: note } : {}) };
}

export function pullRequestOf(message: string): number | undefined {
  const first = message.split('\n', 1)[0] ?? '';
  const m = /^Merge pull request #(\d+) from /.exec(first) ?? /\(#(\d+)\)\s*$/.exec(first);
  return m ? Number(m[1]) : undefined;
}

export function commitLines(c: Comparison['commits']): CommitLine[] {
  return c.map((x) => {
    const pr = pullRequestOf(x.commit.message);
    return {
      sha: x.sha,
      author: x.author?.login || x.commit.author?.name || '?',
      date: x.commit.author?.date ?? '',
      title: x.commit.message.split('\n', 1)[0] ?? '',
      ...(pr !== undefined ? { pr } : {}),
    };
  });
}

/**
 * The range from what runs to the candidate. `forward` is compare(running...candidate);
 * `backward` is compare(candidate...running), asked for only when the candidate is behind
 * (a rollback: the commits it takes away).
 */
export function commitRange(forward: Comparison | undefined, backward?: Comparison): CommitRange {
  if (!forward) return { direction: 'first', commits: [], total: 0 };
  if (forward.status === 'identical') return { direction: 'same', commits: [], total: 0 };
  if (forward.status === 'behind') {
    const away = backward ? commitLines(backward.commits).reverse() : [];
    return { direction: 'rollback', commits: away, total: backward?.total_commits ?? forward.behind_by };
  }
  const adds = commitLines(forward.commits).reverse();
  if (forward.status === 'diverged') return { direction: 'diverged', commits: adds, total: forward.ahead_by, dropped: forward.behind_by };
  return { direction: 'forward', commits: adds, total: forward.total_commits };
}
