/**
 * What GitHub keeps for an open pull request in the base repository: refs/pull/<n>/head (the
 * head commit) and refs/pull/<n>/merge (a test merge of head into base, a new commit whose
 * first parent is the base tip). A `pull_request` run has GITHUB_REF refs/pull/<n>/merge and
 * GITHUB_SHA that merge commit. Made with git's own merge (`git merge-tree --write-tree`),
 * without touching the repository's working tree.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PullRequestRefs {
  number: number;
  headSha: string;
  baseSha: string;
  mergeSha: string;
  ref: string;
}

export async function createPullRequestRefs(repo: string, pr: { number: number; head: string; base: string }): Promise<PullRequestRefs> {
  const git = async (...args: string[]) => (await run('git', args, { cwd: repo })).stdout.trim();
  const headSha = await git('rev-parse', `${pr.head}^{commit}`);
  const baseSha = await git('rev-parse', `${pr.base}^{commit}`);
  let tree: string;
  try {
    tree = (await git('merge-tree', '--write-tree', baseSha, headSha)).split('\n')[0]!;
  } catch {
    throw new Error(`pull request #${pr.number}: ${pr.head} does not merge cleanly into ${pr.base}`);
  }
  const mergeSha = await git('commit-tree', tree, '-p', baseSha, '-p', headSha, '-m', `Merge ${headSha} into ${baseSha}`);
  await git('update-ref', `refs/pull/${pr.number}/head`, headSha);
  await git('update-ref', `refs/pull/${pr.number}/merge`, mergeSha);
  return { number: pr.number, headSha, baseSha, mergeSha, ref: `refs/pull/${pr.number}/merge` };
}
