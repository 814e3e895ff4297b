import { exec as realExec, type Exec } from '@deploy-actions/action-kit';
import { parseLsRemote } from './uses';

/** The git operations a release needs, in one working tree. Output never reaches the log unescaped. */
export interface Git {
  /** The remote's tags and branches (ref -> sha; annotated tags also as `<ref>^{}` -> commit). */
  remoteRefs(): Promise<Map<string, string>>;
  head(): Promise<string>;
  /** `git status --porcelain`: empty when the tree equals HEAD. */
  status(): Promise<string>;
  /** The parent of the commit a remote tag names (fetched first: a fresh clone may not have it). */
  parentOfTag(tag: string): Promise<string>;
  /** Commits every tracked change on top of HEAD (detached), returns the new commit. */
  commit(message: string): Promise<string>;
  /** An annotated tag object for `commit`, local only. */
  tag(name: string, commit: string, message: string): Promise<void>;
  /**
   * Pushes in one atomic transaction: each ref gets `sha`; `expect` is what the remote ref must
   * hold now ('' = must not exist), so a concurrent release fails instead of being overwritten.
   */
  push(updates: Array<{ ref: string; source: string; expect: string }>): Promise<void>;
}

export interface GitOptions {
  cwd: string;
  remote: string;
  committerName: string;
  committerEmail: string;
  exec?: Exec;
}

export function gitIn(opts: GitOptions): Git {
  const exec = opts.exec ?? realExec;
  // The identity through git's variables, so that an error names the subcommand (`git push failed ...`).
  const env = {
    GIT_AUTHOR_NAME: opts.committerName,
    GIT_AUTHOR_EMAIL: opts.committerEmail,
    GIT_COMMITTER_NAME: opts.committerName,
    GIT_COMMITTER_EMAIL: opts.committerEmail,
  };
  const git = async (...args: string[]) => (await exec('git', args, { cwd: opts.cwd, silent: true, env })).stdout.trim();
  return {
    remoteRefs: async () => parseLsRemote(await git('ls-remote', '--tags', '--heads', opts.remote)),
    head: () => git('rev-parse', 'HEAD'),
    status: () => git('status', '--porcelain', '--untracked-files=all'),
    parentOfTag: async (tag) => {
      await git('fetch', '--quiet', '--no-tags', opts.remote, `refs/tags/${tag}`);
      return git('rev-parse', 'FETCH_HEAD^{commit}^');
    },
    commit: async (message) => {
      await git('commit', '--quiet', '--all', '--message', message);
      return git('rev-parse', 'HEAD');
    },
    tag: async (name, commit, message) => {
      await git('tag', '--annotate', '--message', message, name, commit);
    },
    push: async (updates) => {
      const leases = updates.map((u) => `--force-with-lease=${u.ref}:${u.expect}`);
      await git('push', '--atomic', '--quiet', ...leases, opts.remote, ...updates.map((u) => `${u.source}:${u.ref}`));
    },
  };
}
