/**
 * Where the card's facts come from, behind one small interface each, so card.ts is tested with
 * fakes: GitHub's compare API, ECR's manifests and scan findings, and `helm template` of the
 * chart at a commit (the candidate's checkout, or the running commit's files read from git).
 * None of these needs cluster credentials.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { githubClient } from '@deploy-actions/github/octokit';
import { UserError, type Exec } from '@deploy-actions/action-kit';
import { asEcrApi, awsCall, awsErrorName, type AwsCallOptions, type EcrLike } from '@deploy-actions/aws';
import { githubCall, githubRequestOptions, httpStatus, type GithubCallOptions } from '@deploy-actions/github';
import { helmTemplateArgs, imageValues, valuesLayers, type ImageKeys, type ImageRef } from '@deploy-actions/chart';
import type { Comparison } from './commits';
import { findingsOf, parseManifest, pickPlatform, type Finding, type ImageFacts } from './image';

/** A part of the card that cannot be shown, and why (one line for the card). */
export class Unavailable extends Error {}

export interface CompareApi {
  /**
   * compare(base...head) without paging parameters: GitHub then lists at most 250 commits, oldest
   * first, the last being the newest of the whole range (with per_page/page the first page would
   * be the oldest ones); `total_commits` counts them all.
   */
  compare(base: string, head: string): Promise<Comparison>;
  /**
   * The pull request that brought a commit in (GitHub's "list pull requests associated with a
   * commit": the merged one that introduced it when the commit is on the default branch, else
   * open ones): its number, `null` when none, `undefined` when the token may not read pull
   * requests (403/404: a GITHUB_TOKEN needs pull-requests: read on a private repository).
   */
  pullOf?(sha: string): Promise<number | null | undefined>;
}

interface AssociatedPull {
  number: number;
  merged_at?: string | null;
  state?: string;
}

export function octokitCompare(o: GithubCallOptions & { token: string; apiUrl: string; owner: string; repo: string }): CompareApi {
  const octokit = githubClient(o.token, { baseUrl: o.apiUrl, userAgent: 'deploy-actions-promote-gate', ...githubRequestOptions() });
  return {
    compare: (base, head) =>
      githubCall<Comparison>(`compare ${base.slice(0, 7)}...${head.slice(0, 7)}`, () =>
        octokit.request('GET /repos/{owner}/{repo}/compare/{basehead}', { owner: o.owner, repo: o.repo, basehead: `${base}...${head}` }),
      o),
    async pullOf(sha) {
      try {
        const pulls = await githubCall<AssociatedPull[]>(`list the pull requests of ${sha.slice(0, 7)}`, () =>
          octokit.request('GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls', { owner: o.owner, repo: o.repo, commit_sha: sha, per_page: 10 }),
        o);
        const merged = pulls.find((p) => p.merged_at);
        return (merged ?? pulls[0])?.number ?? null;
      } catch (err) {
        if ([403, 404].includes(httpStatus(err))) return undefined;
        throw err;
      }
    },
  };
}

export interface RegistryApi {
  image(digest: string): Promise<ImageFacts>;
  /** The scan's findings; Unavailable when there is no completed scan. */
  findings(digest: string): Promise<Finding[]>;
}

const MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
];

export function ecrRegistry(ecr: EcrLike, ref: { repositoryName: string; registryId?: string }, aws: AwsCallOptions = {}): RegistryApi {
  const manifest = async (digest: string) => {
    const api = await asEcrApi(ecr);
    const res = await awsCall('ecr:BatchGetImage', ref.repositoryName, () =>
      api.call('BatchGetImage', { ...ref, imageIds: [{ imageDigest: digest }], acceptedMediaTypes: MANIFEST_TYPES }),
    aws);
    const img = res.images?.[0];
    if (!img?.imageManifest) throw new Unavailable(`ECR has no image ${digest} in ${ref.repositoryName}`);
    return parseManifest(img.imageManifest, img.imageManifestMediaType);
  };
  return {
    async image(digest) {
      const top = await manifest(digest);
      if ('image' in top) return top.image;
      const pick = pickPlatform(top.index);
      if (!pick) throw new Unavailable(`image ${digest} is an index without a platform image`);
      const child = await manifest(pick.digest);
      if (!('image' in child)) throw new Unavailable(`image ${digest}: nested index`);
      return { ...child.image, platform: pick.platform };
    },
    async findings(digest) {
      const out: Finding[] = [];
      let nextToken: string | undefined;
      const api = await asEcrApi(ecr);
      for (let page = 0; page < 10; page++) {
        let res;
        try {
          res = await awsCall('ecr:DescribeImageScanFindings', ref.repositoryName, () =>
            api.call('DescribeImageScanFindings', { ...ref, imageId: { imageDigest: digest }, maxResults: 1000, ...(nextToken ? { nextToken } : {}) }),
          aws);
        } catch (err) {
          const name = awsErrorName(err);
          if (name === 'ScanNotFoundException') throw new Unavailable(`no scan of ${digest.slice(0, 19)} (scan on push off, or not scanned yet)`);
          if (name === 'AccessDeniedException' || /AccessDenied/.test(String((err as Error).message))) throw new Unavailable('the role may not call ecr:DescribeImageScanFindings');
          throw err;
        }
        const status = res.imageScanStatus?.status;
        if (status && status !== 'COMPLETE' && status !== 'ACTIVE') throw new Unavailable(`scan of ${digest.slice(0, 19)} is ${status}${res.imageScanStatus?.description ? `: ${res.imageScanStatus.description}` : ''}`);
        out.push(...findingsOf(res as Parameters<typeof findingsOf>[0]));
        nextToken = res.nextToken;
        if (!nextToken) break;
      }
      return out;
    },
  };
}

export interface ChartSpec {
  release: string;
  chart: string;
  namespace: string;
  environment: string;
  valuesFiles: string[];
  set: Array<[string, string]>;
  setString: Array<[string, string]>;
  /** Where the image goes in the values, read from the same inputs as helm-deploy-eks reads them. */
  imageKeys: ImageKeys;
  /** The image repository as helm-deploy-eks sets it (`<registry>/<repository>`). */
  imageRepository: string;
  /** The candidate's tag when its image-ref has one (helm-deploy-eks sets it under image-tag-key; the running image's tag is not in the evidence: cleared). */
  candidateTag?: { digest: string; tag: string };
}

export interface RenderApi {
  /** helm template of the chart at `commit` with `digest` pinned; also the values files used. */
  render(commit: string, digest: string): Promise<{ text: string; valuesFiles: string[] }>;
}

/** The image helm-deploy-eks would be given for `digest`: the repository, the digest and, for the candidate, its tag. */
function imageOf(spec: ChartSpec, digest: string): ImageRef {
  const tag = spec.candidateTag?.digest === digest ? spec.candidateTag.tag : undefined;
  return { repository: spec.imageRepository, digest, ...(tag ? { tag } : {}) };
}

/** helm: the `helm` input, else the newest helm in the runner's tool cache (where helm-deploy-eks keeps it), else PATH. */
export function findHelm(given: string, env: NodeJS.ProcessEnv = process.env): string {
  if (given) return given;
  const cache = env.RUNNER_TOOL_CACHE;
  const arch = process.arch === 'arm64' ? 'arm64' : 'amd64';
  if (cache && existsSync(join(cache, 'helm'))) {
    const versions = readdirSync(join(cache, 'helm'))
      .filter((v) => /^\d+\.\d+\.\d+$/.test(v) && existsSync(join(cache, 'helm', v, arch, 'helm')))
      .sort((a, b) => {
        const [x, y] = [a.split('.').map(Number), b.split('.').map(Number)];
        return x[0]! - y[0]! || x[1]! - y[1]! || x[2]! - y[2]!;
      });
    const newest = versions.at(-1);
    if (newest) return join(cache, 'helm', newest, arch, 'helm');
  }
  return 'helm';
}

/**
 * Renders at the workspace's commit (its HEAD) from the workspace; at any other commit from that commit's
 * files (`git archive` of the chart and the values files into a temporary directory), so the
 * checkout is never changed. The clone must hold the commit (the card job fetches all history).
 */
export function helmRender(o: { exec: Exec; helm: string; workspace: string; spec: ChartSpec; tmp?: string }): RenderApi {
  const { exec, spec } = o;
  let head: Promise<string> | undefined;
  const headCommit = () => (head ??= exec('git', ['rev-parse', 'HEAD'], { cwd: o.workspace, silent: true, allowFailure: true }).then((r) => (r.exitCode === 0 ? r.stdout.trim() : '')));
  const template = async (root: string, digest: string) => {
    const chartDir = resolve(root, spec.chart);
    if (!existsSync(join(chartDir, 'Chart.yaml'))) throw new Unavailable(`no chart at ${spec.chart} in that commit`);
    const exists = (p: string) => existsSync(resolve(root, p)) && statSync(resolve(root, p)).isFile();
    const layers = valuesLayers(spec.chart, spec.environment, spec.valuesFiles.filter(exists), exists);
    const args = helmTemplateArgs(spec.release, {
      chart: spec.chart,
      namespace: spec.namespace,
      valuesFiles: layers,
      set: spec.set,
      setStrings: [...spec.setString, ...imageValues(imageOf(spec, digest), spec.imageKeys)],
    });
    const r = await exec(o.helm, args, { cwd: root, silent: true, allowFailure: true });
    if (r.exitCode !== 0) throw new Unavailable(`helm template failed: ${r.stderr.trim().split('\n').slice(-2).join(' ')}`);
    return { text: r.stdout, valuesFiles: layers.map((l) => relative(root, resolve(root, l))) };
  };
  return {
    async render(commit, digest) {
      if (commit === (await headCommit())) return template(o.workspace, digest);
      const dir = mkdtempSync(join(o.tmp ?? tmpdir(), 'release-card-'));
      try {
        const tar = join(dir, 'chart.tar');
        const paths = [spec.chart, ...spec.valuesFiles];
        // Paths missing at that commit are dropped one by one (git archive refuses the whole list otherwise).
        const present: string[] = [];
        for (const p of paths) {
          const r = await exec('git', ['cat-file', '-e', `${commit}:${p.replace(/^\.\//, '')}`], { cwd: o.workspace, silent: true, allowFailure: true });
          if (r.exitCode === 0) present.push(p.replace(/^\.\//, ''));
          else if (p === spec.chart) {
            const known = await exec('git', ['cat-file', '-e', `${commit}^{commit}`], { cwd: o.workspace, silent: true, allowFailure: true });
            throw new Unavailable(known.exitCode === 0 ? `no chart at ${spec.chart} in commit ${commit.slice(0, 7)}` : `commit ${commit.slice(0, 7)} is not in the clone (check out with fetch-depth: 0)`);
          }
        }
        const a = await exec('git', ['archive', '--format=tar', '-o', tar, commit, '--', ...present], { cwd: o.workspace, silent: true, allowFailure: true });
        if (a.exitCode !== 0) throw new Unavailable(`git archive of ${commit.slice(0, 7)} failed: ${a.stderr.trim().split('\n').at(-1)}`);
        const root = join(dir, 'tree');
        mkdirSync(root);
        const x = await exec('tar', ['-xf', tar, '-C', root], { silent: true, allowFailure: true });
        if (x.exitCode !== 0) throw new UserError(`tar could not unpack the chart of ${commit.slice(0, 7)}: ${x.stderr.trim()}`);
        return await template(root, digest);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
