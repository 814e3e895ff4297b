import { readFileSync } from 'node:fs';
import { Inputs as Raw, mapInputs, runContextFrom } from '@deploy-actions/action-kit';
import { parse as parseYaml } from 'yaml';
import { describe, expect, test } from 'vitest';
import { MODE_INPUTS, MODES } from '../src/mode-inputs';
import { getAnyInputs } from '../src/modes';
import { actionDefaults, DIGEST, SHA } from './fakes';

const env = { GITHUB_SHA: SHA, GITHUB_REF: 'refs/heads/main', GITHUB_REPOSITORY: 'acme/sample-service', AWS_REGION: 'eu-west-1' };
const meta = parseYaml(readFileSync(new URL('../../../promote-gate/action.yml', import.meta.url), 'utf8')) as { inputs: Record<string, { default?: string; description: string }> };
const read = (values: Record<string, string>) => getAnyInputs(new Raw(mapInputs({ ...actionDefaults(), 'github-token': 'ghs_x', ...values })), env, runContextFrom(env));
const thrown = (f: () => unknown): string => {
  try {
    f();
    return '';
  } catch (err) {
    return (err as Error).message;
  }
};

describe('the mode table', () => {
  test('names action.yml inputs only, with their action.yml defaults', () => {
    for (const [name, { default: fallback = '' }] of Object.entries(MODE_INPUTS)) {
      expect(meta.inputs[name], name).toBeDefined();
      expect(String(meta.inputs[name]!.default ?? ''), name).toBe(fallback);
    }
  });

  test('every input action.yml documents as one mode\'s ("`verify` only", "`card`: ...") is in the table', () => {
    for (const [name, { description }] of Object.entries(meta.inputs)) {
      if (new RegExp(`^\`(${MODES.join('|')})\`( only)?:`).test(description)) expect(MODE_INPUTS[name], name).toBeDefined();
    }
  });

  const refused = Object.entries(MODE_INPUTS).flatMap(([name, { modes }]) => MODES.filter((m) => !modes.includes(m)).map((m) => [name, m, modes] as const));
  test.each(refused)('%s given in mode %s is refused, naming the modes that read it', (name, mode, modes) => {
    const message = thrown(() => read({ mode, 'image-ref': `team/app@${DIGEST}`, [name]: 'given-zz' }));
    expect(message).toMatch(new RegExp(`^Input '${name}' is read only in modes? ${modes.join('.*')}, not in mode ${mode}: remove it \\(got 'given-zz'\\)$`));
  });

  const accepted = Object.entries(MODE_INPUTS).flatMap(([name, { modes }]) => modes.map((m) => [name, m] as const));
  test.each(accepted)('%s given in mode %s passes the mode check', (name, mode) => {
    expect(thrown(() => read({ mode, 'image-ref': `team/app@${DIGEST}`, [name]: 'given-zz' }))).not.toMatch(/is read only in/);
  });

  test('a value equal to the action.yml default is not refused (the runner passes defaults)', () => {
    expect(thrown(() => read({ mode: 'status', repository: 'team/app', 'target-environment': 'production', chart: 'chart' }))).toBe('');
  });

  test.each([['promote'], ['status2'], ['records']])('an unknown mode %j lists all six', (mode) => {
    expect(thrown(() => read({ mode }))).toMatch(/^Input 'mode' must be one of record, verify, status, last-validated, fail, card \(got /);
  });
  test('mode is case-insensitive', () => expect(thrown(() => read({ mode: 'STATUS', repository: 'team/app' }))).toBe(''));
});

describe("registry-id and aws-region against the image reference's host", () => {
  const ecrRef = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app@${DIGEST}`;
  test.each([
    ['verify', 'registry-id', '210987654321', 'account 123456789012'],
    ['record', 'registry-id', '210987654321', 'account 123456789012'],
    ['card', 'registry-id', '210987654321', 'account 123456789012'],
    ['verify', 'aws-region', 'us-east-1', 'region eu-west-1'],
    ['record', 'aws-region', 'eu-central-1', 'region eu-west-1'],
    ['card', 'aws-region', 'us-east-1', 'region eu-west-1'],
  ])('%s: %s=%s is refused', (mode, name, value, host) => {
    const extra: Record<string, string> = mode === 'record' ? { environment: 'preprod' } : mode === 'card' ? { environment: 'production', release: 'web' } : {};
    const message = `Input '${name}' must match the image reference's registry host (${host}), or be left empty (got '${value}')`;
    // The card's own inputs are refused like every mode's (modes.ts).
    expect(thrown(() => read({ mode, 'image-ref': ecrRef, [name]: value, ...extra }))).toBe(message);
  });
  test('the same account and region pass', () => {
    const key = 'preprod=arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    expect(thrown(() => read({ mode: 'verify', 'image-ref': ecrRef, 'registry-id': '123456789012', 'aws-region': 'eu-west-1', 'evidence-keys': key }))).toBe('');
  });
  test.each([['registry-id', '123456789012'], ['aws-region', 'eu-west-1']])('%s without ECR evidence is refused', (name, value) => {
    expect(thrown(() => read({ mode: 'verify', 'image-ref': `team/app@${DIGEST}`, evidence: 'github', [name]: value }))).toMatch(
      new RegExp(`^Input '${name}' is read only with ECR evidence`),
    );
  });
});

describe('the workflows pass each promote-gate step only what its mode reads', () => {
  const files = ['.github/workflows/deploy.yml', '.github/workflows/pipeline.yml', '.github/workflows/build.yml', 'workflows/deploy.yml', 'workflows/rollback.yml', 'workflows/redeploy.yml'];
  const steps = files.flatMap((file) => {
    const doc = parseYaml(readFileSync(new URL(`../../../${file}`, import.meta.url), 'utf8')) as { jobs?: Record<string, { steps?: Array<{ uses?: string; with?: Record<string, unknown> }> }> };
    return Object.values(doc.jobs ?? {}).flatMap((job) => (job.steps ?? []).filter((s) => /promote-gate/.test(s.uses ?? '')).map((s) => [file, String(s.with?.mode), s.with ?? {}] as const));
  });
  test(`${steps.length} steps found`, () => expect(steps.length).toBeGreaterThanOrEqual(8));
  test.each(steps)('%s mode %s', (_file, mode, w) => {
    const unread = Object.keys(w).filter((name) => MODE_INPUTS[name] && !MODE_INPUTS[name]!.modes.includes(mode as never));
    expect(unread).toEqual([]);
  });
});
