/**
 * What an action costs before it does any work, side by side in one run on one node binary:
 * - build-push-ecr's skip path (the SHA is already in ECR) against the ECR stand-in, beside
 *   amazon-ecr-login's main step (GetAuthorizationToken + docker login) against the same
 *   stand-in; goal: skip path <= 0.5 of the peer's;
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
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { newRunnerDir, repoRoot, runActionBundle, type RunResult } from '../harness/runner';
import { startRegistry } from '../harness/registry';
import { prepareSampleService } from '../harness/docker';
import { startEcrStandin } from '../standins/ecr';

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
  const ecr = await startEcrStandin({ registry });
  try {
    const sha = '1111111111111111111111111111111111111111';
    const skipOpts = { action: 'build-push-ecr', workspace: prepareSampleService(), with: { repository: 'bench/sample' }, env: { ...ecr.env, GITHUB_SHA: sha }, node };
    const first = await runActionBundle(skipOpts);
    if (first.exitCode !== 0) throw new Error(`first build failed:\n${first.stdout}\n${first.stderr}`);
    const peer = existsSync(join(peerDir, 'action.yml'))
      ? { action: basename(peerDir), root: dirname(peerDir), env: { ...ecr.env, DOCKER_CONFIG: join(newRunnerDir(), 'docker') }, node }
      : undefined;

    // Node's compile cache (NODE_COMPILE_CACHE, as module.enableCompileCache() would set it):
    // warm = one directory across rounds, as a later run in the same job would find it; cold = a
    // new directory each round, as the one run of a job finds it (RUNNER_TEMP is the job's own).
    const warmCache = mkdtempSync(join(tmpdir(), 'bench-compile-cache-'));
    await runActionBundle({ ...skipOpts, env: { ...skipOpts.env, NODE_COMPILE_CACHE: warmCache } });
    // A small client's skip path (bench/skip-floor.mjs): node, the content key's two git reads and
    // the three ECR reads signed by @smithy/signature-v4 over fetch, loaded from node_modules
    // (not bundled): what dropping the SDK alone would give, before bundling it.
    const floorArgs = [join(repoRoot, 'test/bench/skip-floor.mjs'), 'bench/sample', sha.slice(0, 7)];
    const floorEnv = { PATH: process.env.PATH, ...ecr.env, GITHUB_WORKSPACE: skipOpts.workspace };
    const times: Record<string, Times> = Object.fromEntries(['skip', 'before', 'skipCold', 'skipWarm', 'floor', 'peer', 'bare', ...ACTIONS].map((k) => [k, { wall: [], cpu: [] }]));
    const beforeCalls: string[][] = [];
    const skipCalls: string[][] = [];
    const skipOverlap: string[] = [];
    let peerCalls: string[] = [];
    const badLine: Record<string, string> = {};
    const check = (what: string, r: RunResult, ok: boolean) => {
      if (!ok) throw new Error(`${what}: unexpected result (exit ${r.exitCode}):\n${r.stdout}\n${r.stderr}`);
    };
    for (let i = 0; i < RUNS; i++) {
      const before = ecr.spans.length;
      const r = await timed(times.skip!, () => runActionBundle(skipOpts));
      check('skip path', r, r.exitCode === 0 && r.outputs.skipped === 'true');
      skipCalls.push(ecr.calls.slice(before));
      skipOverlap.push(overlap(ecr.spans.slice(before)));
      if (beforeRoot) {
        const at = ecr.calls.length;
        const b = await timed(times.before!, () => runActionBundle({ ...skipOpts, root: beforeRoot }));
        check('skip path, BENCH_BEFORE build', b, b.exitCode === 0 && b.outputs.skipped === 'true');
        beforeCalls.push(ecr.calls.slice(at));
      }
      const cold = mkdtempSync(join(tmpdir(), 'bench-compile-cache-'));
      const c = await timed(times.skipCold!, () => runActionBundle({ ...skipOpts, env: { ...skipOpts.env, NODE_COMPILE_CACHE: cold } }));
      check('skip path, compile cache cold', c, c.exitCode === 0 && c.outputs.skipped === 'true' && readdirSync(cold).length > 0);
      const w = await timed(times.skipWarm!, () => runActionBundle({ ...skipOpts, env: { ...skipOpts.env, NODE_COMPILE_CACHE: warmCache } }));
      check('skip path, compile cache warm', w, w.exitCode === 0 && w.outputs.skipped === 'true');
      const f = await timed(times.floor!, () => spawnRun(floorArgs, floorEnv));
      if (f.exitCode !== 0) throw new Error(`skip-floor.mjs failed: ${f.stderr}`);
      if (peer) {
        const at = ecr.calls.length;
        const p = await timed(times.peer!, () => runActionBundle(peer));
        check('amazon-ecr-login', p, p.exitCode === 0);
        peerCalls = ecr.calls.slice(at);
      }
      for (const a of ACTIONS) {
        // No inputs at all (defaults from action.yml aside): the first required input fails.
        const b = await timed(times[a]!, () => runActionBundle({ action: a, node, env: { AWS_REGION: 'eu-west-1' } }));
        const error = b.annotations.find((x) => x.level === 'error')?.message ?? '';
        check(`${a} bad input`, b, b.exitCode === 1 && error.startsWith('Input '));
        badLine[a] = error;
      }
      await timed(times.bare!, async () => ({ durationMs: await spawnMs(['-e', '0']) }));
    }
    const bare = times.bare!;
    const skip = times.skip!;
    console.log(`\nbuild-push-ecr skip path (SHA already in ECR), wall time incl. node start: ${fmt(times.skip!)}`);
    const calls = skipCalls[skipCalls.length - 1]!;
    console.log(`  AWS calls per run, counted at the ECR stand-in: ${calls.length} (${calls.join(', ')}); last run: ${skipOverlap[skipOverlap.length - 1]}`);
    if (peer) {
      const p = times.peer!;
      console.log(`amazon-ecr-login main step (GetAuthorizationToken + docker login): ${fmt(p)}; AWS calls: ${peerCalls.length} (${peerCalls.join(', ')})`);
      console.log(
        `  ratio skip path / amazon-ecr-login: ${(median(skip.wall) / median(p.wall)).toFixed(2)} by wall time, ${(mean(skip.cpu) / mean(p.cpu)).toFixed(2)} by CPU time (goal <= 0.5)`,
      );
    } else {
      console.log(`amazon-ecr-login: not measured (no ${join(peerDir, 'action.yml')}; see this file's header)`);
    }
    if (beforeRoot) {
      const b = times.before!;
      const calls = beforeCalls[beforeCalls.length - 1]!;
      console.log(
        `skip path of the bundle in ${beforeRoot} (BENCH_BEFORE), same rounds: ${fmt(b)}; AWS calls ${calls.length}; this build / that one: ${(median(skip.wall) / median(b.wall)).toFixed(2)} wall, ${(mean(skip.cpu) / mean(b.cpu)).toFixed(2)} CPU` +
          (peer ? `; that one / amazon-ecr-login: ${(mean(b.cpu) / mean(times.peer!.cpu)).toFixed(2)} CPU` : ''),
      );
    }
    const vsPeer = (t: Times) => (peer ? `; / amazon-ecr-login ${(median(t.wall) / median(times.peer!.wall)).toFixed(2)} wall, ${(mean(t.cpu) / mean(times.peer!.cpu)).toFixed(2)} CPU` : '');
    console.log(`skip path with NODE_COMPILE_CACHE, cold (new directory each run, as a job's one run finds it): ${fmt(times.skipCold!)}${vsPeer(times.skipCold!)}`);
    console.log(`skip path with NODE_COMPILE_CACHE, warm (the directory of an earlier run): ${fmt(times.skipWarm!)}${vsPeer(times.skipWarm!)}`);
    console.log(`small client, unbundled (bench/skip-floor.mjs: node, 2 git reads, 3 ECR reads signed by @smithy/signature-v4 over fetch, from node_modules): ${fmt(times.floor!)}${vsPeer(times.floor!)}`);
    console.log(`bare \`node -e 0\`: ${fmt(times.bare!)}`);
    console.log(`\nBad-input path (first input check fails), wall time incl. node start; goal < 60 ms above bare node:`);
    for (const a of ACTIONS) {
      const t = times[a]!;
      const above = `${(median(t.wall) - median(bare.wall)).toFixed(0)} ms (wall) / ${(mean(t.cpu) - mean(bare.cpu)).toFixed(0)} ms (CPU)`;
      console.log(`  ${a.padEnd(18)} ${fmt(t)}: ${above} above bare node ("${badLine[a]}")`);
    }
    console.log(`\nload average ${loadavg()[0]!.toFixed(1)} at the end`);
  } finally {
    await ecr.stop();
    await registry.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
