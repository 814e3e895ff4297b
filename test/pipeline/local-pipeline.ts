/**
 * The main job (`npm run main [-- --service PATH]`): the service repository's real workflows
 * run through the workflow executor (test/executor), stage by stage, on a real git repository
 * of the service: its own .github/workflows/deploy.yml and redeploy.yml when it has them, else
 * the starters of workflows/ (-> pipeline.yml -> build.yml and deploy.yml).
 *
 *   1. push to develop                       build -> qa
 *   2. PR develop -> main, merge commit      build -> preprod (approval) -> production (approval, preprod evidence)
 *   3. a second change, squash-merged        develop: build -> qa; main: build -> preprod -> production
 *   4. redeploy (workflow_dispatch)          production back to stage 2's image, by digest
 *   5. a third change on develop (not merged), then the refusals: its QA-only digest to
 *      production; production from develop; a broken deploy to QA rolled back, QA still serving
 *
 * `--stages LIST` runs stages 1 and 2 and those of 3, 4 and 5 the list names (`--stages 1,2,4,5`:
 * no squash merge); `--short` is `--stages 1,2,4` (build once, QA, preprod, production, the
 * redeploy): a rehearsal of another chart layout that does not need the refusals again. Without
 * either, every stage runs. `--card-doc FILE` (needs stage 3) writes stage 3b's production
 * release card into FILE between its markers (docs/release-card.md).
 *
 * Each job and step prints as the Actions UI groups them; the run ends with the table of what
 * ran where and the images each environment's pods run, and exits non-zero when any outcome
 * differs from what the stage expects.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runWorkflow } from '../executor/index';
import type { GithubEvent, JobRun, WorkflowRun } from '../executor/model';
import { dockerAvailable, prepareSampleService, prepareService } from '../harness/docker';
import { repoRoot } from '../harness/runner';
import { useEcrRepository } from '../executor/doubles/aws-trust';
import { createServiceRepo, dispatchEvent, editsOf, type ServiceRepo } from './service-repo';
import { ENVIRONMENTS, namespaceOf, startPipelineWorld } from './world';

const fixturesDir = resolve(repoRoot, 'test/fixtures');

/**
 * Images built per stage (build-push-ecr not skipped). A merge or squash commit on main has the
 * tree develop built, so build-push-ecr reuses that image by its content key (issue 9): main
 * builds nothing. Change these when what main does changes.
 */
export const EXPECTED_BUILDS = { develop: 1, mergeCommit: 0, squash: 0 };

interface Expectation {
  conclusion: 'success' | 'failure';
  /** Job path (ids joined with /) -> result; jobs not listed are not checked. */
  jobs: Record<string, JobRun['result']>;
  builds?: number;
  /** A step (job path, step name) that must fail, with words its error must contain. */
  failedStep?: { job: string; step: string; error: RegExp };
}

const row: string[][] = [];
const problems: string[] = [];

function short(ref: string | undefined): string {
  const digest = /sha256:[0-9a-f]{12}/.exec(ref ?? '')?.[0];
  return digest ?? '-';
}

function check(stage: string, run: WorkflowRun, want: Expectation): void {
  const got = Object.fromEntries(run.jobs.map((j) => [j.path.join('/'), j.result]));
  if (run.conclusion !== want.conclusion) problems.push(`${stage}: run ${run.conclusion}, expected ${want.conclusion}${run.error ? ` (${run.error})` : ''}`);
  for (const [job, result] of Object.entries(want.jobs)) if (got[job] !== result) problems.push(`${stage}: job ${job} ${got[job] ?? 'absent'}, expected ${result}`);
  if (want.builds !== undefined) {
    const built = run.jobs.flatMap((j) => j.steps).filter((s) => s.name === 'Build and push' && s.conclusion === 'success' && s.outputs.skipped === 'false').length;
    if (built !== want.builds) problems.push(`${stage}: ${built} image(s) built, expected ${want.builds}`);
  }
  if (want.failedStep) {
    const job = run.jobs.find((j) => j.path.join('/') === want.failedStep!.job);
    const step = job?.steps.find((s) => s.name === want.failedStep!.step);
    const errors = step?.annotations.filter((a) => a.level === 'error').map((a) => a.message).join(' | ') ?? '';
    if (step?.outcome !== 'failure' || !want.failedStep.error.test(errors)) {
      problems.push(`${stage}: step '${want.failedStep.step}' of ${want.failedStep.job} should fail with ${want.failedStep.error} (${step?.outcome ?? 'absent'}: ${errors})`);
    } else console.log(`  refused as expected: ${errors.split('\n')[0]}`);
  }
  // Every approval has the release card in front of it: the card job of the same call ran first,
  // made a card (not "No card could be made") and the record step signed its hash.
  for (const job of run.jobs.filter((j) => j.environment && j.environment.name !== 'qa' && j.result !== 'skipped')) {
    const card = run.jobs.find((j) => j.path.join('/') === [...job.path.slice(0, -1), 'card'].join('/'));
    const text = card?.outputs.card ?? '';
    const signed = job.steps.find((s) => s.name === 'Record promotion evidence');
    if (card?.result !== 'success' || !text.startsWith(`## Release card: `) || /No card could be made/.test(text)) {
      problems.push(`${stage}: no release card before the approval of ${job.names.join(' / ')} (${card ? `card job ${card.result}: ${text.split('\n').slice(0, 3).join(' ')}` : 'no card job'})`);
    } else if (job.result === 'success' && signed && !signed.log.includes(card.outputs['card-sha256']!)) {
      problems.push(`${stage}: the record step of ${job.names.join(' / ')} does not name the card's hash ${card.outputs['card-sha256']}`);
    }
  }
  for (const job of run.jobs.filter((j) => j.environment)) {
    const deploy = job.steps.find((s) => s.name === 'Deploy');
    row.push([stage, job.names.join(' / '), job.environment!.name, job.result, short(deploy?.outputs['image-ref'] ?? job.outputs['image-ref']), deploy?.outputs.revision ?? '-', job.environment!.approvals.join(', ') || '-']);
  }
  if (run.jobs.length === 0 || run.error) row.push([stage, '-', '-', run.error ? 'refused at start' : 'not triggered', '-', '-', '-']);
}

const CARD_BEGIN = '<!-- card: written by `npm run main -- --card-doc docs/release-card.md` (stage 3b, production) -->';
const CARD_END = '<!-- card end -->';

/** Puts stage 3b's production card (the card step's summary, as the run page shows it) between the markers of `file`. */
function writeCardDoc(file: string, r: WorkflowRun): void {
  const job = r.jobs.find((j) => j.path.join('/') === 'pipeline/production/card');
  const summary = job?.steps.find((s) => s.name === 'Release card')?.summary.trim();
  const doc = readFileSync(file, 'utf8');
  const [start, end] = [doc.indexOf(CARD_BEGIN), doc.indexOf(CARD_END)];
  if (!summary) problems.push(`--card-doc: stage 3b made no production card`);
  else if (start < 0 || end < start) problems.push(`--card-doc: ${file} has no ${CARD_BEGIN} ... ${CARD_END} markers`);
  else {
    writeFileSync(file, `${doc.slice(0, start + CARD_BEGIN.length)}\n\n${summary}\n\n${doc.slice(end)}`);
    console.log(`  production's card written to ${file}`);
  }
}

function imageOf(run: WorkflowRun): string {
  const build = run.jobs.find((j) => j.steps.some((s) => s.name === 'Build and push'));
  const ref = build?.outputs['image-ref'];
  if (!ref) throw new Error('the build job gave no image-ref');
  return ref;
}

/** The stages `--stages` / `--short` select (1 and 2 always run: every later stage builds on them). */
function stagesOf(values: { short?: boolean; stages?: string; 'card-doc'?: string }): Set<number> {
  if (values.short && values.stages !== undefined) throw new Error('--short and --stages: give one of them (--short is --stages 1,2,4)');
  const list = values.short ? '1,2,4' : (values.stages ?? '1,2,3,4,5');
  const stages = list.split(',').map((s) => s.trim());
  if (!stages.every((s) => /^[1-5]$/.test(s)) || !stages.includes('1') || !stages.includes('2')) {
    throw new Error(`--stages must list stage numbers 1 to 5 separated by commas, with 1 and 2 (e.g. 1,2,4,5); got '${list}'`);
  }
  const chosen = new Set(stages.map(Number));
  if (values['card-doc'] !== undefined && !chosen.has(3)) throw new Error('--card-doc writes stage 3b\'s card: run stage 3 (not --short, or --stages with 3)');
  return chosen;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { service: { type: 'string' }, short: { type: 'boolean' }, stages: { type: 'string' }, 'card-doc': { type: 'string' } } });
  const stages = stagesOf(values);
  if (!(await dockerAvailable())) throw new Error('The Docker engine is not running (scripts/setup.sh starts it as root)');
  const serviceDir = values.service ? resolve(process.env.MAIN_CALLER_CWD ?? process.cwd(), values.service) : prepareSampleService();
  // This repository's fixture services get Debian's busybox, which is not committed.
  if (serviceDir.startsWith(fixturesDir)) prepareService(serviceDir);
  if (!existsSync(resolve(serviceDir, 'Dockerfile'))) throw new Error(`--service ${serviceDir}: no Dockerfile there`);
  const name = 'acme/sample-service';
  const release = 'sample-service';

  // A service's own deploy.yml may name another ECR repository: the AWS set-up is then the one
  // deploy-setup generates for the example file with that repository (as the team would list it).
  const ownDeploy = resolve(serviceDir, '.github/workflows/deploy.yml');
  useEcrRepository(existsSync(ownDeploy) ? editsOf(readFileSync(ownDeploy, 'utf8')).ecrRepository : undefined);

  console.log('Starting the local stand-ins');
  const world = await startPipelineWorld({ runtime: 'docker', repository: name });
  stops.push(world.stop);
  const repo = createServiceRepo({ serviceDir, name, ecrRepository: name, release, imageRepository: `${world.registryHost}/${name}` });
  console.log(`  service repository ${repo.root} (${repo.own.deploy ? 'its own' : 'the starter'} deploy.yml, ${repo.own.redeploy ? 'its own' : 'the starter'} redeploy.yml)`);
  console.log(`  ECR ${world.ecr.url}, registry ${world.registryHost}, EKS ${world.eks.eks.url}, STS ${world.eks.sts.url}, Kubernetes ${world.kube.url}, GitHub ${world.github.url}, OIDC ${world.tokens.url}`);

  /** The images of an environment's running pods, as their specs name them. */
  const runningImages = (environment: string) =>
    world.kube
      .list('Pod', namespaceOf(environment))
      .filter((p) => !p.metadata?.deletionTimestamp && (p as { status?: { phase?: string } }).status?.phase === 'Running')
      .flatMap((p) => ((p as { spec?: { containers?: Array<{ image?: string }> } }).spec?.containers ?? []).map((c) => c.image));

  const run = async (stage: string, workflow: string, event: GithubEvent, want: Expectation) => {
    console.log(`\n##### ${stage}  (${event.name} ${event.ref} ${event.sha.slice(0, 7)}, ${workflow})`);
    // Summaries are printed under their steps: the release card shows before each approval.
    const r = await runWorkflow({ ...world.options(repo, (line) => console.log(line)), logSummaries: true, workflow: { path: `.github/workflows/${workflow}` }, event });
    check(stage, r, want);
    return r;
  };
  const pushJobs = (branch: 'develop' | 'main', ok = true): Record<string, JobRun['result']> =>
    branch === 'develop'
      ? { 'pipeline/build/build': 'success', 'pipeline/qa/deploy': ok ? 'success' : 'failure', 'pipeline/preprod': 'skipped', 'pipeline/production': 'skipped' }
      : { 'pipeline/build/build': 'success', 'pipeline/qa': 'skipped', 'pipeline/preprod/deploy': 'success', 'pipeline/production/deploy': 'success' };

  // Each change edits the sample's page; another service gets a file of its own at the root
  // (part of the build context, so each change is a new tree and a new image).
  const changed = existsSync(resolve(serviceDir, 'www/index.html')) ? 'www/index.html' : 'deploy-actions-rehearsal.txt';
  const page = existsSync(resolve(serviceDir, changed)) ? readFileSync(resolve(serviceDir, changed), 'utf8') : 'Rehearsal of the deploy-actions pipeline\n';
  await run('1. push to develop', 'deploy.yml', repo.change('develop', changed, `${page}\n<!-- change 1 -->\n`, 'Change 1'), {
    conclusion: 'success',
    jobs: pushJobs('develop'),
    builds: EXPECTED_BUILDS.develop,
  });
  const m1 = await run('2. PR #1 merged (merge commit)', 'deploy.yml', repo.mergeCommit('develop', 'main', 1), { conclusion: 'success', jobs: pushJobs('main'), builds: EXPECTED_BUILDS.mergeCommit });
  const m1Sha = repo.head('main');
  /** What production runs when the stages end. */
  let production = imageOf(m1);
  if (stages.has(3)) {
    await run('3a. push to develop', 'deploy.yml', repo.change('develop', changed, `${page}\n<!-- change 2 -->\n`, 'Change 2'), {
      conclusion: 'success',
      jobs: pushJobs('develop'),
      builds: EXPECTED_BUILDS.develop,
    });
    const squashed = await run('3b. PR #2 squash-merged', 'deploy.yml', repo.squash('develop', 'main', 2), { conclusion: 'success', jobs: pushJobs('main'), builds: EXPECTED_BUILDS.squash });
    production = imageOf(squashed);
    if (values['card-doc']) writeCardDoc(resolve(process.env.MAIN_CALLER_CWD ?? process.cwd(), values['card-doc']), squashed);
  }

  const digest = (r: WorkflowRun) => imageOf(r).split('@')[1]!;
  // Production back to PR #1's image by digest: preprod has moved on to PR #2's, but production
  // ran PR #1's image and signed that it did (docs/promote-gate.md, rule 6: rollback). Without
  // stage 3, production still runs it: the redeploy is a new revision of the same image.
  if (stages.has(4)) {
    await run('4. redeploy production to PR #1', 'redeploy.yml', dispatchEvent(repo, 'main', 'redeploy.yml', { environment: 'production', digest: digest(m1), sha: m1Sha }), {
      conclusion: 'success',
      jobs: { check: 'success', 'redeploy/deploy': 'success' },
    });
    production = imageOf(m1);
  }
  async function refusals(): Promise<void> {
    const d3 = await run('5. push to develop (not merged)', 'deploy.yml', repo.change('develop', changed, `${page}\n<!-- change 3 -->\n`, 'Change 3'), {
      conclusion: 'success',
      jobs: pushJobs('develop'),
      builds: EXPECTED_BUILDS.develop,
    });
    const d3Sha = repo.head('develop');
    await run('5a. refused: a QA-only digest to production', 'redeploy.yml', dispatchEvent(repo, 'main', 'redeploy.yml', { environment: 'production', digest: digest(d3), sha: d3Sha }), {
      conclusion: 'failure',
      jobs: { check: 'success', 'redeploy/deploy': 'failure' },
      failedStep: { job: 'redeploy/deploy', step: 'Promotion gate', error: /preprod/ },
    });
    await run('5b. refused: production from develop', 'redeploy.yml', dispatchEvent(repo, 'develop', 'redeploy.yml', { environment: 'production', digest: digest(m1), sha: m1Sha }), {
      conclusion: 'failure',
      jobs: { check: 'failure', redeploy: 'skipped' },
      failedStep: { job: 'check', step: 'Check digest, commit and branch', error: /production is deployed from refs\/heads\/main/ },
    });
    const serving = imageOf(d3);
    await run('5c. a broken deploy to QA, rolled back', 'redeploy.yml', dispatchEvent(repo, 'develop', 'redeploy.yml', { environment: 'qa', digest: `sha256:${'0'.repeat(64)}`, sha: d3Sha }), {
      conclusion: 'failure',
      jobs: { check: 'success', 'redeploy/deploy': 'failure' },
      failedStep: { job: 'redeploy/deploy', step: 'Deploy', error: /ImagePullBackOff|ErrImagePull/ },
    });
    const qaImages = runningImages('qa');
    if (qaImages.length === 0 || qaImages.some((i) => i !== serving)) problems.push(`5c: QA pods do not all run the previous image ${serving}: ${qaImages.join(', ')}`);
    else console.log(`  QA still serves the previous image from ${qaImages.length} pod(s): ${serving}`);
  }

  if (stages.has(5)) await refusals();

  // What runs where, as the cluster says: each environment's running pods and their images.
  // Production runs PR #1's image exactly as built (registry, repository, digest) after stage 4
  // (PR #2's after stage 3 without 4).
  for (const environment of ENVIRONMENTS) {
    const images = [...new Set(runningImages(environment))];
    console.log(`  ${environment} pods run: ${images.join(', ') || 'nothing'}`);
    if (environment === 'production' && (images.length !== 1 || images[0] !== production)) problems.push(`production pods run ${images.join(', ') || 'nothing'}, expected ${production}`);
  }

  console.log('\n##### What ran where');
  console.log('| stage | job | environment | result | digest | revision | approved by |\n| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of row) console.log(`| ${r.join(' | ')} |`);
  const approvals = world.environments.approvals.map((a) => `${a.environment}: ${a.state} by ${a.reviewer}`);
  console.log(`\nApprovals recorded: ${approvals.join('; ') || 'none'}`);
  if (problems.length) {
    console.log(`\n${problems.length} outcome(s) differ from what the run expects:`);
    for (const p of problems) console.log(`  - ${p}`);
    process.exitCode = 1;
  } else console.log('\nEvery outcome is as expected.');
}

const stops: Array<() => Promise<void>> = [];
main()
  .catch((err) => {
    console.error(`\nMain job failed: ${(err as Error).message}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  });
