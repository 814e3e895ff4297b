/**
 * helm and kubectl from their official download locations (or a mirror with the same
 * layout), verified against the published sha256 files and kept in the runner's tool cache.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { UserError } from '@deploy-actions/action-kit';

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
    throw new UserError(`Could not download ${d.tool} ${d.version} (${d.url}): ${(err as Error).message}`);
  }
  const expected = parseChecksumFile(checksumText);
  if (!expected) throw new UserError(`${d.checksumUrl} holds no sha256 checksum`);
  const actual = await sha256File(file);
  if (actual !== expected) {
    throw new UserError(`Checksum mismatch for ${d.url}: expected ${expected}, got ${actual}; refusing to run it`);
  }
  deps.log(`sha256 ${actual} verified against ${d.checksumUrl}`);
  if (d.archive) {
    const extracted = await deps.tc.extractTar(file);
    const dir = await deps.tc.cacheDir(`${extracted}/linux-${arch}`, d.tool, d.version, arch);
    return `${dir}/${d.tool}`;
  }
  await deps.chmod(file, 0o755);
  const dir = await deps.tc.cacheFile(file, d.tool, d.tool, d.version, arch);
  await deps.chmod(`${dir}/${d.tool}`, 0o755);
  return `${dir}/${d.tool}`;
}
