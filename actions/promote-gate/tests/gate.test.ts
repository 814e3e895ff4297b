import { Inputs as Raw, runContextFrom, UserError, mapInputs, recordingIO } from '@deploy-actions/action-kit';
import { PutImageCommand } from '@aws-sdk/client-ecr';
import { beforeEach, describe, expect, test } from 'vitest';
import { getInputs, WEAKENED } from '../src/inputs';
import { run, type Deps } from '../src/run';
import { actionDefaults, DIGEST, OTHER_DIGEST, OTHER_SHA, SHA, fakeEcr, fakeGithub } from './fakes';

const REPO = 'team/sample-service';
const baseEnv = {
  GITHUB_SHA: SHA,
  GITHUB_REF: 'refs/heads/main',
  GITHUB_REPOSITORY: 'acme/sample-service',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_RUN_ID: '1000',
  AWS_REGION: 'eu-west-1',
};

function inputs(values: Record<string, string>, env: Record<string, string> = {}) {
  const e = { ...baseEnv, ...env };
  // Unsigned evidence, the subject of this file: production takes it only with the explicit opt-out
  // (fail closed; signed evidence is signed.test.ts, the refusal inputs.test.ts).
  return getInputs(
    new Raw(mapInputs({ ...actionDefaults(), 'github-token': 'ghs_test', repository: REPO, digest: DIGEST, 'weaken-promotion-gate': 'true', ...values })),
    e,
    runContextFrom(e),
  );
}

let ecr: ReturnType<typeof fakeEcr>;
let gh: ReturnType<typeof fakeGithub>;
let published: Record<string, unknown>;
let io: ReturnType<typeof recordingIO>;

function deps(): Deps {
  return {
    io,
    github: gh.api,
    ecr: ecr.client,
    aws: { sleep: async () => undefined },
  };
}

beforeEach(() => {
  ecr = fakeEcr(REPO);
  gh = fakeGithub();
  published = {};
  io = recordingIO();
  // Each image carries its commit's build tag, as build-push-ecr leaves it.
  ecr.addImage(DIGEST, SHA.slice(0, 7));
  ecr.addImage(OTHER_DIGEST, 'other', OTHER_SHA.slice(0, 7));
});

const verify = (values: Record<string, string> = {}, env: Record<string, string> = {}) =>
  run(inputs({ mode: 'verify', ...values }, env), deps());
const record = (values: Record<string, string> = {}, env: Record<string, string> = {}) =>
  run(inputs({ mode: 'record', environment: 'preprod', ...values }, env), deps());

async function refused(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  // The refusal carries the outputs runAction publishes before failing the step.
  published = (err as UserError).outputs ?? {};
  expect(published.verified).toBe(false);
  const failed = JSON.parse(String(published.evidence)).checks.filter((c: { ok: boolean }) => !c.ok);
  // One error annotation per failure: the thrown line (runAction annotates it) names every failed check.
  expect(io.errors.filter((m) => !m.startsWith(WEAKENED))).toEqual([]);
  expect(failed.length).toBeGreaterThan(0);
  for (const c of failed) expect((err as Error).message).toContain(c.detail);
  return (err as Error).message;
}

describe('record then verify', () => {
  test('record writes the ECR tag and a successful deployment; verify accepts it', async () => {
    const out = await record({ 'environment-url': 'https://preprod.example.com' });
    expect(out['tag-result']).toBe('created');
    expect(out.tag).toBe(`preprod-${SHA.slice(0, 7)}`);
    expect(ecr.tags.get(`preprod-${SHA.slice(0, 7)}`)).toBe(DIGEST);
    expect(gh.deployments).toHaveLength(1);
    const d = gh.deployments[0]!;
    expect(d).toMatchObject({ sha: SHA, ref: SHA, environment: 'preprod', production_environment: false, transient_environment: true });
    expect(d.payload).toMatchObject({ digest: DIGEST, repository: REPO, image: `${REPO}@${DIGEST}` });
    expect(gh.api.calls).toContain(`status ${d.id} success`);
    expect(out['deployment-id']).toBe(d.id);
    expect(io.secrets).toContain('ghs_test');

    const v = await verify();
    expect(v.verified).toBe(true);
    expect(v['deployment-id']).toBe(d.id);
    const ev = JSON.parse(String(v.evidence));
    expect(ev.checks.map((c: { source: string; ok: boolean }) => `${c.source}:${c.ok}`)).toEqual(['ref:true', 'github:true', 'ecr:true']);
    expect(io.summaries.at(-1)).toContain('verified');
  });

  test('a re-run of record is idempotent: no new tag, no new deployment', async () => {
    await record();
    const putsBefore = ecr.puts().length;
    const second = await record();
    expect(second['tag-result']).toBe('existed');
    expect(ecr.puts()).toHaveLength(putsBefore);
    expect(gh.deployments).toHaveLength(1);
    expect(second['deployment-id']).toBe(gh.deployments[0]!.id);
  });

  test('record marks production deployments as production environments', async () => {
    await record({ environment: 'production' });
    expect(gh.deployments[0]).toMatchObject({ environment: 'production', production_environment: true });
  });

  test('evidence: github only writes no ECR tag and verify checks GitHub only', async () => {
    await record({ evidence: 'github' });
    expect(ecr.puts()).toHaveLength(0);
    const v = await verify({ evidence: 'github' });
    expect(v.verified).toBe(true);
    expect(v.tag).toBe('');
  });
});

describe('transient evidence, superseded by the next record', () => {
  /** What GitHub Actions does for a job with `environment: preprod`: its own deployment, success when the job ends. */
  async function actionsJob(environment = 'preprod') {
    const d = await gh.api.create({
      ref: SHA,
      environment,
      description: '',
      payload: {},
      production_environment: false,
      transient_environment: false,
    });
    await gh.api.createStatus(d.id, { state: 'in_progress', description: '' });
    return { id: d.id, finish: () => gh.api.createStatus(d.id, { state: 'success', description: '' }) };
  }

  test("the job's own environment deployment succeeding after record does not inactivate the evidence", async () => {
    const job = await actionsJob();
    const out = await record();
    await job.finish();
    expect(gh.states(job.id).at(-1)).toBe('success');
    expect(gh.states(Number(out['deployment-id']))).toEqual(['success']);
    await expect(verify()).resolves.toMatchObject({ verified: true, 'deployment-id': out['deployment-id'] });
  });

  test('transient-environment: false leaves the evidence to GitHub, which inactivates it when the job ends', async () => {
    const job = await actionsJob();
    const out = await record({ 'transient-environment': 'false' });
    expect(gh.deployments.find((d) => d.id === out['deployment-id'])).toMatchObject({ transient_environment: false });
    await job.finish();
    expect(gh.states(Number(out['deployment-id']))).toEqual(['success', 'inactive']);
    expect(await refused(verify())).toContain(`deployment ${out['deployment-id']}: inactive`);
  });

  test("record's success status does not inactivate deployments that are not promote-gate records", async () => {
    const previousJob = await actionsJob();
    await previousJob.finish();
    await record();
    expect(gh.states(previousJob.id)).toEqual(['in_progress', 'success']);
  });

  test('recording digest B inactivates the record of digest A; verify refuses A and accepts B', async () => {
    const a = await record();
    const b = await record({ digest: OTHER_DIGEST }, { GITHUB_SHA: OTHER_SHA });
    expect(gh.states(Number(a['deployment-id']))).toEqual(['success', 'inactive']);
    expect(gh.states(Number(b['deployment-id']))).toEqual(['success']);
    expect(JSON.parse(String(b.evidence)).checks.find((c: { source: string }) => c.source === 'github').detail).toContain(
      `superseded earlier preprod evidence: deployment ${a['deployment-id']}`,
    );
    expect(io.lines.join('\n')).toContain(`deployment ${a['deployment-id']}, marked inactive`);

    const msg = await refused(verify());
    expect(msg).toContain(`deployment ${a['deployment-id']}: inactive`);
    await expect(verify({ digest: OTHER_DIGEST }, { GITHUB_SHA: OTHER_SHA })).resolves.toMatchObject({ verified: true });

    // (c) A re-run of record B writes no status at all.
    const statusesBefore = gh.api.calls.filter((c) => c.startsWith('status ')).length;
    const again = await record({ digest: OTHER_DIGEST }, { GITHUB_SHA: OTHER_SHA });
    expect(again['deployment-id']).toBe(b['deployment-id']);
    expect(gh.api.calls.filter((c) => c.startsWith('status ')).length).toBe(statusesBefore);
    expect(gh.deployments).toHaveLength(2);
  });

  test('only earlier promote-gate records of another digest of the same repository are superseded', async () => {
    const sameDigestOtherCommit = gh.seed('preprod', OTHER_SHA, DIGEST, ['success']);
    const otherRepo = gh.seed('preprod', OTHER_SHA, OTHER_DIGEST, ['success'], 'team/other-service');
    const notOurs = gh.seed('preprod', OTHER_SHA, OTHER_DIGEST, ['success']);
    const failed = gh.seed('preprod', OTHER_SHA, OTHER_DIGEST, ['success', 'failure']);
    const qa = gh.seed('qa', OTHER_SHA, OTHER_DIGEST, ['success']);
    const ours = gh.seed('preprod', OTHER_SHA, OTHER_DIGEST, ['success']);
    for (const d of [sameDigestOtherCommit, otherRepo, failed, qa, ours]) Object.assign(d.payload as object, { recorded_by: 'deploy-actions/promote-gate' });
    const out = await record();
    // A record of another digest made after this one (a concurrent run) is not superseded either.
    const later = gh.seed('preprod', OTHER_SHA, OTHER_DIGEST, ['success']);
    Object.assign(later.payload as object, { recorded_by: 'deploy-actions/promote-gate' });
    await record();
    expect(gh.states(ours.id)).toEqual(['success', 'inactive']);
    for (const d of [sameDigestOtherCommit, otherRepo, notOurs, qa, later]) expect(gh.states(d.id), `deployment ${d.id}`).toEqual(['success']);
    expect(gh.states(failed.id)).toEqual(['success', 'failure']);
    expect(gh.states(Number(out['deployment-id']))).toEqual(['success']);
    expect(gh.api.calls).toContain('list preprod *');
  });

  test('a failure while superseding fails the step naming what to do; the re-run finishes it', async () => {
    const a = await record();
    const orig = gh.api.createStatus;
    gh.api.createStatus = async (id, body) => {
      if (body.state === 'inactive') throw new UserError('GitHub answered 502');
      return orig(id, body);
    };
    const b = () => record({ digest: OTHER_DIGEST }, { GITHUB_SHA: OTHER_SHA });
    await expect(b()).rejects.toThrow(/^Recorded sha256:b{64} in preprod \(deployment \d+\), but could not mark the earlier preprod evidence inactive: GitHub answered 502\. Re-run record to finish$/);
    // The new evidence stands (success, never errored); A is still evidence until the re-run.
    const bId = gh.deployments.at(-1)!.id;
    expect(gh.states(bId)).toEqual(['success']);
    expect(gh.states(Number(a['deployment-id']))).toEqual(['success']);
    gh.api.createStatus = orig;
    await expect(b()).resolves.toMatchObject({ 'deployment-id': bId });
    expect(gh.states(Number(a['deployment-id']))).toEqual(['success', 'inactive']);
  });
});

describe('verify refuses the attack cases', () => {
  test('a different digest under the same tag', async () => {
    await record();
    // Someone re-points the preprod tag on a mutable repository.
    ecr.tags.set(`preprod-${SHA.slice(0, 7)}`, OTHER_DIGEST);
    const msg = await refused(verify());
    expect(msg).toContain(`is on ${OTHER_DIGEST}, not ${DIGEST}`);
  });

  test('asking to promote another digest than the one validated', async () => {
    await record();
    const msg = await refused(verify({ digest: OTHER_DIGEST }));
    expect(msg).toContain(`carries digest ${OTHER_DIGEST}`);
    expect(msg).toContain(`its preprod deployments carry ${DIGEST}`);
    expect(msg).toContain(`is on ${DIGEST}, not ${OTHER_DIGEST}`);
  });

  test('a digest validated in QA but never in preprod', async () => {
    await record({ environment: 'qa' }, { GITHUB_REF: 'refs/heads/develop' });
    const msg = await refused(verify());
    expect(msg).toContain('was never recorded in preprod');
    expect(msg).toContain(`ECR tag preprod-${SHA.slice(0, 7)} does not exist`);
  });

  test('a workflow_dispatch to production with an arbitrary digest/tag', async () => {
    const msg = await refused(
      verify({ 'image-ref': `123456789012.dkr.ecr.eu-west-1.amazonaws.com/${REPO}:v9@${OTHER_DIGEST}`, digest: '', repository: '' }, {}),
    );
    expect(msg).toContain('refused');
    expect(msg).toContain('never recorded in preprod');
    expect(JSON.parse(String(published.evidence)).checks.filter((c: { ok: boolean }) => !c.ok)).toHaveLength(2);
  });

  test.each([['failure'], ['error'], ['inactive'], ['pending'], ['in_progress']])(
    'a preprod deployment whose latest status is %s',
    async (last) => {
      ecr.tags.set(`preprod-${SHA.slice(0, 7)}`, DIGEST);
      gh.seed('preprod', SHA, DIGEST, ['success', last]);
      const msg = await refused(verify());
      expect(msg).toContain(`has success as its latest status`);
      expect(msg).toContain(`: ${last}`);
    },
  );

  test('a success that is not the latest status is not evidence, a newer success is', async () => {
    ecr.tags.set(`preprod-${SHA.slice(0, 7)}`, DIGEST);
    gh.seed('preprod', SHA, DIGEST, ['pending', 'success', 'failure', 'success']);
    await expect(verify()).resolves.toMatchObject({ verified: true });
  });

  test('a record for another commit is not evidence for this commit', async () => {
    // (record itself refuses that pair unless its build-tag check is switched off: record refusals)
    await record({ 'commit-tag-template': '' }, { GITHUB_SHA: OTHER_SHA });
    io = recordingIO();
    const msg = await refused(verify());
    expect(msg).toContain(`commit ${SHA.slice(0, 7)} was never recorded in preprod`);
  });

  test('a deployment the API returns for another sha or environment is ignored', async () => {
    ecr.tags.set(`preprod-${SHA.slice(0, 7)}`, DIGEST);
    gh.seed('preprod', OTHER_SHA, DIGEST, ['success']);
    gh.api.list = async () => gh.deployments; // an API that ignored the filters
    gh.seed('qa', SHA, DIGEST, ['success']);
    const msg = await refused(verify());
    expect(msg).toContain('no GitHub deployment to preprod');
  });

  test('a deployment of the digest from another repository is not evidence', async () => {
    ecr.tags.set(`preprod-${SHA.slice(0, 7)}`, DIGEST);
    gh.seed('preprod', SHA, DIGEST, ['success'], 'team/other-service');
    await refused(verify());
  });

  test('a production run from a non-main branch', async () => {
    await record();
    const msg = await refused(verify({}, { GITHUB_REF: 'refs/heads/feature/x' }));
    expect(msg).toContain('refs/heads/feature/x may not deploy to production (allowed: refs/heads/main)');
    // The other evidence was still checked and reported.
    const ev = JSON.parse(String(published.evidence));
    expect(ev.checks.map((c: { source: string; ok: boolean }) => `${c.source}:${c.ok}`)).toEqual(['ref:false', 'github:true', 'ecr:true']);
  });

  test('allowed-refs are exact refs, and a caller cannot widen those of a promotion target', async () => {
    await record();
    await expect(verify({ 'allowed-refs': 'refs/heads/main' })).resolves.toMatchObject({ verified: true });
    await expect((async () => verify({ 'allowed-refs': 'refs/**' }))()).rejects.toThrow("Input 'allowed-refs' must be exact refs like refs/heads/main (no patterns) (got 'refs/**')");
    await expect((async () => verify({ 'allowed-refs': 'refs/heads/main,refs/heads/develop' }, { GITHUB_REF: 'refs/heads/develop' }))()).rejects.toThrow(
      "Input 'allowed-refs' cannot widen the refs of production: the pipeline allows only refs/heads/main (got 'refs/heads/develop')",
    );
  });

  test('auto-inactivated evidence (preprod moved on) is refused', async () => {
    ecr.tags.set(`preprod-${SHA.slice(0, 7)}`, DIGEST);
    gh.seed('preprod', SHA, DIGEST, ['success', 'inactive']);
    const msg = await refused(verify());
    expect(msg).toContain('inactive');
  });
});

describe('record refusals', () => {
  test('the environment tag already on another digest: nothing is written', async () => {
    ecr.tags.set(`preprod-${SHA.slice(0, 7)}`, OTHER_DIGEST);
    await expect(record()).rejects.toThrow(`tag preprod-${SHA.slice(0, 7)} in ${REPO} already points at ${OTHER_DIGEST}`);
    expect(ecr.puts()).toHaveLength(0);
    expect(gh.deployments).toHaveLength(0);
  });

  test("the commit's build tag on another digest: refused, nothing written", async () => {
    ecr.tags.set(SHA.slice(0, 7), OTHER_DIGEST);
    await expect(record()).rejects.toThrow(
      `Refusing to record ${DIGEST} for commit ${SHA.slice(0, 7)} in preprod: the commit's tag ${SHA.slice(0, 7)} is on ${OTHER_DIGEST}, so this digest is not the build of commit ${SHA.slice(0, 7)}; nothing was written`,
    );
    expect(ecr.puts()).toHaveLength(0);
    expect(gh.deployments).toHaveLength(0);
  });

  // Issue 20: a commit with no build tag used to be recorded ("not checked"), and production later took it.
  test("no build tag of the commit on the digest: nothing proves the pair, refused in one line, nothing written", async () => {
    const err = await record({}, { GITHUB_SHA: 'e'.repeat(40) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe(
      `Refusing to record ${DIGEST} for commit eeeeeee in preprod: the image carries no tag eeeeeee (build-push-ecr tags every image it builds or reuses for a commit with it), so nothing shows it is the build of commit eeeeeee; nothing was written`,
    );
    expect(ecr.puts()).toHaveLength(0);
    expect(gh.deployments).toHaveLength(0);
    expect(gh.api.calls).toEqual([]);
  });

  test('an empty commit-tag-template skips the build tag check, and says so in an error annotation', async () => {
    ecr.tags.set(SHA.slice(0, 7), OTHER_DIGEST);
    await expect(record({ 'commit-tag-template': '' })).resolves.toMatchObject({ 'tag-result': 'created' });
    expect(io.errors.filter((m) => !m.includes('build provenance'))).toEqual([
      `record did not check that ${DIGEST} is the build of commit ${SHA.slice(0, 7)}: commit-tag-template is empty, so this evidence binds whatever image it was given to the commit (docs/promote-gate.md, What record writes)`,
    ]);
  });

  test('a digest missing from ECR: refused before GitHub is written', async () => {
    await expect(record({ digest: `sha256:${'c'.repeat(64)}`, 'commit-tag-template': '' })).rejects.toThrow(/does not exist in ECR/);
    expect(gh.deployments).toHaveLength(0);
  });

  test('a GitHub refusal to create the deployment happens before ECR is touched', async () => {
    gh.api.create = async () => {
      throw new UserError("needs 'deployments: write'");
    };
    await expect(record()).rejects.toThrow('deployments: write');
    expect(ecr.puts()).toHaveLength(0);
  });

  test('an ECR failure after the deployment was created marks it errored', async () => {
    ecr.mock.on(PutImageCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    await expect(record()).rejects.toThrow(/ecr:PutImage/);
    expect(gh.deployments).toHaveLength(1);
    expect(gh.api.calls.at(-1)).toBe(`status ${gh.deployments[0]!.id} error`);
  });

  test('a failed success status leaves the deployment errored, not pending', async () => {
    const orig = gh.api.createStatus;
    gh.api.createStatus = async (id, body) => {
      if (body.state === 'success') throw new UserError('boom');
      return orig(id, body);
    };
    await expect(record()).rejects.toThrow('boom');
    expect(gh.api.calls.at(-1)).toMatch(/status \d+ error/);
  });
});

describe('build provenance (provenance-kms-key)', () => {
  test('without the key, record and verify say in an error annotation that the provenance was not checked', async () => {
    await record();
    expect(io.errors).toEqual([
      `${WEAKENED}record did not check the build provenance of ${DIGEST}: provenance-kms-key is empty (deploy.yml: the PROVENANCE_KMS_KEY variable deploy-setup sets), so an image tagged by anyone holding the build role is taken for commit ${SHA.slice(0, 7)}'s build (docs/promote-gate.md, Threat model)`,
    ]);
  });

  test('a key that is not a KMS key ARN is refused in one line naming the input, before any call', () => {
    expect(() => inputs({ mode: 'record', environment: 'preprod', 'provenance-kms-key': 'alias/provenance' })).toThrow(/^Input 'provenance-kms-key' must be the ARN of a KMS key .*not an alias/);
    expect(gh.api.calls).toEqual([]);
  });
});
