/**
 * Double of actions/checkout v5.0.0 (08c6903): the same inputs, checks and git commands
 * (checkout-refs.ts), run with the real git against a local repository standing for
 * `<server>/<owner>/<repo>`. The remote keeps its GitHub URL (what later steps see in
 * `git remote -v`); each fetch maps it to the local repository with `url.<local>.insteadOf`
 * given on the command line, so nothing of the test world is left in .git/config.
 * The token goes into the local config as `http.<server>/.extraheader` like the real action
 * and is removed again at the end unless persist-credentials is true.
 * Not modelled (the step fails saying so): ssh-key, submodules, lfs, sparse-checkout, filter.
 */
import { existsSync, statSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execFileLight } from '../../harness/spawn-light';
import { checkoutArgs, checkoutInfo, fetchArgs, refSpecs, refSpecsForAllHistory, targetFor } from './checkout-refs';
import { runStep, StepFailure, type ActionMetadata, type Step } from './step';
import type { ActionDouble, ActionDoubleContext } from './types';

/** Inputs of action.yml at v5.0.0 and their defaults. */
export const CHECKOUT_INPUTS: ActionMetadata = {
  repository: '${{ github.repository }}',
  ref: undefined,
  token: '${{ github.token }}',
  'ssh-key': undefined,
  'ssh-known-hosts': undefined,
  'ssh-strict': 'true',
  'ssh-user': 'git',
  'persist-credentials': 'true',
  path: undefined,
  clean: 'true',
  filter: undefined,
  'sparse-checkout': undefined,
  'sparse-checkout-cone-mode': 'true',
  'fetch-depth': '1',
  'fetch-tags': 'false',
  'show-progress': 'true',
  lfs: 'false',
  submodules: 'false',
  'set-safe-directory': 'true',
  'github-server-url': undefined,
};

export interface CheckoutWorld {
  /** owner/repo (any case) -> path of the local git repository that stands for it. */
  repositories: Record<string, string>;
}

/** input-helper's boolean reading: anything but TRUE is false (defaults as given). */
const flag = (step: Step, name: string, byDefault: 'true' | 'false') => (step.input(name) || byDefault).toUpperCase() === 'TRUE';

async function git(cwd: string, args: string[], step: Step): Promise<string> {
  try {
    // Through the spawn helper (harness/spawn-light.ts): about ten git processes per checkout.
    const { stdout } = await execFileLight('git', args, { cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'true' } });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; code?: number };
    for (const line of String(e.stderr ?? '').split('\n').filter(Boolean)) step.info(line);
    throw new StepFailure(`The process '/usr/bin/git' failed with exit code ${e.code ?? 1}`);
  }
}

async function checkout(ctx: ActionDoubleContext, step: Step, world: CheckoutWorld): Promise<void> {
  const workspace = resolve(ctx.workspace);
  if (!existsSync(workspace) || !statSync(workspace).isDirectory()) throw new StepFailure(`Directory '${workspace}' does not exist`);
  const qualified = step.input('repository') || String(ctx.github.repository ?? '');
  const parts = qualified.split('/');
  if (parts.length !== 2 || !parts[0] || !parts[1]) throw new StepFailure(`Invalid repository '${qualified}'. Expected format {owner}/{repo}.`);
  const repositoryPath = resolve(workspace, step.input('path') || '.');
  if (!(repositoryPath + sep).startsWith(workspace + sep)) throw new StepFailure(`Repository path '${repositoryPath}' is not under '${workspace}'`);
  const isWorkflowRepository = qualified.toUpperCase() === String(ctx.github.repository ?? '').toUpperCase();
  const target = targetFor(step.input('ref'), isWorkflowRepository, { ref: String(ctx.github.ref ?? ''), sha: String(ctx.github.sha ?? '') });
  const clean = flag(step, 'clean', 'true');
  let fetchDepth = Math.floor(Number(step.input('fetch-depth') || '1'));
  if (Number.isNaN(fetchDepth) || fetchDepth < 0) fetchDepth = 0;
  const fetchTags = flag(step, 'fetch-tags', 'false');
  const showProgress = flag(step, 'show-progress', 'true');
  const token = step.input('token', { required: true });
  const persistCredentials = flag(step, 'persist-credentials', 'false');
  const unsupported = ['ssh-key', 'filter', 'sparse-checkout'].filter((n) => step.input(n) !== '');
  if (flag(step, 'lfs', 'false')) unsupported.push('lfs');
  if (['TRUE', 'RECURSIVE'].includes(step.input('submodules').toUpperCase())) unsupported.push('submodules');
  if (unsupported.length) throw new StepFailure(`checkout double: input ${unsupported.join(', ')} is not modelled`);

  const server = (step.input('github-server-url') || ctx.env.GITHUB_SERVER_URL || String(ctx.github.server_url ?? '') || 'https://github.com').replace(/\/$/, '');
  const repositoryUrl = `${server}/${parts[0]}/${parts[1]}`;
  step.info(`Syncing repository: ${qualified}`);
  const local = Object.entries(world.repositories).find(([name]) => name.toLowerCase() === qualified.toLowerCase())?.[1];
  const viaLocal = ['-c', `url.${pathToFileURL(local ?? '/nonexistent').href}.insteadOf=${repositoryUrl}`];

  if (existsSync(repositoryPath) && !statSync(repositoryPath).isDirectory()) await rm(repositoryPath, { force: true });
  await mkdir(repositoryPath, { recursive: true });
  const reuse = existsSync(join(repositoryPath, '.git')) && (await git(repositoryPath, ['config', '--local', '--get', 'remote.origin.url'], step).catch(() => '')).trim() === repositoryUrl;
  if (reuse && clean) {
    await git(repositoryPath, ['clean', '-ffdx'], step);
    await git(repositoryPath, ['reset', '--hard', 'HEAD'], step);
  } else if (!reuse) {
    for (const entry of await readdir(repositoryPath)) await rm(join(repositoryPath, entry), { recursive: true, force: true });
    await git(repositoryPath, ['init'], step);
    await git(repositoryPath, ['remote', 'add', 'origin', repositoryUrl], step);
  }
  await git(repositoryPath, ['config', '--local', 'gc.auto', '0'], step);
  const header = `http.${server}/.extraheader`;
  const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
  step.setSecret(basic);
  await git(repositoryPath, ['config', '--local', header, `AUTHORIZATION: basic ${basic}`], step);
  try {
    if (!local) {
      step.info(`remote: Repository not found.`);
      step.info(`fatal: repository '${repositoryUrl}/' not found`);
      throw new StepFailure(`The process '/usr/bin/git' failed with exit code 128`);
    }
    if (!target.ref && !target.commit) {
      const head = await git(repositoryPath, [...viaLocal, 'ls-remote', '--symref', 'origin', 'HEAD'], step);
      target.ref = /^ref: (\S+)\s+HEAD/m.exec(head)?.[1] ?? 'refs/heads/main';
    }
    const shallowRepository = existsSync(join(repositoryPath, '.git', 'shallow'));
    const specs = fetchDepth <= 0 ? refSpecsForAllHistory(target) : refSpecs(target);
    await git(repositoryPath, [...viaLocal, ...fetchArgs(specs, { fetchDepth, fetchTags: fetchTags && fetchDepth > 0, showProgress, shallowRepository })], step);
    // As ref-helper: an unqualified ref is looked up as a remote branch, then as a tag; a
    // qualified ref or a commit needs no lookup (two git processes fewer per checkout).
    const unqualified = target.ref !== '' && !target.ref.toUpperCase().startsWith('REFS/');
    const remoteBranch = unqualified && (await git(repositoryPath, ['branch', '--list', '--remote', `origin/${target.ref}`], step)).trim() !== '';
    const tag = unqualified && !remoteBranch && (await git(repositoryPath, ['tag', '--list', target.ref], step)).trim() !== '';
    const lookup = { remoteBranch, tag };
    let info;
    try {
      info = checkoutInfo(target, lookup);
    } catch (err) {
      throw new StepFailure((err as Error).message);
    }
    await git(repositoryPath, checkoutArgs(info), step);
    const commit = (await git(repositoryPath, ['log', '-1', '--format=%H'], step)).trim();
    step.info(`HEAD is now at ${commit.slice(0, 7)} ${(await git(repositoryPath, ['log', '-1', '--format=%s'], step)).trim()}`);
    step.setOutput('commit', commit);
    step.setOutput('ref', target.ref);
  } finally {
    if (!persistCredentials) await git(repositoryPath, ['config', '--local', '--unset-all', header], step).catch(() => undefined);
  }
}

export function checkoutDouble(world: CheckoutWorld): ActionDouble {
  return (ctx) => runStep(ctx, CHECKOUT_INPUTS, (step) => checkout(ctx, step, world));
}
