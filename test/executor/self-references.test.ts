// `uses: $/<path>` (changelog 2026-07-30, "Reference same-repository actions with self-repository
// syntax"): the repository of the workflow holding the line, at the commit that workflow runs at.
// The real pipeline.yml, build.yml and deploy.yml run from a git repository of deploy-actions;
// the actions keep their real action.yml, with a stand-in bundle (no AWS here: what is tested is
// where each reference resolves, which the executor records per job and step).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { repoRoot } from '../harness/runner';
import type { ActionDouble } from './doubles/types';
import { selfAtGit } from './git-refs';
import type { ExecutorOptions } from './model';
import { pinningRefusal, unpinned } from './policy';
import { pushEvent, runFiles, tempTree } from './testing';
import { runWorkflow } from './workflow';

const ACTIONS = ['build-push-ecr', 'promote-gate', 'helm-deploy-eks'];
const WORKFLOWS = ['pipeline.yml', 'build.yml', 'deploy.yml'];

/** A bundle that answers every output the workflows read, and names the commit it was read from. */
const stubBundle = (commitNote: string) => `const fs = require('fs');
const out = [
  'repository-uri=111111111111.dkr.ecr.eu-west-1.amazonaws.com/team/svc',
  'digest=sha256:${'a'.repeat(64)}',
  'image-ref=111111111111.dkr.ecr.eu-west-1.amazonaws.com/team/svc@sha256:${'a'.repeat(64)}',
  'tag=abcdef0',
  'content-key=tree-${'b'.repeat(40)}',
  'environment=' + (process.env['INPUT_TARGET-ENVIRONMENT'] || process.env.INPUT_ENVIRONMENT || ''),
  'revision=1',
  'from=${commitNote}',
  // What the workflow passed, for the tests of the what-runs-where job.
  'evidence-keys=' + (process.env['INPUT_EVIDENCE-KEYS'] || ''),
  'require-signed=' + (process.env['INPUT_REQUIRE-SIGNED-EVIDENCE'] || ''),
];
fs.appendFileSync(process.env.GITHUB_OUTPUT, out.join('\\n') + '\\n');
`;

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { encoding: 'utf8' }).trim();
}

/** Writes this repository's workflows (optionally rewritten) and the stub actions, commits, returns the SHA. */
function commit(work: string, note: string, rewrite: (text: string) => string = (t) => t): string {
  for (const w of WORKFLOWS) {
    mkdirSync(join(work, '.github/workflows'), { recursive: true });
    writeFileSync(join(work, '.github/workflows', w), rewrite(readFileSync(join(repoRoot, '.github/workflows', w), 'utf8')));
  }
  for (const a of ACTIONS) {
    mkdirSync(join(work, a), { recursive: true });
    copyFileSync(join(repoRoot, a, 'action.yml'), join(work, a, 'action.yml'));
    const bundle = join(work, 'actions', a, 'dist/index.js');
    mkdirSync(dirname(bundle), { recursive: true });
    writeFileSync(bundle, stubBundle(note));
  }
  git(work, 'add', '-A');
  git(work, 'commit', '-q', '-m', note);
  return git(work, 'rev-parse', 'HEAD');
}

/** The old form: every own reference by `@v1`. */
const legacy = (text: string) => text.replace(/^(\s*(?:- )?uses:\s*)\$\/(\S+)/gm, '$1org/deploy-actions/$2@v1');

const ok = (outputs: Record<string, string> = {}): ActionDouble => async () => ({ outcome: 'success', outputs, exportEnv: {}, addMask: [], log: [] });

let work: string;
let withSelf: string;
let withTags: string;
let movedTo: string;
let selfAt: (ref: string) => string | undefined;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'da-self-repo-'));
  git(work, 'init', '-q', '-b', 'main');
  withTags = commit(work, 'legacy', legacy);
  withSelf = commit(work, 'self');
  movedTo = commit(work, 'later');
  git(work, 'tag', 'v1', movedTo);
  selfAt = selfAtGit(join(work, '.git'));
});

function caller(ref: string): string {
  return `on: push
permissions: {}
jobs:
  pipeline:
    uses: org/deploy-actions/.github/workflows/pipeline.yml@${ref}
    permissions: { contents: read, id-token: write, deployments: write, actions: read, pull-requests: read }
    with: { repository: team/svc, release: svc }
`;
}

const VARS = { AWS_REGION: 'eu-west-1', AWS_BUILD_ROLE_ARN: 'arn:aws:iam::111111111111:role/build', AWS_DEPLOY_ROLE_ARN: 'arn:aws:iam::222222222222:role/deploy', EKS_CLUSTER_NAME: 'c' };

function options(ref: string, extra: Partial<ExecutorOptions> = {}): ExecutorOptions {
  return {
    workflow: { path: '.github/workflows/main.yml' },
    event: pushEvent('main'),
    repository: { root: tempTree({ '.github/workflows/main.yml': caller(ref) }), name: 'acme/svc' },
    selfAt,
    vars: VARS,
    actions: { 'actions/checkout': ok(), 'aws-actions/configure-aws-credentials': ok() },
    ...extra,
  };
}

describe('a caller pinning pipeline.yml to a commit SHA, with $/ inside', () => {
  test('runs that commit at every nested workflow and action, although v1 has moved on', async () => {
    const run = await runWorkflow(options(withSelf));
    expect(run.error).toBeUndefined();
    expect(run.conclusion).toBe('success');
    const jobs = run.jobs.filter((j) => !j.calls && j.result !== 'skipped');
    expect(jobs.map((j) => j.path.join('/'))).toEqual(['pipeline/build/build', 'pipeline/preprod/card', 'pipeline/preprod/deploy', 'pipeline/production/card', 'pipeline/production/deploy', 'pipeline/status']);
    for (const j of run.jobs.filter((x) => x.result !== 'skipped')) expect(j.workflowRef).toMatch(new RegExp(`@${withSelf}$`));
    // Every call, qa's too (skipped on main, resolved when the run started).
    expect(run.jobs.filter((j) => j.calls).map((j) => j.calls)).toEqual([
      `org/deploy-actions/.github/workflows/pipeline.yml@${withSelf}`,
      `org/deploy-actions/.github/workflows/build.yml@${withSelf}`,
      `org/deploy-actions/.github/workflows/deploy.yml@${withSelf}`,
      `org/deploy-actions/.github/workflows/deploy.yml@${withSelf}`,
      `org/deploy-actions/.github/workflows/deploy.yml@${withSelf}`,
    ]);
    const own = jobs.flatMap((j) => j.steps.filter((s) => s.action));
    // build-push-ecr; per environment: the release card, verify, helm-deploy-eks, record; status.
    expect(own[0]!.action!.path).toBe('build-push-ecr');
    expect(own.filter((s) => s.action!.path === 'helm-deploy-eks')).toHaveLength(2);
    expect(new Set(own.map((s) => s.action!.path))).toEqual(new Set(['build-push-ecr', 'promote-gate', 'helm-deploy-eks']));
    for (const s of own) {
      expect(s.action).toEqual({ repository: 'org/deploy-actions', path: s.action!.path, ref: withSelf, tree: selfAt(withSelf) });
      expect(s.outputs.from).toBe('self');
    }
  });

  test('passes under the "actions must be pinned to a full-length commit SHA" policy', async () => {
    const run = await runWorkflow(options(withSelf, { policy: { requireShaPinning: true } }));
    expect(run.error).toBeUndefined();
    expect(run.conclusion).toBe('success');
    expect(run.jobs.filter((j) => j.error)).toEqual([]);
  });

  test('the same commit with @v1 inside fails that policy; without it, its nested levels follow the moved tag', async () => {
    const refused = await runWorkflow(options(withTags, { policy: { requireShaPinning: true } }));
    expect(refused.conclusion).toBe('failure');
    expect(refused.error).toBe('The reusable workflow org/deploy-actions/.github/workflows/build.yml@v1 is not allowed in acme/svc because all actions must be pinned to a full-length commit SHA.');
    const drifted = await runWorkflow(options(withTags));
    const build = drifted.jobs.find((j) => j.path.join('/') === 'pipeline/build/build')!;
    expect(build.workflowRef).toBe('org/deploy-actions/.github/workflows/build.yml@v1');
    // Pinned to withTags, yet build-push-ecr came from the commit v1 names now.
    expect(build.steps.find((s) => s.action)!.action!.tree).toBe(selfAt(movedTo));
    expect(build.steps.find((s) => s.action)!.outputs.from).toBe('later');
  });

  test('a caller pinning the tag is refused by the policy before anything runs', async () => {
    const run = await runWorkflow(options('v1', { policy: { requireShaPinning: true } }));
    expect(run.jobs).toEqual([]);
    expect(run.error).toBe('The reusable workflow org/deploy-actions/.github/workflows/pipeline.yml@v1 is not allowed in acme/svc because all actions must be pinned to a full-length commit SHA.');
  });
});

describe("the pipeline's what-runs-where job (status)", () => {
  const KEYS = 'qa=arn:aws:kms:eu-west-1:222222222222:key/q,production=arn:aws:kms:eu-west-1:333333333333:key/p';
  const status = (run: Awaited<ReturnType<typeof runWorkflow>>) => run.jobs.find((j) => j.path.join('/') === 'pipeline/status')!;

  test('with the evidence keys and the evidence reader role: assumes the role and reads signed records only', async () => {
    const assumed: string[] = [];
    const configure: ActionDouble = async (ctx) => (assumed.push(ctx.with['role-to-assume']!), { outcome: 'success', outputs: {}, exportEnv: {}, addMask: [], log: [] });
    const run = await runWorkflow(options(withSelf, { vars: { ...VARS, EVIDENCE_KMS_KEYS: KEYS, AWS_EVIDENCE_ROLE_ARN: 'arn:aws:iam::111111111111:role/evidence' }, actions: { 'actions/checkout': ok(), 'aws-actions/configure-aws-credentials': configure } }));
    const job = status(run);
    expect(job.permissions['id-token']).toBe('write');
    expect(job.steps.map((s) => [s.name, s.conclusion])).toEqual([['Can the evidence be verified', 'success'], ['AWS credentials (OIDC, to verify the evidence)', 'success'], ['What runs where', 'success']]);
    expect(assumed.at(-1)).toBe('arn:aws:iam::111111111111:role/evidence');
    expect(job.steps[2]!.outputs).toMatchObject({ 'evidence-keys': KEYS, 'require-signed': 'true' });
    expect(job.steps.flatMap((s) => s.annotations)).toEqual([]);
  });

  test('without the evidence role: the view says it is display only, and reads unsigned records', async () => {
    const run = await runWorkflow(options(withSelf, { vars: { ...VARS, EVIDENCE_KMS_KEYS: KEYS } }));
    const job = status(run);
    expect(job.steps.map((s) => s.conclusion)).toEqual(['success', 'skipped', 'success']);
    expect(job.steps[0]!.annotations.map((a) => [a.level, a.message.split(':')[0]])).toEqual([['warning', 'display only']]);
    expect(job.steps[2]!.outputs).toMatchObject({ 'evidence-keys': '', 'require-signed': 'false' });
  });
});

describe('$/ resolution', () => {
  const echo = (word: string) => ({
    'echo/action.yml': `name: echo\ndescription: d\noutputs:\n  word: { description: w }\nruns:\n  using: node24\n  main: index.js\n`,
    'echo/index.js': `require('fs').appendFileSync(process.env.GITHUB_OUTPUT, 'word=${word}\\n');\n`,
  });

  test('in a called workflow: its own repository (not the caller, where ./ would look), at its commit', async () => {
    const leaf = `on: workflow_call\njobs:\n  say:\n    runs-on: ubuntu-latest\n    steps:\n      - id: e\n        uses: $/echo\n`;
    const self = { '.github/workflows/leaf.yml': leaf, ...echo('deploy-actions') };
    const run = await runFiles(
      { '.github/workflows/main.yml': `on: push\njobs:\n  call:\n    uses: org/deploy-actions/.github/workflows/leaf.yml@v1\n`, ...echo('caller') },
      self,
    );
    expect(run.conclusion).toBe('success');
    const step = run.jobs.find((j) => j.path.join('/') === 'call/say')!.steps[0]!;
    expect(step.outputs.word).toBe('deploy-actions');
    expect(step.action).toMatchObject({ repository: 'org/deploy-actions', path: 'echo', ref: 'v1' });
  });

  test('in the caller repository: the caller at the run commit; a nested $/ workflow call too', async () => {
    const run = await runFiles({
      '.github/workflows/main.yml': `on: push\njobs:\n  call:\n    uses: $/.github/workflows/inner.yml\n`,
      '.github/workflows/inner.yml': `on: workflow_call\njobs:\n  say:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: $/echo\n`,
      ...echo('caller'),
    });
    expect(run.conclusion).toBe('success');
    expect(run.jobs.find((j) => j.calls)!.calls).toBe('acme/svc/.github/workflows/inner.yml@refs/heads/main');
    expect(run.jobs.find((j) => j.path.join('/') === 'call/say')!.steps[0]!.outputs.word).toBe('caller');
  });

  test('a tag moved while the run goes on reaches an @v1 reference but not $/', async () => {
    const before = tempTree({ '.github/workflows/outer.yml': '', ...echo('before') });
    const after = tempTree(echo('after'));
    const outer = `on: workflow_call\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - id: self\n        uses: $/echo\n      - id: tag\n        uses: org/deploy-actions/echo@v1\n`;
    writeFileSync(join(before, '.github/workflows/outer.yml'), outer);
    let resolutions = 0;
    const run = await runFiles({ '.github/workflows/main.yml': `on: push\njobs:\n  call:\n    uses: org/deploy-actions/.github/workflows/outer.yml@v1\n` }, {}, {
      // v1 names `before` when the run starts and `after` from then on.
      selfAt: (ref) => (ref === 'v1' ? (resolutions++ === 0 ? before : after) : undefined),
    });
    const [self, tag] = run.jobs.find((j) => j.path.join('/') === 'call/a')!.steps;
    expect(self!.outputs.word).toBe('before');
    expect(tag!.outputs.word).toBe('after');
  });

  test.each([
    ['$/echo@v1', 'a $/ reference must not include an @ref suffix'],
    ['$//echo', '$/ must be followed by a path inside the repository'],
  ])('%s is refused', async (uses, message) => {
    const run = await runFiles({ '.github/workflows/main.yml': `on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: ${uses}\n`, ...echo('x') });
    expect(run.conclusion).toBe('failure');
    expect(run.jobs[0]!.steps[0]!.annotations[0]!.message).toContain(message);
  });
});

describe('the SHA-pinning policy at job set-up', () => {
  test.each([
    [['actions/checkout@v5'], ['actions/checkout@v5']],
    [['actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8', '$/promote-gate', './local', 'docker://alpine@sha256:' + 'c'.repeat(64)], []],
    [['actions/checkout@08c6903', 'org/x/y@main'], ['actions/checkout@08c6903', 'org/x/y@main']],
  ])('%j refuses %j', (uses, refused) => {
    expect(unpinned(uses)).toEqual(refused);
  });

  test.each([
    [['a/b@v1'], 'The action a/b@v1 is not allowed in acme/svc because all actions must be pinned to a full-length commit SHA.'],
    [['a/b@v1', 'c/d@v2'], 'The actions a/b@v1 and c/d@v2 are not allowed in acme/svc because all actions must be pinned to a full-length commit SHA.'],
    [['a/b@v1', 'c/d@v2', 'e/f@v3'], 'The actions a/b@v1, c/d@v2, and e/f@v3 are not allowed in acme/svc because all actions must be pinned to a full-length commit SHA.'],
  ])('%j: GitHub\'s line', (refused, line) => {
    expect(pinningRefusal(refused, 'acme/svc')).toBe(line);
  });

  test('a job using an action by tag fails before its first step; the other jobs run', async () => {
    const run = await runFiles(
      {
        '.github/workflows/main.yml': `on: push\njobs:\n  tagged:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo never\n      - uses: actions/checkout@v5\n  pinned:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ran\n`,
      },
      {},
      { policy: { requireShaPinning: true } },
    );
    const [tagged, pinned] = run.jobs;
    expect(tagged!.result).toBe('failure');
    expect(tagged!.steps).toEqual([]);
    expect(tagged!.error).toBe('The action actions/checkout@v5 is not allowed in acme/svc because all actions must be pinned to a full-length commit SHA.');
    expect(pinned!.result).toBe('success');
  });
});
