/**
 * Issue 14 through the workflow executor: the bake window of production deploys, and what runs
 * where. The service repository's real workflows (the starter deploy.yml -> pipeline.yml ->
 * build.yml, deploy.yml and the status job) run on pushes to main; images are built by the real
 * Docker engine, pods are real containers (docker runtime), production's smoke URL goes through a
 * load balancer in front of the Service's ready endpoints (as an ALB in IP target mode does), and
 * the alarms live in the CloudWatch stand-in on the world's identity store.
 *
 * One world, one sequence of pushes to main (each test builds on the one before):
 *   A  quiet bake: passes, evidence recorded
 *   B  its smoke URL fails about half of the requests: the error ratio breaches, back to A, B failed
 *   C  an alarm enters ALARM during the bake: back to A (the newest validated release, not B), C failed
 *   D  production's reviewer rejects it: it waits for promotion
 *   E  its container exits at once: the preprod deploy fails and is rolled back
 * then the status view (promote-gate mode: status, the pipeline's status job).
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runWorkflow } from '../executor/index';
import type { GithubEvent, JobRun, StepRun, WorkflowRun } from '../executor/model';
import { dockerAvailable, prepareSampleService } from '../harness/docker';
import { forwarder } from '../standins/kube/service-proxy';
import { kubeClients, ok } from '../standins/kube/testing';
import { ensureKubeTools } from '../tools/kube-binaries';
import { createServiceRepo, type ServiceRepo } from '../pipeline/service-repo';
import { namespaceOf, startPipelineWorld, type PipelineWorld } from '../pipeline/world';

const NAME = 'acme/sample-service';
const RELEASE = 'sample-service';
const ALARM = 'sample-service-5xx';
const PRODUCTION = namespaceOf('production');
const hasDocker = await dockerAvailable();

let world: PipelineWorld;
let repo: ServiceRepo;
let lb: { url: string; stop(): Promise<void> };
/** production's reviewer rejects the next runs while set. */
let rejectProduction = false;

const SMOKE_OK = `#!/bin/sh
# The smoke URL (busybox httpd CGI).
printf 'Content-Type: text/plain\\r\\n\\r\\nok\\n'
`;
const SMOKE_FLAKY = `#!/bin/sh
# The smoke URL, failing about half of the requests.
if [ $((RANDOM % 2)) -eq 0 ]; then
  printf 'Status: 503 Service Unavailable\\r\\nContent-Type: text/plain\\r\\n\\r\\ndown\\n'
else
  printf 'Content-Type: text/plain\\r\\n\\r\\nok\\n'
fi
`;

const jobOf = (r: WorkflowRun, path: string): JobRun => {
  const j = r.jobs.find((x) => x.path.join('/') === path);
  if (!j) throw new Error(`no job ${path} in ${r.jobs.map((x) => x.path.join('/')).join(', ')}`);
  return j;
};
const stepOf = (r: WorkflowRun, path: string, name: string): StepRun => {
  const s = jobOf(r, path).steps.find((x) => x.name === name);
  if (!s) throw new Error(`no step ${name} in ${path}`);
  return s;
};
const errorsOf = (s: StepRun) => s.annotations.filter((a) => a.level === 'error').map((a) => a.message);
const why = (r: WorkflowRun) => `${r.error ?? ''} ${r.jobs.flatMap((j) => j.steps.flatMap(errorsOf)).join(' | ')}`;
const builtImage = (r: WorkflowRun) => jobOf(r, 'pipeline/build/build').outputs['image-ref'] ?? '';
const digestOf = (ref: string) => ref.split('@')[1] ?? '';

/** The production load balancer: each connection to a ready endpoint of the Service, round robin. */
async function startLoadBalancer(endpoints: () => Array<{ ip: string; port: number }>): Promise<{ url: string; stop(): Promise<void> }> {
  let next = 0;
  const server = forwarder(() => {
    const targets = endpoints();
    return targets.length ? targets[next++ % targets.length] : undefined;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}

function productionEndpoints(): Array<{ ip: string; port: number }> {
  const subset = (world?.kube.get('Endpoints', PRODUCTION, RELEASE) as { subsets?: Array<{ addresses?: Array<{ ip: string }>; ports?: Array<{ port: number }> }> } | undefined)?.subsets?.[0];
  const port = subset?.ports?.[0]?.port;
  return port ? (subset?.addresses ?? []).map((a) => ({ ip: a.ip, port })) : [];
}

/** What production serves: the version page, answered by a ready pod through the load balancer. */
async function served(): Promise<string> {
  const res = await fetch(`${lb.url}/version.txt`, { signal: AbortSignal.timeout(5_000) });
  return `${res.status} ${(await res.text()).trim()}`;
}

const run = async (event: GithubEvent, workflow = '.github/workflows/deploy.yml', text?: string): Promise<WorkflowRun> => {
  const r = await runWorkflow({ ...world.options(repo, process.env.BAKE_TEST_LOG ? (line) => console.log(line) : undefined), workflow: { path: workflow, text }, event });
  return r;
};

/** A push to main of a new version (and, when given, a new smoke script or Dockerfile). */
function release(version: string, files: { smoke?: string; dockerfile?: string } = {}): GithubEvent {
  repo.git('checkout', '--quiet', 'main');
  if (files.smoke) writeFileSync(join(repo.root, 'www/cgi-bin/smoke'), files.smoke);
  if (files.dockerfile) writeFileSync(join(repo.root, 'Dockerfile'), files.dockerfile);
  return repo.change('main', 'www/version.txt', `${version}\n`, `Release ${version}`);
}

/** Production's helm history: revision, status, description. */
async function history(): Promise<Array<{ revision: number; status: string; description: string }>> {
  const helm = kubeClients(world.kube, await ensureKubeTools());
  return JSON.parse(ok(await helm.helm4(['history', RELEASE, '-n', PRODUCTION, '-o', 'json']), 'helm history')) as Array<{ revision: number; status: string; description: string }>;
}

/** The images of production's ready pods (docker containers). */
function readyImages(): string[] {
  type Pod = { metadata: { deletionTimestamp?: string }; spec: { containers: Array<{ image: string }> }; status?: { conditions?: Array<{ type: string; status: string }> } };
  return (world.kube.list('Pod', PRODUCTION) as Pod[])
    .filter((p) => !p.metadata.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
    .map((p) => p.spec.containers[0]!.image);
}

/** promote-gate's records of a digest in an environment, with their statuses, newest first. */
function records(environment: string, digest: string) {
  const s = world.github.state;
  return s.deployments
    .filter((d) => d.environment === environment && (d.payload as { digest?: string }).digest === digest)
    .map((d) => ({ id: d.id, statuses: s.statuses.filter((x) => x.deploymentId === d.id).map((x) => ({ state: x.state, description: x.description })) }));
}

const images = { A: '', B: '', C: '', D: '', E: '' };
const runs: Record<string, WorkflowRun> = {};
const shas: Record<string, string> = {};

describe.skipIf(!hasDocker)('bake window and what runs where, through the pipeline (issue 14)', () => {
  beforeAll(async () => {
    lb = await startLoadBalancer(productionEndpoints);
    world = await startPipelineWorld({
      runtime: 'docker',
      repository: NAME,
      cloudwatch: true,
      vars: { production: { SMOKE_URL: `${lb.url}/cgi-bin/smoke`, BAKE_DURATION: '6s', BAKE_INTERVAL: '1s', BAKE_ALARMS: ALARM } },
      approver: ({ environment, eligible }) =>
        environment === 'production' ? { approve: !rejectProduction, reviewer: 'bob' } : { approve: true, reviewer: eligible[0]! },
    });
    world.cloudwatch!.setAlarm(ALARM, 'OK', 'Threshold Crossed: no datapoint above 1%');
    repo = createServiceRepo({ serviceDir: prepareSampleService(), name: NAME, ecrRepository: NAME, release: RELEASE, imageRepository: `${world.registryHost}/${NAME}` });
    // The team's edits: main deploys without QA evidence (no develop in this story), one replica.
    const starter = join(repo.root, '.github/workflows/deploy.yml');
    writeFileSync(
      starter,
      readFileSync(starter, 'utf8').replace(/^(\s*)(image-digest-key: .*)$/m, `$1$2\n$1preprod-requires: ''\n$1helm-test: false\n$1set: |\n$1  replicaCount=1\n$1  autoscaling.enabled=false`),
    );
    mkdirSync(join(repo.root, 'www/cgi-bin'), { recursive: true });
    writeFileSync(join(repo.root, 'www/cgi-bin/smoke'), SMOKE_OK);
    chmodSync(join(repo.root, 'www/cgi-bin/smoke'), 0o755);
    repo.git('add', '-A');
    repo.git('-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', 'commit', '--quiet', '-m', 'Smoke URL, one replica, no QA');
  }, 180_000);
  afterAll(async () => {
    await world?.stop();
    await lb?.stop();
  });

  test('a quiet bake passes: evidence recorded, the timeline in the summary', async () => {
    const r = await run(release('A'));
    shas.A = repo.head('main');
    expect(r.conclusion, why(r)).toBe('success');
    images.A = builtImage(r);
    const deploy = stepOf(r, 'pipeline/production/deploy', 'Deploy');
    expect(deploy.outputs['bake-result']).toBe('passed');
    expect(deploy.summary).toMatch(/\*\*Bake\*\*/);
    expect(deploy.summary).toMatch(/watching for 6 s: alarms sample-service-5xx; HTTP error ratio of http:\/\/127\.0\.0\.1:\d+\/cgi-bin\/smoke <= 0\.1/);
    expect(deploy.summary).toMatch(/passed: 1 alarm\(s\) OK; 0 HTTP error\(s\) in \d+; 1 pod\(s\)/);
    expect(stepOf(r, 'pipeline/production/deploy', 'Last validated release').outputs.found).toBe('false');
    expect(stepOf(r, 'pipeline/production/deploy', 'Mark the release failed').outcome).toBe('skipped');
    expect(records('production', digestOf(images.A)).map((d) => d.statuses.map((s) => s.state))).toEqual([['success']]);
    // The bake read the alarm as the production deploy role, through the shared identity store.
    expect(world.cloudwatch!.calls.length).toBeGreaterThan(1);
    expect(await served()).toBe('200 A');
  }, 300_000);

  test('an HTTP error ratio over the threshold rolls production back to A and marks B failed', async () => {
    const r = await run(release('B', { smoke: SMOKE_FLAKY }));
    images.B = builtImage(r);
    expect(r.conclusion).toBe('failure');
    expect(jobOf(r, 'pipeline/preprod/deploy').result, why(r)).toBe('success');
    const deploy = stepOf(r, 'pipeline/production/deploy', 'Deploy');
    expect(deploy.outcome).toBe('failure');
    const errors = errorsOf(deploy);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      new RegExp(`^Bake of ${RELEASE} failed: HTTP error ratio of http://127\\.0\\.0\\.1:\\d+/cgi-bin/smoke is [0-9.]+ \\(\\d+ of the last \\d+ requests\\), above 0\\.1; rolled back ${RELEASE} to revision 1, the last validated release ${digestOf(images.A)}$`),
    );
    expect(deploy.outputs['rolled-back-to']).toBe(digestOf(images.A));
    expect(deploy.summary).toMatch(/BREACH: HTTP error ratio/);
    expect(stepOf(r, 'pipeline/production/deploy', 'Mark the release failed').outcome).toBe('success');
    expect(stepOf(r, 'pipeline/production/deploy', 'Record promotion evidence').outcome).toBe('skipped');
    expect(records('production', digestOf(images.B)).flatMap((d) => d.statuses.map((s) => s.state))).toEqual(['failure']);
    expect(readyImages()).toEqual([images.A]);
    expect(await served()).toBe('200 A');
  }, 300_000);

  test('an alarm entering ALARM during the bake rolls back to the last validated release, skipping the failed B', async () => {
    // Once the bake has read the alarm (OK), it enters ALARM.
    const cw = world.cloudwatch!;
    const seen = cw.calls.length;
    let running = true;
    const flip = (async () => {
      while (running && cw.calls.length === seen) await new Promise((r) => setTimeout(r, 50));
      return running ? cw.setAlarm(ALARM, 'ALARM', 'Threshold Crossed: 3 datapoints were greater than the threshold (1.0)') : 0;
    })();
    const r = await run(release('C', { smoke: SMOKE_OK }));
    running = false;
    runs.C = r;
    images.C = builtImage(r);
    expect(await flip).toBeGreaterThan(0);
    cw.setAlarm(ALARM, 'OK', 'Threshold Crossed: no datapoint above 1%');

    expect(r.conclusion).toBe('failure');
    const path = 'pipeline/production/deploy';
    expect(jobOf(r, path).result, why(r)).toBe('failure');
    // The rollback target is A: B's record is newer, but B was marked failed.
    expect(stepOf(r, path, 'Last validated release').outputs.digest).toBe(digestOf(images.A));
    const deploy = stepOf(r, path, 'Deploy');
    const errors = errorsOf(deploy);
    expect(errors).toHaveLength(1);
    const h = await history();
    const aRevisions = h.filter((x) => x.description.includes(digestOf(images.A)) || /^Rollback to 1\b/.test(x.description)).map((x) => x.revision);
    expect(errors[0]).toMatch(
      new RegExp(
        `^Bake of ${RELEASE} failed: CloudWatch alarm '${ALARM}' is ALARM \\(Threshold Crossed: 3 datapoints were greater than the threshold \\(1\\.0\\)\\); rolled back ${RELEASE} to revision (\\d+), the last validated release ${digestOf(images.A)}$`,
      ),
    );
    const to = Number(/to revision (\d+)/.exec(errors[0]!)![1]);
    expect(aRevisions).toContain(to);
    // helm: ... B, rollback to A, C, rollback to A; A's pods serve again.
    expect(h.at(-1)).toMatchObject({ status: 'deployed', description: `Rollback to ${to}` });
    expect(h.at(-2)!.description).toContain(digestOf(images.C));
    expect(h.some((x) => x.description.includes(digestOf(images.B)))).toBe(true);
    expect(readyImages()).toEqual([images.A]);
    expect(await served()).toBe('200 A');
    // The timeline: watching, the breach, the rollback.
    expect(deploy.summary).toMatch(/BREACH: CloudWatch alarm 'sample-service-5xx' is ALARM/);
    expect(deploy.summary).toMatch(new RegExp(`rolled back ${RELEASE} to revision ${to}`));
    expect(records('production', digestOf(images.C)).flatMap((d) => d.statuses.map((s) => s.state))).toEqual(['failure']);
    expect(records('production', digestOf(images.C))[0]!.statuses[0]!.description).toMatch(/CloudWatch alarm 'sample-service-5xx' is ALARM/);
  }, 300_000);

  test('what runs where: after the rollbacks, a promotion waiting for its approval and a failed preprod deploy', async () => {
    // After C's rollback (its own run's status job): production runs A again, C's failed attempt is
    // shown, and C (running in preprod) does not wait for production: it failed there.
    type View = Array<{ environment: string; running?: { digest: string; sha: string; recordedAt: string; runId: string; deploymentId: number }; since?: string; approvedBy?: string; failed?: { digest: string; state: string; stateAt: string; stateDescription: string }; waiting?: { digest: string } }>;
    const viewOf = (r: WorkflowRun) => JSON.parse(stepOf(r, 'pipeline/status', 'What runs where').outputs.status ?? '[]') as View;

    const afterC = viewOf(runs.C!).find((v) => v.environment === 'production')!;
    expect(afterC.running).toMatchObject({ digest: digestOf(images.A) });
    expect(afterC.failed).toMatchObject({ digest: digestOf(images.C), state: 'failure' });
    expect(afterC.waiting).toBeUndefined();

    // D: preprod deploys it, production's reviewer rejects it.
    rejectProduction = true;
    const d = await run(release('D'));
    const dSha = repo.head('main');
    rejectProduction = false;
    images.D = builtImage(d);
    expect(jobOf(d, 'pipeline/preprod/deploy').result, why(d)).toBe('success');
    expect(jobOf(d, 'pipeline/production/deploy').result).toBe('failure');
    // E: its container exits at once; preprod's deploy fails and is rolled back to D.
    const dockerfile = readFileSync(join(repo.root, 'Dockerfile'), 'utf8').replace(/^ENTRYPOINT .*$/m, 'ENTRYPOINT ["/bin/busybox", "false"]');
    const e = await run(release('E', { dockerfile }));
    images.E = builtImage(e);
    expect(jobOf(e, 'pipeline/preprod/deploy').result).toBe('failure');
    expect(errorsOf(stepOf(e, 'pipeline/preprod/deploy', 'Deploy'))[0]).toMatch(/CrashLoopBackOff|exited/);
    expect(jobOf(e, 'pipeline/production').result).toBe('skipped');
    expect(jobOf(e, 'pipeline/status').result).toBe('success');

    const preprodImage = (world.kube.get('Deployment', namespaceOf('preprod'), RELEASE) as { spec: { template: { spec: { containers: Array<{ image: string }> } } } }).spec.template.spec.containers[0]!.image;
    expect(preprodImage).toBe(images.D);
    expect(readyImages()).toEqual([images.A]);

    const view = viewOf(e);
    expect(view.map((v) => v.environment)).toEqual(['qa', 'preprod', 'production']);
    const [qa, preprod, production] = view;
    expect(qa).toEqual({ environment: 'qa' });
    expect(preprod!.running).toMatchObject({ digest: digestOf(images.D), sha: dSha });
    expect(preprod!.approvedBy).toBe('alice');
    expect(preprod!.failed).toBeUndefined();
    expect(preprod!.waiting).toBeUndefined();
    expect(production!.running).toMatchObject({ digest: digestOf(images.A), sha: shas.A });
    expect(production!.approvedBy).toBe('bob');
    // A runs again since C's rollback.
    expect(production!.since).toBe(production!.failed!.stateAt);
    expect(production!.since! > production!.running!.recordedAt).toBe(true);
    expect(production!.failed).toMatchObject({ digest: digestOf(images.C), state: 'failure' });
    expect(production!.failed!.stateDescription).toMatch(/CloudWatch alarm 'sample-service-5xx' is ALARM/);
    expect(production!.waiting).toMatchObject({ digest: digestOf(images.D) });
    // The run summary says the same.
    const summary = stepOf(e, 'pipeline/status', 'What runs where').summary;
    const row = (env: string) => summary.split('\n').find((l) => l.startsWith(`| ${env} |`)) ?? '';
    expect(row('production')).toContain(digestOf(images.A).slice(7, 19));
    expect(row('production')).toContain('| bob |');
    expect(row('production')).toContain(`${production!.since} (restored)`);
    expect(row('production')).toContain(`newer ${digestOf(images.C).slice(7, 19)} failure`);
    expect(row('production')).toContain(digestOf(images.D).slice(7, 19));
    expect(row('preprod')).toContain(digestOf(images.D).slice(7, 19));
    expect(row('preprod')).toContain('| alice |');
  }, 300_000);
});
