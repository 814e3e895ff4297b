// The tool-updates workflow's steps: `pnpm --filter @deploy-actions/release exec tsx src/tool-updates-cli.ts`
// with INPUT_MODE `apply` (read upstream releases and checksums, rewrite the pins; outputs
// `changed`, `title`, `body`) or `pull-request` (open or update the pull request from INPUT_BRANCH),
// INPUT_TOKEN, and optionally TOOL_RELEASES_API_URL (where helm/helm and kubernetes/kubernetes
// publish releases: github.com's API, also from GitHub Enterprise Server), HELM_BASE_URL and
// KUBECTL_BASE_URL (mirrors of the official download hosts, which are the defaults). Plain
// variables, not INPUT_ names: bash drops environment names with hyphens from run: steps.
import { getOctokit } from '@actions/github';
import { DEADLINES, errorMessage, fetchWithDeadline, InputError, networkFailure, runAction, UserError, type ActionIO } from '@deploy-actions/action-kit';
import { applyUpdates, checksumUrl, describeUpdates, parseSha256, planUpdates, readPins, readSources, writeSources } from './tool-updates';

const REPOSITORY = /^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/;
const BRANCH = /^[A-Za-z0-9._/-]+$/;
/**
 * Deadlines (docs/deadlines.md): a release list or a pull-request call is a GitHub API request
 * (DEADLINES.githubMs); a checksum file is a tool download's small file, which a silent mirror
 * fails after DEADLINES.downloadIdleMs without a byte. No retries: the workflow runs on a
 * schedule and tries again on its next run.
 */
const RELEASES_MS = DEADLINES.githubMs;
const CHECKSUM_MS = DEADLINES.downloadIdleMs;

interface ToolInputs {
  mode: 'apply' | 'pull-request';
  root: string;
  repository: string;
  token: string;
  apiUrl: string;
  releasesApiUrl: string;
  helmBaseUrl: string;
  kubectlBaseUrl: string;
  branch: string;
  base: string;
  title: string;
  body: string;
}

function url(name: string, value: string): string {
  if (!/^https?:\/\/[^\s/]+\S*$/.test(value)) throw new InputError(name, 'must be an http(s) URL', value);
  return value.replace(/\/+$/, '');
}

async function fetchText(address: string, what: string, deadlineMs: number, headers: Record<string, string> = {}): Promise<string> {
  const startedMs = Date.now();
  try {
    const res = await fetchWithDeadline(deadlineMs)(address, { headers });
    if (!res.ok) throw new UserError(`${what}: GET ${address} answered ${res.status}`);
    return await res.text();
  } catch (err) {
    if (err instanceof UserError) throw err;
    const endpoint = new URL(address).origin;
    throw networkFailure(err, { endpoint, operation: `${what}: GET ${address}`, waitedMs: Date.now() - startedMs, attempts: 1, deadlineMs }) ?? new UserError(`${what}: GET ${address} failed: ${errorMessage(err)}`);
  }
}

/**
 * Tags of the newest 100 published releases (both helm lines' and every maintained Kubernetes
 * minor's newest patches are among them). The job token goes only to its own API host.
 */
async function releaseTags(i: ToolInputs, repository: string): Promise<string[]> {
  const headers: Record<string, string> = { accept: 'application/vnd.github+json' };
  if (i.token && i.releasesApiUrl === i.apiUrl) headers.authorization = `Bearer ${i.token}`;
  const text = await fetchText(`${i.releasesApiUrl}/repos/${repository}/releases?per_page=100`, `releases of ${repository}`, RELEASES_MS, headers);
  let list: Array<{ tag_name?: unknown; draft?: unknown; prerelease?: unknown }>;
  try {
    list = JSON.parse(text);
    if (!Array.isArray(list)) throw new Error('not a list');
  } catch {
    throw new UserError(`releases of ${repository}: ${i.releasesApiUrl} answered something other than a list of releases`);
  }
  return list.filter((x) => !x.draft && !x.prerelease && typeof x.tag_name === 'string').map((x) => x.tag_name as string);
}

async function apply(i: ToolInputs, io: ActionIO): Promise<Record<string, string>> {
  const sources = readSources(i.root);
  const pins = readPins(sources);
  const updates = planUpdates(pins, await releaseTags(i, 'helm/helm'), await releaseTags(i, 'kubernetes/kubernetes'));
  io.info(`Pinned: helm ${pins.helm['4']} / ${pins.helm['3']}; kubectl ${Object.values(pins.kubectl).join(', ')}`);
  if (updates.length === 0) {
    io.info('Every pin is the newest stable patch of its line: nothing to propose');
    return { changed: 'false', title: '', body: '' };
  }
  const sha256: Record<string, string> = {};
  const urls: Record<string, string> = {};
  for (const u of updates) {
    const address = checksumUrl(u, { helm: i.helmBaseUrl, kubectl: i.kubectlBaseUrl });
    const hex = parseSha256(await fetchText(address, `${u.tool} ${u.to} checksum`, CHECKSUM_MS));
    if (!hex) throw new UserError(`${u.tool} ${u.to} checksum: ${address} holds no sha256`);
    sha256[`${u.tool} ${u.to}`] = hex;
    urls[`${u.tool} ${u.to}`] = address;
    io.info(`${u.tool} ${u.from} -> ${u.to} (line ${u.line}): sha256 ${hex} from ${address}`);
  }
  writeSources(i.root, applyUpdates(sources, updates, sha256));
  const { title, body } = describeUpdates(updates, sha256, urls);
  await io.summary(`## Tool updates\n\n${body}\n`);
  return { changed: 'true', title, body };
}

async function pullRequest(i: ToolInputs, io: ActionIO): Promise<Record<string, string>> {
  const octokit = getOctokit(i.token, { baseUrl: i.apiUrl, request: { fetch: fetchWithDeadline(DEADLINES.githubMs) } });
  const [owner, repo] = i.repository.split('/') as [string, string];
  const what = `pull request from ${i.branch} into ${i.base} of ${i.repository}`;
  let operation = `${what}: list open pull requests`;
  const startedMs = Date.now();
  try {
    const open = await octokit.rest.pulls.list({ owner, repo, state: 'open', head: `${owner}:${i.branch}`, base: i.base });
    if (open.data[0]) {
      operation = `${what}: update #${open.data[0].number}`;
      const pr = await octokit.rest.pulls.update({ owner, repo, pull_number: open.data[0].number, title: i.title, body: i.body });
      io.info(`Updated pull request #${pr.data.number}: ${pr.data.html_url}`);
      return { 'pull-request': String(pr.data.number) };
    }
    operation = `${what}: create`;
    const pr = await octokit.rest.pulls.create({ owner, repo, head: i.branch, base: i.base, title: i.title, body: i.body });
    io.info(`Opened pull request #${pr.data.number}: ${pr.data.html_url}`);
    return { 'pull-request': String(pr.data.number) };
  } catch (err) {
    const fault = networkFailure(err, { endpoint: `the GitHub API (${i.apiUrl})`, operation, waitedMs: Date.now() - startedMs, attempts: 1, deadlineMs: DEADLINES.githubMs });
    throw fault ?? new UserError(`${what}: ${errorMessage(err)}`);
  }
}

await runAction<ToolInputs, ActionIO>(
  (i) => {
    const repository = process.env.GITHUB_REPOSITORY ?? '';
    if (!REPOSITORY.test(repository)) throw new InputError('GITHUB_REPOSITORY', 'must be owner/name', repository);
    const mode = i.oneOf('mode', ['apply', 'pull-request'], 'apply') as ToolInputs['mode'];
    const branch = i.string('branch', 'tool-updates');
    if (!BRANCH.test(branch)) throw new InputError('branch', 'must be a branch name', branch);
    const base = i.string('base', 'main');
    if (!BRANCH.test(base)) throw new InputError('base', 'must be a branch name', base);
    return {
      mode,
      root: process.env.GITHUB_WORKSPACE || process.cwd(),
      repository,
      token: mode === 'pull-request' ? i.required('token') : i.string('token'),
      apiUrl: url('GITHUB_API_URL', process.env.GITHUB_API_URL || 'https://api.github.com'),
      releasesApiUrl: url('TOOL_RELEASES_API_URL', process.env.TOOL_RELEASES_API_URL || 'https://api.github.com'),
      helmBaseUrl: url('HELM_BASE_URL', process.env.HELM_BASE_URL || 'https://get.helm.sh'),
      kubectlBaseUrl: url('KUBECTL_BASE_URL', process.env.KUBECTL_BASE_URL || 'https://dl.k8s.io/release'),
      branch,
      base,
      title: mode === 'pull-request' ? i.required('title') : '',
      body: i.string('body'),
    };
  },
  async () => ({
    run: (inputs, io) => (inputs.mode === 'apply' ? apply(inputs, io) : pullRequest(inputs, io)),
    realDeps: (io, inputs) => {
      if (inputs.token) io.setSecret(inputs.token);
      return io;
    },
  }),
);
