/**
 * Bake window: seconds from a CloudWatch alarm entering ALARM to the rollback having started
 * (a new helm revision of the release stored in the cluster), and to the previous release's
 * pods serving again (pods of the validated digest ready). helm-deploy-eks bundle with
 * bake-duration 120s and the default 5 s interval; Kubernetes stand-in with the fake runtime,
 * CloudWatch stand-in. Figures only; nothing is asserted. Goal: <= 10 s to start.
 */
import { join } from 'node:path';
import { startDeploySuite } from '../harness/deploy-suite';
import { errorsOf, repoRoot, runActionBundle } from '../harness/runner';
import { startCloudWatchStandin } from '../standins/cloudwatch/index';

const SERVICE = join(repoRoot, 'test/fixtures/sample-service');
const deployer = { accessKeyId: 'AKIABENCH0000000002', secretAccessKey: 'bench-secret', arn: 'arn:aws:sts::111122223333:assumed-role/deployer/bench' };
const NS = 'bench-bake';

async function main() {
  const suite = await startDeploySuite({ runtime: 'fake', identities: [deployer], accessEntries: ['arn:aws:iam::111122223333:role/deployer'] });
  const { kube, world, archives, runnerDir } = suite;
  const cw = await startCloudWatchStandin({ accessKeyId: deployer.accessKeyId, region: world.region });
  cw.setAlarm('bench-5xx', 'OK');
  try {
    const deploy = (digest: string, bake: Record<string, string> = {}) =>
      runActionBundle({
        action: 'helm-deploy-eks',
        runnerDir,
        workspace: SERVICE,
        timeoutMs: 600_000,
        with: { release: 'bench', namespace: NS, 'create-namespace': 'true', chart: 'chart', ...world.clusterInputs(), ...archives.inputs, image: suite.image(digest), ...bake },
        env: { ...world.envFor(deployer), AWS_ENDPOINT_URL_CLOUDWATCH: cw.url },
      });
    const first = await deploy(suite.digest1);
    if (first.exitCode !== 0) throw new Error(`install failed: ${errorsOf(first).join('; ')}`);

    const revisions = () => kube.list('Secret', NS).filter((s) => s.metadata.labels?.owner === 'helm').length;
    const podsOf = (digest: string) =>
      kube.list('Pod', NS).filter((p) => !p.metadata.deletionTimestamp && JSON.stringify(p.spec?.containers ?? []).includes(digest) && (p.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True'));

    const baking = deploy(suite.digest2, { 'bake-duration': '120s', 'bake-alarms': 'bench-5xx', 'bake-rollback-digest': suite.digest1 });
    // Wait until the bake is running: its first DescribeAlarms call.
    const before = cw.calls.length;
    while (cw.calls.length === before) await new Promise((r) => setTimeout(r, 50));
    const revsBefore = revisions();
    const t0 = cw.setAlarm('bench-5xx', 'ALARM', 'Threshold Crossed: bench');
    let started: number | undefined;
    let serving: number | undefined;
    const timer = setInterval(() => {
      if (started === undefined && revisions() > revsBefore) started = Date.now();
      if (serving === undefined && started !== undefined && podsOf(suite.digest1).length > 0) serving = Date.now();
    }, 50);
    const r = await baking;
    clearInterval(timer);
    const secs = (t?: number) => (t === undefined ? 'n/a' : ((t - t0) / 1000).toFixed(1));
    console.log(`bake breach: exit ${r.exitCode}; ${errorsOf(r)[0]?.slice(0, 200) ?? '(no error)'}`);
    console.log(`alarm ALARM -> rollback started: ${secs(started)} s (goal <= 10 s)`);
    console.log(`alarm ALARM -> previous pods (${suite.digest1.slice(0, 19)}) ready again: ${secs(serving)} s`);
  } finally {
    await cw.stop();
    await suite.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
