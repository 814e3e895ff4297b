/**
 * The fault table (issue 23): for each endpoint the actions and commands call, a listener that
 * accepts the connection and never answers, and one that resets it. Each row asserts that the
 * step ends within the bound docs/deadlines.md gives, in one line naming the operation, the
 * endpoint and the time waited. The deadlines are the real ones (no input shortens them), so the
 * rows run side by side (ten at a time, the longest bounds first): the table takes
 * a little longer than its slowest row (the API server silent during helm upgrade: a 1 s `timeout`
 * + 60 s + 30 s to SIGKILL, the restore's 60 s, then the next run). A row runs the step itself: the build-push-ecr bundle (ECR through its own client), the
 * helm-deploy-eks bundle (the cluster's API server in kubeconfig mode, at helm history and lost
 * (reset, silent) during helm upgrade; STS and EKS in AWS mode;
 * CloudWatch through the bake's alarm check before the rollout and lost during the bake), the
 * promote-gate bundle (ECR, GitHub, KMS GetPublicKey in verify, KMS Sign in record), the
 * build-push-ecr bundle (KMS Sign of the build provenance, between the push and the SHA tag), the
 * deploy-environments and pnpm status commands (and, for the GitHub API, a port nothing listens
 * on), the tool-updates script; fault-call.ts makes the call of the two
 * that need more before them (the action's Kubernetes API client's own list, deploy-setup's read
 * of the stack outputs).
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, test, vi } from 'vitest';
import { WEAKENED } from '../../actions/promote-gate/src/inputs';
import { errorsOf, newRunnerDir, repoRoot, runActionBundle, type RunResult } from '../harness/runner';
import { startEksStandin, startStsStandin } from '../standins/eks/index';
import { startRegistry } from '../harness/registry';
import { manifestOf, pushImage } from '../harness/oci-push';
import { startEcrStandin } from '../standins/ecr';
import { startGithubStandin } from '../standins/github';
import { startCloudWatchStandin } from '../standins/cloudwatch/index';
import { startKubeStandin } from '../standins/kube/index';
import { startKmsStandin } from '../standins/kms/index';
import { startOidcTokenService } from '../executor/doubles/oidc';
import { dockerAvailable, prepareSampleService } from '../harness/docker';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { ensureKubeTools } from '../tools/kube-binaries';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const hasDocker = await dockerAvailable();
const ECR_IMAGE = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app@${DIGEST}`;
/**
 * What a loaded 2-core machine adds to a bound: timers fire late and processes exit late (the
 * rows run side by side with the rest of the suite). 10% and 2 s; a retry too many is 15 s more.
 */
const late = (bound: number) => bound * 1.1 + 2;

/** hang: accepts, never answers; reset: resets once the request arrives; refused: nothing listens on the port (the GitHub rows only). */
type Fault = 'hang' | 'reset' | 'refused';
const servers: Server[] = [];
const sockets: Socket[] = [];

/**
 * A listener that accepts and never answers, or that resets the connection once the request
 * arrives; `firstAt` is when the step first reached it (the bound counts from there: a row's
 * process start-up on a loaded machine is not the endpoint's fault).
 */
interface Listener {
  url: string;
  firstAt: () => number | undefined;
  /** The request lines that reached it (`GET /version`), for what the row asserts about writes. */
  requests: string[];
}
async function listener(fault: Fault): Promise<Listener> {
  if (fault === 'refused') {
    // A port that was just free: the connection is refused (nothing reaches it, so no firstAt).
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    return { url: `http://127.0.0.1:${port}`, firstAt: () => undefined, requests: [] };
  }
  let firstAt: number | undefined;
  const requests: string[] = [];
  const server = createServer((socket) => {
    firstAt ??= Date.now();
    sockets.push(socket);
    socket.on('data', (d: Buffer) => {
      const line = /^([A-Z]+ \S+) HTTP\/1/.exec(d.toString('latin1'))?.[1];
      if (line) requests.push(line);
    });
    if (fault === 'reset') socket.once('data', () => socket.resetAndDestroy());
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, firstAt: () => firstAt, requests };
}

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

const AWS_ENV = { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: 'eu-west-1', AWS_EC2_METADATA_DISABLED: 'true' };

/** Runs `command`, returning its stderr lines and how long it took. */
function runProcess(command: string, args: string[], env: Record<string, string>, cwd = repoRoot, annotations = false): Promise<Outcome> {
  return new Promise((done) => {
    const child = spawn(command, args, { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', (code) => {
      // A script run as an action step (runAction) says its error as the ::error:: command on stdout.
      const lines = annotations ? out.split('\n').filter((l) => l.startsWith('::error::')).map((l) => l.slice('::error::'.length)) : err.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('retrying:'));
      done({ code, lines, endedAt: Date.now() });
    });
  });
}

const tsx = resolve(repoRoot, 'test/node_modules/.bin/tsx');
const viaCall = (row: string, envName?: string) => async (url: string) =>
  runProcess(tsx, [resolve(repoRoot, 'test/security/fault-call.ts'), row, url], { ...AWS_ENV, ...(envName ? { [envName]: url } : {}) });

/** promote-gate's error lines, apart from its weakened-gate annotations (one per weakened rule, every run, by design). */
function gateErrors(r: RunResult): { lines: string[]; weakened: string[] } {
  const all = errorsOf(r);
  return { lines: all.filter((l) => !l.startsWith(WEAKENED)), weakened: all.filter((l) => l.startsWith(WEAKENED)) };
}

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
  return { code: r.exitCode, lines: gateErrors(r).lines, endedAt: Date.now() };
}

/** helm on PATH for the deploy rows (tools-from-path: no download in front of the row's endpoint). */
let helmBin: Promise<string> | undefined;
function helmOnPath(): Promise<string> {
  helmBin ??= ensureKubeTools().then((t) => {
    const dir = mkdtempSync(join(tmpdir(), 'faults-helm-'));
    symlinkSync(t.helm4, join(dir, 'helm'));
    return dir;
  });
  return helmBin;
}
const DEPLOY_DIGEST = `sha256:${'cd'.repeat(32)}`;

/**
 * helm-deploy-eks, the bundle, deploying the sample chart: in kubeconfig mode toward `server`, or in
 * AWS mode (`cluster-name`) with the given AWS endpoints. `extra`: more inputs (the bake's).
 * Returns the outcome, with what the row checks about side effects: whether helm upgrade ran and
 * whether a kubeconfig for the EKS cluster was written.
 */
async function viaDeploy(o: { server?: string; aws?: Record<string, string>; extra?: Record<string, string> }): Promise<Outcome & { upgraded: boolean; wroteKubeconfig: boolean; warnings: string[]; outputs: Record<string, string>; log: string }> {
  const bin = await helmOnPath();
  const runnerDir = newRunnerDir();
  const workspace = join(runnerDir, 'workspace');
  cpSync(join(repoRoot, 'test/fixtures/sample-service/chart'), join(workspace, 'chart'), { recursive: true });
  const mode: Record<string, string> = o.server ? { kubeconfig: 'kubeconfig.yaml' } : { 'cluster-name': 'prod', 'aws-region': 'eu-west-1' };
  if (o.server) {
    writeFileSync(
      join(workspace, 'kubeconfig.yaml'),
      `apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: c\n  cluster: { server: '${o.server}' }\ncontexts:\n- name: c\n  context: { cluster: c, user: u }\nusers:\n- name: u\n  user: { token: t0ken }\n`,
    );
  }
  const r: RunResult = await runActionBundle({
    action: 'helm-deploy-eks',
    runnerDir,
    workspace,
    with: { release: 'web', namespace: 'web', chart: 'chart', image: `127.0.0.1:5999/sample-service@${DEPLOY_DIGEST}`, 'tools-from-path': 'true', ...mode, ...o.extra },
    env: { PATH: `${bin}:${process.env.PATH ?? ''}`, AWS_EC2_METADATA_DISABLED: 'true', ...(o.aws ?? {}) },
    timeoutMs: 240_000,
  });
  return {
    code: r.exitCode,
    lines: errorsOf(r),
    warnings: r.annotations.filter((a) => a.level === 'warning').map((a) => a.message),
    endedAt: Date.now(),
    upgraded: /helm upgrade/.test(r.log),
    wroteKubeconfig: existsSync(join(runnerDir, 'temp', 'helm-deploy-eks', 'kubeconfig-prod.yaml')),
    outputs: r.outputs,
    log: r.log,
  };
}

/** The tool-updates workflow's script in apply mode, its releases API at the listener. */
async function viaToolUpdates(url: string): Promise<Outcome> {
  const r = await runProcess(tsx, [resolve(repoRoot, 'packages/release/src/tool-updates-cli.ts')], { GITHUB_REPOSITORY: 'org/deploy-actions', INPUT_MODE: 'apply', GITHUB_WORKSPACE: repoRoot, TOOL_RELEASES_API_URL: url, GITHUB_STEP_SUMMARY: join(mkdtempSync(join(tmpdir(), 'faults-')), 'summary') }, resolve(repoRoot, 'packages/release'), true);
  return r;
}

async function viaEnvironmentsTool(url: string) {
  const dir = mkdtempSync(join(tmpdir(), 'faults-'));
  writeFileSync(join(dir, 'envs.yml'), 'environments:\n  qa: {}\n');
  return runProcess(tsx, [resolve(repoRoot, 'packages/environments/src/cli.ts'), '--repo', 'acme/app', '--file', join(dir, 'envs.yml'), '--check'], { GITHUB_TOKEN: 'ghs_token', GITHUB_API_URL: url });
}

/** `pnpm status` (promote-gate's command), its GitHub API at the listener. */
function viaStatus(url: string): Promise<Outcome> {
  return runProcess(tsx, [resolve(repoRoot, 'actions/promote-gate/src/cli.ts'), '--repo', 'acme/app', '--repository', 'team/app'], { GITHUB_TOKEN: 'ghs_token', GITHUB_API_URL: url });
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
  /** Runs the step toward the listener; `lines` are the lines the fault must be the only one of. */
  run: (l: Listener) => Promise<Outcome>;
  /** Seconds: the worst case before the line, from docs/deadlines.md. */
  bound: number;
}
const row = (endpoint: string, operation: RegExp, run: Row['run'], hang: number, reset: number): Row[] => [
  { endpoint, operation, fault: 'hang', run, bound: hang },
  { endpoint, operation, fault: 'reset', run, bound: reset },
];
const url = (run: (url: string) => Promise<Outcome>) => (l: Listener) => run(l.url);

const DEPLOYER = { accessKeyId: 'AKIAFAULTS000000001', secretAccessKey: 'faults-secret', arn: 'arn:aws:sts::111122223333:assumed-role/deployer/faults' };
const DEPLOYER_ENV = { AWS_ACCESS_KEY_ID: DEPLOYER.accessKeyId, AWS_SECRET_ACCESS_KEY: DEPLOYER.secretAccessKey, AWS_REGION: 'eu-west-1' };
const stops: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const stop of stops) await stop();
});

/** The cluster's API server, silent or resetting: helm history (the first call to the cluster) ends the step; nothing was written. */
async function clusterRow(l: Listener): Promise<Outcome> {
  const r = await viaDeploy({ server: l.url });
  expect(r.upgraded, 'helm upgrade ran').toBe(false);
  expect(l.requests.filter((q) => !q.startsWith('GET ')), 'a write reached the API server').toEqual([]);
  return r;
}

/** The helm mirror silent or resetting: the download ends the step; the cluster (a silent listener) never reached, helm never ran. */
async function downloadRow(l: Listener): Promise<Outcome> {
  const cluster = await listener('hang');
  const r = await viaDeploy({ server: cluster.url, extra: { 'tools-from-path': 'false', 'helm-base-url': l.url } });
  expect(cluster.firstAt(), 'the cluster was reached').toBeUndefined();
  expect(r.upgraded).toBe(false);
  return r;
}

/** STS silent or resetting: the caller's identity is a warning (docs/deadlines.md); the step goes on to DescribeCluster, which here knows no cluster. */
async function stsRow(l: Listener): Promise<Outcome> {
  const eks = await startEksStandin({ region: 'eu-west-1', identities: [DEPLOYER], clusters: [] });
  stops.push(() => eks.stop());
  const r = await viaDeploy({ aws: { ...DEPLOYER_ENV, AWS_ENDPOINT_URL_STS: l.url, AWS_ENDPOINT_URL_EKS: eks.url } });
  expect(r.lines).toEqual(["EKS cluster 'prod' was not found in eu-west-1: check cluster-name and aws-region"]);
  expect(eks.requests.length, 'the step went on to DescribeCluster').toBeGreaterThan(0);
  expect(r.upgraded).toBe(false);
  return { ...r, lines: r.warnings.filter((w) => /sts:GetCallerIdentity/.test(w)).map((w) => w.replace(/^Could not read the AWS identity \(sts:GetCallerIdentity\): /, '')) };
}

/** EKS silent or resetting: DescribeCluster ends the step before any kubeconfig is written or helm runs. */
async function eksRow(l: Listener): Promise<Outcome> {
  const sts = await startStsStandin({ region: 'eu-west-1', identities: [DEPLOYER] });
  stops.push(() => sts.stop());
  const r = await viaDeploy({ aws: { ...DEPLOYER_ENV, AWS_ENDPOINT_URL_STS: sts.url, AWS_ENDPOINT_URL_EKS: l.url } });
  expect(r.wroteKubeconfig, 'a kubeconfig was written').toBe(false);
  expect(r.upgraded).toBe(false);
  return r;
}

/**
 * CloudWatch silent or resetting when the bake's alarms are read before the rollout: refused
 * before the rollout (a bake that cannot read its alarms never starts), the cluster not reached.
 */
async function cloudwatchRow(l: Listener): Promise<Outcome> {
  const cluster = await listener('hang');
  const r = await viaDeploy({ server: cluster.url, aws: { ...DEPLOYER_ENV, AWS_ENDPOINT_URL_CLOUDWATCH: l.url }, extra: { 'bake-duration': '2m', 'bake-alarms': 'web-5xx' } });
  expect(cluster.firstAt(), 'the cluster was reached before the alarms were read').toBeUndefined();
  expect(r.upgraded).toBe(false);
  return r;
}

/**
 * An endpoint that answers, then fails: a proxy in front of a stand-in that forwards requests
 * while `answers(method, url)` says so (asked once per request, in order) and from the first it
 * refuses on stays silent or resets every request; `firstAt` is that first request. `heal()`
 * makes it forward again (the next run's cluster is back).
 */
async function failingAfter(target: string, fault: Fault, answers: (method: string, url: string) => boolean): Promise<Listener & { heal(): void }> {
  let firstAt: number | undefined;
  let healed = false;
  const requests: string[] = [];
  const to = new URL(target);
  const server = createHttpServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (healed || (firstAt === undefined && answers(req.method ?? 'GET', req.url ?? '/'))) {
      const up = httpRequest({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
      return;
    }
    firstAt ??= Date.now();
    sockets.push(req.socket);
    if (fault === 'reset') req.socket.resetAndDestroy();
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, firstAt: () => firstAt, requests, heal: () => (healed = true) };
}

/** CloudWatch that answers the alarm check before the rollout (one request), then fails. */
async function cloudwatchLost(fault: Fault): Promise<Listener> {
  const cw = await startCloudWatchStandin({ accessKeyId: DEPLOYER.accessKeyId, region: 'eu-west-1' });
  stops.push(() => cw.stop());
  cw.setAlarm('web-5xx', 'OK');
  let seen = 0;
  return failingAfter(cw.url, fault, () => seen++ < 1);
}

/**
 * A bake that loses CloudWatch: the alarms were read before the rollout, the release deployed and
 * validated on a cluster (the Kubernetes stand-in, fake runtime), then CloudWatch goes silent or
 * resets. The unreadable alarms are a breach: the release is rolled back like any breach (here a
 * first install, so uninstalled), and the step ends in the breach line naming the read's fault.
 */
async function bakeRow(fault: Fault): Promise<Outcome & { url: string; firstAt: () => number | undefined }> {
  const cw = await cloudwatchLost(fault);
  const kube = await startKubeStandin({ runtime: 'fake' });
  stops.push(() => kube.stop());
  const r = await viaDeploy({ server: kube.url, aws: { ...DEPLOYER_ENV, AWS_ENDPOINT_URL_CLOUDWATCH: cw.url }, extra: { 'bake-duration': '2m', 'bake-interval': '1s', 'bake-alarms': 'web-5xx', timeout: '1m', 'create-namespace': 'true' } });
  expect(r.upgraded, 'the release was never deployed').toBe(true);
  expect(r.outputs['bake-result'], r.lines.join('\n')).toBe('breached');
  expect(r.lines[0]).toMatch(/; uninstalled web \(bake breach; no validated release in this environment, so the previous helm revision; it had no earlier good revision\)$/);
  const releases = kube.list('Secret', 'web').filter((x) => x.metadata.labels?.owner === 'helm');
  expect(releases, 'a release record was left').toEqual([]);
  return { ...r, url: cw.url, firstAt: cw.firstAt };
}
const bakeLost = (fault: Fault) => async (l: Listener) => {
  const r = await bakeRow(fault);
  // The row's own listener is not used: the proxy above is the endpoint that fails.
  Object.assign(l, { url: r.url, firstAt: r.firstAt });
  return r;
};

/**
 * The cluster's API server lost during helm upgrade (the Kubernetes stand-in, fake runtime, behind
 * a proxy that, once helm wrote the release's pending record, resets every request or stays silent):
 * helm's fault ends the step in the one line, the restore cannot reach the cluster either and the
 * line says so. Nothing half-done stays: the next run, the cluster back, finds the release left
 * pending, removes it (a first install) with its warning, and deploys.
 * Reset: helm's client retries for about 10 s, and the line is helm's fault. Silent: helm waits
 * without a deadline of its own, so the action stops it at its `timeout` (1 s here) + 60 s (SIGTERM,
 * SIGKILL 30 s later), then the restore's helm history meets the same silence for 60 s.
 */
const upgradeLost = (fault: Fault) => async (l: Listener): Promise<Outcome> => {
  const kube = await startKubeStandin({ runtime: 'fake' });
  stops.push(() => kube.stop());
  let pendingWritten = false;
  const api = await failingAfter(kube.url, fault, (method, path) => {
    if (pendingWritten) return false;
    if (method === 'POST' && /\/namespaces\/web\/secrets/.test(path)) pendingWritten = true;
    return true;
  });
  const extra = { timeout: fault === 'hang' ? '1s' : '1m', 'create-namespace': 'true' };
  const r = await viaDeploy({ server: api.url, extra });
  expect(r.upgraded).toBe(true);
  const restoreFault = fault === 'hang' ? 'no answer within 60 s \\(60 s waited\\)' : 'the connection was reset \\([\\d.]+ s waited\\); helm: .*';
  expect(r.lines[0]).toMatch(new RegExp(`; not restored, the cluster could not be reached \\(helm history web: the cluster API server \\(.*\\): ${restoreFault}\\): the next run restores a release left pending before it upgrades$`));
  const left = kube.list('Secret', 'web').filter((x) => x.metadata.labels?.owner === 'helm').map((x) => x.metadata.labels?.status);
  expect(left, 'the pending record helm wrote').toEqual(['pending-install']);
  expect(r.outputs.status, 'the release state was not read again from a lost cluster').toBe('unknown');
  api.heal();
  const next = await viaDeploy({ server: api.url, extra: { ...extra, timeout: '1m' } });
  expect(next.code, next.lines.join('\n')).toBe(0);
  expect(next.warnings.join('\n')).toMatch(/Release web was stuck in pending-install \(revision 1\), probably by a cancelled run: uninstalled web/);
  Object.assign(l, { url: api.url, firstAt: api.firstAt });
  return r;
};

/**
 * build-push-ecr, the bundle, building app/Dockerfile (no git checkout: the event's commit): its
 * first ECR reads (DescribeRepositories, BatchGetImage, GetLifecyclePolicy) go out together
 * through its own JSON-protocol client; DescribeRepositories ends the step (the lifecycle read is
 * a warning). docker and git are recording shims: nothing was built, logged in to or pushed.
 */
async function viaBuild(url: string): Promise<Outcome> {
  const runnerDir = newRunnerDir();
  const workspace = join(runnerDir, 'workspace');
  mkdirSync(join(workspace, 'app'), { recursive: true });
  writeFileSync(join(workspace, 'app', 'Dockerfile'), 'FROM scratch\n');
  const shims = join(runnerDir, 'bin');
  const calls = join(runnerDir, 'calls.log');
  mkdirSync(shims);
  writeFileSync(calls, '');
  for (const tool of ['docker', 'git']) writeFileSync(join(shims, tool), `#!/bin/sh\necho "${tool} $*" >> '${calls}'\nexit 1\n`, { mode: 0o755 });
  const r = await runActionBundle({
    action: 'build-push-ecr',
    runnerDir,
    workspace,
    with: { repository: 'team/app', 'aws-region': 'eu-west-1', context: 'app' },
    env: { ...AWS_ENV, PATH: shims, AWS_ENDPOINT_URL_ECR: url },
    timeoutMs: 120_000,
  });
  expect(readFileSync(calls, 'utf8'), 'docker ran').not.toMatch(/^docker /m);
  return { code: r.exitCode, lines: errorsOf(r), endedAt: Date.now() };
}

const KMS_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/** One registry, ECR and GitHub for the record rows: an image under the commit's build tag, a token that may write deployments. */
const WRITER = 'ghs_faults_writer_0123456789';
const RECORD_SHA = '0123456789abcdef0123456789abcdef01234567';
let recordWorld: Promise<{ ecr: Awaited<ReturnType<typeof startEcrStandin>>; gh: Awaited<ReturnType<typeof startGithubStandin>>; registry: Awaited<ReturnType<typeof startRegistry>>; digest: string }> | undefined;
function startRecordWorld() {
  recordWorld ??= (async () => {
    const registry = await startRegistry();
    stops.push(registry.stop);
    const ecr = await startEcrStandin({ registry });
    stops.push(ecr.stop);
    const gh = await startGithubStandin({ repositories: ['acme/app'], tokens: { [WRITER]: { permissions: { deployments: 'write' } } } });
    stops.push(gh.stop);
    const digest = await pushImage(registry, 'team/app', RECORD_SHA.slice(0, 7), 'faults-record');
    ecr.adopt('team/app', 'MUTABLE');
    return { registry, ecr, gh, digest };
  })();
  return recordWorld;
}

/**
 * promote-gate record in preprod with preprod's evidence key, the bundle: KMS Sign silent or
 * resetting ends the step before any write (no deployment, no status, no environment tag).
 */
async function recordRow(l: Listener): Promise<Outcome> {
  const w = await startRecordWorld();
  const r = await runActionBundle({
    action: 'promote-gate',
    with: { mode: 'record', environment: 'preprod', repository: 'team/app', digest: w.digest, 'github-token': WRITER, 'evidence-keys': `preprod=${KMS_KEY}` },
    env: { ...w.ecr.env, AWS_ENDPOINT_URL_KMS: l.url, GITHUB_API_URL: w.gh.url, GITHUB_SHA: RECORD_SHA, GITHUB_REF: 'refs/heads/main', GITHUB_REF_NAME: 'main', GITHUB_REPOSITORY: 'acme/app' },
    eventName: 'push',
    event: {},
    timeoutMs: 120_000,
  });
  expect(w.gh.state.deployments, 'a deployment was written').toEqual([]);
  expect(w.gh.state.statuses).toEqual([]);
  expect(await manifestOf(w.registry, 'team/app', 'preprod-0123456'), 'the environment tag was written').toBeUndefined();
  // Without provenance-kms-key, record says every run that it did not check the build provenance
  // (one error annotation by design, as viaGate's weakened gate): the fault's line is the other.
  const { lines, weakened } = gateErrors(r);
  expect(weakened, lines.join('\n')).toHaveLength(1);
  return { code: r.exitCode, lines, endedAt: Date.now() };
}
/** One registry, ECR, KMS (the provenance key) and OIDC token service for the build-push-ecr rows. */
const BUILD_SHAS: Record<'hang' | 'reset', string> = { hang: 'f1e2d3c4b5a6978812345678901234567890abcd', reset: 'e1d2c3b4a5f6978812345678901234567890abcd' };
let buildWorld: Promise<{ ecr: Awaited<ReturnType<typeof startEcrStandin>>; kms: Awaited<ReturnType<typeof startKmsStandin>>; registry: Awaited<ReturnType<typeof startRegistry>>; keyArn: string; oidc: Record<string, string> }> | undefined;
function startBuildWorld() {
  buildWorld ??= (async () => {
    const registry = await startRegistry();
    stops.push(registry.stop);
    const ecr = await startEcrStandin({ registry });
    stops.push(ecr.stop);
    const kms = await startKmsStandin({ iam: ecr.iam, accountId: ecr.accountId });
    stops.push(kms.stop);
    const key = kms.createKey({ policy: { Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ecr.accountId}:root` }, Action: 'kms:*', Resource: '*' }] } });
    const tokens = await startOidcTokenService();
    stops.push(tokens.stop);
    const oidc = tokens.jobEnv({ github: { repository: 'acme/app', ref: 'refs/heads/main', run_id: '7001' }, job: { workflowRef: 'org/deploy-actions/.github/workflows/build.yml@refs/tags/v1', permissions: { 'id-token': 'write' } } });
    return { registry, ecr, kms, keyArn: key.arn, oidc };
  })();
  return buildWorld;
}

/** The digest a tag names in the registry, or undefined. */
async function tagged(registry: Awaited<ReturnType<typeof startRegistry>>, repo: string, tag: string): Promise<string | undefined> {
  const res = await fetch(`${registry.url}/v2/${repo}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { Authorization: registry.authHeader, Accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json' },
  });
  return res.ok ? (res.headers.get('docker-content-digest') ?? undefined) : undefined;
}

/**
 * build-push-ecr with provenance-kms-key, the bundle and the real docker: KMS Sign silent or
 * resetting while the build provenance is written (after the push, before any permanent tag).
 * The step ends with the one line; no SHA tag (and no staging tag) is left in the registry; a
 * re-run with KMS back builds, signs and tags the image.
 */
const buildRow = (fault: 'hang' | 'reset') => async (l: Listener): Promise<Outcome> => {
  const w = await startBuildWorld();
  const sha = BUILD_SHAS[fault];
  const repo = `team/built-${fault}`;
  const step = (kmsUrl: string) =>
    runActionBundle({
      action: 'build-push-ecr',
      workspace: prepareSampleService(),
      with: { repository: repo, builder: 'docker', 'provenance-kms-key': w.keyArn },
      env: { ...w.ecr.env, ...w.oidc, AWS_ENDPOINT_URL_KMS: kmsUrl, GITHUB_SHA: sha, GITHUB_REPOSITORY: 'acme/app', GITHUB_REF: 'refs/heads/main', GITHUB_RUN_ID: '7001' },
      timeoutMs: 170_000,
    });
  const r = await step(l.url);
  const endedAt = Date.now();
  const lines = errorsOf(r);
  expect(await tagged(w.registry, repo, sha.slice(0, 7)), 'the SHA tag was pushed before the provenance').toBeUndefined();
  const left = ((await (await fetch(`${w.registry.url}/v2/${repo}/tags/list`, { headers: { Authorization: w.registry.authHeader } })).json()) as { tags?: string[] | null }).tags ?? [];
  expect(left, 'a tag was left behind').toEqual([]);
  const again = await step(w.kms.url);
  expect(again.exitCode, again.stdout + again.stderr).toBe(0);
  expect(again.outputs.skipped).toBe('false');
  expect(await tagged(w.registry, repo, sha.slice(0, 7))).toBe(again.outputs.digest);
  expect(again.log).toContain(`Provenance of ${again.outputs.digest} signed with ${w.keyArn}`);
  return { code: r.exitCode, lines, endedAt };
};

const ROWS: Row[] = [
  ...row('ECR (build-push-ecr: its JSON-protocol client)', /^ecr:DescribeRepositories on team\/app/, url(viaBuild), 30.4, 15),
  ...row('ECR (promote-gate verify)', /^ecr:DescribeImages on team\/app/, url((u) => viaGate({ evidence: 'ecr' }, (x) => ({ AWS_ENDPOINT_URL_ECR: x }), u)), 30.4, 15),
  // The first call of a deploy without tools-from-path: helm from helm-base-url (the tool cache empty).
  ...row('helm download (helm-deploy-eks: helm-base-url)', /^download helm/, downloadRow, 40, 10),
  ...row("STS (helm-deploy-eks, AWS mode: the caller's identity, a warning)", /^sts:GetCallerIdentity on \*/, stsRow, 30.4, 15),
  ...row('EKS (helm-deploy-eks, AWS mode: DescribeCluster)', /^eks:DescribeCluster on prod/, eksRow, 30.4, 15),
  ...row("CloudWatch (helm-deploy-eks: the bake's alarms, before the rollout)", /^The bake's alarms cannot be read, so nothing was deployed: cloudwatch:DescribeAlarms on web-5xx/, cloudwatchRow, 30.4, 15),
  // The alarm read's worst case (as above), then helm uninstall of the release that breached.
  { endpoint: "CloudWatch (helm-deploy-eks: the bake's alarms, lost during the bake)", operation: /^Bake of web failed: the alarms cannot be read \(cloudwatch:DescribeAlarms on web-5xx/, fault: 'hang', run: bakeLost('hang'), bound: 45 },
  { endpoint: "CloudWatch (helm-deploy-eks: the bake's alarms, lost during the bake)", operation: /^Bake of web failed: the alarms cannot be read \(cloudwatch:DescribeAlarms on web-5xx/, fault: 'reset', run: bakeLost('reset'), bound: 30 },
  ...row('KMS (promote-gate verify: the public key)', /^kms:GetPublicKey on arn:aws:kms:/, url((u) => viaGate({ 'evidence-keys': `qa=${KMS_KEY}` }, (x) => ({ AWS_ENDPOINT_URL_KMS: x }), u)), 30.4, 15),
  ...row('KMS (promote-gate record: sign)', /^kms:Sign on arn:aws:kms:/, recordRow, 30.4, 15),
  ...(hasDocker
    ? [
        { endpoint: "KMS (build-push-ecr: sign the build provenance, before the SHA tag)", operation: /^kms:Sign on arn:aws:kms:/, fault: 'hang' as const, run: buildRow('hang'), bound: 30.4 },
        { endpoint: "KMS (build-push-ecr: sign the build provenance, before the SHA tag)", operation: /^kms:Sign on arn:aws:kms:/, fault: 'reset' as const, run: buildRow('reset'), bound: 15 },
      ]
    : []),
  // A reset ends helm after its client's own retries (about 10 s) with its error line, kept whole after ours.
  ...row("the cluster's API server (helm-deploy-eks, kubeconfig mode: helm history)", /^helm history web: the cluster API server/, clusterRow, 60, 15),
  ...row('CloudFormation (deploy-setup github/doctor: the stack outputs)', /^cloudformation:DescribeStacks on stack deploy-actions-build/, url(viaCall('stack-outputs', 'AWS_ENDPOINT_URL_CLOUDFORMATION')), 30.4, 15),
  // Reset: helm's client retries a reset for about 10 s, twice: the upgrade, then the restore's helm
  // history. Silent: the upgrade's `timeout` (1 s) + 60 s + 30 s from SIGTERM to SIGKILL, then the
  // restore's helm history 60 s (docs/deadlines.md); the line's time waited is the upgrade's.
  { endpoint: "the cluster's API server lost during helm upgrade (helm-deploy-eks)", operation: /^helm upgrade web: the cluster API server/, fault: 'hang', run: upgradeLost('hang'), bound: 1 + 60 + 30 + 60 },
  { endpoint: "the cluster's API server lost during helm upgrade (helm-deploy-eks)", operation: /^helm upgrade web: the cluster API server/, fault: 'reset', run: upgradeLost('reset'), bound: 25 },
  ...row("the cluster's API server (the action's Kubernetes API client)", /^list pods: the Kubernetes API server/, url(viaCall('kube')), 40, 1),
  ...row('GitHub API (promote-gate verify)', /deployments/, url((u) => viaGate({ evidence: 'github' }, (x) => ({ GITHUB_API_URL: x }), u)), 31, 15),
  ...row('GitHub API (deploy-environments --check)', /GitHub|environments/, url(viaEnvironmentsTool), 31, 15),
  ...row('GitHub API (pnpm status)', /^GitHub: .*deployments/, url(viaStatus), 31, 15),
  // Nothing listening (issue 23: `connect ECONNREFUSED 127.0.0.1:port` named neither the service
  // nor the call): up to 5 attempts, backoff of at most 1, 2, 4, 8 s.
  ...[
    ['GitHub API (promote-gate verify)', /deployments/, url((u) => viaGate({ evidence: 'github' }, (x) => ({ GITHUB_API_URL: x }), u))],
    ['GitHub API (deploy-environments --check)', /GitHub|environments/, url(viaEnvironmentsTool)],
    ['GitHub API (pnpm status)', /^GitHub: .*deployments/, url(viaStatus)],
  ].map(([endpoint, operation, run]): Row => ({ endpoint: endpoint as string, operation: operation as RegExp, fault: 'refused', run: run as Row['run'], bound: 15 })),
  ...row('GitHub API (tool-updates: the releases list)', /^releases of helm\/helm: GET /, url(viaToolUpdates), 15, 15),
];

describe('fault table: every endpoint, silent and reset, ends within its documented bound in one line', () => {
  // Named in full (vitest cuts a $-interpolated string at 40 characters, and rows would share names).
  // The rows wait on real deadlines and use little CPU: ten run at a time (vitest's default is
  // five), the longest bounds first, so the table takes about its slowest row (~160 s) rather than
  // the sum of its rows (~920 s) over five.
  vi.setConfig({ maxConcurrency: 10 });
  const named = [...ROWS].sort((a, b) => b.bound - a.bound).map((r): [string, Row] => [`${r.endpoint}: ${r.fault}, the line within ${r.bound} s`, r]);
  test.concurrent.each(named)('%s', async (_name, { operation, fault, run, bound: boundS }: Row) => {
    const l = await listener(fault);
    const r = await run(l);
    const { url, firstAt } = l;
    expect(r.code, r.lines.join('\n')).toBe(1);
    expect(r.lines).toHaveLength(1);
    const line = r.lines[0]!.replace(/^error: /, '');
    expect(line).toMatch(operation);
    expect(line).toContain(url.replace('http://', ''));
    expect(line).toMatch({ hang: /no answer within \d+ s/, reset: /the connection was reset/, refused: /the connection was refused/ }[fault]);
    // After the time waited, a child process's own error line may follow (helm's, never cut), or
    // the rest of the line the fault is the cause of (a bake breach, the restore).
    const waited = /\((?:(\d+) attempts, )?([\d.]+) s waited\)(?:$|; |\); )/.exec(line);
    expect(waited, line).not.toBeNull();
    expect(Number(waited![2])).toBeLessThanOrEqual(late(boundS));
    if (fault === 'refused') return;
    expect(firstAt(), 'the step never reached the endpoint').toBeDefined();
    expect((r.endedAt - firstAt()!) / 1000).toBeLessThanOrEqual(late(boundS) + 1);
  }, 360_000);
});
