// The run: steps of the workflows, executed as the runner does (bash --noprofile --norc -eo pipefail,
// env: rendered from the step's expressions), to check what they accept and refuse.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { type Obj, jobsOf, readWorkflow, render, stepsOf } from './lib';

const dir = mkdtempSync(join(tmpdir(), 'wf-scripts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface StepRun {
  code: number;
  stdout: string;
  outputs: Record<string, string>;
}

let n = 0;
function runStep(step: Obj, ctx: Obj): StepRun {
  n += 1;
  const script = join(dir, `step-${n}.sh`);
  const outputFile = join(dir, `output-${n}`);
  writeFileSync(script, String(step.run));
  writeFileSync(outputFile, '');
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', GITHUB_OUTPUT: outputFile };
  for (const [k, v] of Object.entries((step.env ?? {}) as Obj)) env[k] = render(v, ctx);
  const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], { env, encoding: 'utf8' });
  const outputs: Record<string, string> = {};
  for (const line of readFileSync(outputFile, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) outputs[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return { code: r.status ?? -1, stdout: r.stdout, outputs };
}

function step(path: string, job: string, name: string): Obj {
  const found = jobsOf(readWorkflow(path).doc).find(([id]) => id === job);
  const s = found && stepsOf(found[1]).find((x) => x.name === name);
  if (!s) throw new Error(`${path}: no step '${name}' in job ${job}`);
  return s;
}

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const SHA = 'c'.repeat(40);

describe('redeploy.yml: check request', () => {
  const check = step('workflows/redeploy.yml', 'check', 'Check digest, commit and branch');
  const ctx = (environment: string, ref: string, digest = DIGEST, sha = SHA): Obj => ({
    inputs: { environment, digest, sha },
    github: { ref },
  });

  test('production from main: image-ref is the repository at the digest', () => {
    const r = runStep(check, ctx('production', 'refs/heads/main'));
    expect(r.code).toBe(0);
    expect(r.outputs['image-ref']).toBe(`123456789012.dkr.ecr.eu-west-1.amazonaws.com/my-team/my-service@${DIGEST}`);
  });

  test('qa from develop', () => {
    expect(runStep(check, ctx('qa', 'refs/heads/develop')).code).toBe(0);
  });

  test.each([
    ['production', 'refs/heads/develop', 'production is deployed from refs/heads/main'],
    ['preprod', 'refs/heads/feature/x', 'preprod is deployed from refs/heads/main'],
    ['qa', 'refs/heads/main', 'qa is deployed from refs/heads/develop'],
  ])('%s from %s is refused', (environment, ref, message) => {
    const r = runStep(check, ctx(environment, ref));
    expect(r.code).not.toBe(0);
    expect(r.stdout).toContain(message);
    expect(r.outputs['image-ref']).toBeUndefined();
  });

  test.each([
    ['a tag instead of a digest', 'v1.2.3', SHA, 'digest must be'],
    ['an uppercase digest', DIGEST.toUpperCase(), SHA, 'digest must be'],
    ['a short digest', 'sha256:abc', SHA, 'digest must be'],
    ['a digest with a trailing command', `${DIGEST}; rm -rf /`, SHA, 'digest must be'],
    ['a second line smuggling an output', `${DIGEST}\nimage-ref=evil@${DIGEST}`, SHA, 'digest must be'],
    ['a short commit', DIGEST, 'abc1234', 'sha must be'],
    ['a commit with a second line', DIGEST, `${SHA}\n${SHA}`, 'sha must be'],
  ])('%s is refused', (_what, digest, sha, message) => {
    const r = runStep(check, ctx('preprod', 'refs/heads/main', digest, sha));
    expect(r.code).not.toBe(0);
    expect(r.stdout).toContain(message);
  });
});

describe('deploy.yml and build.yml: configuration checks', () => {
  const deployCheck = step('.github/workflows/deploy.yml', 'deploy', 'Check configuration');
  const buildCheck = step('.github/workflows/build.yml', 'build', 'Check configuration');
  const inputs = { environment: 'production', 'role-to-assume': '', 'aws-region': '', 'cluster-name': '' };

  test('deploy: values from the environment variables are enough', () => {
    const vars = { AWS_DEPLOY_ROLE_ARN: 'arn:aws:iam::111122223333:role/d', AWS_REGION: 'eu-west-1', EKS_CLUSTER_NAME: 'prod' };
    expect(runStep(deployCheck, { inputs, vars }).code).toBe(0);
  });

  test('deploy: inputs win over missing variables', () => {
    const given = { ...inputs, 'role-to-assume': 'arn:aws:iam::111122223333:role/d', 'aws-region': 'eu-west-1', 'cluster-name': 'prod' };
    expect(runStep(deployCheck, { inputs: given, vars: {} }).code).toBe(0);
  });

  test('deploy: each missing value is named', () => {
    const r = runStep(deployCheck, { inputs, vars: {} });
    expect(r.code).not.toBe(0);
    expect(r.stdout).toContain('no IAM role for production');
    expect(r.stdout).toContain('AWS_DEPLOY_ROLE_ARN');
    expect(r.stdout).toContain('no AWS region');
    expect(r.stdout).toContain('no EKS cluster for production');
  });

  const IMAGE = `1.dkr.ecr.eu-west-1.amazonaws.com/team/svc@sha256:${'a'.repeat(64)}`;
  const FROM = `1.dkr.ecr.eu-west-1.amazonaws.com/team/svc@sha256:${'b'.repeat(64)}`;
  test.each([
    [FROM, 'c'.repeat(40), ''],
    ['', '', ''],
    [`1.dkr.ecr.eu-west-1.amazonaws.com/team/other@sha256:${'b'.repeat(64)}`, 'c'.repeat(40), 'rolled-back-from must be an image of 1.dkr.ecr.eu-west-1.amazonaws.com/team/svc pinned by digest'],
    [`${FROM}\n${FROM}`, 'c'.repeat(40), 'rolled-back-from must be an image of'],
    [FROM.replace(/@.*/, ':v1'), 'c'.repeat(40), 'rolled-back-from must be an image of'],
    [FROM, 'c'.repeat(7), 'rolled-back-from-sha must be the 40-hex commit of rolled-back-from'],
  ])('deploy: rolled-back-from %j with sha %j -> %j', (from, sha, error) => {
    const vars = { AWS_DEPLOY_ROLE_ARN: 'arn:aws:iam::111122223333:role/d', AWS_REGION: 'eu-west-1', EKS_CLUSTER_NAME: 'prod' };
    const r = runStep(deployCheck, { inputs: { ...inputs, 'image-ref': IMAGE, 'rolled-back-from': from, 'rolled-back-from-sha': sha }, vars });
    expect(r.code).toBe(error ? 1 : 0);
    if (error) expect(r.stdout).toContain(`::error title=deploy::${error}`);
  });

  test('build: a missing role is named, a present one passes', () => {
    const missing = runStep(buildCheck, { inputs: { 'role-to-assume': '', 'aws-region': 'eu-west-1' }, vars: {} });
    expect(missing.code).not.toBe(0);
    expect(missing.stdout).toContain('AWS_BUILD_ROLE_ARN');
    const ok = runStep(buildCheck, { inputs: { 'role-to-assume': '', 'aws-region': '' }, vars: { AWS_BUILD_ROLE_ARN: 'arn:x', AWS_REGION: 'eu-west-1' } });
    expect(ok.code).toBe(0);
  });
});

describe('deploy.yml: environment URL', () => {
  const urlStep = step('.github/workflows/deploy.yml', 'deploy', 'Environment URL');

  test('the smoke URL input, else the SMOKE_URL variable', () => {
    expect(runStep(urlStep, { inputs: { 'smoke-url': 'https://a.example/healthz' }, vars: { SMOKE_URL: 'https://b.example' } }).outputs.url).toBe('https://a.example/healthz');
    expect(runStep(urlStep, { inputs: { 'smoke-url': '' }, vars: { SMOKE_URL: 'https://b.example' } }).outputs.url).toBe('https://b.example');
    expect(runStep(urlStep, { inputs: { 'smoke-url': '' }, vars: {} }).outputs.url).toBe('');
  });
});
