/**
 * `selfAt` for the executor from a git repository (e.g. a bare remote the release pushed to):
 * a ref resolves the way GitHub resolves the ref of a `uses:` line (packages/release
 * `resolveRef`: full SHA, else tag before branch), and the tree of that commit is extracted
 * once into a temporary directory.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLsRemote, resolveRef } from '@deploy-actions/release';

export function selfAtGit(gitDir: string): (ref: string) => string | undefined {
  const trees = new Map<string, string>();
  const base = mkdtempSync(join(tmpdir(), 'da-self-'));
  return (ref) => {
    const refs = parseLsRemote(execFileSync('git', ['ls-remote', gitDir], { encoding: 'utf8' }));
    const sha = resolveRef(refs, ref);
    if (!sha) return undefined;
    if (!trees.has(sha)) {
      const dir = join(base, sha);
      mkdirSync(dir);
      const archive = execFileSync('git', ['--git-dir', gitDir, 'archive', '--format=tar', sha], { maxBuffer: 256 << 20 });
      execFileSync('tar', ['-x', '-C', dir], { input: archive });
      trees.set(sha, dir);
    }
    return trees.get(sha);
  };
}
