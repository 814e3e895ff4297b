/**
 * A real git repository of a service, made in a temporary directory the way a team adopts
 * deploy-actions: the service's files, plus `.github/workflows/deploy.yml`, `redeploy.yml` and `rollback.yml`
 * (its own when it has them, else the starters with their EDIT values filled in). Branches
 * move as GitHub moves them: pushes, a merge commit, a squash merge and a rebase merge (all new
 * commits on the base branch, as GitHub's merge buttons make them). Each change gives the push event the
 * executor runs with.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { repoRoot } from '../harness/runner';
import type { GithubEvent } from '../executor/model';

export interface ServiceRepo {
  root: string;
  /** owner/name on "GitHub". */
  name: string;
  /** Where the starter's EDIT values point: ECR repository and Helm release. */
  ecrRepository: string;
  release: string;
  /** Which workflow files came from the service itself. */
  own: { deploy: boolean; redeploy: boolean; rollback: boolean };
  git(...args: string[]): string;
  head(branch: string): string;
  /** Commits a change to `file` on `branch` and gives the push event. */
  change(branch: string, file: string, text: string, message: string): GithubEvent;
  /** A pull request merged with a merge commit (`--no-ff`), as the "Create a merge commit" button. */
  mergeCommit(head: string, base: string, number: number): GithubEvent;
  /** A pull request squashed into one new commit on base, as "Squash and merge". */
  squash(head: string, base: string, number: number): GithubEvent;
  /**
   * A pull request merged with "Rebase and merge": each commit of head not on base replayed onto
   * base as a new commit (committer GitHub, so a new SHA even where a fast-forward was possible).
   */
  rebase(head: string, base: string, number: number): GithubEvent;
}

const AUTHOR = ['-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', '-c', 'commit.gpgsign=false'];

/** What a team edits in the starters (the lines marked EDIT). */
export interface StarterEdits {
  ecrRepository: string;
  release: string;
  chart?: string;
  /** The chart's image keys (helm-deploy-eks's image-*-key inputs); `''` leaves one unset. */
  imageRegistryKey?: string;
  imageRepositoryKey?: string;
  imageDigestKey?: string;
  imageTagKey?: string;
  imageReferenceKey?: string;
  /** The image repository URI (host/repository) of the redeploy starter's check job. */
  imageRepository?: string;
  /** When the redeploy and rollback starters show the release card (an expression over inputs.environment). */
  releaseCard?: string;
}

/** The starter workflows with a team's edits. */
export function editStarter(text: string, edits: StarterEdits): string {
  const line = (key: string, value: string | undefined) => (t: string) =>
    value === undefined ? t : t.replace(new RegExp(`^(\\s*${key}: ).+?(\\s+# EDIT)`, 'gm'), `$1${value}$2`);
  return [
    line('repository', edits.ecrRepository),
    line('release', edits.release),
    line('chart', edits.chart),
    line('image-registry-key', edits.imageRegistryKey),
    line('image-repository-key', edits.imageRepositoryKey),
    line('image-digest-key', edits.imageDigestKey),
    line('image-tag-key', edits.imageTagKey),
    line('image-reference-key', edits.imageReferenceKey),
    line('IMAGE_REPOSITORY', edits.imageRepository),
    line('release-card', edits.releaseCard),
  ].reduce((t, edit) => edit(t), text);
}

/** The EDIT values of a team's own deploy.yml: the `with:` of its job that calls pipeline.yml. */
export function editsOf(deployYml: string): Partial<StarterEdits> {
  const jobs = (YAML.parse(deployYml) as { jobs?: Record<string, { uses?: string; with?: Record<string, unknown> }> }).jobs ?? {};
  const w = Object.values(jobs).find((j) => /\/pipeline\.ya?ml@/.test(j.uses ?? ''))?.with ?? {};
  // A key the team leaves out is written '' in the starters (a YAML empty string).
  const str = (k: string) => (typeof w[k] === 'string' ? (w[k] as string) || "''" : undefined);
  // With the whole reference in one key, the starters' repository and digest keys are cleared.
  const whole = str('image-reference-key') !== undefined && str('image-reference-key') !== "''";
  return {
    ecrRepository: str('repository'),
    release: str('release'),
    chart: str('chart'),
    imageRegistryKey: str('image-registry-key'),
    imageRepositoryKey: str('image-repository-key') ?? (whole ? "''" : undefined),
    imageDigestKey: str('image-digest-key') ?? (whole ? "''" : undefined),
    imageTagKey: str('image-tag-key'),
    imageReferenceKey: str('image-reference-key'),
  };
}

/** A team's own workflow, rehearsed here: its ECR registry host becomes the local registry's. */
function localRegistry(text: string, registryHost: string): string {
  return text.replace(/^(\s*IMAGE_REPOSITORY: )[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com\//gm, `$1${registryHost}/`);
}

export function createServiceRepo(opts: { serviceDir: string; name: string; ecrRepository: string; release: string; imageRepository: string }): ServiceRepo {
  const root = mkdtempSync(join(tmpdir(), 'da-service-repo-'));
  const git = (...args: string[]) => execFileSync('git', [...AUTHOR, ...args], { cwd: root, encoding: 'utf8' }).trim();
  git('init', '--quiet', '--initial-branch=main');
  cpSync(opts.serviceDir, root, { recursive: true, filter: (src) => !src.split('/').includes('.git') });
  const own = {
    deploy: existsSync(join(root, '.github/workflows/deploy.yml')),
    redeploy: existsSync(join(root, '.github/workflows/redeploy.yml')),
    rollback: existsSync(join(root, '.github/workflows/rollback.yml')),
  };
  mkdirSync(join(root, '.github/workflows'), { recursive: true });
  // The starters take the team's values from its own deploy.yml when it has one.
  const registryHost = opts.imageRepository.split('/')[0]!;
  const workflowFile = (file: string) => join(root, '.github/workflows', file);
  const team = own.deploy ? editsOf(readFileSync(workflowFile('deploy.yml'), 'utf8')) : {};
  const edits: StarterEdits = { ...opts, ...Object.fromEntries(Object.entries(team).filter(([, v]) => v !== undefined)) };
  edits.imageRepository = `${registryHost}/${edits.ecrRepository}`;
  for (const [file, isOwn] of [['deploy.yml', own.deploy], ['redeploy.yml', own.redeploy], ['rollback.yml', own.rollback]] as const) {
    const text = isOwn ? localRegistry(readFileSync(workflowFile(file), 'utf8'), registryHost) : editStarter(readFileSync(join(repoRoot, 'workflows', file), 'utf8'), edits);
    writeFileSync(workflowFile(file), text);
  }
  git('add', '-A');
  git('commit', '--quiet', '-m', 'Service, chart and workflows');
  // Packed, as a hosted repository keeps its objects: each checkout's fetch then sends the busybox
  // binary's compressed data as it is, instead of compressing 2 MB of loose object again (about
  // 1.2 s against 0.3 s per fetch under load; nine checkouts per pipeline run).
  git('repack', '-a', '-d', '-q');
  git('branch', 'develop');

  const head = (branch: string) => git('rev-parse', `refs/heads/${branch}`);
  const push = (branch: string, before: string): GithubEvent => {
    const after = head(branch);
    const ref = `refs/heads/${branch}`;
    const message = git('log', '-1', '--format=%s', after);
    return {
      name: 'push',
      ref,
      sha: after,
      actor: 'dev',
      payload: {
        ref,
        before,
        after,
        created: false,
        deleted: false,
        forced: false,
        base_ref: null,
        head_commit: { id: after, message, tree_id: git('rev-parse', `${after}^{tree}`), author: { name: 'Dev', email: 'dev@example.com' } },
        pusher: { name: 'dev' },
        repository: repositoryPayload(opts.name),
      },
    };
  };
  return {
    root,
    name: opts.name,
    ecrRepository: opts.ecrRepository,
    release: opts.release,
    own,
    git,
    head,
    change(branch, file, text, message) {
      const before = head(branch);
      git('checkout', '--quiet', branch);
      writeFileSync(join(root, file), text);
      git('add', '-A');
      git('commit', '--quiet', '-m', message);
      return push(branch, before);
    },
    mergeCommit(from, base, number) {
      const before = head(base);
      git('checkout', '--quiet', base);
      git('merge', '--quiet', '--no-ff', '-m', `Merge pull request #${number} from acme/${from}`, from);
      return push(base, before);
    },
    squash(from, base, number) {
      const before = head(base);
      git('checkout', '--quiet', base);
      git('merge', '--quiet', '--squash', from);
      git('commit', '--quiet', '-m', `Change from ${from} (#${number})`);
      return push(base, before);
    },
    rebase(from, base) {
      const before = head(base);
      git('checkout', '--quiet', base);
      git('-c', 'user.name=GitHub', '-c', 'user.email=noreply@github.com', 'cherry-pick', '--allow-empty', `${base}..${from}`);
      return push(base, before);
    },
  };
}

/**
 * The event payload's `repository` (push and workflow_dispatch payloads both carry it, with the
 * default branch: GitHub's webhook schema `repository-webhooks`; a `schedule` payload has none).
 * The repository's default branch is main (createServiceRepo's initial branch).
 */
function repositoryPayload(name: string) {
  return { full_name: name, name: name.split('/')[1]!, owner: { login: name.split('/')[0]! }, default_branch: 'main', visibility: 'private' };
}

/** A workflow_dispatch event ("Run workflow" on `branch`). */
export function dispatchEvent(repo: ServiceRepo, branch: string, workflow: string, inputs: Record<string, string>): GithubEvent {
  const ref = `refs/heads/${branch}`;
  return { name: 'workflow_dispatch', ref, sha: repo.head(branch), actor: 'dev', inputs, payload: { ref, inputs, workflow, repository: repositoryPayload(repo.name) } };
}
