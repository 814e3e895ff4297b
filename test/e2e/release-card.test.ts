/**
 * Issue 22, the release card through the workflow executor: the service repository's starter
 * workflows (deploy.yml -> pipeline.yml -> deploy.yml's `card` job before each approval, and
 * redeploy.yml) on the pipeline world of `npm run main`, pods on the fake runtime. GitHub's compare
 * API answers from the service's real git history, ECR's scan findings from what the world's
 * scanner says each image holds, manifests from the real registry, the chart rendered by helm.
 *
 *   1. develop -> qa, PR #1 merged: preprod and production get a first-deploy card; the image's
 *      scan completed without findings
 *   2. PR #2 adds a Secret and 200 ConfigMaps: the diff is cut to fit with a count, the card stays
 *      under its budget, the Secret shows by its keys only; the commits with their pull request
 *      and author; new findings by severity
 *   3. a hotfix on main: the card says nothing let it through; the Secret's changed key, never its
 *      value (not in any summary or log of the run); new and fixed findings
 *   4. production redeployed to PR #2's image: a rollback, with the commit it takes away
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { manyTemplate } from '../../actions/promote-gate/tests/card-charts';
import { CARD_BUDGET } from '../../actions/promote-gate/src/card/render';
import { runWorkflow } from '../executor/index';
import type { GithubEvent, JobRun, WorkflowRun } from '../executor/model';
import { dockerAvailable, prepareSampleService } from '../harness/docker';
import { createServiceRepo, dispatchEvent, type ServiceRepo } from '../pipeline/service-repo';
import { startPipelineWorld, type PipelineWorld } from '../pipeline/world';
import type { ScanFinding } from '../standins/ecr/scans';

const NAME = 'acme/sample-service';
const hasDocker = await dockerAvailable();
let world: PipelineWorld;
let repo: ServiceRepo;
/** What ECR's scan on push finds, by the commit (sha7 tag) an image was built from; other images: none. */
const findingsOf = new Map<string, ScanFinding[]>();
const SECRET_1 = 'pw-first-Zq8Kx3vT';
const SECRET_2 = 'pw-second-Lm4Nw7rY';
const b64 = (s: string) => Buffer.from(s).toString('base64');
/** Who approves production in the next run (preprod: alice, its only reviewer). */
let productionReviewer = 'bob';

const run = (event: GithubEvent, workflow = '.github/workflows/deploy.yml'): Promise<WorkflowRun> => runWorkflow({ ...world.options(repo), workflow: { path: workflow }, event });
const job = (r: WorkflowRun, path: string): JobRun | undefined => r.jobs.find((j) => j.path.join('/') === path);
const errorsOf = (r: WorkflowRun) => r.jobs.flatMap((j) => j.steps.flatMap((s) => s.annotations.filter((a) => a.level === 'error').map((a) => a.message)));
const why = (r: WorkflowRun) => `${r.error ?? ''} ${r.jobs.map((j) => j.error ?? '').join(' ')} ${errorsOf(r).join(' | ')}`;
const deployed = (r: WorkflowRun, path: string) => job(r, path)?.steps.find((s) => s.name === 'Deploy')?.outputs['image-ref'] ?? '';

/** The card job's card (its output) and the card step's summary and log. */
function cardOf(r: WorkflowRun, path: string) {
  const j = job(r, path);
  expect(j?.result, `${path}: ${why(r)}`).toBe('success');
  const step = j!.steps.find((s) => s.name === 'Release card')!;
  const text = j!.outputs.card ?? '';
  expect(text.startsWith('## Release card: sample-service to ')).toBe(true);
  const made = /Release card sha256:[0-9a-f]{64} \((\d+) bytes, made in (\d+) ms\)/.exec(step.log);
  expect(made, step.log.slice(-400)).not.toBeNull();
  console.log(`${path}: card ${made![1]} bytes, made in ${made![2]} ms`);
  return { text, summary: step.summary, log: step.log, bytes: Number(made![1]), ms: Number(made![2]) };
}

/** Everything the run wrote where people read: every step's log and summary, and the job outputs. */
const everythingShown = (r: WorkflowRun) => r.jobs.flatMap((j) => [...j.steps.flatMap((s) => [s.log, s.summary]), ...Object.values(j.outputs)]).join('\n');

describe.skipIf(!hasDocker)('the release card through the executor (issue 22)', () => {
  beforeAll(async () => {
    world = await startPipelineWorld({
      runtime: 'fake',
      repository: NAME,
      scanner: (_repository, image) => image.tags.map((t) => findingsOf.get(t)).find(Boolean) ?? [],
      // Production's reviewers are alice and bob (workflows/environments.yml's teams in the world): who approves it changes per run.
      approver: ({ environment, eligible }) => ({ approve: true, reviewer: environment === 'production' ? productionReviewer : eligible[0]! }),
    });
    repo = createServiceRepo({ serviceDir: prepareSampleService(), name: NAME, ecrRepository: NAME, release: 'sample-service', imageRepository: `${world.registryHost}/${NAME}` });
    // The commits' e-mail belongs to a GitHub account: compare names the login.
    world.github.state.users.push({ login: 'dev-login', id: 4242, emails: ['dev@example.com'] });
  }, 180_000);
  afterAll(async () => {
    await world?.stop();
  });

  const page = () => readFileSync(join(repo.root, 'www/index.html'), 'utf8');
  let m1 = '';
  let s = { image: '', sha: '' };

  test('first deploy: no running release, the scan completed without findings', async () => {
    const qa = await run(repo.change('develop', 'www/index.html', `${page()}\n<!-- change 1 -->\n`, 'Change 1'));
    expect(qa.conclusion, why(qa)).toBe('success');
    const main = await run(repo.mergeCommit('develop', 'main', 1));
    expect(main.conclusion, why(main)).toBe('success');
    m1 = repo.head('main');
    const card = cardOf(main, 'pipeline/preprod/card');
    expect(card.text).toContain('**first deploy**: nothing runs here yet');
    expect(card.text).toContain('| Running in preprod | nothing running |');
    expect(card.text).toContain(`First deploy: every commit up to \`${m1.slice(0, 7)}\`.`);
    expect(card.text).toContain('Scan findings: new none; fixed none; candidate in all none.');
    // Size and layers from the manifests in ECR (no pull).
    expect(card.text).toMatch(/\| Candidate \| [\d.]+ (KiB|MiB) \| \d+ \| \d+ new/);
    expect(card.summary).toContain(`_Card ${job(main, 'pipeline/preprod/card')!.outputs['card-sha256']}`);
  }, 900_000);

  test('a Secret and 200 objects: the diff cut to fit with a count, keys only, commits and new findings', async () => {
    repo.git('checkout', '--quiet', 'develop');
    writeFileSync(join(repo.root, 'chart/templates/many.yaml'), manyTemplate);
    writeFileSync(
      join(repo.root, 'chart/templates/secret.yaml'),
      'apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}-db\ntype: Opaque\nstringData:\n  password: {{ .Values.db.password | quote }}\n',
    );
    const values = readFileSync(join(repo.root, 'chart/values.yaml'), 'utf8');
    writeFileSync(join(repo.root, 'chart/values.yaml'), `${values}\nmany: 200\nmanyValue: "${'v'.repeat(300)}"\ndb:\n  password: ${SECRET_1}\n`);
    const push = repo.change('develop', 'www/index.html', `${page()}\n<!-- change 2 -->\n`, 'Change 2: a database secret and 200 config maps');
    findingsOf.set(repo.head('develop').slice(0, 7), [
      { name: 'CVE-2026-0001', severity: 'HIGH', package: 'openssl', version: '3.0.1' },
      { name: 'CVE-2026-0002', severity: 'LOW', package: 'zlib' },
    ]);
    const qa = await run(push);
    expect(qa.conclusion, why(qa)).toBe('success');
    const change2 = repo.head('develop');
    const merge = repo.mergeCommit('develop', 'main', 2);
    // GitHub knows PR #2 merged (its commit and the merge commit): "list pull requests associated with a commit" names it.
    const at = new Date().toISOString();
    world.github.state.pulls.push({ repo: NAME, number: 2, head: 'develop', base: 'main', title: 'Change 2', body: '', state: 'closed', user: 'dev-login', createdAt: at, updatedAt: at, merged: { at, commits: [change2, repo.head('main')] } });
    productionReviewer = 'alice';
    const main = await run(merge);
    expect(main.conclusion, why(main)).toBe('success');
    s = { image: deployed(main, 'pipeline/production/deploy'), sha: repo.head('main') };

    for (const environment of ['preprod', 'production']) {
      const card = cardOf(main, `pipeline/${environment}/card`);
      expect(card.bytes).toBeLessThanOrEqual(CARD_BUDGET);
      expect(Buffer.byteLength(card.summary)).toBeLessThan(1024 * 1024);
      expect(card.text).toMatch(/objects: 201 added, \d+ changed, 0 removed/);
      expect(card.text).toMatch(/_Diff cut to fit the card: \d+ more line\(s\) in \d+ object\(s\) not shown \(ConfigMap\/cm-/);
      expect(card.text).toContain('Secret/sample-service-db: keys added password (values are never shown)');
      expect(card.text).toContain('2 commit(s) from what runs to the candidate:');
      expect(card.text).toMatch(/\| `[0-9a-f]{7}` \| dev-login \| Merge pull request #2 from acme\/develop \| #2 \|/);
      // Its message names no pull request: the card job's pull-requests: read gets the number from GitHub.
      expect(card.text).toMatch(/\| `[0-9a-f]{7}` \| dev-login \| Change 2: a database secret and 200 config maps \| #2 \|/);
      expect(card.text).not.toContain('not looked up');
      expect(card.text).toContain('Scan findings: new 1 HIGH, 1 LOW; fixed none; candidate in all 1 HIGH, 1 LOW. New critical/high: CVE-2026-0001 (openssl).');
    }
    // Who approved, from the review history of each run the evidence names (the card job's actions: read):
    // what runs in production was approved by bob in the first run, preprod by alice in this one.
    const production = cardOf(main, 'pipeline/production/card').text;
    expect(production).toMatch(/\| Running in production \| [^\n]* \| bob \|\n/);
    expect(production).toMatch(/\| preprod \| success \(signed\) \| [^|]+ \| \[run\]\([^)]+\) \| alice \|/);
    expect(production).toMatch(/- Rollback: a failed rollout or a breached bake goes back to `[0-9a-f]{12}` \(commit `[0-9a-f]{7}`, validated [^)]*, approved by bob\)/);
    expect(production).not.toContain('(unknown');
    const shown = everythingShown(main);
    for (const value of [SECRET_1, b64(SECRET_1)]) expect(shown).not.toContain(value);
  }, 1_500_000);

  test('a hotfix: nothing let it through, the Secret by its changed key, new and fixed findings; no value anywhere', async () => {
    repo.git('checkout', '--quiet', 'main');
    const values = readFileSync(join(repo.root, 'chart/values.yaml'), 'utf8');
    writeFileSync(join(repo.root, 'chart/values.yaml'), values.replace(SECRET_1, SECRET_2));
    repo.change('main', 'www/index.html', `${page()}\n<!-- hotfix -->\n`, 'Hotfix: rotate the database password');
    findingsOf.set(repo.head('main').slice(0, 7), [
      { name: 'CVE-2026-0002', severity: 'LOW', package: 'zlib' },
      { name: 'CVE-2026-0003', severity: 'CRITICAL', package: 'busybox' },
    ]);
    productionReviewer = 'bob';
    const hotfix = await run(dispatchEvent(repo, 'main', 'deploy.yml', { hotfix: 'true' }));
    expect(hotfix.conclusion, why(hotfix)).toBe('success');
    const card = cardOf(hotfix, 'pipeline/preprod/card');
    expect(card.text).toContain('**hotfix**');
    expect(card.text).toContain('Nothing let the candidate through: it is a **hotfix**');
    expect(card.text).toContain('Secret/sample-service-db: keys changed password (values are never shown)');
    expect(card.text).toContain('1 commit(s) from what runs to the candidate:');
    expect(card.text).toContain('Scan findings: new 1 CRITICAL; fixed 1 HIGH; candidate in all 1 CRITICAL, 1 LOW. New critical/high: CVE-2026-0003 (busybox).');
    const shown = everythingShown(hotfix);
    for (const value of [SECRET_1, SECRET_2, b64(SECRET_1), b64(SECRET_2)]) expect(shown).not.toContain(value);
  }, 1_200_000);

  test("production redeployed to the previous release: a rollback, with the commit it takes away; preprod's record replayed with another card is reported by verify", async () => {
    const digest = s.image.split('@')[1]!;
    // Mutation: a deployments: write token replays preprod's genuine signed record of this digest with another card beside it.
    const genuine = world.github.state.deployments
      .filter((d) => d.environment === 'preprod' && (d.payload as { digest?: string; signed?: unknown }).digest === digest && (d.payload as { signed?: unknown }).signed)
      .at(-1)!;
    const token = world.github.mintToken({ deployments: 'write' });
    const post = (path: string, body: unknown) =>
      fetch(`${world.github.url}/repos/${NAME}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) }).then((r) => r.json() as Promise<{ id: number }>);
    const forged = await post('/deployments', { ref: genuine.sha, task: genuine.task, environment: 'preprod', payload: { ...(genuine.payload as object), card: '## Release card: sample-service to preprod\n\nnothing to see here' }, transient_environment: true, required_contexts: [] });
    await post(`/deployments/${forged.id}/statuses`, { state: 'success', auto_inactive: false });
    const back = await run(dispatchEvent(repo, 'main', 'redeploy.yml', { environment: 'production', digest, sha: s.sha }), '.github/workflows/redeploy.yml');
    expect(back.conclusion, why(back)).toBe('success');
    const card = cardOf(back, 'redeploy/card');
    expect(card.text).toContain('**rollback**: 1 commit(s) taken away');
    expect(card.text).toContain('**Rollback**: the candidate is 1 commit(s) behind what runs; these are taken away:');
    expect(card.text).toMatch(/\| `[0-9a-f]{7}` \| dev-login \| Hotfix: rotate the database password \| - \|/);
    // redeploy.yml's card names the reviewers too: what runs (the hotfix, bob), the candidate's statements (alice, in PR #2's run).
    expect(card.text).toMatch(/\| Running in production \| [^\n]* \| bob \|\n/);
    expect(card.text).toMatch(/\| production \| ran here before \(success\) \(signed\) \| [^|]+ \| \[run\]\([^)]+\) \| alice \|/);
    expect(card.text).toMatch(/\| preprod \| success \(signed\) \| [^|]+ \| \[run\]\([^)]+\) \| alice \|/);
    expect(card.text).toContain('Secret/sample-service-db: keys changed password (values are never shown)');
    expect(card.text).toContain('Scan findings: new 1 HIGH; fixed 1 CRITICAL;');
    expect(deployed(back, 'redeploy/deploy')).toBe(s.image);
    // verify reports the card that is not the signed one (a warning; the signed statement still lets the digest through).
    const gate = job(back, 'redeploy/deploy')!.steps.find((x) => x.name === 'Promotion gate')!;
    const warned = gate.annotations.filter((a) => a.level === 'warning').map((a) => a.message).join('\n');
    expect(warned).toMatch(new RegExp(`the release card kept with preprod's evidence \\(deployment ${forged.id}\\) hashes to sha256:[0-9a-f]{64}, not sha256:[0-9a-f]{64}, the card its signed statement says the reviewers saw: that card was not the one approved`));
  }, 900_000);
});
