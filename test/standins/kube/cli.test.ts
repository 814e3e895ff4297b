// The documented command that starts the stand-in (test/README.md), in EKS mode over HTTPS.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, test } from 'vitest';
import { parse } from 'yaml';
import { createEksToken } from './eks-token';

const here = dirname(fileURLToPath(import.meta.url));
const creds = { accessKeyId: 'AKIACLITEST00000001', secretAccessKey: 'cli-test-secret' };
let child: ChildProcess | undefined;

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
});

function get(url: string, ca: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/version`, { ca, headers: { Authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

test('tsx standins/kube/cli.ts --tls --auth eks: writes a kubeconfig with the CA; only EKS tokens of its cluster and keys pass', async () => {
  const kubeconfig = join(mkdtempSync(join(tmpdir(), 'cli-')), 'kubeconfig');
  child = spawn(join(here, '../../node_modules/.bin/tsx'), [join(here, 'cli.ts'), '--port', '0', '--tls', '--auth', 'eks', '--cluster-name', 'demo', '--region', 'eu-west-1', '--kubeconfig', kubeconfig], {
    env: { ...process.env, AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child!.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /serving (https:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child!.on('exit', (code) => reject(new Error(`cli exited with ${code}: ${out}`)));
  });
  const cfg = parse(readFileSync(kubeconfig, 'utf8'));
  expect(cfg.clusters[0].cluster.server).toBe(url);
  const ca = Buffer.from(cfg.clusters[0].cluster['certificate-authority-data'], 'base64').toString('utf8');
  expect(ca).toContain('BEGIN CERTIFICATE');

  const token = (clusterName: string, c = creds) => createEksToken({ clusterName, region: 'eu-west-1', credentials: c });
  expect(await get(url, ca, token('demo'))).toBe(200);
  expect(await get(url, ca, token('other-cluster'))).toBe(401);
  expect(await get(url, ca, token('demo', { ...creds, secretAccessKey: 'wrong' }))).toBe(401);
  expect(await get(url, ca, 'not-an-eks-token')).toBe(401);
}, 60_000);
