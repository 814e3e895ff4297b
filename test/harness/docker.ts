/** The Docker engine for integration tests: checks it answers, builds and pushes the sample service. */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './runner';
import type { Registry } from './registry';

const execFileP = promisify(execFile);

export const sampleServiceDir = join(repoRoot, 'test/fixtures/sample-service');

export async function docker(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const p = execFileP('docker', args, { env: opts.env ?? process.env, maxBuffer: 64 * 1024 * 1024 });
  if (opts.input !== undefined) {
    p.child.stdin?.end(opts.input);
  }
  const { stdout } = await p;
  return stdout;
}

export async function dockerAvailable(): Promise<boolean> {
  try {
    await docker(['info', '--format', '{{.ServerVersion}}']);
    return true;
  } catch {
    return false;
  }
}

/** Puts Debian's static busybox where a fixture service's Dockerfile expects it (it is not committed). */
export function prepareService(dir: string): string {
  const target = join(dir, 'rootfs/bin/busybox');
  if (!existsSync(target)) {
    if (!existsSync('/bin/busybox')) throw new Error('/bin/busybox missing: apt-get install -y busybox-static');
    mkdirSync(join(dir, 'rootfs/bin'), { recursive: true });
    copyFileSync('/bin/busybox', target);
  }
  return dir;
}

export const prepareSampleService = (): string => prepareService(sampleServiceDir);

/**
 * A throwaway copy of the sample service with one changed file, so its image digest
 * differs from the pristine one (a "new commit").
 */
export function sampleServiceVariant(marker: string): string {
  prepareSampleService();
  const dir = mkdtempSync(join(tmpdir(), 'da-sample-'));
  mkdirSync(join(dir, 'rootfs/bin'), { recursive: true });
  mkdirSync(join(dir, 'www'), { recursive: true });
  copyFileSync(join(sampleServiceDir, 'Dockerfile'), join(dir, 'Dockerfile'));
  copyFileSync(join(sampleServiceDir, 'rootfs/bin/busybox'), join(dir, 'rootfs/bin/busybox'));
  copyFileSync(join(sampleServiceDir, 'www/index.html'), join(dir, 'www/index.html'));
  writeFileSync(join(dir, 'www/healthz'), `ok ${marker}\n`);
  return dir;
}

/** docker build + push of the sample service to `registry` as repo:tag; returns the pushed digest. */
export async function pushSampleImage(registry: Pick<Registry, 'host' | 'username' | 'password'>, repo: string, tag: string, context = prepareSampleService()): Promise<string> {
  const config = mkdtempSync(join(tmpdir(), 'da-dockercfg-'));
  const env = { ...process.env, DOCKER_CONFIG: config };
  try {
    await docker(['login', registry.host, '--username', registry.username, '--password-stdin'], { input: registry.password, env });
    const ref = `${registry.host}/${repo}:${tag}`;
    await docker(['build', '--quiet', '--tag', ref, context], { env });
    const out = await docker(['push', ref], { env });
    const m = /digest: (sha256:[a-f0-9]{64})/.exec(out);
    if (!m) throw new Error(`no digest in docker push output:\n${out}`);
    return m[1]!;
  } finally {
    rmSync(config, { recursive: true, force: true });
  }
}
