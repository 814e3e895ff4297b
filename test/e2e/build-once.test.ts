/**
 * Issue 9 through the workflow executor: one image per source tree, QA -> preprod -> production by
 * digest. The service repository's real workflows (the starter deploy.yml -> pipeline.yml ->
 * build.yml and deploy.yml) run on a real git repository moved the way GitHub's merge buttons move
 * it; the image is built by the real Docker engine and pushed to a real registry behind the ECR
 * stand-in, which stay the only record of which images exist. Pods run on the fake runtime:
 * containers are not the point here.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runWorkflow } from '../executor/index';
import type { GithubEvent, JobRun, WorkflowRun } from '../executor/model';
import { createPullRequestRefs } from '../executor/doubles/pull-request';
import { buildRoleArn } from '../executor/doubles/aws-trust';
import { dockerAvailable, prepareSampleService } from '../harness/docker';
import { createServiceRepo, dispatchEvent, type ServiceRepo } from '../pipeline/service-repo';
import { namespaceOf, startPipelineWorld, type PipelineWorld } from '../pipeline/world';
import { pushImage } from '../harness/oci-push';
import { repoRoot } from '../harness/runner';
import { contentKey, hostPlatform } from '../../actions/build-push-ecr/src/content-key';

const NAME = 'acme/sample-service';
const hasDocker = await dockerAvailable();
let world: PipelineWorld;
let repo: ServiceRepo;

const run = (event: GithubEvent, workflow = '.github/workflows/deploy.yml', text?: string): Promise<WorkflowRun> =>
  runWorkflow({ ...world.options(repo), workflow: { path: workflow, text }, event });

const job = (r: WorkflowRun, path: string): JobRun | undefined => r.jobs.find((j) => j.path.join('/') === path);
const buildStep = (r: WorkflowRun) => r.jobs.flatMap((j) => j.steps).find((s) => s.name === 'Build and push');
/** Images built by the run: build-push-ecr steps that did not reuse an image. */
const builds = (r: WorkflowRun) => r.jobs.flatMap((j) => j.steps).filter((s) => s.name === 'Build and push' && s.outputs.skipped === 'false').length;
const deployedBy = (r: WorkflowRun, environment: string) => job(r, `pipeline/${environment}/deploy`)?.steps.find((s) => s.name === 'Deploy')?.outputs['image-ref'];
const errorsOf = (r: WorkflowRun) => r.jobs.flatMap((j) => j.steps.flatMap((s) => s.annotations.filter((a) => a.level === 'error').map((a) => a.message)));
const why = (r: WorkflowRun) => `${r.error ?? ''} ${errorsOf(r).join(' | ')}`;

/** What the cluster runs in an environment: the images of its Deployments. */
function runningIn(environment: string): string[] {
  return world.kube.list('Deployment', namespaceOf(environment)).flatMap((d) => ((d as { spec?: { template?: { spec?: { containers?: Array<{ image?: string }> } } } }).spec?.template?.spec?.containers ?? []).map((c) => c.image ?? ''));
}

/** The registry itself: every tag of the repository and the digest it names. */
async function registryTags(): Promise<Map<string, string>> {
  const auth = { Authorization: world.registry.authHeader };
  const list = (await (await fetch(`${world.registry.url}/v2/${NAME}/tags/list`, { headers: auth })).json()) as { tags: string[] | null };
  const tags = new Map<string, string>();
  for (const tag of list.tags ?? []) {
    const res = await fetch(`${world.registry.url}/v2/${NAME}/manifests/${tag}`, {
      method: 'HEAD',
      headers: { ...auth, Accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' },
    });
    tags.set(tag, res.headers.get('docker-content-digest') ?? '');
  }
  return tags;
}
const tagsOf = (tags: Map<string, string>, digest: string) => [...tags].filter(([, d]) => d === digest).map(([t]) => t).sort();
const digestOf = (ref: string | undefined) => ref?.split('@')[1] ?? '';

/** A workflow of the service that only builds (build.yml), run with "Run workflow". */
const BUILD_ONLY = `name: build image
on:
  workflow_dispatch:
    inputs:
      build-args: { type: string, default: '' }
permissions: {}
jobs:
  build:
    uses: org/deploy-actions/.github/workflows/build.yml@v1
    permissions: { contents: read, id-token: write }
    with:
      repository: ${NAME}
      build-args: \${{ inputs.build-args }}
`;

describe.skipIf(!hasDocker)('build once per source tree, through the pipeline (issue 9)', () => {
  beforeAll(async () => {
    world = await startPipelineWorld({ runtime: 'fake', repository: NAME });
    repo = createServiceRepo({ serviceDir: prepareSampleService(), name: NAME, ecrRepository: NAME, release: 'sample-service', imageRepository: `${world.registryHost}/${NAME}` });
  }, 120_000);
  afterAll(async () => {
    await world?.stop();
  });

  // Each change adds a page of its own, so later merges of develop into main merge cleanly.
  let changes = 0;
  const changeOn = (branch: string) => {
    changes += 1;
    return repo.change(branch, `www/change-${changes}.html`, `<p>change ${changes}</p>\n`, `Change ${changes}`);
  };

  // A merge commit and a squash merge: test/e2e/local-pipeline.test.ts (stages 2 and 3b of the
  // main job: nothing built on main, preprod and production run QA's digest, on real containers).
  // The rebase merge is here only; the tags asserted below do not depend on the merge button.
  test.each([['a rebase merge', (n: number) => repo.rebase('develop', 'main', n)]])('develop tip -> QA; PR merged with %s: main builds nothing, preprod and production deploy the QA digest', async (_, merge) => {
    const qa = await run(changeOn('develop'));
    expect(qa.conclusion, why(qa)).toBe('success');
    expect(builds(qa)).toBe(1);
    const image = deployedBy(qa, 'qa');
    expect(image).toMatch(/@sha256:[0-9a-f]{64}$/);
    const developSha = repo.head('develop');

    const event = merge(changes);
    const mainSha = repo.head('main');
    expect(mainSha).not.toBe(developSha);
    expect(repo.git('rev-parse', `${mainSha}^{tree}`)).toBe(repo.git('rev-parse', `${developSha}^{tree}`));
    const main = await run(event);
    expect(main.conclusion, why(main)).toBe('success');
    expect(builds(main)).toBe(0);
    const reuse = buildStep(main)!.outputs;
    expect(reuse).toMatchObject({ skipped: 'true', 'image-ref': image, tag: mainSha.slice(0, 7), 'reused-from': reuse['content-key'] });
    expect(deployedBy(main, 'preprod')).toBe(image);
    expect(deployedBy(main, 'production')).toBe(image);
    expect(runningIn('production')).toEqual([image]);
    // One image, found in the registry under both commits' tags and the content key.
    const tags = tagsOf(await registryTags(), digestOf(image));
    expect(tags).toEqual(expect.arrayContaining([developSha.slice(0, 7), mainSha.slice(0, 7), reuse['content-key']!]));
  }, 600_000);

  test('a main-only commit is refused at preprod in one line saying how to proceed; the hotfix input deploys it and the evidence says so', async () => {
    const preprodBefore = runningIn('preprod');
    const fix = await run(changeOn('main'));
    expect(fix.conclusion).toBe('failure');
    expect(builds(fix)).toBe(1);
    expect(job(fix, 'pipeline/preprod/deploy')?.result).toBe('failure');
    expect(job(fix, 'pipeline/production')?.result).toBe('skipped');
    // The gate's failure line (its last annotation, after one per missing piece of evidence).
    const gate = job(fix, 'pipeline/preprod/deploy')!.steps.find((s) => s.outcome === 'failure')!;
    expect(gate.name).toBe('Promotion gate');
    const refusal = gate.annotations.filter((a) => a.level === 'error').at(-1)!.message;
    expect(refusal).not.toContain('\n');
    expect(refusal).toMatch(/to preprod refused: .*passed qa/);
    expect(refusal).toMatch(/Main deploys what develop validated: merge the change through develop so qa runs this tree first, or run the pipeline with hotfix set to true/);
    const fixImage = buildStep(fix)!.outputs['image-ref'];
    expect(runningIn('preprod')).toEqual(preprodBefore);

    const hotfix = await run(dispatchEvent(repo, 'main', 'deploy.yml', { hotfix: 'true' }));
    expect(hotfix.conclusion, why(hotfix)).toBe('success');
    expect(builds(hotfix)).toBe(0);
    expect(deployedBy(hotfix, 'preprod')).toBe(fixImage);
    expect(deployedBy(hotfix, 'production')).toBe(fixImage);
    expect(job(hotfix, 'pipeline/preprod/deploy')!.steps.map((s) => s.summary).join('\n')).toMatch(/Hotfix: deployed to preprod without/);
    const evidence = world.github.state.deployments.filter((d) => d.environment === 'preprod' && (d.payload as { digest?: string }).digest === digestOf(fixImage));
    expect(evidence.map((d) => (d.payload as { hotfix?: boolean }).hotfix)).toEqual([true]);
    // Production's evidence is not a hotfix: it required preprod's.
    const production = world.github.state.deployments.filter((d) => d.environment === 'production' && (d.payload as { digest?: string }).digest === digestOf(fixImage));
    expect(production.map((d) => (d.payload as { hotfix?: boolean }).hotfix)).toEqual([undefined]);
  }, 600_000);

  test('pull_request: the SHA tag names the checked-out merge commit, whose tree was built', async () => {
    // A team that builds pull requests gives them a role of their own: the generated build role,
    // trusted for the pull_request subject (and any ref) instead of the branches.
    const build = world.ecr.iam.role(buildRoleArn())!;
    const K = 'token.actions.githubusercontent.com';
    const trust = structuredClone(build.trustPolicy!);
    for (const s of [trust.Statement].flat()) {
      const equals = (s.Condition?.StringEquals ?? {}) as Record<string, unknown>;
      const subject = [equals[`${K}:sub`]].flat().map(String)[0]!;
      equals[`${K}:sub`] = subject.replace(/:ref:.*$/, ':pull_request');
      delete equals[`${K}:ref`];
    }
    expect(JSON.stringify(trust)).toContain(':pull_request"');
    const prRole = world.ecr.iam.addRole({ account: build.account, name: 'gha-sample-service-pr-build', policies: build.policies, trustPolicy: trust });

    changeOn('develop');
    const pr = await createPullRequestRefs(repo.root, { number: 40, head: 'develop', base: 'main' });
    // main has the hotfix develop lacks: the merge's tree is not the head's.
    expect(repo.git('rev-parse', `${pr.mergeSha}^{tree}`)).not.toBe(repo.git('rev-parse', `${pr.headSha}^{tree}`));
    const workflow = `name: pull request
on: pull_request
permissions: {}
jobs:
  build:
    uses: org/deploy-actions/.github/workflows/build.yml@v1
    permissions: { contents: read, id-token: write }
    with: { repository: ${NAME}, role-to-assume: '${prRole.arn}' }
`;
    const event: GithubEvent = {
      name: 'pull_request',
      ref: pr.ref,
      sha: pr.mergeSha,
      actor: 'dev',
      payload: {
        action: 'opened',
        number: pr.number,
        pull_request: { number: pr.number, head: { ref: 'develop', sha: pr.headSha }, base: { ref: 'main', sha: pr.baseSha }, merge_commit_sha: pr.mergeSha },
        repository: { full_name: NAME },
      },
    };
    const r = await run(event, '.github/workflows/pr-build.yml', workflow);
    expect(r.conclusion, why(r)).toBe('success');
    const out = buildStep(r)!.outputs;
    expect(out.tag).toBe(pr.mergeSha.slice(0, 7));
    expect(out.commit).toBe(pr.mergeSha);
    const tags = await registryTags();
    expect(tagsOf(tags, out.digest!)).toEqual(expect.arrayContaining([pr.mergeSha.slice(0, 7), out['content-key']!]));
    expect(tags.has(pr.headSha.slice(0, 7))).toBe(false);
    // The image says so too: its revision label is the merge commit.
    const auth = { Authorization: world.registry.authHeader, Accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' };
    const manifest = (await (await fetch(`${world.registry.url}/v2/${NAME}/manifests/${out.digest}`, { headers: auth })).json()) as { config: { digest: string } };
    const config = (await (await fetch(`${world.registry.url}/v2/${NAME}/blobs/${manifest.config.digest}`, { headers: auth })).json()) as { config: { Labels: Record<string, string> } };
    expect(config.config.Labels['org.opencontainers.image.revision']).toBe(pr.mergeSha);
  }, 300_000);

  test('two commits with identical trees share one image; a build arg or a Dockerfile change makes a new one', async () => {
    const emptyCommit = (message: string) => {
      repo.git('checkout', '-q', 'main');
      repo.git('commit', '-q', '--allow-empty', '-m', message);
    };
    const buildOnMain = async (buildArgs: string) => {
      const r = await run(dispatchEvent(repo, 'main', 'build-image.yml', { 'build-args': buildArgs }), '.github/workflows/build-image.yml', BUILD_ONLY);
      expect(r.conclusion, why(r)).toBe('success');
      return buildStep(r)!.outputs;
    };
    emptyCommit('Same tree, new commit');
    const same = await buildOnMain('');
    expect(same).toMatchObject({ skipped: 'true', 'reused-from': same['content-key'], tag: repo.head('main').slice(0, 7) });

    emptyCommit('Build with APP_VERSION=2');
    const withArg = await buildOnMain('APP_VERSION=2');
    expect(withArg.skipped).toBe('false');
    expect(withArg['content-key']).not.toBe(same['content-key']);
    expect(withArg.digest).not.toBe(same.digest);
    // The same arguments in another spelling (a repeated name: docker keeps the last): same key, nothing built.
    emptyCommit('Build with APP_VERSION=2 again');
    const again = await buildOnMain('APP_VERSION=1\nAPP_VERSION=2');
    expect(again).toMatchObject({ skipped: 'true', digest: withArg.digest, 'content-key': withArg['content-key'], 'reused-from': withArg['content-key'] });

    repo.change('main', 'Dockerfile', `${readFileSync(join(repo.root, 'Dockerfile'), 'utf8')}LABEL team=acme\n`, 'Dockerfile: team label');
    const changed = await buildOnMain('');
    expect(changed.skipped).toBe('false');
    expect(new Set([same.digest, withArg.digest, changed.digest]).size).toBe(3);
    // The registry holds each key once, on the image first built from it.
    const tags = await registryTags();
    for (const out of [same, withArg, changed]) expect(tags.get(out['content-key']!)).toBe(out.digest);
  }, 300_000);
  // Issue 20: an insider's workflow on develop, run in place of build.yml so that it holds the build
  // role (the generated trust admits build.yml's job_workflow_ref), pushes an image of its own and,
  // with one ecr:PutImage per tag, names it under the content key (then the SHA tag) of a commit
  // that is about to be pushed. build.yml on that commit must not reuse it, and no gate takes it.
  test("an image planted by a develop workflow holding the build role under a later commit's content key, then its SHA tag: build.yml does not reuse it (one line why), the gate refuses it, nothing of it deployed", async () => {
    // The ECR client the insider's script uses (the SDK's, as any workflow could install it).
    const sdk = pathToFileURL(createRequire(join(repoRoot, 'packages/aws/package.json')).resolve('@aws-sdk/client-ecr')).href;
    const script = join(mkdtempSync(join(tmpdir(), 'da-plant-')), 'plant.mjs');
    writeFileSync(
      script,
      `const { ECRClient, BatchGetImageCommand, PutImageCommand } = await import(process.env.ECR_CLIENT);
const ecr = new ECRClient({ region: process.env.REGION });
const repositoryName = process.env.REPOSITORY;
const [image] = (await ecr.send(new BatchGetImageCommand({ repositoryName, imageIds: [{ imageTag: process.env.SOURCE_TAG }] }))).images;
for (const imageTag of process.env.TAGS.split(',')) {
  await ecr.send(new PutImageCommand({ repositoryName, imageTag, imageManifest: image.imageManifest, imageManifestMediaType: image.imageManifestMediaType }));
  console.log('planted ' + imageTag);
}
`,
    );
    const plant = async (sourceTag: string, tags: string[]) => {
      const caller = `on: workflow_dispatch
permissions: {}
jobs:
  plant:
    uses: org/deploy-actions/.github/workflows/build.yml@v1
    permissions: { contents: read, id-token: write }
    with: { repository: ${NAME} }
`;
      const job = `on:
  workflow_call:
    inputs:
      repository: { type: string, required: true }
permissions: {}
jobs:
  plant:
    runs-on: ubuntu-latest
    permissions: { contents: read, id-token: write }
    steps:
      - uses: aws-actions/configure-aws-credentials@a03048d87541d1d9fcf2ecf528a4a65ba9bd7838
        with: { role-to-assume: '\${{ vars.AWS_BUILD_ROLE_ARN }}', aws-region: '\${{ vars.AWS_REGION }}' }
      - name: Plant
        env: { ECR_CLIENT: '${sdk}', REGION: '\${{ vars.AWS_REGION }}', REPOSITORY: '\${{ inputs.repository }}', SOURCE_TAG: ${sourceTag}, TAGS: '${tags.join(',')}' }
        run: '"${process.execPath}" "${script}"'
`;
      const r = await runWorkflow({ ...world.options(repo), workflow: { path: '.github/workflows/plant.yml', text: caller }, event: dispatchEvent(repo, 'develop', 'plant.yml', {}), overrides: { '.github/workflows/build.yml': job } });
      expect(r.conclusion, why(r)).toBe('success');
      expect(r.jobs.flatMap((j) => j.steps).find((s) => s.name === 'Plant')!.log).toContain(`planted ${tags.at(-1)}`);
    };
    /** The content key build-push-ecr computes for a commit of this repository (context ., ./Dockerfile, the host platform, no build args). */
    const keyOf = (sha: string) =>
      contentKey({ tree: repo.git('rev-parse', `${sha}^{tree}`), dockerfile: 'Dockerfile', dockerfileBlob: repo.git('rev-parse', `${sha}:Dockerfile`), platforms: [hostPlatform(process.platform, process.arch)], buildArgs: [] });
    const registryTagged = async (tag: string) => (await registryTags()).get(tag);

    // Run alone, the repository first needs build.yml's first image (it creates the ECR repository).
    if ((await registryTags()).size === 0) expect((await run(changeOn('develop'))).conclusion).toBe('success');
    // The insider's image, pushed with the build role (any tag it likes).
    const qaBefore = runningIn('qa');
    const sourceTag = `planted-${changes}`;
    const planted = await pushImage(world.registry, NAME, sourceTag, 'planted');

    // 1. The content key of the commit pushed next (a harmless change: its tree is known before it lands).
    const next = changeOn('develop');
    const key = keyOf(next.sha);
    await plant(sourceTag, [key]);
    expect(await registryTagged(key)).toBe(planted);
    const r = await run(next);
    expect(r.conclusion, why(r)).toBe('success');
    const build = buildStep(r)!;
    expect(build.log).toContain(`Content key ${key} `);
    expect(build.outputs).toMatchObject({ skipped: 'false', 'content-key': '' });
    expect(build.outputs.digest).not.toBe(planted);
    const warnings = build.annotations.filter((a) => a.level === 'warning').map((a) => a.message);
    expect(warnings.filter((w) => w.startsWith(`Not reused: ${planted} has no build provenance `) && w.includes(`building instead (content key ${key} stays on that image`)), warnings.join('\n')).toHaveLength(1);
    expect(deployedBy(r, 'qa')).toBe(build.outputs['image-ref']);
    expect(runningIn('qa').join(' ')).not.toContain(planted);

    // 2. The SHA tag of the commit pushed next: that commit cannot be built (the tag is immutable); refused in one line, nothing deployed.
    const after = changeOn('develop');
    const sha7 = after.sha.slice(0, 7);
    await plant(sourceTag, [sha7]);
    const qaNow = runningIn('qa');
    const refused = await run(after);
    expect(refused.conclusion).toBe('failure');
    expect(builds(refused)).toBe(0);
    const failed = refused.jobs.flatMap((j) => j.steps).find((s) => s.outcome === 'failure')!;
    expect(failed.name).toBe('Build and push');
    const lines = failed.annotations.filter((a) => a.level === 'error').map((a) => a.message);
    expect(lines.filter((l) => new RegExp(`^Not reused: ${planted} has no build provenance .*tag ${sha7} names that image and is immutable`).test(l)), lines.join('\n')).toHaveLength(1);
    expect(job(refused, 'pipeline/qa/deploy')?.steps.find((s) => s.name === 'Deploy')?.outcome ?? 'not started').not.toMatch(/success|failure/);
    expect(runningIn('qa')).toEqual(qaNow);

    // 3. The planted digest with that commit, by redeploy.yml to QA: the gate refuses it (no build provenance).
    const redeploy = await run(dispatchEvent(repo, 'develop', 'redeploy.yml', { environment: 'qa', digest: planted, sha: after.sha }), '.github/workflows/redeploy.yml');
    expect(redeploy.conclusion).toBe('failure');
    const gate = redeploy.jobs.flatMap((j) => j.steps).find((s) => s.name === 'Promotion gate')!;
    expect(gate.outcome).toBe('failure');
    expect(gate.annotations.filter((a) => a.level === 'error').at(-1)!.message).toMatch(new RegExp(`^Promotion of ${NAME}@${planted} to qa refused: ${planted} has no build provenance`));
    expect(redeploy.jobs.flatMap((j) => j.steps).find((s) => s.name === 'Deploy')?.outcome ?? 'not started').not.toMatch(/success|failure/);
    expect(runningIn('qa')).toEqual(qaNow);
    expect(qaBefore.join(' ')).not.toContain(planted);
  }, 600_000);
});
