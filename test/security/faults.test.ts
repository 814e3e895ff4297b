/**
 * The fault table (issue 23): for each endpoint the actions and commands call, a listener that
 * accepts the connection and never answers, and one that resets it. Each row asserts that the
 * step ends within the bound docs/deadlines.md gives, in one line naming the operation, the
 * endpoint and the time waited. The deadlines are the real ones (no input shortens them), so the
 * rows run side by side: the table takes about as long as its slowest row (the Kubernetes API's
 * two 20 s attempts). A row is a process of its own: the promote-gate bundle (ECR, GitHub), the
 * deploy-environments command, or fault-call.ts making the action's call with the action's own
 * client (STS, EKS, CloudWatch, KMS, the Kubernetes API client).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { errorsOf, repoRoot, runActionBundle } from '../harness/runner';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const ECR_IMAGE = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app@${DIGEST}`;
/**
 * What a loaded 2-core machine adds to a bound: timers fire late and processes exit late (the
 * rows run side by side with the rest of the suite). 10% and 2 s; a retry too many is 15 s more.
 */
const late = (bound: number) => bound * 1.1 + 2;

type Fault = 'hang' | 'reset';
const servers: Server[] = [];
const sockets: Socket[] = [];

/**
 * A listener that accepts and never answers, or that resets the connection once the request
 * arrives; `firstAt` is when the step first reached it (the bound counts from there: a row's
 * process start-up on a loaded machine is not the endpoint's fault).
 */
async function listener(fault: Fault): Promise<{ url: string; firstAt: () => number | undefined }> {
  let firstAt: number | undefined;
  const server = createServer((socket) => {
    firstAt ??= Date.now();
    sockets.push(socket);
    if (fault === 'reset') socket.once('data', () => socket.resetAndDestroy());
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, firstAt: () => firstAt };
}

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

const AWS_ENV = { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: 'eu-west-1', AWS_EC2_METADATA_DISABLED: 'true' };

/** Runs `command`, returning its stderr lines and how long it took. */
function runProcess(command: string, args: string[], env: Record<string, string>, cwd = repoRoot): Promise<Outcome> {
  return new Promise((done) => {
    const child = spawn(command, args, { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stdout.resume();
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', (code) => done({ code, lines: err.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('retrying:')), endedAt: Date.now() }));
  });
}

const tsx = resolve(repoRoot, 'test/node_modules/.bin/tsx');
const viaCall = (row: string, envName?: string) => async (url: string) =>
  runProcess(tsx, [resolve(repoRoot, 'test/security/fault-call.ts'), row, url], { ...AWS_ENV, ...(envName ? { [envName]: url } : {}) });

/**
 * promote-gate verify of a deploy to preprod that requires qa's evidence of one source: unsigned,
 * so with weaken-promotion-gate (its error annotation, by design in every such run, is left out).
 */
async function viaGate(w: Record<string, string>, env: (url: string) => Record<string, string>, url: string): Promise<Outcome> {
  const r = await runActionBundle({
    action: 'promote-gate',
    with: { mode: 'verify', 'image-ref': ECR_IMAGE, 'github-token': 'ghs_token', 'target-environment': 'preprod', 'require-environment': 'qa', 'weaken-promotion-gate': 'true', ...w },
    env: { ...AWS_ENV, GITHUB_API_URL: 'http://127.0.0.1:9', GITHUB_REF: 'refs/heads/main', GITHUB_REPOSITORY: 'acme/app', GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567', ...env(url) },
    timeoutMs: 120_000,
  });
  return { code: r.exitCode, lines: errorsOf(r).filter((l) => !l.startsWith('Weakened promotion gate: ')), endedAt: Date.now() };
}

async function viaEnvironmentsTool(url: string) {
  const dir = mkdtempSync(join(tmpdir(), 'faults-'));
  writeFileSync(join(dir, 'envs.yml'), 'environments:\n  qa: {}\n');
  return runProcess(tsx, [resolve(repoRoot, 'packages/environments/src/cli.ts'), '--repo', 'acme/app', '--file', join(dir, 'envs.yml'), '--check'], { GITHUB_TOKEN: 'ghs_token', GITHUB_API_URL: url });
}

interface Outcome {
  code: number | null;
  lines: string[];
  endedAt: number;
}

/**
 * The rows: endpoint, operation (as the line names it), the fault, how the step is run, and the
 * bound from docs/deadlines.md in seconds (the worst case before the line).
 */
interface Row {
  endpoint: string;
  /** The operation, as the line names it. */
  operation: RegExp;
  fault: Fault;
  run: (url: string) => Promise<Outcome>;
  /** Seconds: the worst case before the line, from docs/deadlines.md. */
  bound: number;
}
const row = (endpoint: string, operation: RegExp, run: Row['run'], hang: number, reset: number): Row[] => [
  { endpoint, operation, fault: 'hang', run, bound: hang },
  { endpoint, operation, fault: 'reset', run, bound: reset },
];
const ROWS: Row[] = [
  ...row('ECR (promote-gate verify)', /^ecr:DescribeImages on team\/app/, (u) => viaGate({ evidence: 'ecr' }, (url) => ({ AWS_ENDPOINT_URL_ECR: url }), u), 30.4, 15),
  ...row("STS (helm-deploy-eks: the caller's identity)", /^sts:GetCallerIdentity on \*/, viaCall('sts'), 30.4, 15),
  ...row('EKS (helm-deploy-eks: DescribeCluster)', /^eks:DescribeCluster on prod/, viaCall('eks', 'AWS_ENDPOINT_URL_EKS'), 30.4, 15),
  ...row("CloudWatch (helm-deploy-eks: the bake's alarms)", /^cloudwatch:DescribeAlarms on web-5xx/, viaCall('cloudwatch', 'AWS_ENDPOINT_URL_CLOUDWATCH'), 30.4, 15),
  ...row('KMS (promote-gate verify: the public key)', /^kms:GetPublicKey on arn:aws:kms:/, viaCall('kms-verify', 'AWS_ENDPOINT_URL_KMS'), 30.4, 15),
  ...row('KMS (promote-gate record: sign)', /^kms:Sign on arn:aws:kms:/, viaCall('kms-sign', 'AWS_ENDPOINT_URL_KMS'), 30.4, 15),
  ...row("the cluster's API server (the Kubernetes API client)", /^list pods: the Kubernetes API server/, viaCall('kube'), 40, 1),
  ...row('GitHub API (promote-gate verify)', /deployments/, (u) => viaGate({ evidence: 'github' }, (url) => ({ GITHUB_API_URL: url }), u), 31, 15),
  ...row('GitHub API (deploy-environments --check)', /GitHub|environments/, viaEnvironmentsTool, 31, 15),
];

describe('fault table: every endpoint, silent and reset, ends within its documented bound in one line', () => {
  test.concurrent.each(ROWS)('$endpoint: $fault, the line within $bound s', async ({ operation, fault, run, bound: boundS }: Row) => {
    const { url, firstAt } = await listener(fault);
    const r = await run(url);
    expect(r.code, r.lines.join('\n')).toBe(1);
    expect(r.lines).toHaveLength(1);
    const line = r.lines[0]!.replace(/^error: /, '');
    expect(line).toMatch(operation);
    expect(line).toContain(url.replace('http://', ''));
    expect(line).toMatch(fault === 'hang' ? /no answer within \d+ s/ : /the connection was reset/);
    const waited = /\((?:(\d+) attempts, )?([\d.]+) s waited\)$/.exec(line);
    expect(waited, line).not.toBeNull();
    expect(Number(waited![2])).toBeLessThanOrEqual(late(boundS));
    expect(firstAt(), 'the step never reached the endpoint').toBeDefined();
    expect((r.endedAt - firstAt()!) / 1000).toBeLessThanOrEqual(late(boundS) + 1);
  }, 180_000);
});
