/** Evidence matched by content key (build-push-ecr's tree key) and hotfix records. */
import { Inputs as Raw, runContextFrom, InputError, UserError, mapInputs, recordingIO } from '@deploy-actions/action-kit';
import { beforeEach, describe, expect, test } from 'vitest';
import { getInputs } from '../src/inputs';
import { run, type Deps } from '../src/run';
import { actionDefaults, DIGEST, OTHER_DIGEST, OTHER_SHA, SHA, fakeEcr, fakeGithub } from './fakes';

const REPO = 'team/sample-service';
const KEY = `tree-${'1'.repeat(40)}`;
const OTHER_KEY = `tree-${'2'.repeat(40)}`;
// develop's commit D ran in QA; main's merge commit M (SHA) has the same tree.
const D = OTHER_SHA;

let ecr: ReturnType<typeof fakeEcr>;
let gh: ReturnType<typeof fakeGithub>;
let io: ReturnType<typeof recordingIO>;

function gate(values: Record<string, string>, ref = 'refs/heads/main') {
  const env = { GITHUB_SHA: SHA, GITHUB_REF: ref, GITHUB_REPOSITORY: 'acme/sample-service', GITHUB_RUN_ID: '1000', AWS_REGION: 'eu-west-1' };
  const inputs = getInputs(new Raw(mapInputs({ ...actionDefaults(), 'github-token': 'ghs_test', repository: REPO, digest: DIGEST, ...values })), env, runContextFrom(env));
  const deps: Deps = { io, github: gh.api, ecr: ecr.client, aws: { sleep: async () => undefined } };
  return run(inputs, deps);
}

const recordQa = (values: Record<string, string> = {}) =>
  gate({ mode: 'record', environment: 'qa', sha: D, 'content-key': KEY, ...values }, 'refs/heads/develop');
const verifyPreprod = (values: Record<string, string> = {}) =>
  gate({ mode: 'verify', 'require-environment': 'qa', 'target-environment': 'preprod', ...values });

beforeEach(() => {
  ecr = fakeEcr(REPO);
  gh = fakeGithub();
  io = recordingIO();
  // As build-push-ecr leaves them: D built the image (its tag, the key), M reused it by the key (its tag).
  ecr.addImage(DIGEST, D.slice(0, 7), KEY, SHA.slice(0, 7));
  ecr.addImage(OTHER_DIGEST, 'other');
});

describe('content key evidence', () => {
  test("record stores the key; verify of another commit with the same key and digest passes, ECR checked on the record's tag", async () => {
    await recordQa();
    expect(gh.deployments[0]!.payload).toMatchObject({ content_key: KEY, digest: DIGEST });
    expect(gh.deployments[0]!.payload).not.toHaveProperty('hotfix');
    const v = await verifyPreprod({ 'content-key': KEY });
    expect(v.verified).toBe(true);
    const checks = JSON.parse(String(v.evidence)).checks;
    expect(checks.find((c: { source: string }) => c.source === 'ecr')).toMatchObject({ ok: true, tag: `qa-${D.slice(0, 7)}` });
  });

  test.each([
    ['no content key given', {}],
    ['another content key', { 'content-key': OTHER_KEY }],
    ['the same key but another digest', { 'content-key': KEY, digest: OTHER_DIGEST }],
  ])('refused: %s', async (_name, values) => {
    await recordQa();
    const err = await verifyPreprod({ ...values, 'refusal-hint': 'Merge it through develop first.' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/^Promotion of team\/sample-service@sha256:[ab]{64} to preprod refused: .*\. Merge it through develop first\.$/);
  });

  test('a tree QA never saw: one line that says so', async () => {
    ecr.tags.set(OTHER_KEY, DIGEST);
    const err = await verifyPreprod({ 'content-key': OTHER_KEY }).catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      `Promotion of ${REPO}@${DIGEST} to preprod refused: digest ${DIGEST} (commit 0123456, content key ${OTHER_KEY}) never passed qa: no qa evidence of this commit or of this content; ECR tag qa-0123456 does not exist in ${REPO}`,
    );
  });

  // Issue 20: a validated content key with an unrelated commit (whose chart would be checked out).
  test.each([
    ['a commit that never built this image', 'e'.repeat(40), `the image carries no tag eeeeeee (build-push-ecr tags every image it builds or reuses for a commit with it), so nothing shows it is the build of commit eeeeeee; content key ${KEY} is accepted only with the commit it was built from`],
    ['a commit whose build is another image', 'c'.repeat(40), `the commit's tag ccccccc is on ${OTHER_DIGEST}, so this digest is not the build of commit ccccccc; content key ${KEY} is accepted only with the commit it was built from`],
  ])('the key with %s: refused, naming the rule', async (_name, commit, line) => {
    ecr.tags.set('ccccccc', OTHER_DIGEST);
    await recordQa();
    const err = await verifyPreprod({ 'content-key': KEY, sha: commit }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe(`Promotion of ${REPO}@${DIGEST} to preprod refused: ${line}`);
  });

  test("a key that is not the commit's image's key: refused; record refuses to store it too", async () => {
    ecr.tags.set(OTHER_KEY, OTHER_DIGEST);
    await recordQa();
    const err = await verifyPreprod({ 'content-key': OTHER_KEY }).catch((e: unknown) => e);
    expect((err as Error).message).toContain(`content key ${OTHER_KEY} is not a tag of ${DIGEST}: the key is accepted only with the commit it was built from`);
    const before = gh.deployments.length;
    await expect(recordQa({ 'content-key': OTHER_KEY })).rejects.toThrow(`Refusing to record ${DIGEST} for commit ${D.slice(0, 7)} in qa: content key ${OTHER_KEY} is not a tag of ${DIGEST}`);
    expect(gh.deployments).toHaveLength(before);
  });

  test('a content key without ECR evidence cannot be checked: refused before any call', async () => {
    const err = await Promise.resolve().then(() => verifyPreprod({ 'content-key': KEY, evidence: 'github' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).input).toBe('content-key');
    expect(gh.api.calls).toEqual([]);
  });

  test('hotfix is stored in the record', async () => {
    await gate({ mode: 'record', environment: 'preprod', 'content-key': KEY, hotfix: 'true' });
    expect(gh.deployments[0]!.payload).toMatchObject({ hotfix: true, content_key: KEY });
  });

  test.each([
    [{ mode: 'verify', 'content-key': 'tree-abc' }, 'content-key'],
    [{ mode: 'verify', hotfix: 'true' }, 'hotfix'],
  ])('bad input %j names %s before any call', async (values, input) => {
    const err = await Promise.resolve().then(() => gate(values)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).input).toBe(input);
    expect(gh.api.calls).toEqual([]);
  });
});
