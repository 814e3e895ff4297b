/**
 * build-push-ecr end to end: the committed bundle, run like the GitHub runner does, against
 * the ECR stand-in (real AWS SDK over HTTP) and a real registry, with the real Docker engine.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorsOf, runActionBundle, type RunResult } from '../harness/runner';
import { startRegistry, type Registry } from '../harness/registry';
import { dockerAvailable, prepareSampleService, pushSampleImage, sampleServiceVariant } from '../harness/docker';
import { startEcrStandin, type EcrStandin } from '../standins/ecr';
import { IamStore, type PolicyDocument } from '../standins/iam/index';

let registry: Registry;
let ecr: EcrStandin;
const SHA1 = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const SHA2 = 'b2c3d4e5f60718293a4b5c6d7e8f901234567890';
const SHA3 = 'c3d4e5f60718293a4b5c6d7e8f90123456789012';

const hasDocker = await dockerAvailable();

async function registryDigest(repo: string, tag: string): Promise<string | null> {
  const res = await fetch(`${registry.url}/v2/${repo}/manifests/${tag}`, {
    method: 'HEAD',
    headers: {
      Authorization: registry.authHeader,
      Accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json',
    },
  });
  return res.ok ? res.headers.get('docker-content-digest') : null;
}

function build(opts: { repo: string; sha: string; context?: string; with?: Record<string, string>; env?: Record<string, string> }): Promise<RunResult> {
  const context = opts.context ?? prepareSampleService();
  return runActionBundle({
    action: 'build-push-ecr',
    workspace: context,
    with: { repository: opts.repo, builder: 'auto', ...opts.with },
    env: { ...ecr.env, GITHUB_SHA: opts.sha, ...opts.env },
    timeoutMs: 180_000,
  });
}

/** Every secret the run handled must be masked in all captured output. */
function assertNoSecretLeak(r: RunResult) {
  // The raw stdout too, not only the masked log: the password is never printed at all,
  // apart from the ::add-mask:: command that registers it.
  const raw = r.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n');
  expect(raw).not.toContain(registry.password);
  expect(raw).not.toContain(Buffer.from(`AWS:${registry.password}`).toString('base64'));
  expect(r.log).not.toContain(registry.password);
  expect(r.stderr).not.toContain(registry.password);
  expect(r.summary).not.toContain(registry.password);
  for (const v of Object.values(r.outputs)) expect(v).not.toContain(registry.password);
}

describe.skipIf(!hasDocker)('build-push-ecr against the ECR stand-in', () => {
  beforeAll(async () => {
    registry = await startRegistry();
    ecr = await startEcrStandin({ registry });
  });
  afterAll(async () => {
    await ecr?.stop();
    await registry?.stop();
  });

  test('first run creates the repository, builds, pushes; digest is the registry\'s own', async () => {
    const r = await build({ repo: 'team/sample-service', sha: SHA1, with: { 'tag-run-number': 'true', 'extra-tags': 'candidate' } });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.outputs.skipped).toBe('false');
    expect(r.outputs.tag).toBe('a1b2c3d');
    expect(r.outputs.tags).toBe('a1b2c3d,run-42,candidate');
    expect(r.outputs['repository-uri']).toBe(`${registry.host}/team/sample-service`);
    const digest = await registryDigest('team/sample-service', 'a1b2c3d');
    expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(r.outputs.digest).toBe(digest);
    expect(r.outputs['image-ref']).toBe(`${registry.host}/team/sample-service@${digest}`);
    // Extra tags were put on the same manifest through ECR, not pushed again.
    expect(await registryDigest('team/sample-service', 'run-42')).toBe(digest);
    expect(await registryDigest('team/sample-service', 'candidate')).toBe(digest);
    const repo = ecr.repositories.get('team/sample-service')!;
    expect(repo.imageTagMutability).toBe('IMMUTABLE');
    expect(repo.imageScanningConfiguration.scanOnPush).toBe(true);
    expect(JSON.parse(repo.lifecyclePolicyText!).rules[0].selection).toMatchObject({ tagStatus: 'untagged', countNumber: 14 });
    expect(r.summary).toContain('image built and pushed');
    expect(r.summary).toContain(digest);
    expect(r.masks).toContain(registry.password);
    assertNoSecretLeak(r);
  });

  test('second run on the same SHA skips the build and reads the existing image', async () => {
    const before = ecr.calls.length;
    const r = await build({ repo: 'team/sample-service', sha: SHA1, with: { 'tag-run-number': 'true', 'extra-tags': 'candidate' } });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.outputs.skipped).toBe('true');
    expect(r.outputs.digest).toBe(await registryDigest('team/sample-service', 'a1b2c3d'));
    const calls = ecr.calls.slice(before);
    expect(calls.sort()).toEqual(['BatchGetImage', 'DescribeRepositories', 'GetLifecyclePolicy']);
    expect(r.log).toContain('build skipped');
  });

  test('a re-run with a new tag on the same SHA adds the tag without building', async () => {
    const before = ecr.calls.length;
    const r = await build({ repo: 'team/sample-service', sha: SHA1, with: { 'extra-tags': 'release-1' } });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.outputs.skipped).toBe('true');
    expect(await registryDigest('team/sample-service', 'release-1')).toBe(r.outputs.digest);
    // No login, no build: the tag is added by BatchGetImage + PutImage on the existing manifest.
    expect(ecr.calls.slice(before)).not.toContain('GetAuthorizationToken');
    expect(ecr.calls.slice(before)).toContain('PutImage');
  });

  test('an existing immutable tag on another image fails before anything is built or pushed', async () => {
    const before = ecr.calls.length;
    const r = await build({ repo: 'team/sample-service', sha: SHA2, context: sampleServiceVariant('conflict'), with: { 'extra-tags': 'candidate' } });
    expect(r.exitCode).toBe(1);
    expect(errorsOf(r)).toEqual([
      expect.stringContaining('candidate already exists in team/sample-service on another image and is immutable there'),
    ]);
    expect(ecr.calls.slice(before)).not.toContain('GetAuthorizationToken');
    expect(await registryDigest('team/sample-service', 'b2c3d4e')).toBeNull();
  });

  test('throttling and 5xx are retried with backoff and survived', async () => {
    ecr.inject({ operation: 'DescribeRepositories', kind: 'throttle', times: 2 });
    ecr.inject({ operation: 'GetAuthorizationToken', kind: 'server-error', times: 1 });
    const r = await build({ repo: 'team/throttled', sha: SHA3 });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.outputs.digest).toBe(await registryDigest('team/throttled', 'c3d4e5f'));
    const warnings = r.annotations.filter((a) => a.level === 'warning').map((a) => a.message);
    expect(warnings.filter((w) => w.includes('ThrottlingException'))).toHaveLength(2);
    expect(warnings.filter((w) => w.includes('ecr:GetAuthorizationToken failed (ServerException)'))).toHaveLength(1);
    assertNoSecretLeak(r);
  });

  test('AccessDenied names the missing IAM action in one line', async () => {
    ecr.inject({ operation: 'CreateRepository', kind: 'access-denied', times: 1 });
    const r = await build({ repo: 'team/forbidden', sha: SHA1 });
    expect(r.exitCode).toBe(1);
    const errors = errorsOf(r);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^AccessDenied: the AWS identity may not call ecr:CreateRepository on team\/forbidden; allow 'ecr:CreateRepository'/);
    expect(errors[0]).not.toContain('\n');
    expect(ecr.repositories.has('team/forbidden')).toBe(false);
  });

  test('unknown credentials are refused with a clear line', async () => {
    const r = await build({ repo: 'team/sample-service', sha: SHA1, env: { AWS_ACCESS_KEY_ID: 'AKIDWRONG' } });
    expect(r.exitCode).toBe(1);
    expect(errorsOf(r)[0]).toContain('AWS rejected the credentials while calling ecr:');
  });

  test('bad input fails before any AWS call, naming the input', async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ repository: 'Team/Bad_' }, "Input 'repository' must be an ECR repository name"],
      [{ repository: 'team/ok', context: 'no-such-dir' }, "Input 'context' must be a directory that exists in the workspace"],
      [{ repository: 'team/ok', dockerfile: 'nope/Dockerfile' }, "Input 'dockerfile' must be a file that exists in the workspace"],
      [{ repository: 'team/ok', 'build-args': 'NOT A PAIR' }, "Input 'build-args' must be KEY=VALUE lines"],
      [{ repository: 'team/ok', 'extra-tags': 'bad tag!' }, "Input 'extra-tags' must hold image tags"],
      [{ repository: 'team/ok', 'skip-existing': 'maybe' }, "Input 'skip-existing' must be true or false"],
    ];
    for (const [inputs, message] of cases) {
      const before = ecr.calls.length;
      const r = await build({ repo: inputs.repository!, sha: SHA1, with: inputs });
      expect(r.exitCode).toBe(1);
      expect(errorsOf(r)).toEqual([expect.stringContaining(message)]);
      expect(ecr.calls.length).toBe(before);
    }
  });

  // What a pull_request run tags when the workspace is a checkout: test/e2e/content-key.test.ts.
  test('pull_request without a git checkout is refused in one line before any AWS call', async () => {
    const before = ecr.calls.length;
    const r = await runActionBundle({
      action: 'build-push-ecr',
      workspace: prepareSampleService(),
      with: { repository: 'team/pr-service' },
      env: { ...ecr.env, GITHUB_SHA: 'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee' },
      eventName: 'pull_request',
      event: { pull_request: { head: { sha: 'dddddddddddddddddddddddddddddddddddddddd', ref: 'feature/x' } } },
      timeoutMs: 180_000,
    });
    expect(r.exitCode).toBe(1);
    expect(errorsOf(r)).toEqual([expect.stringMatching(/^On pull_request the image must be tagged with the commit that was checked out, .*run actions\/checkout first$/)]);
    expect(ecr.calls.slice(before)).toEqual([]);
  });
});

describe.skipIf(!hasDocker)('build-push-ecr when docker pushes meet ECR tag immutability', () => {
  let reg: Registry;
  let immutableEcr: EcrStandin;
  const SHA = 'e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1';

  beforeAll(async () => {
    reg = await startRegistry();
    immutableEcr = await startEcrStandin({ registry: reg, enforceImmutableTagsOnPush: true });
  });
  afterAll(async () => {
    await immutableEcr?.stop();
    await reg?.stop();
  });

  async function digestOf(repo: string, tag: string): Promise<string | null> {
    const res = await fetch(`${reg.url}/v2/${repo}/manifests/${tag}`, {
      method: 'HEAD',
      headers: { Authorization: reg.authHeader, Accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' },
    });
    return res.ok ? res.headers.get('docker-content-digest') : null;
  }

  test('a plain docker push cannot move an immutable tag through the front (as on ECR)', async () => {
    immutableEcr.adopt('team/pinned');
    const target = await immutableEcr.registryLogin();
    const first = await pushSampleImage(target, 'team/pinned', 'v1');
    await expect(pushSampleImage(target, 'team/pinned', 'v1', sampleServiceVariant('moved'))).rejects.toThrow(
      /tag invalid: The image tag 'v1' already exists in the 'team\/pinned' repository and cannot be overwritten because the repository is immutable/,
    );
    expect(await digestOf('team/pinned', 'v1')).toBe(first);
  });

  test('losing the SHA tag race to a concurrent run of the same commit: its image is adopted, nothing is moved, the staging tag goes', async () => {
    // The first run creates the repository; a second commit's run is the one that races.
    const seed = await runActionBundle({
      action: 'build-push-ecr',
      workspace: prepareSampleService(),
      with: { repository: 'team/raced' },
      env: { ...immutableEcr.env, GITHUB_SHA: '0'.repeat(40) },
      timeoutMs: 180_000,
    });
    expect(seed.exitCode, seed.stdout + seed.stderr).toBe(0);
    const front = seed.outputs.registry!;
    let theirs = '';
    // After the action has seen no SHA tag and asks for a login token, the other run pushes first.
    immutableEcr.onNextCall('GetAuthorizationToken', async () => {
      theirs = await pushSampleImage(await immutableEcr.registryLogin(), 'team/raced', SHA.slice(0, 7), sampleServiceVariant('the-other-run'));
    });
    const r = await runActionBundle({
      action: 'build-push-ecr',
      workspace: prepareSampleService(),
      with: { repository: 'team/raced' },
      env: { ...immutableEcr.env, GITHUB_SHA: SHA },
      timeoutMs: 180_000,
    });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(theirs).toMatch(/^sha256:/);
    expect(r.outputs.digest).toBe(theirs);
    expect(await digestOf('team/raced', SHA.slice(0, 7))).toBe(theirs);
    const warnings = r.annotations.filter((a) => a.level === 'warning').map((a) => a.message);
    // The sample service is not a checkout of its own: no content key (warned), reuse by SHA tag only;
    // no provenance key given: none written (warned).
    expect(warnings.some((w) => w.startsWith('No build provenance written'))).toBe(true);
    expect(warnings.filter((w) => !w.startsWith('No content key:') && !w.startsWith('No build provenance written'))).toEqual([
      `Another run of this commit tagged ${front}/team/raced:${SHA.slice(0, 7)} first (${theirs}); using that image without a provenance check: input provenance-kms-key is empty`,
    ]);
    // This run's image had only its staging tag: removed, the image with it; no staging tag is left.
    const listed = (await (await fetch(`${reg.url}/v2/team/raced/tags/list`, { headers: { Authorization: reg.authHeader } })).json()) as { tags: string[] };
    expect(listed.tags.filter((t) => t.startsWith('staging-'))).toEqual([]);
  });
});

describe.skipIf(!hasDocker)('build-push-ecr with IAM in the build account (111111111111)', () => {
  const BUILD = '111111111111';
  const iam = new IamStore();
  const role = iam.addRole({ account: BUILD, name: 'build' });
  const allowAll: PolicyDocument = { Statement: [{ Effect: 'Allow', Action: 'ecr:*', Resource: '*' }] };
  let reg: Registry;
  let acct: EcrStandin;

  beforeAll(async () => {
    reg = await startRegistry();
    acct = await startEcrStandin({ registry: reg, iam, accountId: BUILD });
  });
  afterAll(async () => {
    await acct?.stop();
    await reg?.stop();
  });

  const runAs = (repo: string, sha: string, withInputs: Record<string, string> = {}, env: Record<string, string> = {}) =>
    runActionBundle({
      action: 'build-push-ecr',
      workspace: prepareSampleService(),
      with: { repository: repo, ...withInputs },
      env: { ...acct.envFor(iam.issueCredentials(role.arn, 'gha')), GITHUB_SHA: sha, ...env },
      timeoutMs: 180_000,
    });

  test('partial create: the lifecycle policy denied at creation is applied by the next run, after the IAM fix', async () => {
    iam.setPolicies(role.arn, [allowAll, { Statement: [{ Effect: 'Deny', Action: 'ecr:PutLifecyclePolicy', Resource: '*' }] }]);
    const first = await runAs('team/partial', SHA1);
    expect(first.exitCode).toBe(1);
    expect(errorsOf(first)).toEqual([
      expect.stringMatching(/^AccessDenied: the AWS identity may not call ecr:PutLifecyclePolicy on team\/partial; .* The repository was created; the next run applies the missing lifecycle policy\.$/),
    ]);
    const repo = acct.repositories.get('team/partial')!;
    expect(repo.tags).toEqual([{ Key: 'deploy-actions:created-by', Value: 'build-push-ecr' }]);
    expect(repo.lifecyclePolicyText).toBeUndefined();

    iam.setPolicies(role.arn, [allowAll]);
    const second = await runAs('team/partial', SHA1);
    expect(second.exitCode, second.stdout + second.stderr).toBe(0);
    expect(JSON.parse(repo.lifecyclePolicyText!).rules[0].selection).toMatchObject({ tagStatus: 'untagged', countNumber: 14 });
    expect(second.summary).toContain('applied missing: lifecycle policy');
    expect(second.log).toContain('Applied the missing settings of team/partial: lifecycle policy');
  });

  test('exclusion filters: an excluded moving tag moves in IMMUTABLE_WITH_EXCLUSION; an excluded tag stays put in MUTABLE_WITH_EXCLUSION, refused before building', async () => {
    iam.setPolicies(role.arn, [allowAll]);
    const builder = iam.issueCredentials(role.arn, 'seed');
    const seed = async (repo: string, mutability: string, filter: string, tag: string) => {
      const r = acct.adopt(repo, mutability);
      r.imageTagMutabilityExclusionFilters = [{ filterType: 'WILDCARD', filter }];
      return pushSampleImage(await acct.registryLogin(builder), repo, tag, sampleServiceVariant(`seed-${repo}`));
    };
    const oldMain = await seed('team/moving', 'IMMUTABLE_WITH_EXCLUSION', 'ma*', 'main');
    const moved = await runAs('team/moving', SHA2, { 'tag-branch': 'true' }, { GITHUB_REF: 'refs/heads/main', GITHUB_REF_NAME: 'main' });
    expect(moved.exitCode, moved.stdout + moved.stderr).toBe(0);
    expect(moved.outputs.tags).toBe('b2c3d4e,main');
    expect(moved.outputs.digest).not.toBe(oldMain);
    expect(await registryDigestOf(reg, 'team/moving', 'main')).toBe(moved.outputs.digest);

    const release = await seed('team/pinned-releases', 'MUTABLE_WITH_EXCLUSION', 'release-*', 'release-1');
    const before = acct.calls.length;
    const refused = await runAs('team/pinned-releases', SHA2, { 'extra-tags': 'release-1' });
    expect(refused.exitCode).toBe(1);
    expect(errorsOf(refused)).toEqual([
      'Tag release-1 already exists in team/pinned-releases on another image and is immutable there; nothing was built or pushed',
    ]);
    expect(acct.calls.slice(before)).not.toContain('GetAuthorizationToken');
    expect(await registryDigestOf(reg, 'team/pinned-releases', 'release-1')).toBe(release);
  });
});

async function registryDigestOf(r: Registry, repo: string, tag: string): Promise<string | null> {
  const res = await fetch(`${r.url}/v2/${repo}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { Authorization: r.authHeader, Accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' },
  });
  return res.ok ? res.headers.get('docker-content-digest') : null;
}
