import { Inputs as Raw, runContextFrom, InputError, mapInputs } from '@deploy-actions/action-kit';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { getInputs } from '../src/inputs';
import { loadPipelineParser } from '../src/pipeline';
import { parseImageRef, refAllowed, renderTag } from '../src/refs';
import { actionDefaults, DIGEST, SHA } from './fakes';

const env = {
  GITHUB_SHA: SHA,
  GITHUB_REF: 'refs/heads/main',
  GITHUB_REPOSITORY: 'acme/sample-service',
  AWS_REGION: 'eu-west-1',
};
const PREPROD_KEY = 'arn:aws:kms:eu-west-1:111111111111:key/0b2c3d4e-1111-4222-8333-944455556666';
const good = { mode: 'verify', 'github-token': 'ghs_x', repository: 'team/svc', digest: DIGEST, 'evidence-keys': `preprod=${PREPROD_KEY}` };
const parse = (values: Record<string, string>, e: Record<string, string> = env) =>
  getInputs(new Raw(mapInputs({ ...actionDefaults(), ...good, ...values })), e, runContextFrom(e));

describe('parseImageRef', () => {
  test.each([
    [`team/svc@${DIGEST}`, { registry: '', repository: 'team/svc', digest: DIGEST }],
    [`svc:v1@${DIGEST}`, { registry: '', repository: 'svc', digest: DIGEST }],
    [`localhost:5000/team/svc@${DIGEST}`, { registry: 'localhost:5000', repository: 'team/svc' }],
    [
      `123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/svc:abc@${DIGEST}`,
      { registryId: '123456789012', region: 'eu-west-1', repository: 'team/svc' },
    ],
  ])('%s', (ref, want) => {
    expect(parseImageRef(ref)).toMatchObject(want);
  });
  test.each([['team/svc:latest'], [`team/svc@sha256:${'a'.repeat(63)}`], [`Team/Svc@${DIGEST}`], [`@${DIGEST}`]])(
    'rejects %s',
    (ref) => expect(parseImageRef(ref)).toBeUndefined(),
  );
});

test.each([
  ['refs/heads/main', ['refs/heads/main'], true],
  ['refs/heads/main2', ['refs/heads/main'], false],
  ['refs/heads/Main', ['refs/heads/main'], false],
  ['refs/heads/release/1.0', ['refs/heads/release/*'], false],
  ['refs/heads/release/1/0', ['refs/heads/release/**'], false],
  ['refs/tags/v1.2.3', ['refs/heads/main', 'refs/tags/v1.2.3'], true],
  ['refs/pull/1/merge', ['refs/heads/*'], false],
])('refAllowed(%s, %j) = %s', (ref, patterns, ok) => expect(refAllowed(ref, patterns)).toBe(ok));

test.each([
  ['{environment}-{sha7}', 'preprod-0123456'],
  ['{sha}', SHA],
  ['promoted.{environment}', 'promoted.preprod'],
])('renderTag(%s)', (t, want) => expect(renderTag(t, { environment: 'preprod', sha: SHA })).toBe(want));

describe('getInputs', () => {
  test('defaults: verify preprod -> production from main, both evidence sources', () => {
    const i = parse({});
    expect(i).toMatchObject({
      mode: 'verify',
      evidenceEnvironment: 'preprod',
      targetEnvironment: 'production',
      allowedRefs: ['refs/heads/main'],
      evidence: ['github', 'ecr'],
      tag: 'preprod-0123456',
      commitTag: '',
      sha: SHA,
      ref: 'refs/heads/main',
      owner: 'acme',
      repo: 'sample-service',
      region: 'eu-west-1',
      image: `team/svc@${DIGEST}`,
    });
  });

  test('image-ref gives repository, digest, registry and region', () => {
    const i = parse({ digest: '', repository: '', 'image-ref': `123456789012.dkr.ecr.us-east-2.amazonaws.com/team/svc@${DIGEST}` }, { ...env, AWS_REGION: '' });
    expect(i).toMatchObject({ repository: 'team/svc', digest: DIGEST, registryId: '123456789012', region: 'us-east-2' });
  });

  test('record defaults: commit tag check on, production flag from the name', () => {
    expect(parse({ mode: 'record', environment: 'preprod' })).toMatchObject({ commitTag: '0123456', productionEnvironment: false, transientEnvironment: true, tag: 'preprod-0123456' });
    expect(parse({ mode: 'record', environment: 'preprod', 'transient-environment': 'false' })).toMatchObject({ transientEnvironment: false });
    expect(parse({ mode: 'record', environment: 'production' })).toMatchObject({ productionEnvironment: true });
  });

  test('sha defaults to the PR head on pull_request events', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'pg-'));
    const head = 'ab'.repeat(20);
    writeFileSync(join(dir, 'event.json'), JSON.stringify({ pull_request: { head: { sha: head, ref: 'feature' } } }));
    const i = parse({}, { ...env, GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: join(dir, 'event.json') });
    expect(i.sha).toBe(head);
  });

  test.each([
    [{ mode: '' }, 'mode'],
    [{ mode: 'promote' }, 'mode'],
    [{ digest: 'sha256:abc' }, 'digest'],
    [{ digest: 'a'.repeat(64) }, 'digest'],
    [{ digest: '' }, 'digest'],
    [{ 'image-ref': 'team/svc:latest' }, 'image-ref'],
    [{ 'image-ref': `team/svc@${DIGEST}`, digest: `sha256:${'b'.repeat(64)}` }, 'digest'],
    [{ 'image-ref': `team/svc@${DIGEST}`, repository: 'team/other' }, 'repository'],
    [{ repository: 'Team/Svc' }, 'repository'],
    [{ repository: '' }, 'repository'],
    [{ 'registry-id': '12345' }, 'registry-id'],
    [{ sha: 'abc123' }, 'sha'],
    [{ evidence: 'github,slack' }, 'evidence'],
    [{ 'require-environment': 'pre prod' }, 'require-environment'],
    [{ 'target-environment': 'preprod', 'require-environment': 'PREPROD' }, 'target-environment'],
    [{ 'target-environment': '', 'require-environment': 'production' }, 'require-environment'],
    [{ 'allowed-refs': 'main' }, 'allowed-refs'],
    [{ 'tag-template': '{env}-{sha7}' }, 'tag-template'],
    [{ 'tag-template': '{environment}:{sha7}' }, 'tag-template'],
    [{ 'github-token': '' }, 'github-token'],
    [{ 'aws-region': 'moon' }, 'aws-region'],
    [{ mode: 'record' }, 'environment'],
    [{ mode: 'record', environment: 'qa', 'commit-tag-template': '{environment}-{sha7}' }, 'commit-tag-template'],
    [{ mode: 'record', environment: 'qa', 'environment-url': 'ftp://x' }, 'environment-url'],
    [{ mode: 'record', environment: 'qa', description: 'x'.repeat(141) }, 'description'],
    [{ mode: 'record', environment: 'qa', 'transient-environment': 'maybe' }, 'transient-environment'],
  ])('%j fails naming %s', (values, input) => {
    let err: unknown;
    try {
      parse(values as Record<string, string>);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).input).toBe(input);
  });

  test('aws-region is required for ECR evidence only', () => {
    expect(() => parse({}, { ...env, AWS_REGION: '' })).toThrow(/aws-region/);
    expect(parse({ evidence: 'github' }, { ...env, AWS_REGION: '' }).region).toBe('');
  });

  test('a missing GITHUB_SHA fails naming sha', () => {
    expect(() => parse({}, { ...env, GITHUB_SHA: '' })).toThrow(/Input 'sha'/);
  });
});

describe('environment identity: one notion of a name, from the pipeline, not from a spelling', () => {
  test.each(['production', 'Production', 'PRODUCTION', 'pRoDuCtIoN'])('target %j is production: requires preprod, from refs/heads/main only', (name) => {
    const inputs = parse({ 'target-environment': name, 'require-environment': '', 'allowed-refs': '' });
    expect(inputs).toMatchObject({ targetEnvironment: 'production', evidenceEnvironment: 'preprod', allowedRefs: ['refs/heads/main'] });
  });

  test.each(['prod', 'Prod', 'PROD', 'prd', 'live', 'production-eu', 'produção', 'production ', ' production', 'production\n', '\tproduction'])(
    'target %j is refused, naming target-environment',
    (name) => expect(() => parse({ 'target-environment': name })).toThrow(/^Input 'target-environment' must (not have surrounding whitespace|be one of the pipeline's environments)/),
  );

  test.each(['Production', 'PREPROD', 'qa'])('record %j uses the configured spelling', (name) => {
    expect(parse({ mode: 'record', environment: name }).evidenceEnvironment).toBe(name.toLowerCase());
  });

  test.each(['prod', ' preprod', 'preprod '])('record %j is refused, naming environment', (name) => {
    expect(() => parse({ mode: 'record', environment: name })).toThrow(/^Input 'environment' must/);
  });

  test('require-environment cannot name another environment than the chain says', () => {
    expect(() => parse({ 'target-environment': 'production', 'require-environment': 'qa' })).toThrow(
      "Input 'require-environment' must be preprod: the pipeline promotes preprod -> production (got 'qa')",
    );
  });

  test('an environment outside the chain requires nothing unless asked', () => {
    expect(parse({ 'target-environment': 'qa', 'allowed-refs': 'refs/heads/develop' })).toMatchObject({ evidenceEnvironment: '', allowedRefs: ['refs/heads/develop'] });
  });

  test('production-environment defaults from the chain, not the name', () => {
    expect(parse({ mode: 'record', environment: 'PRODUCTION' }).productionEnvironment).toBe(true);
    expect(parse({ mode: 'record', environment: 'preprod' }).productionEnvironment).toBe(false);
  });
});

describe('fail closed (issue 20): production refused by default when its evidence cannot be trusted', () => {
  const workspace = mkdtempSync(join(tmpdir(), 'gate-env-'));
  // A file without preprod: no promotion chain, so production would require nothing at all.
  writeFileSync(join(workspace, 'environments.yml'), 'environments:\n  qa: {}\n  production: {}\n');
  const inWorkspace = { ...env, GITHUB_WORKSPACE: workspace };
  // As the entry (modes.ts readAnyInputs) does when the file is there.
  beforeAll(() => loadPipelineParser());

  test.each([
    ['no key of preprod (signing off, or a key missing)', { 'evidence-keys': '' }, env, 'evidence-keys', "names no key of preprod: production is a promotion target, and unsigned evidence (a GitHub deployment and an ECR tag) can be forged by anyone with deployments: write and the build role"],
    ['an environments file without preprod', { 'environments-file': 'environments.yml', 'evidence-keys': '', 'require-environment': '' }, inWorkspace, 'environments-file', 'gives production no environment before it in the promotion chain (environments.yml: preprod -> production is not there), so production would take any digest without evidence'],
  ])('%s: refused in one line naming the input and the opt-out', (_name, values, e, input, why) => {
    const err = (() => {
      try {
        parse(values, e);
      } catch (x) {
        return x;
      }
    })();
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).input).toBe(input);
    expect((err as Error).message).toBe(
      `Input '${input}' ${why}; production is refused (set weaken-promotion-gate: true to accept it, an error annotation in every run; deploy.yml: the WEAKEN_PROMOTION_GATE variable)`,
    );
    // The explicit opt-out: accepted, and the weakened rule is named for the run's error annotation.
    expect(parse({ ...values, 'weaken-promotion-gate': 'true' }, e).weakened).toEqual([
      `Weakened promotion gate: ${input} ${why}; accepted because weaken-promotion-gate is true (docs/promote-gate.md, Threat model)`,
    ]);
  });

  test('what is not production is not touched: QA and preprod without keys, and production with its key, weaken nothing', () => {
    expect(parse({ 'target-environment': 'preprod', 'require-environment': 'qa', 'evidence-keys': '' }).weakened).toEqual([]);
    expect(parse({ 'target-environment': 'qa', 'evidence-keys': '' }).weakened).toEqual([]);
    expect(parse({}).weakened).toEqual([]);
    expect(parse({ mode: 'record', environment: 'production', 'evidence-keys': '' }).weakened).toEqual([]);
  });
});
