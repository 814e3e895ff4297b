/**
 * Starts Debian's docker-registry (distribution v2) on 127.0.0.1 with htpasswd auth and
 * deletes enabled, in a temp dir of its own, for one test suite. Docker treats every
 * 127.0.0.0/8 registry as insecure, so plain HTTP works for pushes and pulls.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';

export interface Registry {
  /** host:port, as it appears in image references. */
  host: string;
  url: string;
  username: string;
  password: string;
  /** Authorization header value for the registry HTTP API. */
  authHeader: string;
  /** The filesystem driver's root (distribution's own layout under docker/registry/v2). */
  storageDir: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForHttp(url: string, child: ChildProcess, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`docker-registry did not answer on ${url}`);
}

export async function startRegistry(opts: { username?: string; password?: string; port?: number } = {}): Promise<Registry> {
  const dir = mkdtempSync(join(tmpdir(), 'da-registry-'));
  const username = opts.username ?? 'AWS';
  const password = opts.password ?? `pw-${randomBytes(18).toString('base64url')}`;
  const port = opts.port ?? (await freePort());
  // bcrypt cost 4 (the minimum): every registry request checks it, and tests make many.
  writeFileSync(join(dir, 'htpasswd'), `${username}:${bcrypt.hashSync(password, 4)}\n`);
  writeFileSync(
    join(dir, 'config.yml'),
    [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      'auth:',
      '  htpasswd:',
      '    realm: deploy-actions-test',
      `    path: ${join(dir, 'htpasswd')}`,
      '',
    ].join('\n'),
  );
  const child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/v2/`, child);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${stderr}`);
  }
  return {
    host: `127.0.0.1:${port}`,
    url,
    username,
    password,
    authHeader: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
    storageDir: join(dir, 'data'),
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
