/**
 * What an action costs before it does any work, side by side in one run on one node binary:
 * - build-push-ecr's skip path (the SHA is already in ECR) against the ECR stand-in, beside
 *   amazon-ecr-login's main step (GetAuthorizationToken + docker login) against the same
 *   stand-in; goal: skip path <= 0.5 of the peer's. Measured as a real run takes it: with
 *   `provenance-kms-key` (build.yml passes PROVENANCE_KMS_KEY), the image carrying a signed
 *   statement, so the path also reads the statement from the registry and the key's public key
 *   from the KMS stand-in; and without the key, as a second row;
 * - each action's bad-input path (fails on its first input check) beside a bare `node -e 0`;
 *   goal: < 60 ms above bare node;
 * - each bundle's size (every chunk of dist/), goal <= 1.5 MB per action.
 * The programs run in interleaved rounds (one of each per round), so a change of machine load
 * touches them alike; medians are printed. Figures only; nothing is asserted.
 *
 * amazon-ecr-login is not part of this repository: BENCH_ECR_LOGIN names a directory holding its
 * action.yml and dist/ (default .tmp/bench/amazon-ecr-login; the `fetch` of
 * github:aws-actions/amazon-ecr-login, `git archive HEAD action.yml dist`). Without it that row
 * is left out and says so.
 *
 * BENCH_BEFORE names another checkout of this repository (e.g. `git worktree add --detach DIR
 * <commit>`): its committed build-push-ecr bundle runs the skip path in the same rounds, so a
 * change is measured before and after under the same load.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { newRunnerDir, repoRoot, runActionBundle, type RunResult } from '../harness/runner';
import { startRegistry } from '../harness/registry';
import { prepareSampleService } from '../harness/docker';
import { pushBuildProvenance } from '../harness/provenance';
import { startEcrStandin } from '../standins/ecr';
import { startKmsStandin } from '../standins/kms';

const RUNS = Number(process.env.BENCH_RUNS ?? 31);
const node = process.env.DEPLOY_ACTIONS_TEST_NODE ?? process.execPath;
const peerDir = resolve(repoRoot, process.env.BENCH_ECR_LOGIN ?? '.tmp/bench/amazon-ecr-login');
const ACTIONS = ['build-push-ecr', 'helm-deploy-eks', 'promote-gate'];
const beforeRoot = process.env.BENCH_BEFORE ? resolve(process.env.BENCH_BEFORE) : undefined;

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * CPU seconds (user + system, in ms) of this process's children that have exited and been
 * waited for: Linux's cutime + cstime (/proc/self/stat fields 16 and 17, in clock ticks of
 * 10 ms). Read around one child's run, it is that child's CPU time and its own children's
 * (amazon-ecr-login's docker CLI): a figure the machine's load does not inflate the way it
 * inflates wall time.
 */
function childCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

/** Runs `fn` (one child process) and adds its wall and CPU time to `into`. */
async function timed<T extends { durationMs: number }>(into: { wall: number[]; cpu: number[] }, fn: () => Promise<T>): Promise<T> {
  const cpu = childCpuMs();
  const r = await fn();
  into.wall.push(r.durationMs);
  into.cpu.push(childCpuMs() - cpu);
  return r;
}

function spawnMs(args: string[]): Promise<number> {
  return spawnRun(args).then((r) => r.durationMs);
}

/** Runs node with `args` (in `env` when given, else this process's); its wall time, exit code and stderr. */
function spawnRun(args: string[], env?: Record<string, string | undefined>): Promise<{ durationMs: number; exitCode: number; stderr: string }> {
  const t = process.hrtime.bigint();
  return new Promise((done, reject) => {
    const c = spawn(node, args, { stdio: ['ignore', 'ignore', 'pipe'], env: env ?? process.env });
    let stderr = '';
    c.stderr.on('data', (d) => (stderr += d));
    c.on('error', reject);
    c.on('close', (code) => done({ durationMs: Number(process.hrtime.bigint() - t) / 1e6, exitCode: code ?? 1, stderr }));
  });
}

/** Total bytes of an action's dist/*.js: the entry and every chunk it may load. */
export function bundleBytes(action: string): { files: number; bytes: number; entry: number } {
  const dist = join(repoRoot, 'actions', action, 'dist');
  const js = readdirSync(dist).filter((f) => f.endsWith('.js'));
  return { files: js.length, bytes: js.reduce((n, f) => n + statSync(join(dist, f)).size, 0), entry: statSync(join(dist, 'index.js')).size };
}

/** How the calls of one run overlapped: the most in flight at once, and their summed time against the wall time they spanned. */
function overlap(spans: ReadonlyArray<{ start: number; end: number }>): string {
  if (spans.length === 0) return 'no calls';
  let most = 0;
  for (const s of spans) most = Math.max(most, spans.filter((o) => o.start <= s.start && s.start < o.end).length);
  const wall = Math.max(...spans.map((s) => s.end)) - Math.min(...spans.map((s) => s.start));
  const sum = spans.reduce((n, s) => n + (s.end - s.start), 0);
  return `at most ${most} in flight at once; ${sum.toFixed(0)} ms of calls in ${wall.toFixed(0)} ms`;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
type Times = { wall: number[]; cpu: number[] };
const fmt = (t: Times) =>
  `wall median ${median(t.wall).toFixed(0)} ms (min ${Math.min(...t.wall).toFixed(0)}, max ${Math.max(...t.wall).toFixed(0)}); CPU mean ${mean(t.cpu).toFixed(0)} ms`;

async function main() {
  const load = loadavg()[0]!.toFixed(1);
  console.log(`${new Date().toISOString().slice(0, 16)}Z, ${RUNS} rounds on ${node.includes('node-v24') ? `Node 24 (${basename(dirname(dirname(node)))})` : `Node ${process.version}`}, load average ${load} at the start`);
  console.log(`\nBundle sizes (every .js of dist/; goal <= 1.5 MB each):`);
  for (const a of ACTIONS) {
    const b = bundleBytes(a);
    console.log(`  ${a.padEnd(18)} ${(b.bytes / 1e6).toFixed(2)} MB in ${b.files} files; entry index.js ${(b.entry / 1e3).toFixed(0)} kB`);
  }

  const registry = await startRegistry();
  // The token-checking registry front: every registry request a run makes is decided, and counted, there.
  const ecr = await startEcrStandin({ registry, front: true });
  // The provenance key, in the stand-ins' account; the ECR stand-in's caller may use it (its IAM
  // policy allows everything, the key policy names the account).
  const kms = await startKmsStandin({ iam: ecr.iam, accountId: ecr.accountId, region: ecr.region });
  const key = kms.createKey({
    policy: { Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ecr.accountId}:root` }, Action: ['kms:GetPublicKey', 'kms:Sign'], Resource: '*' }] },
  });
  // Every action runs from a copy outside the repository (no node_modules above it): a chunk
  // that is not in dist/, or a package it requires from outside, fails the run.
  const copied = copyActions();
  const warmCache = mkdtempSync(join(tmpdir(), 'bench-compile-cache-'));
  try {
    const sha = '1111111111111111111111111111111111111111';
    const skipOpts = { action: 'build-push-ecr', root: copied, workspace: prepareSampleService(), with: { repository: 'bench/sample' }, env: { ...ecr.env, GITHUB_SHA: sha }, node };
    const first = await runActionBundle(skipOpts);
    if (first.exitCode !== 0) throw new Error(`first build failed:\n${first.stdout}\n${first.stderr}`);
    // The statement build.yml's run would have written beside the image, signed with the key.
    const repository = first.outputs['repository-uri']!.slice(first.outputs['repository-uri']!.indexOf('/') + 1);
    await pushBuildProvenance(registry, {
      repository,
      digest: first.outputs.digest!,
      commit: sha,
      githubRepository: 'acme/sample-service',
      keyArn: key.arn,
      key: key.privateKey,
      contentKey: first.outputs['content-key'],
    });
    const provOpts = { ...skipOpts, with: { ...skipOpts.with, 'provenance-kms-key': key.arn }, env: { ...skipOpts.env, ...kms.env } };
    const peer = existsSync(join(peerDir, 'action.yml'))
      ? { action: basename(peerDir), root: dirname(peerDir), env: { ...ecr.env, DOCKER_CONFIG: join(newRunnerDir(), 'docker') }, node }
      : undefined;

    // BENCH_VARIANTS=1 adds rows that explain the figure rather than make it: Node's compile cache
    // (NODE_COMPILE_CACHE; warm = one directory across rounds, as a later run in the same job
    // would find it; cold = a new directory each round, as the one run of a job finds it) and the
    // floor of any small client (bench/skip-floor.mjs: node, the content key's two git reads and
    // the three ECR reads signed by @smithy/signature-v4 over fetch, from node_modules).
    const variants = process.env.BENCH_VARIANTS === '1';
    if (variants) await runActionBundle({ ...skipOpts, env: { ...skipOpts.env, NODE_COMPILE_CACHE: warmCache } });
    const floorArgs = [join(repoRoot, 'test/bench/skip-floor.mjs'), 'bench/sample', sha.slice(0, 7)];
    const floorEnv = { PATH: process.env.PATH, ...ecr.env, GITHUB_WORKSPACE: skipOpts.workspace };
    const times: Record<string, Times> = Object.fromEntries(['prov', 'skip', 'before', 'skipCold', 'skipWarm', 'floor', 'peer', 'bare', ...ACTIONS].map((k) => [k, { wall: [], cpu: [] }]));
    const calls: Record<'prov' | 'skip' | 'before' | 'peer', { aws: string[]; registry: number; overlap: string }> = {} as never;
    const badLine: Record<string, string> = {};
    let provLine = '';
    const check = (what: string, r: RunResult, ok: boolean) => {
      if (!ok) throw new Error(`${what}: unexpected result (exit ${r.exitCode}):\n${r.stdout}\n${r.stderr}`);
    };
    const skipped = (r: RunResult) => r.exitCode === 0 && r.outputs.skipped === 'true';
    /** One timed run of `opts`, the AWS calls counted at the stand-ins and the registry requests it made. */
    const measured = async (name: keyof typeof calls, opts: Parameters<typeof runActionBundle>[0]) => {
      const at = { ecr: ecr.calls.length, spans: ecr.spans.length, kms: kms.calls.length, registry: ecr.registryCalls.length };
      const r = await timed(times[name]!, () => runOnce(opts));
      calls[name] = {
        aws: [...ecr.calls.slice(at.ecr).map((c) => `ECR ${c}`), ...kms.calls.slice(at.kms).map((c) => `KMS ${c.operation}`)],
        registry: ecr.registryCalls.length - at.registry,
        overlap: overlap(ecr.spans.slice(at.spans)),
      };
      return r;
    };
    for (let i = 0; i < RUNS; i++) {
      const p = await measured('prov', provOpts);
      check('skip path with provenance-kms-key', p, skipped(p) && /Provenance checked: provenance of sha256:[0-9a-f]{64} verified/.test(p.stdout));
      provLine = p.stdout.split('\n').find((l) => l.startsWith('Provenance checked')) ?? '';
      const r = await measured('skip', skipOpts);
      check('skip path', r, skipped(r));
      if (beforeRoot) {
        const b = await measured('before', { ...provOpts, root: beforeRoot });
        check('skip path with provenance-kms-key, BENCH_BEFORE build', b, skipped(b));
      }
      if (variants) {
        const cold = mkdtempSync(join(tmpdir(), 'bench-compile-cache-'));
        const c = await timed(times.skipCold!, () => runOnce({ ...provOpts, env: { ...provOpts.env, NODE_COMPILE_CACHE: cold } }));
        check('skip path, compile cache cold', c, skipped(c) && readdirSync(cold).length > 0);
        rmSync(cold, { recursive: true, force: true });
        const w = await timed(times.skipWarm!, () => runOnce({ ...provOpts, env: { ...provOpts.env, NODE_COMPILE_CACHE: warmCache } }));
        check('skip path, compile cache warm', w, skipped(w));
        const f = await timed(times.floor!, () => spawnRun(floorArgs, floorEnv));
        if (f.exitCode !== 0) throw new Error(`skip-floor.mjs failed: ${f.stderr}`);
      }
      if (peer) {
        const q = await measured('peer', peer);
        check('amazon-ecr-login', q, q.exitCode === 0);
      }
      for (const a of ACTIONS) {
        // No inputs at all (defaults from action.yml aside): the first required input fails.
        const b = await timed(times[a]!, () => runOnce({ action: a, root: copied, node, env: { AWS_REGION: 'eu-west-1' } }));
        const error = b.annotations.find((x) => x.level === 'error')?.message ?? '';
        check(`${a} bad input`, b, b.exitCode === 1 && error.startsWith('Input '));
        badLine[a] = error;
      }
      await timed(times.bare!, async () => ({ durationMs: await spawnMs(['-e', '0']) }));
    }
    const callLine = (c: (typeof calls)[keyof typeof calls]) =>
      `AWS calls per run, counted at the stand-ins: ${c.aws.length} (${c.aws.join(', ')}); registry requests: ${c.registry}; ECR calls of the last run: ${c.overlap}`;
    const ratio = (t: Times, p: Times) => `${(median(t.wall) / median(p.wall)).toFixed(2)} by wall time, ${(mean(t.cpu) / mean(p.cpu)).toFixed(2)} by CPU time`;
    console.log(`\nbuild-push-ecr skip path (SHA already in ECR) with provenance-kms-key, the image carrying its signed statement (a real run's path), wall time incl. node start: ${fmt(times.prov!)}`);
    console.log(`  ${callLine(calls.prov)}`);
    console.log(`  its log: "${provLine}"`);
    console.log(`build-push-ecr skip path without provenance-kms-key: ${fmt(times.skip!)}`);
    console.log(`  ${callLine(calls.skip)}`);
    if (peer) {
      const q = times.peer!;
      console.log(`amazon-ecr-login main step (GetAuthorizationToken + docker login): ${fmt(q)}; ${callLine(calls.peer)}`);
      console.log(`  ratio skip path with provenance-kms-key / amazon-ecr-login: ${ratio(times.prov!, q)} (goal <= 0.5)`);
      console.log(`  ratio skip path without provenance-kms-key / amazon-ecr-login: ${ratio(times.skip!, q)}`);
    } else {
      console.log(`amazon-ecr-login: not measured (no ${join(peerDir, 'action.yml')}; see this file's header)`);
    }
    if (beforeRoot) {
      const b = times.before!;
      console.log(
        `skip path with provenance-kms-key of the bundle in ${beforeRoot} (BENCH_BEFORE), same rounds: ${fmt(b)}; ${callLine(calls.before)}; this build / that one: ${ratio(times.prov!, b)}` +
          (peer ? `; that one / amazon-ecr-login: ${ratio(b, times.peer!)}` : ''),
      );
    }
    if (variants) {
      const vsPeer = (t: Times) => (peer ? `; / amazon-ecr-login ${ratio(t, times.peer!)}` : '');
      console.log(`skip path with provenance-kms-key and NODE_COMPILE_CACHE, cold (new directory each run): ${fmt(times.skipCold!)}${vsPeer(times.skipCold!)}`);
      console.log(`skip path with provenance-kms-key and NODE_COMPILE_CACHE, warm (the directory of an earlier run): ${fmt(times.skipWarm!)}${vsPeer(times.skipWarm!)}`);
      console.log(`small client without provenance, unbundled (bench/skip-floor.mjs): ${fmt(times.floor!)}${vsPeer(times.floor!)}`);
    }
    const bare = times.bare!;
    console.log(`bare \`node -e 0\`: ${fmt(bare)}`);
    console.log(`\nBad-input path (first input check fails), wall time incl. node start; goal < 60 ms above bare node:`);
    for (const a of ACTIONS) {
      const t = times[a]!;
      const above = `${(median(t.wall) - median(bare.wall)).toFixed(0)} ms (wall) / ${(mean(t.cpu) - mean(bare.cpu)).toFixed(0)} ms (CPU)`;
      console.log(`  ${a.padEnd(18)} ${fmt(t)}: ${above} above bare node ("${badLine[a]}")`);
    }
    console.log(`\nEvery action ran from a copy of its action.yml and dist/ outside the repository (${copied}): each bundle is self-contained.`);
    console.log(`load average ${loadavg()[0]!.toFixed(1)} at the end`);
  } finally {
    rmSync(copied, { recursive: true, force: true });
    rmSync(warmCache, { recursive: true, force: true });
    await kms.stop();
    await ecr.stop();
    await registry.stop();
  }
}

/** Runs one action in a runner directory of its own, removed after (the bench makes hundreds). */
async function runOnce(opts: Parameters<typeof runActionBundle>[0]): Promise<RunResult> {
  const runnerDir = newRunnerDir();
  try {
    return await runActionBundle({ ...opts, runnerDir });
  } finally {
    rmSync(runnerDir, { recursive: true, force: true });
  }
}

/** A temporary root holding each action's action.yml and dist/, as a release lays them out, and nothing else. */
function copyActions(): string {
  const root = mkdtempSync(join(tmpdir(), 'bench-actions-'));
  for (const a of ACTIONS) {
    mkdirSync(join(root, a));
    cpSync(join(repoRoot, a, 'action.yml'), join(root, a, 'action.yml'));
    cpSync(join(repoRoot, 'actions', a, 'dist'), join(root, 'actions', a, 'dist'), { recursive: true });
  }
  return root;
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
