/**
 * promote-gate end to end: the committed bundle run like the GitHub runner does, with real
 * Octokit against the GitHub stand-in (GITHUB_API_URL) and the real AWS SDK against the ECR
 * stand-in (AWS_ENDPOINT_URL_ECR) backed by a real registry. Images are pushed straight to
 * the registry through its HTTP API (tiny OCI images; no Docker needed).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorsOf, runActionBundle, type RunResult } from '../harness/runner';
import { startRegistry, type Registry } from '../harness/registry';
import { manifestOf as manifestIn, pushImage as pushImageTo, putManifest as putManifestTo, registryFetch } from '../harness/oci-push';
import { startEcrStandin, type EcrStandin } from '../standins/ecr';
import { startGithubStandin, type GithubStandin } from '../standins/github';

const REPO = 'team/sample-service';
const SHA = '0123456789abcdef0123456789abcdef01234567';
const SHA_QA = '1111111111111111111111111111111111111111';
const SHA_OTHER = '2222222222222222222222222222222222222222';
const SHA_FAIL = '3333333333333333333333333333333333333333';
const WRITER = 'ghs_writer_token_0123456789';
const READER = 'ghs_reader_token_0123456789';
const NO_DEPLOY = 'ghs_contents_only_0123456789';

let registry: Registry;
let ecr: EcrStandin;
let gh: GithubStandin;
const digests: Record<string, string> = {};
let jobDeploymentId = 0;

const pushImage = (name: string, tag: string, seed: string) => pushImageTo(registry, name, tag, seed);
const putManifest = (name: string, tag: string, manifest: string) => putManifestTo(registry, name, tag, manifest);
const manifestOf = (name: string, ref: string) => manifestIn(registry, name, ref);
const reg = (method: string, path: string) => registryFetch(registry, method, path);

function gate(opts: {
  mode: 'record' | 'verify';
  with?: Record<string, string>;
  sha?: string;
  ref?: string;
  token?: string;
  eventName?: string;
  event?: unknown;
}): Promise<RunResult> {
  const ref = opts.ref ?? 'refs/heads/main';
  return runActionBundle({
    action: 'promote-gate',
    with: { mode: opts.mode, 'github-token': opts.token ?? (opts.mode === 'record' ? WRITER : READER), ...opts.with },
    env: {
      ...ecr.env,
      GITHUB_API_URL: gh.url,
      GITHUB_SHA: opts.sha ?? SHA,
      GITHUB_REF: ref,
      GITHUB_REF_NAME: ref.replace(/^refs\/(heads|tags)\//, ''),
    },
    eventName: opts.eventName ?? 'push',
    event: opts.event ?? {},
    timeoutMs: 60_000,
  });
}

const record = (environment: string, digest: string, extra: Partial<Parameters<typeof gate>[0]> = {}) =>
  gate({ mode: 'record', ...extra, with: { environment, repository: REPO, digest, ...extra.with } });
// Unsigned evidence (this file's subject): production takes it only with the explicit opt-out.
const verify = (digest: string, extra: Partial<Parameters<typeof gate>[0]> = {}) =>
  gate({ mode: 'verify', ...extra, with: { repository: REPO, digest, 'weaken-promotion-gate': 'true', ...extra.with } });

/** Error annotations other than the opt-out's weakened rule (one per verify run, tested in attacks.test.ts). */
const failures = (r: RunResult) => errorsOf(r).filter((m) => !m.startsWith('Weakened promotion gate: '));

function expectOk(r: RunResult) {
  expect(failures(r), r.log + r.stderr).toEqual([]);
  expect(r.exitCode, r.log + r.stderr).toBe(0);
}

/** A refusal: failed step, one error annotation naming the problem, outputs saying what was checked. */
function expectRefused(r: RunResult, ...phrases: string[]) {
  expect(r.exitCode).toBe(1);
  const errors = failures(r);
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatch(/^Promotion of .* refused: /);
  for (const p of phrases) expect(errors.join('\n')).toContain(p);
  expect(r.outputs.verified).toBe('false');
  expect(JSON.parse(r.outputs.evidence!).checks.some((c: { ok: boolean }) => !c.ok)).toBe(true);
  expect(r.summary).toContain('REFUSED');
}

function expectNoTokenLeak(r: RunResult, token: string) {
  expect(r.masks).toContain(token);
  expect(r.log).not.toContain(token);
  expect(r.stderr).not.toContain(token);
}

describe('promote-gate against the GitHub and ECR stand-ins', () => {
  beforeAll(async () => {
    registry = await startRegistry();
    ecr = await startEcrStandin({ registry });
    gh = await startGithubStandin({
      tokens: {
        [WRITER]: { permissions: { deployments: 'write' } },
        [READER]: { permissions: { deployments: 'read' } },
        [NO_DEPLOY]: { permissions: {} },
      },
    });
    // Builds tag images with the 7-character commit SHA (the commit-tag-template default).
    digests.main = await pushImage(REPO, SHA.slice(0, 7), 'main');
    digests.qa = await pushImage(REPO, SHA_QA.slice(0, 7), 'qa');
    digests.other = await pushImage(REPO, SHA_OTHER.slice(0, 7), 'other');
    digests.fail = await pushImage(REPO, SHA_FAIL.slice(0, 7), 'fail');
    ecr.adopt(REPO, 'MUTABLE');
  });
  afterAll(async () => {
    await gh?.stop();
    await ecr?.stop();
    await registry?.stop();
  });

  test('record in preprod writes a success deployment and the preprod tag on the same digest', async () => {
    const r = await record('preprod', digests.main!, { with: { 'environment-url': 'https://preprod.sample.example.com' } });
    expectOk(r);
    expectNoTokenLeak(r, WRITER);
    expect(r.outputs).toMatchObject({ verified: 'true', tag: 'preprod-0123456', 'tag-result': 'created', digest: digests.main, repository: REPO });
    expect((await manifestOf(REPO, 'preprod-0123456'))?.digest).toBe(digests.main);
    const d = gh.state.deployments.find((x) => String(x.id) === r.outputs['deployment-id']);
    expect(d).toMatchObject({ environment: 'preprod', sha: SHA, ref: SHA, production_environment: false, transient_environment: true });
    expect(d!.payload).toMatchObject({ digest: digests.main, repository: REPO, image: `${REPO}@${digests.main}` });
    const statuses = gh.state.statuses.filter((s) => s.deploymentId === d!.id);
    expect(statuses.map((s) => s.state)).toEqual(['success']);
    expect(statuses[0]).toMatchObject({
      log_url: 'https://github.com/acme/sample-service/actions/runs/1000',
      environment_url: 'https://preprod.sample.example.com',
    });
    // PutImage from the existing manifest only: the ECR calls never include layer uploads.
    expect(ecr.calls).toContain('PutImage');
    expect(ecr.calls.filter((c) => /Layer|Upload/.test(c))).toEqual([]);
    expect(r.groups).toContain('Record preprod evidence');
  });

  test('a re-run of record is idempotent', async () => {
    const before = { deployments: gh.state.deployments.length, statuses: gh.state.statuses.length };
    const putsBefore = ecr.calls.filter((c) => c === 'PutImage').length;
    const r = await record('preprod', digests.main!);
    expectOk(r);
    expect(r.outputs['tag-result']).toBe('existed');
    expect(r.outputs['deployment-id']).toBe(String(gh.state.deployments[0]!.id));
    expect(gh.state.deployments).toHaveLength(before.deployments);
    expect(gh.state.statuses).toHaveLength(before.statuses);
    expect(ecr.calls.filter((c) => c === 'PutImage').length).toBe(putsBefore);
  });

  test('verify for production from main accepts the recorded digest (image-ref form)', async () => {
    const r = await gate({
      mode: 'verify',
      with: { 'image-ref': `${ecr.accountId}.dkr.ecr.${ecr.region}.amazonaws.com/${REPO}@${digests.main}`, 'weaken-promotion-gate': 'true' },
    });
    expectOk(r);
    expectNoTokenLeak(r, READER);
    expect(r.outputs.verified).toBe('true');
    expect(r.outputs['deployment-id']).toBe(String(gh.state.deployments[0]!.id));
    const ev = JSON.parse(r.outputs.evidence!);
    expect(ev).toMatchObject({ target: 'production', environment: 'preprod', sha: SHA, digest: digests.main });
    expect(ev.checks.map((c: { source: string; ok: boolean }) => `${c.source}:${c.ok}`)).toEqual(['ref:true', 'github:true', 'ecr:true']);
    expect(r.summary).toContain('verified');
  });

  test("the deployment GitHub Actions makes for the job's environment: preprod succeeding does not inactivate the record", async () => {
    // On github.com the job that records declares `environment: preprod`; its own deployment gets
    // success (with GitHub's default auto_inactive) when the job ends, after record ran.
    const job = await gh.actionsJob({ environment: 'preprod', sha: SHA });
    jobDeploymentId = job.deploymentId;
    await job.finish();
    const recorded = gh.state.deployments[0]!;
    const latest = gh.state.statuses.filter((s) => s.deploymentId === recorded.id).sort((a, b) => b.id - a.id)[0];
    expect(latest?.state).toBe('success');
    const r = await verify(digests.main!);
    expectOk(r);
    expect(r.outputs['deployment-id']).toBe(String(recorded.id));
  });

  test('recording another digest in preprod supersedes the earlier record: it can no longer be promoted', async () => {
    const mainRecord = gh.state.deployments[0]!;
    const rb = await record('preprod', digests.other!, { sha: SHA_OTHER });
    expectOk(rb);
    const states = (id: number) => gh.state.statuses.filter((s) => s.deploymentId === id).map((s) => s.state);
    expect(states(mainRecord.id)).toEqual(['success', 'inactive']);
    expect(states(Number(rb.outputs['deployment-id']))).toEqual(['success']);
    expect(rb.log).toContain(`deployment ${mainRecord.id}, marked inactive`);
    // The Actions job deployment from the previous test is not ours: left alone.
    expect(states(jobDeploymentId).at(-1)).toBe('success');

    expectRefused(await verify(digests.main!), `deployment ${mainRecord.id}: inactive`);
    expectOk(await verify(digests.other!, { sha: SHA_OTHER }));

    // A re-run of the record of the current digest writes nothing.
    const before = { deployments: gh.state.deployments.length, statuses: gh.state.statuses.length };
    const again = await record('preprod', digests.other!, { sha: SHA_OTHER });
    expectOk(again);
    expect(again.outputs['deployment-id']).toBe(rb.outputs['deployment-id']);
    expect({ deployments: gh.state.deployments.length, statuses: gh.state.statuses.length }).toEqual(before);
  });

  test('attack: another digest than the one validated in preprod', async () => {
    expectRefused(await verify(digests.other!), `carries digest ${digests.other}`, `preprod-0123456 in ${REPO} is on ${digests.main}`);
  });

  test('attack: a digest validated in QA (from develop) but never in preprod', async () => {
    expectOk(await record('qa', digests.qa!, { sha: SHA_QA, ref: 'refs/heads/develop' }));
    expectRefused(
      await verify(digests.qa!, { sha: SHA_QA }),
      'commit 1111111 was never recorded in preprod',
      'ECR tag preprod-1111111 does not exist',
    );
  });

  test('attack: workflow_dispatch to production with an arbitrary tag', async () => {
    // The dispatcher names an image by a tag of their choosing; the workflow resolved it to a digest.
    await putManifest(REPO, 'hotfix-please', (await manifestOf(REPO, SHA_OTHER.slice(0, 7)))!.body);
    expectRefused(
      await verify(digests.other!, { eventName: 'workflow_dispatch', event: { inputs: { tag: 'hotfix-please' } } }),
      'no GitHub deployment to preprod',
    );
  });

  test('attack: a record made for another commit is not evidence for this commit', async () => {
    expectOk(await record('preprod', digests.other!, { sha: SHA_OTHER }));
    expectRefused(await verify(digests.other!), `commit 0123456 carries digest ${digests.other}`);
  });

  test('attack: record refuses a digest whose commit tag points at another digest', async () => {
    const before = gh.state.deployments.length;
    const r = await record('preprod', digests.other!, { sha: SHA_FAIL });
    expect(r.exitCode).toBe(1);
    expect(errorsOf(r)).toEqual([
      `Refusing to record ${digests.other} for commit 3333333 in preprod: the commit's tag 3333333 is on ${digests.fail}, so this digest is not the build of commit 3333333; nothing was written`,
    ]);
    expect(gh.state.deployments).toHaveLength(before);
    expect(await manifestOf(REPO, 'preprod-3333333')).toBeUndefined();
  });

  test('attack: a production run from a non-main branch', async () => {
    expectRefused(
      await verify(digests.main!, { ref: 'refs/heads/feature/sneaky' }),
      'refs/heads/feature/sneaky may not deploy to production (allowed: refs/heads/main)',
    );
  });

  test('attack: a preprod deployment whose latest status is failure, then inactive', async () => {
    const rec = await record('preprod', digests.fail!, { sha: SHA_FAIL });
    expectOk(rec);
    const id = Number(rec.outputs['deployment-id']);
    expectOk(await verify(digests.fail!, { sha: SHA_FAIL }));
    const post = (state: string) =>
      fetch(`${gh.url}/repos/acme/sample-service/deployments/${id}/statuses`, {
        method: 'POST',
        headers: { Authorization: `token ${WRITER}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ state }),
      });
    expect((await post('failure')).status).toBe(201);
    expectRefused(await verify(digests.fail!, { sha: SHA_FAIL }), `deployment ${id}: failure`);
    expect((await post('inactive')).status).toBe(201);
    expectRefused(await verify(digests.fail!, { sha: SHA_FAIL }), `deployment ${id}: inactive`);
  });

  test('attack: the preprod tag moved to another digest (mutable repository)', async () => {
    // Re-point preprod-0123456 at another image straight in the registry.
    await putManifest(REPO, 'preprod-0123456', (await manifestOf(REPO, SHA_QA.slice(0, 7)))!.body);
    expectRefused(await verify(digests.main!), `ECR tag preprod-0123456 in ${REPO} is on ${digests.qa}, not ${digests.main}`);
    // And record will not silently move it back.
    const r = await record('preprod', digests.main!);
    expect(r.exitCode).toBe(1);
    expect(errorsOf(r).join('\n')).toContain(`tag preprod-0123456 in ${REPO} already points at ${digests.qa}`);
  });

  test('a token without deployments: write fails record naming the permission, before ECR is touched', async () => {
    const tagsBefore = await (await reg('GET', `/v2/${REPO}/tags/list`)).json();
    const r = await record('qa', digests.main!, { token: NO_DEPLOY });
    expect(r.exitCode).toBe(1);
    expect(errorsOf(r).join('\n')).toMatch(/deployments: write/);
    expect(await (await reg('GET', `/v2/${REPO}/tags/list`)).json()).toEqual(tagsBefore);
    expectNoTokenLeak(r, NO_DEPLOY);
  });

  test('GitHub 5xx and secondary rate limits are retried', async () => {
    gh.fault({ method: 'GET', path: '/repos/acme/sample-service/deployments', status: 502 });
    gh.rateLimitNext('GET', /\/statuses$/);
    const r = await verify(digests.fail!, { sha: SHA_FAIL, with: { evidence: 'github' } });
    // Still refused (latest status inactive), but the retries happened and were logged as warnings.
    expect(r.annotations.filter((a) => a.level === 'warning').map((a) => a.message).join('\n')).toMatch(/502[\s\S]*secondary rate limit/);
    expectRefused(r, 'inactive');
  });

  test('bad input fails before any call', async () => {
    const calls = gh.state.requests.length;
    const ecrCalls = ecr.calls.length;
    const r = await verify('sha256:1234');
    expect(r.exitCode).toBe(1);
    expect(errorsOf(r)).toEqual(["Input 'digest' must be sha256: followed by 64 hex characters (got 'sha256:1234')"]);
    expect(gh.state.requests).toHaveLength(calls);
    expect(ecr.calls).toHaveLength(ecrCalls);
  });
});
