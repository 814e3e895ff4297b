/**
 * The release card (issue 22): how long promote-gate's `card` mode takes, and how big the card is,
 * on the sample service's chart (one change: replicas) and on a chart of 200 objects whose every
 * object changes (the diff is cut to the 40 KB budget). Real git and real helm (helm template
 * twice: at the running commit from git history, at the candidate from the checkout); the evidence,
 * GitHub's compare and ECR behind in-memory fakes, so the figure is the card's own work.
 * Figures only; nothing is asserted.
 *
 *   BENCH=release-card npm run bench
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec, recordingIO } from '@deploy-actions/action-kit';
import { DEFAULT_KEYS } from '@deploy-actions/chart';
import { RECORDED_BY } from '../../actions/promote-gate/src/gate';
import type { Comparison } from '../../actions/promote-gate/src/card/commits';
import { runCard, type CardInputs } from '../../actions/promote-gate/src/card/mode';
import { helmRender } from '../../actions/promote-gate/src/card/sources';
import { manyTemplate } from '../../actions/promote-gate/tests/card-charts';
import { fakeGithub } from '../../actions/promote-gate/tests/fakes';
import { repoRoot } from '../harness/runner';
import { ensureKubeTools } from '../tools/kube-binaries';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const D = (c: string) => `sha256:${c.repeat(64)}`;

async function scenario(name: string, helm: string, valuesBefore: string, valuesAfter: string): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'card-bench-'));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: work, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@x', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@x' } }).trim();
  try {
    git('init', '-q', '-b', 'main');
    cpSync(join(repoRoot, 'test/fixtures/sample-service/chart'), join(work, 'chart'), { recursive: true });
    writeFileSync(join(work, 'chart/templates/many.yaml'), manyTemplate);
    writeFileSync(join(work, 'bench-values.yaml'), valuesBefore);
    git('add', '.');
    git('commit', '-q', '-m', 'running');
    const a = git('rev-parse', 'HEAD');
    writeFileSync(join(work, 'bench-values.yaml'), valuesAfter);
    git('commit', '-q', '-am', 'candidate (#2)');
    const b = git('rev-parse', 'HEAD');
    const gh = fakeGithub();
    for (const [env, sha, digest] of [['preprod', a, D('a')], ['production', a, D('a')], ['preprod', b, D('b')]] as const) {
      const d = await gh.api.create({ ref: sha, environment: env, description: '', payload: { digest, repository: 'acme/sample-service', recorded_by: RECORDED_BY }, production_environment: false, transient_environment: true });
      await gh.api.createStatus(d.id, { state: 'success', description: '', auto_inactive: false });
    }
    const spec = { release: 'sample-service', chart: 'chart', namespace: 'sample', environment: 'production', valuesFiles: ['bench-values.yaml'], set: [], setString: [], imageKeys: DEFAULT_KEYS, imageRepository: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/acme/sample-service' };
    const inputs: CardInputs = {
      mode: 'card',
      subject: { release: 'sample-service', environment: 'production', requireEnvironment: 'preprod', environments: ['qa', 'preprod', 'production'], githubRepository: 'acme/sample-service', imageRepository: 'acme/sample-service', namespace: 'sample', digest: D('b'), commit: b, hotfix: false, bake: '10m', alarms: 'none named', pending: 'production reviewers' },
      chart: spec,
      region: 'eu-west-1',
      helm,
      token: 't',
      owner: 'acme',
      repo: 'sample-service',
      apiUrl: '',
      workspace: work,
      evidenceKeys: {},
    };
    const compare = { compare: async (): Promise<Comparison> => ({ status: 'ahead', ahead_by: 1, behind_by: 0, total_commits: 1, commits: [{ sha: b, commit: { message: 'candidate (#2)' }, author: { login: 'b' } }] }) };
    const registry = { image: async () => ({ size: 1, layers: [] }), findings: async () => [] };
    const times: number[] = [];
    let size = 0;
    let head = '';
    for (let i = 0; i < RUNS; i++) {
      const started = performance.now();
      const out = await runCard(inputs, { io: recordingIO(), github: gh.api, compare, registry, render: helmRender({ exec, helm, workspace: work, spec }) });
      times.push(performance.now() - started);
      size = Buffer.byteLength(String(out.card));
      head = /^objects: .*$/m.exec(String(out.card))?.[0] ?? /objects: [^·\n]*/.exec(String(out.card))?.[0] ?? '';
    }
    times.sort((x, y) => x - y);
    console.log(`${name}: median ${(times[Math.floor(times.length / 2)]! / 1000).toFixed(2)} s, min ${(times[0]! / 1000).toFixed(2)} s over ${RUNS} runs; card ${size} bytes; ${head.slice(0, 120)}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const helm = (await ensureKubeTools()).newest.helm4;
console.log(`release card: ${cpus().length} cores, load ${loadavg()[0]!.toFixed(1)}, ${new Date().toISOString().slice(0, 10)}`);
await scenario('sample chart (production: replicas 3 -> 4, a new digest)', helm, 'many: 0\nmanyValue: a\nautoscaling:\n  enabled: false\n', 'many: 0\nmanyValue: a\nautoscaling:\n  enabled: false\nreplicaCount: 4\n');
await scenario('200 objects, every one changed', helm, `many: 200\nmanyValue: ${'x'.repeat(300)}\n`, `many: 200\nmanyValue: ${'y'.repeat(300)}\n`);
