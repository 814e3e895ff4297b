/**
 * Mutation tests of the workflows: a copy of the workflows with one defect each, run through the
 * workflow executor next to the unchanged files, must make the run fail or differ. They run
 * against the GitHub side of the world (OIDC token service, STS evaluating the generated trust
 * policies of workflows/aws/, environments, GitHub API stand-in, real git repository, action doubles);
 * every run stops before it would need ECR or a cluster, so no Docker is needed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createActionDoubles } from '../executor/doubles/index';
import { deployRoleArn, projectTrust, repositoryIds } from '../executor/doubles/aws-trust';
import { loadEnvironments, projectEnvironmentsFile } from '../executor/doubles/environments';
import { startOidcTokenService, subjectsFromGithub, type OidcTokenService } from '../executor/doubles/oidc';
import { runWorkflow } from '../executor/index';
import type { ExecutorOptions, GithubEvent, WorkflowRun } from '../executor/model';
import { granted } from '../executor/permissions';
import { prepareSampleService, sampleServiceDir } from '../harness/docker';
import { repoRoot } from '../harness/runner';
import { startStsStandin, type Identity, type StsStandinWithSessions } from '../standins/eks/index';
import { startGithubStandin, type GithubStandin } from '../standins/github/index';
import { createServiceRepo, dispatchEvent, type ServiceRepo } from '../pipeline/service-repo';

const NAME = 'acme/sample-service';
const REGION = 'eu-west-1';
const IMAGE_REPOSITORY = '127.0.0.1:5999/acme/sample-service';
let tokens: OidcTokenService;
let sts: StsStandinWithSessions;
let github: GithubStandin;
let repo: ServiceRepo;
let push: GithubEvent;

beforeAll(async () => {
  github = await startGithubStandin({ tokens: {}, repositories: [NAME] });
  tokens = await startOidcTokenService({ subjects: subjectsFromGithub(github.url, github.mintToken({ contents: 'read', actions: 'read' })) });
  const trust = projectTrust({ tokenService: tokens });
  const identities: Identity[] = [];
  sts = await startStsStandin({ region: REGION, identities, webIdentity: { providers: trust.providers, roles: trust.roles } });
  prepareSampleService();
  repo = createServiceRepo({ serviceDir: sampleServiceDir, name: NAME, ecrRepository: NAME, release: 'sample-service', imageRepository: IMAGE_REPOSITORY });
  push = repo.change('develop', 'www/index.html', 'changed\n', 'A change');
});
afterAll(async () => {
  await sts?.stop();
  await tokens?.stop();
  await github?.stop();
});

const read = (path: string) => readFileSync(join(repoRoot, path), 'utf8');

/** One defect: `from` must occur exactly once in the file. */
function mutate(path: string, from: string | RegExp, to: string): Record<string, string> {
  const text = read(path);
  const count = typeof from === 'string' ? text.split(from).length - 1 : (text.match(new RegExp(from, 'g')) ?? []).length;
  if (count !== 1) throw new Error(`${path}: the mutation's anchor occurs ${count} times`);
  return { [path]: text.replace(from, to) };
}

function run(opts: { workflow: ExecutorOptions['workflow']; event?: GithubEvent; overrides?: Record<string, string> }): Promise<WorkflowRun> {
  return runWorkflow({
    workflow: opts.workflow,
    event: opts.event ?? push,
    repository: { root: repo.root, name: NAME, ...repositoryIds(NAME) },
    overrides: opts.overrides,
    vars: { AWS_REGION: REGION },
    actions: createActionDoubles({ repositories: { [NAME]: repo.root } }),
    environments: loadEnvironments({ file: projectEnvironmentsFile(), owner: 'acme', teams: { 'acme/platform': ['alice'] }, approver: () => ({ approve: true, reviewer: 'alice' }) }),
    idTokens: tokens,
    mintToken: (permissions) => github.mintToken(granted(permissions)),
    apiUrl: github.url,
    runnerEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin', AWS_ENDPOINT_URL_STS: sts.url, AWS_EC2_METADATA_DISABLED: 'true' },
  });
}

const job = (r: WorkflowRun, path: string) => r.jobs.find((j) => j.path.join('/') === path);
const step = (r: WorkflowRun, path: string, name: string) => job(r, path)?.steps.find((s) => s.name === name);

/** A caller of deploy.yml for QA whose deploy step fails at once (an image not pinned by digest). */
const deployCaller = {
  path: '.github/workflows/caller.yml',
  text: `on: push
permissions: {}
jobs:
  qa:
    uses: org/deploy-actions/.github/workflows/deploy.yml@v1
    permissions:
      contents: read
      id-token: write
      deployments: write
      actions: read
      pull-requests: read
    with:
      environment: qa
      image-ref: ${IMAGE_REPOSITORY}:not-pinned
      release: sample-service
      role-to-assume: ${deployRoleArn('qa')}
      cluster-name: nonprod
      aws-region: ${REGION}
      allowed-refs: refs/heads/develop
`,
};

describe('each defect makes the run fail or differ', () => {
  test('a permission removed from the starter: the run fails before any job starts', async () => {
    const starter = { path: '.github/workflows/deploy.yml', text: read('workflows/deploy.yml') };
    const before = await run({ workflow: starter });
    expect(before.error).toBeUndefined();
    const after = await run({ workflow: { ...starter, text: mutate('workflows/deploy.yml', /\n\s+id-token: write[^\n]*/, '')['workflows/deploy.yml']! } });
    expect(after.error).toBe(
      "Error calling workflow 'org/deploy-actions/.github/workflows/pipeline.yml@v1'. The nested job 'build' is requesting 'id-token: write', but is only allowed 'id-token: none'.",
    );
    expect(after.jobs).toEqual([]);
  });

  test('a reusable-workflow input with the wrong type: the run fails at start', async () => {
    const starter = { path: '.github/workflows/deploy.yml', text: read('workflows/deploy.yml') };
    const overrides = mutate('.github/workflows/pipeline.yml', /(  qa:[\s\S]*?helm-test: )\$\{\{ inputs\.helm-test \}\}/, '$1"yes"');
    const after = await run({ workflow: starter, overrides });
    expect(after.error).toMatch(/^The template is not valid\. \.github\/workflows\/pipeline\.yml \(Line: \d+, Col: \d+\): Unexpected value 'yes'$/);
    expect(after.jobs).toEqual([]);
  });

  test("a needs dropped: QA no longer waits for the build and deploys an empty image reference", async () => {
    const starter = { path: '.github/workflows/deploy.yml', text: read('workflows/deploy.yml') };
    // Without AWS_BUILD_ROLE_ARN the build fails at its configuration check.
    const before = await run({ workflow: starter });
    expect(job(before, 'pipeline/build/build')!.result).toBe('failure');
    expect(job(before, 'pipeline/qa')!.result).toBe('skipped');
    const after = await run({ workflow: starter, overrides: mutate('.github/workflows/pipeline.yml', /(  qa:\n)    needs: build\n/, '$1') });
    expect(job(after, 'pipeline/qa')!.result).not.toBe('skipped');
    expect(job(after, 'pipeline/qa')!.inputs!['image-ref']).toBe('');
  });

  test('an output renamed on one side: the redeploy receives no image', async () => {
    const redeploy = { path: '.github/workflows/redeploy.yml' };
    const event = dispatchEvent(repo, 'develop', 'redeploy.yml', { environment: 'qa', digest: `sha256:${'a'.repeat(64)}`, sha: repo.head('develop') });
    const before = await run({ workflow: redeploy, event });
    expect(job(before, 'redeploy')!.inputs!['image-ref']).toBe(`${IMAGE_REPOSITORY}@sha256:${'a'.repeat(64)}`);
    const text = readFileSync(join(repo.root, '.github/workflows/redeploy.yml'), 'utf8');
    const after = await run({ workflow: { ...redeploy, text: text.replace('echo "image-ref=', 'echo "image_ref=') }, event });
    expect(text).toContain('echo "image-ref=');
    expect(job(after, 'redeploy')!.inputs!['image-ref']).toBe('');
  });

  test('if: always() on the record step: evidence is recorded for a deploy that failed', async () => {
    // The image is not pinned by digest: the gate (which runs for every environment) refuses it.
    const before = await run({ workflow: deployCaller });
    expect(step(before, 'qa/deploy', 'Promotion gate')!.outcome).toBe('failure');
    expect(step(before, 'qa/deploy', 'Record promotion evidence')!.outcome).toBe('skipped');
    const after = await run({ workflow: deployCaller, overrides: mutate('.github/workflows/deploy.yml', 'if: inputs.record\n', 'if: always() && inputs.record\n') });
    expect(step(after, 'qa/deploy', 'Promotion gate')!.outcome).toBe('failure');
    expect(step(after, 'qa/deploy', 'Record promotion evidence')!.outcome).not.toBe('skipped');
  });

  test("environment: removed from deploy.yml: the deploy role's OIDC trust policy refuses the job", async () => {
    const before = await run({ workflow: deployCaller });
    expect(step(before, 'qa/deploy', 'AWS credentials (OIDC)')!.outcome).toBe('success');
    const overrides = mutate('.github/workflows/deploy.yml', /\n    environment:\n      name: .*\n      url: .*/, '');
    const after = await run({ workflow: deployCaller, overrides });
    const creds = step(after, 'qa/deploy', 'AWS credentials (OIDC)')!;
    expect(creds.outcome).toBe('failure');
    expect(creds.annotations.map((a) => a.message).join('\n')).toMatch(/Not authorized to perform sts:AssumeRoleWithWebIdentity/);
    expect(sts.webIdentityCalls.at(-1)!.error!.code).toBe('AccessDenied');
  });
});
