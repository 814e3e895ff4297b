/**
 * Signed evidence: record signs with the environment's KMS key (the real @aws-sdk/client-kms
 * against the KMS stand-in, generated key policies of workflows/aws/), verify accepts only
 * statements that verify under the configured key and name this subject, and the replay and
 * rollback rules of signed-rules.ts. GitHub is the in-memory deployments API; a forger writes to
 * it directly, as a `deployments: write` token can.
 */
import { createHash } from 'node:crypto';
import { Inputs as Raw, InputError, UserError, mapInputs, recordingIO, runContextFrom } from '@deploy-actions/action-kit';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { addGeneratedRoles, buildRoleArn, deployRoleArn, evidenceRoleArn } from '../../../test/executor/doubles/aws-trust';
import { IamStore } from '../../../test/standins/iam/index';
import { startEvidenceKms, type EvidenceKms } from '../../../test/security/evidence-keys';
import { evidenceTask } from '../src/github';
import { getInputs } from '../src/inputs';
import { kmsEvidenceKeys } from '@deploy-actions/aws/kms';
import { run, type Deps } from '../src/run';
import { getQueryInputs, runQuery } from '../src/query';
import { decideSigned, type SignedRecord } from '../src/signed-rules';
import type { Statement } from '../src/statement';
import { actionDefaults, DIGEST, OTHER_DIGEST, OTHER_SHA, SHA, fakeEcr, fakeGithub } from './fakes';

const REPO = 'team/sample-service';
const THIRD_DIGEST = `sha256:${'c'.repeat(64)}`;
const KEY = `tree-${'1'.repeat(40)}`;
const env = (sha = SHA) => ({
  GITHUB_SHA: sha,
  GITHUB_REF: 'refs/heads/main',
  GITHUB_REPOSITORY: 'acme/sample-service',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_RUN_ID: '1000',
  GITHUB_ACTOR: 'alice',
});

let iam: IamStore;
let evidence: EvidenceKms;
let gh: ReturnType<typeof fakeGithub>;
let io: ReturnType<typeof recordingIO>;
let clock: number;
const saved = process.env.AWS_ENDPOINT_URL_KMS;

beforeAll(async () => {
  iam = new IamStore();
  addGeneratedRoles(iam);
  evidence = await startEvidenceKms({ iam });
  process.env.AWS_ENDPOINT_URL_KMS = evidence.kms.url;
});
afterAll(async () => {
  process.env.AWS_ENDPOINT_URL_KMS = saved;
  await evidence?.kms.stop();
});
beforeEach(() => {
  // GitHub's clock is the runners' clock: a deployment is created when its statement was signed.
  gh = fakeGithub(() => clock);
  io = recordingIO();
  clock = Date.UTC(2026, 5, 1);
});

/** The job's credentials: a session of `role` (a deploy role's environment, `build` or `evidence`). */
function deps(role: string): Deps {
  const c = iam.issueCredentials(role === 'build' ? buildRoleArn() : role === 'evidence' ? evidenceRoleArn() : deployRoleArn(role), 'gha');
  return {
    io,
    github: gh.api,
    keys: kmsEvidenceKeys({ sleep: async () => undefined }, { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken }),
    aws: { sleep: async () => undefined },
  };
}
const now = () => new Date((clock += 60_000));

const gate = (values: Record<string, string>, sha = SHA) =>
  getInputs(
    new Raw(
      mapInputs({
        ...actionDefaults(),
        'github-token': 'ghs_test',
        repository: REPO,
        digest: DIGEST,
        evidence: 'github',
        'evidence-keys': evidence.variable,
        'require-signed-evidence': 'true',
        ...values,
      }),
    ),
    env(sha),
    runContextFrom(env(sha)),
  );

async function record(environment: string, digest = DIGEST, o: { sha?: string; role?: string; contentKey?: string } = {}) {
  const inputs = gate({ mode: 'record', environment, digest, ...(o.contentKey ? { 'content-key': o.contentKey } : {}) }, o.sha);
  return run(inputs, { ...deps(o.role ?? environment), now });
}
// A content key counts only with the commit it was built from, read from the image's tags in ECR:
// this commit built DIGEST under KEY, as build-push-ecr leaves it.
const keyedEcr = () => {
  const ecr = fakeEcr(REPO);
  ecr.addImage(DIGEST, SHA.slice(0, 7), KEY);
  ecr.tags.set(`preprod-${SHA.slice(0, 7)}`, DIGEST);
  return ecr.client;
};
const verify = (digest = DIGEST, o: { sha?: string; contentKey?: string } = {}) =>
  o.contentKey
    ? run(gate({ mode: 'verify', 'target-environment': 'production', digest, 'content-key': o.contentKey, evidence: 'github,ecr', 'aws-region': 'eu-west-1' }, o.sha), { ...deps('production'), ecr: keyedEcr() })
    : run(gate({ mode: 'verify', 'target-environment': 'production', digest }, o.sha), deps('production'));

async function refusal(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(UserError);
  return (err as Error).message;
}

/** What a deployments-write token can do: a deployment with any payload, then a success status. */
async function forge(environment: string, payload: Record<string, unknown>, sha = SHA) {
  // The attacker uses the evidence records' task too: only the signature tells them apart.
  const d = await gh.api.create({ ref: sha, task: evidenceTask(environment), environment, description: 'forged', payload: { recorded_by: 'deploy-actions/promote-gate', repository: REPO, ...payload }, production_environment: false, transient_environment: true });
  await gh.api.createStatus(d.id, { state: 'success', description: 'forged', auto_inactive: false });
  return d;
}
const signedOf = (id: number) => (gh.deployments.find((d) => d.id === id)!.payload as { signed: { statement: string } }).signed;

describe('record signs, verify checks the signature and every field', () => {
  test('a statement signed by the preprod role passes production; its fields are those of the run', async () => {
    const out = await record('preprod', DIGEST, { contentKey: KEY });
    const statement = JSON.parse(Buffer.from(signedOf(Number(out['deployment-id'])).statement, 'base64').toString()) as Statement;
    expect(statement).toMatchObject({
      githubRepository: 'acme/sample-service',
      imageRepository: REPO,
      digest: DIGEST,
      contentKey: KEY,
      commit: SHA,
      environment: 'preprod',
      runUrl: 'https://github.com/acme/sample-service/actions/runs/1000',
      hotfix: false,
      status: 'success',
    });
    const ok = await verify();
    expect(ok.verified).toBe(true);
    expect(JSON.parse(String(ok.evidence)).checks).toContainEqual(expect.objectContaining({ source: 'signed', ok: true }));
    expect(evidence.kms.calls.filter((c) => c.operation === 'Sign').at(-1)).toMatchObject({ caller: expect.stringContaining('gha-sample-service-preprod'), key: evidence.keys.preprod!.arn });
  });

  test('a re-run of record reuses its signed record and signs nothing new', async () => {
    const first = await record('preprod');
    const signs = evidence.kms.calls.filter((c) => c.operation === 'Sign').length;
    const again = await record('preprod');
    expect(again['deployment-id']).toBe(first['deployment-id']);
    expect(evidence.kms.calls.filter((c) => c.operation === 'Sign').length).toBe(signs);
  });

  test('another role may not sign with preprod\'s key: record fails before writing anything', async () => {
    for (const role of ['qa', 'build', 'production']) {
      const message = await refusal(record('preprod', DIGEST, { role }));
      expect(message).toMatch(new RegExp(`^The role this job assumes may not sign with preprod's evidence key ${evidence.keys.preprod!.arn}.*assumed-role/gha-sample-service-${role}/`));
    }
    expect(gh.deployments).toEqual([]);
  });

  test('require-signed-evidence without a key for the environment: one line naming evidence-keys', () => {
    expect(() => gate({ mode: 'verify', 'target-environment': 'production', 'evidence-keys': `production=${evidence.keys.production!.arn}` })).toThrow(
      new InputError('evidence-keys', "must name the KMS key of preprod: require-signed-evidence is true, and verify requires preprod's evidence with it (set the EVIDENCE_KMS_KEYS variable, workflows/README.md)"),
    );
    expect(() => gate({ mode: 'verify', 'evidence-keys': `preprod=alias/evidence-preprod` })).toThrow(/^Input 'evidence-keys' must give preprod a KMS key ARN/);
    expect(() => gate({ mode: 'verify', 'evidence-keys': `prod=${evidence.keys.production!.arn}` })).toThrow(/^Input 'evidence-keys' must be one of the pipeline's environments/);
  });
});

describe('forged evidence is refused', () => {
  test.each([
    ['unsigned: a success deployment with the right digest', async () => forge('preprod', { digest: DIGEST })],
    [
      'a statement signed by the QA role, claiming preprod',
      async () => {
        const qa = await record('qa');
        const statement = JSON.parse(Buffer.from(signedOf(Number(qa['deployment-id'])).statement, 'base64').toString()) as Statement;
        // The QA role re-signs a statement saying preprod with the only key it may use.
        const bytes = Buffer.from(JSON.stringify({ ...statement, environment: 'preprod' }));
        const signature = await deps('qa').keys!.sign(evidence.keys.qa!.arn, bytes);
        return forge('preprod', { digest: DIGEST, signed: { statement: bytes.toString('base64'), signature: signature.toString('base64'), key: evidence.keys.preprod!.arn } });
      },
    ],
    [
      'a preprod statement copied with its digest field changed',
      async () => {
        const other = await record('preprod', OTHER_DIGEST);
        const signed = signedOf(Number(other['deployment-id']));
        const bytes = Buffer.from(Buffer.from(signed.statement, 'base64').toString().replace(OTHER_DIGEST, DIGEST));
        return forge('preprod', { digest: DIGEST, signed: { ...signed, statement: bytes.toString('base64') } });
      },
    ],
  ])('%s', async (_what, attack) => {
    await attack();
    const message = await refusal(verify());
    expect(message).toMatch(/no statement signed with preprod's key says digest sha256:a{64} passed preprod/);
  });

  test.each<[string, { digest?: string; sha?: string; contentKey?: string }, RegExp]>([
    ['another digest', { digest: OTHER_DIGEST }, /no statement signed with preprod's key says digest sha256:a{64}/],
    ['another commit', { sha: OTHER_SHA }, /preprod's signed evidence of digest sha256:a{64} is for commit fedcba9, not 0123456/],
    ['another content key', { sha: OTHER_SHA, contentKey: `tree-${'2'.repeat(40)}` }, /is for commit fedcba9, not 0123456 nor content key tree-1{40}/],
  ])('a valid preprod signature over a statement for %s, in a deployment claiming this digest', async (_what, over, expected) => {
    const theirs = await record('preprod', over.digest ?? DIGEST, { sha: over.sha, contentKey: over.contentKey });
    await forge('preprod', { digest: DIGEST, signed: signedOf(Number(theirs['deployment-id'])) });
    const message = await refusal(verify(DIGEST, { contentKey: KEY }));
    expect(message).toMatch(expected);
  });

  test('a valid preprod signature over another repository\'s statement', async () => {
    // A key shared with another repository by mistake: its preprod role signs that repository's statements.
    const ours = await record('preprod');
    const bytes = Buffer.from(Buffer.from(signedOf(Number(ours['deployment-id'])).statement, 'base64').toString().replace('acme/sample-service', 'acme/other-service'));
    const signature = await deps('preprod').keys!.sign(evidence.keys.preprod!.arn, bytes);
    gh.deployments.length = 0;
    await forge('preprod', { digest: DIGEST, signed: { statement: bytes.toString('base64'), signature: signature.toString('base64'), key: evidence.keys.preprod!.arn } });
    const message = await refusal(verify());
    expect(message).toMatch(/no statement signed with preprod's key says digest .* \(ignored in preprod: 1 signed for repository acme\/other-service\)/);
  });
});

describe('replay and rollback', () => {
  test('preprod moved on: the older digest is refused, and a replayed copy of its statement changes nothing', async () => {
    const a = await record('preprod', DIGEST);
    await record('preprod', OTHER_DIGEST, { sha: OTHER_SHA });
    const expected = /preprod has moved on to sha256:b{64} \(passed at .*\) since sha256:a{64} passed it at .*; only the digest preprod holds can be promoted, or one production ran before \(a rollback\)/;
    expect(await refusal(verify())).toMatch(expected);
    clock += 3_600_000;
    await forge('preprod', { digest: DIGEST, signed: signedOf(Number(a['deployment-id'])) });
    expect(await refusal(verify())).toMatch(expected);
    expect((await verify(OTHER_DIGEST, { sha: OTHER_SHA })).verified).toBe(true);
  });

  test('a digest marked failed by a bake is refused; replaying its success statement does not revive it', async () => {
    const a = await record('preprod', DIGEST);
    const fail = getQueryInputs(new Raw(mapInputs({ ...actionDefaults(), mode: 'fail', environment: 'preprod', repository: REPO, digest: DIGEST, 'github-token': 'ghs_test', 'evidence-keys': evidence.variable, description: 'alarm orders-5xx' })), runContextFrom(env()));
    const d = deps('preprod');
    await runQuery(fail, { io, github: gh.api, keys: d.keys!, now });
    expect(await refusal(verify())).toMatch(/digest sha256:a{64} was marked failed in preprod at .*; earlier preprod evidence of it no longer counts/);
    await forge('preprod', { digest: DIGEST, signed: signedOf(Number(a['deployment-id'])) });
    expect(await refusal(verify())).toMatch(/was marked failed in preprod/);
  });

  test('production may roll back to an older digest it ran; not to one it never ran, nor to one failed there', async () => {
    await record('preprod', DIGEST);
    await record('production', DIGEST);
    await record('preprod', THIRD_DIGEST, { sha: OTHER_SHA }); // passed preprod, never promoted
    await record('preprod', OTHER_DIGEST, { sha: OTHER_SHA });
    await record('production', OTHER_DIGEST, { sha: OTHER_SHA });
    const back = await verify(DIGEST);
    expect(back.verified).toBe(true);
    expect(JSON.parse(String(back.evidence)).checks.find((c: { source: string }) => c.source === 'signed').detail).toMatch(
      /^rollback: digest sha256:a{64} passed preprod at .* and ran in production \(signed at .*\); preprod has moved on to sha256:b{64}/,
    );
    expect(await refusal(verify(THIRD_DIGEST, { sha: OTHER_SHA }))).toMatch(/only the digest preprod holds can be promoted, or one production ran before/);
    const fail = getQueryInputs(new Raw(mapInputs({ ...actionDefaults(), mode: 'fail', environment: 'production', repository: REPO, digest: DIGEST, 'github-token': 'ghs_test', 'evidence-keys': evidence.variable })), runContextFrom(env()));
    await runQuery(fail, { io, github: gh.api, keys: deps('production').keys!, now });
    expect(await refusal(verify(DIGEST))).toMatch(/and sha256:a{64} was marked failed in production at/);
  });
});

describe('flooding: no number of added deployments changes a decision, and the read stays bounded', () => {
  /** `n` deployments a `deployments: write` token creates with the evidence task: unsigned, garbage signatures, and copies of `copy`. */
  async function flood(n: number, o: { sha?: string; copy?: unknown } = {}) {
    for (let i = 0; i < n; i++) {
      const payload = i % 3 === 0 ? { digest: DIGEST } : i % 3 === 1 || !o.copy ? { digest: DIGEST, signed: { statement: 'e30=', signature: 'AAAA', key: 'x' } } : { digest: DIGEST, signed: o.copy };
      await gh.api.create({ ref: o.sha ?? SHA, task: evidenceTask('preprod'), environment: 'preprod', description: 'junk', payload, production_environment: false, transient_environment: true });
    }
  }

  test('10,000 junk deployments after a newer statement: the older digest is still refused, the held one still passes; the read is counted', async () => {
    const a = await record('preprod', DIGEST);
    await record('preprod', `sha256:${'e'.repeat(64)}`, { sha: OTHER_SHA });
    await record('preprod', OTHER_DIGEST, { sha: OTHER_SHA });
    const refusedBefore = await refusal(verify());
    clock += 3_600_000;
    await flood(10_000, { copy: signedOf(Number(a['deployment-id'])) });
    const pages = gh.api.pages;
    const decision = (m: string) => m.replace(/ \(ignored in preprod: .*\)$/, '');
    expect(decision(await refusal(verify()))).toBe(refusedBefore);
    // The head read: 10,003 deployments of the task, 101 pages; the commit's read: the same 10,001 again.
    expect(gh.api.pages - pages).toBe(101 + 101);
    expect(io.lines.join('\n')).toMatch(/Read 10003 preprod evidence deployments \(3336 statements verified; ignored: 3334 unsigned; 3333 signature does not verify with the environment's key\)/);
    expect((await verify(OTHER_DIGEST, { sha: OTHER_SHA })).verified).toBe(true);
  }, 60_000);

  test('a failed digest stays failed under a flood of its own commit, and a newer success is found behind junk', async () => {
    const a = await record('preprod', DIGEST);
    const fail = getQueryInputs(new Raw(mapInputs({ ...actionDefaults(), mode: 'fail', environment: 'preprod', repository: REPO, digest: DIGEST, 'github-token': 'ghs_test', 'evidence-keys': evidence.variable })), runContextFrom(env()));
    await runQuery(fail, { io, github: gh.api, keys: deps('preprod').keys!, now });
    clock += 3_600_000;
    await flood(5_000, { copy: signedOf(Number(a['deployment-id'])) });
    expect(await refusal(verify())).toMatch(/digest sha256:a{64} was marked failed in preprod/);
    // Passed again, then buried under more junk: the newest signed success decides.
    await record('preprod', DIGEST);
    await flood(1_000);
    expect((await verify()).verified).toBe(true);
  }, 60_000);

  test('a read that does not end within 1,000 pages refuses in one line instead of deciding from a part', async () => {
    await flood(100_001);
    expect(await refusal(verify())).toMatch(/^Refusing to decide from part of the evidence: more than 100000 deployments \(task deploy:evidence:preprod\) were read without reaching the end/);
  }, 120_000);
});

describe('everything a consumer uses comes from the signed statement', () => {
  test('a replayed genuine statement with a forged payload: the image host, actor and run are the statement\'s', async () => {
    const host = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
    const inputs = gate({ mode: 'record', environment: 'production', 'image-ref': `${host}/${REPO}@${DIGEST}` });
    const out = await run(inputs, { ...deps('production'), now });
    await record('production', OTHER_DIGEST, { sha: OTHER_SHA });
    clock += 3_600_000;
    // The genuine statement, replayed under a payload that names another host, actor and run.
    await forge('production', { digest: DIGEST, image: `evil.example.com/${REPO}@${DIGEST}`, actor: 'mallory', run_id: '666', run_url: 'https://evil.example.com/run', signed: signedOf(Number(out['deployment-id'])) });
    const q = getQueryInputs(new Raw(mapInputs({ ...actionDefaults(), repository: REPO, 'github-token': 'ghs_test', 'evidence-keys': evidence.variable, mode: 'last-validated', environment: 'production' })), runContextFrom(env()));
    const target = await runQuery(q, { io, github: gh.api, keys: deps('evidence').keys!, now });
    expect(target).toMatchObject({ 'image-ref': `${host}/${REPO}@${DIGEST}`, 'validated-by': 'alice', 'run-url': 'https://github.com/acme/sample-service/actions/runs/1000' });
    expect(JSON.stringify(target)).not.toMatch(/evil|mallory|666/);
  });
});

describe('last-validated and status read signed statements only (the rollback target)', () => {
  const query = (values: Record<string, string>) =>
    getQueryInputs(new Raw(mapInputs({ ...actionDefaults(), repository: REPO, 'github-token': 'ghs_test', 'evidence-keys': evidence.variable, 'require-signed-evidence': 'true', ...values })), runContextFrom(env()));
  // The rollback plan job verifies with the evidence reader role (AWS_EVIDENCE_ROLE_ARN; the generated key policy's VerifyEvidence).
  const target = async () => runQuery(query({ mode: 'last-validated', environment: 'production' }), { io, github: gh.api, keys: deps('evidence').keys!, now });

  test('forged records, replayed statements and forged statuses do not move the target; a failed digest is skipped', async () => {
    await record('production', DIGEST);
    const b = await record('production', THIRD_DIGEST, { sha: OTHER_SHA });
    await record('production', OTHER_DIGEST, { sha: OTHER_SHA });
    const fail = query({ mode: 'fail', environment: 'Production', digest: THIRD_DIGEST, sha: OTHER_SHA });
    await runQuery(fail, { io, github: gh.api, keys: deps('production').keys!, now });
    expect(await target()).toMatchObject({ digest: DIGEST, sha: SHA });

    // THIRD's success statement replayed on a new record, an unsigned record of a fourth digest,
    // and failure statuses on every genuine record of DIGEST: none of it counts.
    clock += 3_600_000;
    await forge('production', { digest: THIRD_DIGEST, signed: signedOf(Number(b['deployment-id'])) }, OTHER_SHA);
    const fourth = `sha256:${'d'.repeat(64)}`;
    await forge('production', { digest: fourth });
    for (const d of gh.deployments.filter((x) => (x.payload as { digest?: string }).digest === DIGEST)) {
      await gh.api.createStatus(d.id, { state: 'failure', description: 'forged', auto_inactive: false });
    }
    expect(await target()).toMatchObject({ digest: DIGEST, sha: SHA });
    expect(io.lines.at(-1)).toContain(`before ${OTHER_DIGEST}`);

    const status = await runQuery(query({ mode: 'status', environments: 'production' }), { io, github: gh.api, keys: deps('evidence').keys!, now });
    const [production] = JSON.parse(String(status.status)) as Array<{ running: { digest: string } }>;
    expect(production!.running.digest).toBe(OTHER_DIGEST);
  });

  test('unsigned mode still reads the records (EVIDENCE_SIGNING off); required signing without a key fails naming the input', async () => {
    await forge('production', { digest: DIGEST });
    await forge('production', { digest: OTHER_DIGEST });
    const unsigned = getQueryInputs(new Raw(mapInputs({ ...actionDefaults(), repository: REPO, 'github-token': 'ghs_test', mode: 'last-validated', environment: 'production' })), runContextFrom(env()));
    expect(await runQuery(unsigned, { io, github: gh.api })).toMatchObject({ digest: DIGEST });
    expect(() => query({ mode: 'status', environments: 'qa,staging', 'evidence-keys': '' })).toThrow(InputError);
    expect(() => query({ mode: 'last-validated', environment: 'production', 'evidence-keys': '' })).toThrow(/Input 'evidence-keys' must name the KMS key of production: require-signed-evidence is true, and last-validated reads only evidence signed with it/);
  });

  test('fail: the environment as the pipeline spells it, and the production flag from the promotion chain', async () => {
    await runQuery(query({ mode: 'fail', environment: 'PRODUCTION', digest: DIGEST }), { io, github: gh.api, keys: deps('production').keys!, now });
    await runQuery(query({ mode: 'fail', environment: 'Preprod', digest: DIGEST }), { io, github: gh.api, keys: deps('preprod').keys!, now });
    expect(gh.deployments.map((d) => [d.environment, d.production_environment])).toEqual([
      ['production', true],
      ['preprod', false],
    ]);
    expect(() => query({ mode: 'fail', environment: 'prod', digest: DIGEST })).toThrow(/Input 'environment' must be one of the pipeline's environments/);
  });
});

describe('the rules on their own', () => {
  const st = (digest: string, status: Statement['status'], minute: number, commit = SHA): SignedRecord => ({
    statement: {
      type: 'deploy-actions/promote-gate/evidence@v1',
      githubRepository: 'acme/sample-service',
      imageRepository: REPO,
      digest,
      contentKey: '',
      commit,
      environment: 'preprod',
      runUrl: '',
      registry: '',
      runId: '1',
      workflow: 'deploy',
      actor: 'alice',
      time: new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString(),
      hotfix: false,
      status,
      card: '',
    },
    deployment: { id: minute, sha: commit, ref: commit, environment: 'preprod', payload: {}, created_at: '' },
  });
  const subject = { githubRepository: 'acme/sample-service', imageRepository: REPO, digest: DIGEST, sha: SHA };
  test.each([
    ['held', [st(DIGEST, 'success', 1)], true],
    ['moved on', [st(DIGEST, 'success', 1), st(OTHER_DIGEST, 'success', 2)], false],
    ['a newer digest failed and was rolled back: the environment holds this one again', [st(DIGEST, 'success', 1), st(OTHER_DIGEST, 'success', 2), st(OTHER_DIGEST, 'failed', 3)], true],
    ['failed after it passed', [st(DIGEST, 'success', 1), st(DIGEST, 'failed', 2)], false],
    ['passed again after a failure', [st(DIGEST, 'success', 1), st(DIGEST, 'failed', 2), st(DIGEST, 'success', 3)], true],
  ])('%s', (_what, records, ok) => {
    expect(decideSigned(subject, { environment: 'preprod', records }, undefined).ok).toBe(ok);
  });
});

describe('the release card in the evidence', () => {
  const CARD = '## Release card: sample-service to preprod\n\nwhat the reviewers saw';
  const hashOf = (text: string) => `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`;
  const recordWithCard = (card: string, sha256 = hashOf(card)) =>
    run(gate({ mode: 'record', environment: 'preprod', digest: DIGEST, 'card-sha256': sha256, card }), { ...deps('preprod'), now });

  test("record signs the card's sha256 and keeps the card with the record; verify finds them matching", async () => {
    const out = await recordWithCard(CARD);
    const d = gh.deployments.find((x) => x.id === Number(out['deployment-id']))!;
    const statement = JSON.parse(Buffer.from(signedOf(d.id).statement, 'base64').toString()) as Statement;
    expect(statement.card).toBe(hashOf(CARD));
    expect((d.payload as { card: string }).card).toBe(CARD);
    expect(d.description).toBe(`${REPO}@${DIGEST.slice(0, 19)} validated in preprod; release card ${hashOf(CARD).slice(0, 19)}`);
    // The environment's deployment history: the success status names the card and opens the run (its summary holds the card).
    const [status] = await gh.api.statuses(d.id);
    expect(status).toMatchObject({ state: 'success', description: `Digest validated in preprod; release card ${hashOf(CARD).slice(0, 19)} in the run summary` });
    expect(status!.log_url).toMatch(/\/actions\/runs\/\d+$/);
    io = recordingIO();
    await verify();
    expect(io.warnings).toEqual([]);
  });

  test('mutation: a record carrying another card than the signed hash names is reported by verify (and still verifies)', async () => {
    const out = await recordWithCard(CARD);
    const genuine = gh.deployments.find((x) => x.id === Number(out['deployment-id']))!;
    // A deployments: write token replays the genuine signed statement with another card beside it.
    (genuine.payload as { card: string }).card = `${CARD}\n\nnothing to see here`;
    io = recordingIO();
    const result = await verify();
    expect(result.verified).toBe(true);
    expect(io.warnings).toHaveLength(1);
    expect(io.warnings[0]).toMatch(new RegExp(`release card kept with preprod's evidence \\(deployment ${genuine.id}\\) hashes to sha256:[0-9a-f]{64}, not ${hashOf(CARD)}`));
  });

  test('a card that does not hash to card-sha256 is left out of the record, the hash is still signed, and the run is told', async () => {
    const shown = hashOf('the card shown');
    const out = await recordWithCard('another card', shown);
    const d = gh.deployments.find((x) => x.id === Number(out['deployment-id']))!;
    expect((d.payload as { card?: string }).card).toBeUndefined();
    expect((JSON.parse(Buffer.from(signedOf(d.id).statement, 'base64').toString()) as Statement).card).toBe(shown);
    expect(io.warnings.join('\n')).toMatch(/the card input hashes to sha256:[0-9a-f]{64}, not card-sha256/);
  });

  test.each([
    ['not a hash', { 'card-sha256': 'abc' }, /Input 'card-sha256' must be the card mode's card-sha256 output/],
    ['in verify', { mode: 'verify', 'target-environment': 'production', 'card-sha256': hashOf('x') }, /Input 'card-sha256' is for record only/],
    ['a card without its hash', { card: 'x' }, /Input 'card' needs card-sha256/],
  ])('card inputs: %s', (_name, values, message) => {
    expect(() => gate({ mode: 'record', environment: 'preprod', ...values })).toThrow(message);
  });
});
