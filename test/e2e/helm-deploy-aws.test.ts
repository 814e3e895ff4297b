/**
 * helm-deploy-eks against the EKS and STS stand-ins, without a cluster: the real SDK
 * clients through AWS_ENDPOINT_URL_*, the exec credential plugin mode of the built
 * bundle verified by the STS stand-in, and tool installation from the local mirror.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { readFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as tc from '../../actions/helm-deploy-eks/node_modules/@actions/tool-cache';
import { awsDeps } from '../../actions/helm-deploy-eks/src/eks';
import { DEFAULT_HELM_VERSIONS } from '../../actions/helm-deploy-eks/src/inputs';
import { DEFAULT_KUBECTL_VERSION, helmDownload, installTool, kubectlDownload, pinnedSha256 } from '../../actions/helm-deploy-eks/src/tools';
import { runActionBundle } from '../harness/runner';
import { decodeEksToken, startEksStandin, startStsStandin, type EksStandin, type StsStandin } from '../standins/eks';
import { ensureKubeTools } from '../tools/kube-binaries';
import { startToolArchives, type ToolArchives } from '../tools/tool-archives';
import { execFileSync } from 'node:child_process';

const REGION = 'eu-west-1';
const deployer = { accessKeyId: 'AKIADEPLOYER0000001', secretAccessKey: 'deployer-secret', arn: 'arn:aws:sts::111122223333:assumed-role/deployer/gha-1000' };
const intruder = { accessKeyId: 'AKIAINTRUDER0000001', secretAccessKey: 'intruder-secret', arn: 'arn:aws:iam::111122223333:user/intruder' };

let sts: StsStandin;
let eks: EksStandin;
beforeAll(async () => {
  sts = await startStsStandin({ region: REGION, identities: [deployer, intruder] });
  eks = await startEksStandin({
    region: REGION,
    identities: [deployer, intruder],
    clusters: [{ name: 'prod', endpoint: 'https://127.0.0.1:6443', caData: Buffer.from('PEM').toString('base64'), version: '1.33' }],
  });
});
afterAll(async () => {
  await sts?.stop();
  await eks?.stop();
});

async function withEnv<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const awsEnv = (id: { accessKeyId: string; secretAccessKey: string }) => ({
  AWS_ACCESS_KEY_ID: id.accessKeyId,
  AWS_SECRET_ACCESS_KEY: id.secretAccessKey,
  AWS_REGION: REGION,
  AWS_ENDPOINT_URL_EKS: eks.url,
  AWS_ENDPOINT_URL_STS: sts.url,
});

describe('EKS and STS stand-ins with the real SDK client and presigned STS call', () => {
  test('DescribeCluster and GetCallerIdentity', async () => {
    await withEnv(awsEnv(deployer), async () => {
      const aws = awsDeps(REGION, () => undefined);
      expect(await aws.callerArn('prod')).toBe(deployer.arn);
      expect(await aws.describeCluster('prod')).toEqual({
        name: 'prod',
        arn: 'arn:aws:eks:eu-west-1:111122223333:cluster/prod',
        endpoint: 'https://127.0.0.1:6443',
        caData: Buffer.from('PEM').toString('base64'),
        version: '1.33',
        status: 'ACTIVE',
      });
    });
    const describe = eks.requests.find((r) => r.url === '/clusters/prod');
    expect(describe?.verdict).toMatchObject({ ok: true, service: 'eks', region: REGION });
    expect(sts.requests.at(-1)).toMatchObject({ method: 'GET', verdict: { ok: true, service: 'sts' } });
  });

  test('a missing cluster is named; a denied caller names the IAM action; unknown keys are rejected', async () => {
    await withEnv(awsEnv(deployer), async () => {
      await expect(awsDeps(REGION, () => undefined).describeCluster('nope')).rejects.toThrow("EKS cluster 'nope' was not found in eu-west-1");
    });
    eks.denyDescribe.add(intruder.arn);
    await withEnv(awsEnv(intruder), async () => {
      await expect(awsDeps(REGION, () => undefined).describeCluster('prod')).rejects.toThrow(/may not call eks:DescribeCluster on prod/);
    });
    await withEnv(awsEnv({ accessKeyId: 'AKIAUNKNOWN', secretAccessKey: 'x' }), async () => {
      await expect(awsDeps(REGION, () => undefined).callerArn('prod')).rejects.toThrow(/AWS rejected the credentials while calling sts:GetCallerIdentity \(InvalidClientTokenId\)/);
    });
  });
});

describe('eks-token mode of the bundle (exec credential plugin)', () => {
  test('prints an ExecCredential whose token STS accepts for this cluster only', async () => {
    const r = await runActionBundle({
      action: 'helm-deploy-eks',
      args: ['eks-token', '--cluster', 'prod', '--region', REGION],
      env: awsEnv(deployer),
    });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const cred = JSON.parse(r.stdout);
    expect(cred).toMatchObject({ kind: 'ExecCredential', apiVersion: 'client.authentication.k8s.io/v1beta1', spec: {} });
    const expires = Date.parse(cred.status.expirationTimestamp);
    expect(expires - Date.now()).toBeGreaterThan(13 * 60_000);
    expect(expires - Date.now()).toBeLessThanOrEqual(14 * 60_000);
    const url = decodeEksToken(cred.status.token);
    expect(url.origin).toBe(sts.url);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60');

    const call = async (cluster: string) => {
      const res = await fetch(url, { headers: { 'x-k8s-aws-id': cluster, accept: 'application/json' } });
      return { status: res.status, body: (await res.json()) as any };
    };
    const good = await call('prod');
    expect(good.status).toBe(200);
    expect(good.body.GetCallerIdentityResponse.GetCallerIdentityResult.Arn).toBe(deployer.arn);
    const other = await call('staging');
    expect(other.status).toBe(403);
    expect(other.body.Error.Code).toBe('SignatureDoesNotMatch');
  });

  test('fails with one line on stderr and no stdout when no credentials exist', async () => {
    const r = await runActionBundle({
      action: 'helm-deploy-eks',
      args: ['eks-token', '--cluster', 'prod', '--region', REGION],
      env: { AWS_ENDPOINT_URL_STS: sts.url, AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' },
      timeoutMs: 30_000,
    });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^helm-deploy-eks eks-token: .*credential/i);
  });
});

describe('tool installation from a mirror with checksum verification', () => {
  let archives: ToolArchives;
  beforeAll(async () => {
    archives = await startToolArchives();
  }, 300_000);
  afterAll(async () => archives?.stop());

  test('downloads, verifies, caches and reuses helm 4, helm 3 and kubectl', async () => {
    const runner = mkdtempSync(join(tmpdir(), 'da-tools-'));
    const logs: string[] = [];
    const deps = { tc, readFile: (p: string) => readFile(p, 'utf8'), chmod, log: (m: string) => void logs.push(m) };
    await withEnv({ RUNNER_TOOL_CACHE: join(runner, 'cache'), RUNNER_TEMP: join(runner, 'temp') }, async () => {
      const helm4 = await installTool(helmDownload(archives.helmBaseUrl, '4.1.4', 'amd64'), 'amd64', deps);
      expect(execFileSync(helm4, ['version', '--template', '{{.Version}}']).toString()).toBe('v4.1.4');
      expect(helm4).toBe(join(runner, 'cache', 'helm', '4.1.4', 'amd64', 'helm'));
      const helm3 = await installTool(helmDownload(archives.helmBaseUrl, '3.18.0', 'amd64'), 'amd64', deps);
      expect(execFileSync(helm3, ['version', '--template', '{{.Version}}']).toString()).toBe('v3.18.0');
      const kubectl = await installTool(kubectlDownload(archives.kubectlBaseUrl, '1.35.2', 'amd64'), 'amd64', deps);
      expect(execFileSync(kubectl, ['version', '--client', '-o', 'json']).toString()).toContain('v1.35.2');
      expect(logs.filter((l) => l.startsWith('sha256 '))).toHaveLength(3);

      const before = archives.requests.length;
      expect(await installTool(helmDownload(archives.helmBaseUrl, '4.1.4', 'amd64'), 'amd64', deps)).toBe(helm4);
      expect(archives.requests.length).toBe(before);
      expect(logs.at(-1)).toContain('from the tool cache');
    });
  });

  test('a checksum mismatch refuses the binary and caches nothing', async () => {
    const runner = mkdtempSync(join(tmpdir(), 'da-tools-'));
    const deps = { tc, readFile: (p: string) => readFile(p, 'utf8'), chmod, log: () => undefined };
    archives.tamper.add('/k8s/v1.35.2/bin/linux/amd64/kubectl');
    try {
      await withEnv({ RUNNER_TOOL_CACHE: join(runner, 'cache'), RUNNER_TEMP: join(runner, 'temp') }, async () => {
        await expect(installTool(kubectlDownload(archives.kubectlBaseUrl, '1.35.2', 'amd64'), 'amd64', deps)).rejects.toThrow(
          /Checksum mismatch for .*kubectl: expected 0{64}, got [a-f0-9]{64}; refusing to run it/,
        );
        expect(tc.find('kubectl', '1.35.2', 'amd64')).toBe('');
      });
    } finally {
      archives.tamper.clear();
    }
  });

  test('binary pins are the sha256 of the binaries the tests run; kubectl pins are the downloads', async () => {
    const tools = await ensureKubeTools();
    const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
    expect(pinnedSha256('helm', '4.2.3', 'amd64')).toEqual({ binary: sha(tools.newest.helm4) });
    expect(pinnedSha256('helm', '3.18.0', 'amd64')).toEqual({ binary: sha(tools.helm3) });
    expect(pinnedSha256('kubectl', DEFAULT_KUBECTL_VERSION, 'amd64')).toEqual({ archive: sha(tools.newest.kubectl) });
    expect(pinnedSha256('kubectl', '1.35.2', 'amd64')).toEqual({ archive: sha(tools.kubectl) });
  });

  test('the default helm of each line is pinned by its official archive: a mirror serving another build with a matching checksum file is refused', async () => {
    const runner = mkdtempSync(join(tmpdir(), 'da-tools-'));
    const deps = { tc, readFile: (p: string) => readFile(p, 'utf8'), chmod, log: () => undefined };
    for (const [major, served] of [[4, '/helm/helm-v4.2.3-linux-amd64.tar.gz'], [3, '/helm/helm-v3.18.0-linux-amd64.tar.gz']] as const) {
      const version = DEFAULT_HELM_VERSIONS[major];
      const pin = pinnedSha256('helm', version, 'amd64')?.archive;
      expect(pin).toMatch(/^[a-f0-9]{64}$/);
      archives.substitute.set(`/helm/helm-v${version}-linux-amd64.tar.gz`, served);
      try {
        await withEnv({ RUNNER_TOOL_CACHE: join(runner, 'cache'), RUNNER_TEMP: join(runner, 'temp') }, async () => {
          await expect(installTool(helmDownload(archives.helmBaseUrl, version, 'amd64'), 'amd64', deps)).rejects.toThrow(
            new RegExp(`^helm ${version.replace(/\./g, '\\.')} from \\S+ is not the pinned build: its archive has sha256 [a-f0-9]{64}, the pin is ${pin}; refusing to run it$`),
          );
          expect(tc.find('helm', version, 'amd64')).toBe('');
        });
      } finally {
        archives.substitute.clear();
      }
    }
  });

  test('defaults are checked against their pins; a mirror serving another build with a matching checksum file is refused', async () => {
    const runner = mkdtempSync(join(tmpdir(), 'da-tools-'));
    const logs: string[] = [];
    const deps = { tc, readFile: (p: string) => readFile(p, 'utf8'), chmod, log: (m: string) => void logs.push(m) };
    const helm423 = '/helm/helm-v4.2.3-linux-amd64.tar.gz';
    const kubectl1363 = '/k8s/v1.36.3/bin/linux/amd64/kubectl';
    await withEnv({ RUNNER_TOOL_CACHE: join(runner, 'cache'), RUNNER_TEMP: join(runner, 'temp') }, async () => {
      archives.substitute.set(helm423, '/helm/helm-v4.1.4-linux-amd64.tar.gz');
      archives.substitute.set(kubectl1363, '/k8s/v1.35.2/bin/linux/amd64/kubectl');
      try {
        await expect(installTool(helmDownload(archives.helmBaseUrl, '4.2.3', 'amd64'), 'amd64', deps)).rejects.toThrow(
          /^helm 4\.2\.3 from \S+ is not the pinned build: its helm binary has sha256 [a-f0-9]{64}, the pin is aeb4645b[a-f0-9]{56}; refusing to run it$/,
        );
        await expect(installTool(kubectlDownload(archives.kubectlBaseUrl, '1.36.3', 'amd64'), 'amd64', deps)).rejects.toThrow(/^kubectl 1\.36\.3 from .* is not the pinned build/);
        expect(tc.find('helm', '4.2.3', 'amd64')).toBe('');
        expect(tc.find('kubectl', '1.36.3', 'amd64')).toBe('');
      } finally {
        archives.substitute.clear();
      }
      await installTool(helmDownload(archives.helmBaseUrl, '4.2.3', 'amd64'), 'amd64', deps);
      await installTool(kubectlDownload(archives.kubectlBaseUrl, '1.36.3', 'amd64'), 'amd64', deps);
      expect(logs.filter((l) => / binary sha256 [a-f0-9]{64} equals the pin for /.test(l))).toEqual([
        expect.stringContaining('for helm 4.2.3 linux-amd64'),
        expect.stringContaining('for kubectl 1.36.3 linux-amd64'),
      ]);
    });
  });

  test('a missing version is a clear download error', async () => {
    const runner = mkdtempSync(join(tmpdir(), 'da-tools-'));
    const deps = { tc, readFile: (p: string) => readFile(p, 'utf8'), chmod, log: () => undefined };
    await withEnv({ RUNNER_TOOL_CACHE: join(runner, 'cache'), RUNNER_TEMP: join(runner, 'temp') }, async () => {
      await expect(installTool(helmDownload(archives.helmBaseUrl, '4.0.99', 'amd64'), 'amd64', deps)).rejects.toThrow(
        /Could not download helm 4\.0\.99 \(http:\/\/127\.0\.0\.1:\d+\/helm\/helm-v4\.0\.99-linux-amd64\.tar\.gz\)/,
      );
    });
  });
});
