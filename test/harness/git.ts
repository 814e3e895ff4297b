/** Real git repositories in temp directories (content key and merge-method tests). */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface GitRepo {
  dir: string;
  git: (...args: string[]) => string;
  write: (files: Record<string, string>) => void;
  /** Writes the files, commits everything, returns the new HEAD. */
  commit: (files: Record<string, string>, message?: string) => string;
}

export function gitRepo(files: Record<string, string> = {}): GitRepo {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'content-key-')));
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 't',
    GIT_AUTHOR_EMAIL: 't@example.com',
    GIT_COMMITTER_NAME: 't',
    GIT_COMMITTER_EMAIL: 't@example.com',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
  };
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, env, encoding: 'utf8' }).trim();
  const write = (more: Record<string, string>) => {
    for (const [path, content] of Object.entries(more)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
  };
  const commit = (more: Record<string, string>, message = 'change') => {
    write(more);
    git('add', '-A');
    git('commit', '-q', '--allow-empty', '-m', message);
    return git('rev-parse', 'HEAD');
  };
  git('init', '-q', '-b', 'develop');
  if (Object.keys(files).length > 0) commit(files, 'initial');
  return { dir, git, write, commit };
}
