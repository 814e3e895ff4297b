/**
 * What is being built, read from the checked-out workspace with git (never from the event): the
 * commit the SHA tag names and the content key (content-key.ts).
 *
 * - The commit is the workspace's HEAD. On pull_request that is the commit actions/checkout gave
 *   (by default the test merge of the PR into its base), not the PR head: the tag names what was
 *   built. Without a git checkout the event's commit is used, except on pull_request, which is
 *   refused (what was checked out cannot be known).
 * - The key needs a clean build context: uncommitted changes or untracked files under the context
 *   or in the Dockerfile, a context or Dockerfile not in HEAD, or a repository that is not inside
 *   the workspace mean no key. The build then goes on as before (reuse by the SHA tag only) with a
 *   warning that says why. Files git ignores are not part of the key (see the README).
 */
import { realpathSync } from 'node:fs';
import { relative, sep } from 'node:path';
import { UserError, type ActionIO, type Exec, type ExecResult, type GitHubContext } from '@deploy-actions/action-kit';
import type { Inputs } from './inputs';
import { bothReadsArgs, contentKey, parseRevParse, parseStatus, revParseArgs, splitBothReads, statusArgs, type KeyMaterial } from './content-key';

export interface WorkspaceDeps {
  /** GITHUB_WORKSPACE: a repository found above it is not the checkout. */
  dir: string;
  git: Exec;
  /** The platform docker builds for when none is given (DOCKER_DEFAULT_PLATFORM, else the runner's). */
  defaultPlatform: string;
}

export interface Source {
  /** 40 (or 64) hex: the commit whose tree is built; the SHA tag is its first 7 characters. */
  commit: string;
  /** tree-<40 hex>, when the context is a clean part of the checkout. */
  key?: string;
  /** Why there is no key. */
  noKey?: string;
}

interface GitSource {
  commit?: string;
  material?: KeyMaterial;
  noKey?: string;
}

function within(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

/**
 * git rev-parse and git status, in one child through sh where sh runs (bothReadsArgs), else in two
 * (no sh on PATH, as on a Windows runner without Git's shell; or the script did not run through).
 */
async function gitReads(ws: WorkspaceDeps, dockerfile: string, paths: string[], cwd: string): Promise<[ExecResult, ExecResult]> {
  const opts = { cwd, silent: true, allowFailure: true } as const;
  const both = await ws.git('sh', bothReadsArgs(dockerfile, paths), opts).catch(() => undefined);
  const split = both && splitBothReads(both.stdout, both.stderr);
  if (split) return split;
  return Promise.all([ws.git('git', revParseArgs(dockerfile), opts), ws.git('git', statusArgs(paths), opts)]);
}

async function readGit(inputs: Inputs, ws: WorkspaceDeps): Promise<GitSource> {
  const dockerfile = relative(inputs.context, inputs.dockerfile).split(sep).join('/');
  let rev, status;
  try {
    [rev, status] = await gitReads(ws, dockerfile, [inputs.context, inputs.dockerfile], inputs.context);
  } catch (err) {
    return { noKey: `git could not be run (${(err as Error).message})` };
  }
  // sh's "command not found": as if git could not be spawned.
  if (rev.exitCode === 127 && !rev.stdout) return { noKey: `git could not be run (${rev.stderr.trim().split('\n')[0]})` };
  const parsed = parseRevParse(rev.stdout);
  if (!parsed.toplevel || !parsed.commit) {
    return { noKey: `the build context is not in a git checkout (${rev.stderr.trim().split('\n')[0] || 'git rev-parse failed'})` };
  }
  let workspace = ws.dir;
  try {
    workspace = realpathSync(ws.dir);
  } catch {
    // A workspace that does not exist contains no repository.
  }
  if (!within(parsed.toplevel, workspace)) {
    return { noKey: `the git repository ${parsed.toplevel} is outside the workspace ${workspace}` };
  }
  const commit = parsed.commit;
  if (!parsed.tree || !parsed.dockerfileBlob) {
    return { commit, noKey: `the build context or the Dockerfile is not committed (${rev.stderr.trim().split('\n')[0]})` };
  }
  if (status.exitCode !== 0) return { commit, noKey: `git status failed (${status.stderr.trim().split('\n')[0]})` };
  const dirty = parseStatus(status.stdout);
  if (dirty.length > 0) {
    const some = dirty.slice(0, 3).join(', ') + (dirty.length > 3 ? ', ...' : '');
    return { commit, noKey: `the build context has ${dirty.length} uncommitted change${dirty.length > 1 ? 's' : ''} (${some})` };
  }
  return {
    commit,
    material: {
      tree: parsed.tree,
      dockerfile,
      dockerfileBlob: parsed.dockerfileBlob,
      target: inputs.target,
      platforms: inputs.platforms.length > 0 ? inputs.platforms : [ws.defaultPlatform],
      buildArgs: inputs.buildArgs,
    },
  };
}

export async function identifySource(inputs: Inputs, deps: { io: ActionIO; context: GitHubContext; workspace: WorkspaceDeps }): Promise<Source> {
  const { io, context } = deps;
  const git = await readGit(inputs, deps.workspace);
  const pullRequest = context.eventName.startsWith('pull_request');
  if (!git.commit && pullRequest) {
    throw new UserError(
      `On ${context.eventName} the image must be tagged with the commit that was checked out, and the build context is not a git checkout (${git.noKey}); run actions/checkout first`,
    );
  }
  const commit = git.commit ?? context.sha;
  if (git.commit && git.commit !== context.sha) {
    io.info(`Tagging ${commit.slice(0, 7)}, the commit checked out in the workspace (the event names ${context.sha.slice(0, 7) || 'no commit'})`);
  }
  if (!git.material) {
    io.warning(`No content key: ${git.noKey}. An image is reused only when this commit's SHA tag exists.`);
    return { commit, noKey: git.noKey };
  }
  const key = contentKey(git.material);
  io.info(`Content key ${key} (tree ${git.material.tree}, Dockerfile ${git.material.dockerfile}, platforms ${git.material.platforms.join(',')})`);
  return { commit, key };
}
