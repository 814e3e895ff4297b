/**
 * Executor behaviours GitHub documents (sources in test/README.md): environment secrets in called
 * workflows, defaults.run merged per setting, job-level continue-on-error, job and step
 * timeout-minutes.
 */
import { describe, expect, test } from 'vitest';
import { environmentSecrets } from './job';
import type { ExecutorOptions, JobRun } from './model';
import { goDuration, stepLimit } from './timeouts';
import { runFiles } from './testing';

const wf = (jobs: string, head = 'on: push\n') => ({ '.github/workflows/main.yml': `${head}jobs:\n${jobs}` });
const job = (runs: JobRun[], path: string) => runs.find((j) => j.path.join('/') === path)!;

/** An environment double with one secret (names any case), always granted. */
const environments = (secrets: Record<string, string>): ExecutorOptions['environments'] => ({
  enter: async (req) => ({ ok: true, environment: req.name, waitTimerMinutes: 0, vars: {}, secrets }),
});

describe('environment secrets in a called workflow (docs "Reuse workflows", revised 2026-10-07)', () => {
  const leaf = `on:
  workflow_call:
    secrets:
      DEPLOY_KEY: { required: false }
jobs:
  deploy:
    runs-on: ubuntu-latest
    environment: production
    steps:
      - id: s
        env: { KEY: "\${{ secrets.DEPLOY_KEY }}", OTHER: "\${{ secrets.ONLY_IN_ENV }}" }
        run: |
          echo "key=\${#KEY}" >> "$GITHUB_OUTPUT"
          echo "other=\${#OTHER}" >> "$GITHUB_OUTPUT"
`;
  const call = (secrets: string) => wf(`  call:\n    uses: org/deploy-actions/.github/workflows/leaf.yml@v1\n${secrets}`);
  const run = (secrets: string) =>
    runFiles(call(secrets), { '.github/workflows/leaf.yml': leaf }, {
      secrets: { DEPLOY_KEY: 'repo-value' },
      environments: environments({ DEPLOY_KEY: 'environment-value-1', ONLY_IN_ENV: 'env-only' }),
    });
  const lengths = async (secrets: string) => job((await run(secrets)).jobs, 'call/deploy').steps[0]!.outputs;

  test('the caller passes nothing: the environment secret is empty in the called job', async () => {
    expect(await lengths('')).toEqual({ key: '0', other: '0' });
  });
  test('passed by name: the environment value wins over the repository value; names not passed stay empty', async () => {
    expect(await lengths('    secrets:\n      DEPLOY_KEY: ${{ secrets.DEPLOY_KEY }}\n')).toEqual({ key: String('environment-value-1'.length), other: '0' });
  });
  test('secrets: inherit passes every name, environment-only ones too', async () => {
    expect(await lengths('    secrets: inherit\n')).toEqual({ key: String('environment-value-1'.length), other: String('env-only'.length) });
  });
  test('a required secret not passed fails the run at start', async () => {
    const r = await runFiles(call(''), { '.github/workflows/leaf.yml': leaf.replace('required: false', 'required: true') }, {});
    expect(r.error).toMatch(/Secret DEPLOY_KEY is required, but not provided while calling\.$/);
  });
  test('environmentSecrets: names any case; the top-level workflow gets them all', () => {
    expect(environmentSecrets({ Token: 'repo' }, { TOKEN: 'env', X: 'x' }, new Set(['token']))).toEqual({ TOKEN: 'env' });
    expect(environmentSecrets({ Token: 'repo' }, { TOKEN: 'env', X: 'x' }, 'all')).toEqual({ TOKEN: 'env', X: 'x' });
  });
});

describe('defaults.run merges per setting (workflow syntax "jobs.<job_id>.defaults.run")', () => {
  test("the job's shell with the workflow's working-directory", async () => {
    const r = await runFiles(
      {
        ...wf(
          `  a:\n    runs-on: ubuntu-latest\n    defaults:\n      run:\n        shell: bash\n    steps:\n      - run: mkdir -p sub\n        working-directory: .\n      - id: where\n        run: false | true; echo "dir=$(basename "$PWD")" >> "$GITHUB_OUTPUT"\n`,
          'on: push\ndefaults:\n  run:\n    working-directory: sub\n',
        ),
      },
    );
    const [, where] = r.jobs[0]!.steps;
    // pipefail (shell: bash from the job) makes `false | true` fail; the directory is the workflow's.
    expect(where!.outcome).toBe('failure');
    const r2 = await runFiles(
      wf(
        `  a:\n    runs-on: ubuntu-latest\n    defaults:\n      run:\n        shell: bash\n    steps:\n      - run: mkdir -p sub\n        working-directory: .\n      - id: where\n        run: echo "dir=$(basename "$PWD")" >> "$GITHUB_OUTPUT"\n`,
        'on: push\ndefaults:\n  run:\n    working-directory: sub\n',
      ),
    );
    expect(r2.jobs[0]!.steps[1]!.outputs.dir).toBe('sub');
  });
});

describe('job-level continue-on-error (workflow syntax "jobs.<job_id>.continue-on-error"; actions/toolkit#581)', () => {
  test('the job shows failed, the jobs that need it see success and run, the run passes', async () => {
    const r = await runFiles(
      wf(`  flaky:\n    runs-on: ubuntu-latest\n    continue-on-error: \${{ github.ref == 'refs/heads/main' }}\n    steps:\n      - run: exit 3\n  after:\n    needs: flaky\n    runs-on: ubuntu-latest\n    steps:\n      - id: r\n        env: { R: "\${{ needs.flaky.result }}" }\n        run: echo "result=$R" >> "$GITHUB_OUTPUT"\n`),
    );
    expect(job(r.jobs, 'flaky').result).toBe('failure');
    expect(job(r.jobs, 'flaky').continueOnError).toBe(true);
    expect(job(r.jobs, 'after').steps[0]!.outputs.result).toBe('success');
    expect(r.conclusion).toBe('success');
  });
  test('without it the dependent job is skipped and the run fails', async () => {
    const r = await runFiles(wf(`  flaky:\n    runs-on: ubuntu-latest\n    steps:\n      - run: exit 3\n  after:\n    needs: flaky\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n`));
    expect(job(r.jobs, 'after').result).toBe('skipped');
    expect(r.conclusion).toBe('failure');
  });
});

describe('timeout-minutes: the job budget across its steps, a step limit per step (runner messages)', () => {
  const minuteMs = 200;
  test('a step over its own timeout-minutes fails with the runner line; continue-on-error then applies', async () => {
    const r = await runFiles(
      wf(`  a:\n    runs-on: ubuntu-latest\n    steps:\n      - name: slow\n        timeout-minutes: 1\n        continue-on-error: true\n        run: sleep 5\n      - name: next\n        run: echo ok\n`),
      {},
      { minuteMs },
    );
    const [slow, next] = r.jobs[0]!.steps;
    expect(slow!.outcome).toBe('failure');
    expect(slow!.conclusion).toBe('success');
    expect(slow!.annotations.map((a) => a.message)).toEqual(["The action 'slow' has timed out after 1 minutes."]);
    expect(next!.outcome).toBe('success');
    expect(r.jobs[0]!.result).toBe('success');
  });
  test('the job timeout spans steps: two steps of 0.6 of it exceed it; the job is cancelled, later steps do not run', async () => {
    const r = await runFiles(
      wf(`  a:\n    runs-on: ubuntu-latest\n    timeout-minutes: 2\n    steps:\n      - run: sleep 1.2\n      - name: second\n        run: sleep 1.2\n      - name: third\n        run: echo never\n  b:\n    needs: a\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n`),
      {},
      { minuteMs: 1000 },
    );
    const a = job(r.jobs, 'a');
    expect(a.steps.map((s) => s.outcome)).toEqual(['success', 'cancelled', 'skipped']);
    expect(a.steps[1]!.annotations.map((x) => x.message)).toEqual(['The operation was canceled.']);
    expect(a.result).toBe('cancelled');
    expect(a.error).toBe('The job has exceeded the maximum execution time of 2m0s');
    expect(job(r.jobs, 'b').result).toBe('skipped');
    expect(r.conclusion).toBe('failure');
  });
  test.each([
    [1000, 0, undefined, { ms: 1000, byJob: true }],
    [1000, 0, 0.5, { ms: 100, byJob: false }],
    [1000, 900, 0.6, { ms: 100, byJob: true }],
  ])('stepLimit(deadline %i, now %i, step %s min)', (deadline, now, step, expected) => {
    expect(stepLimit(deadline, now, step, minuteMs)).toEqual(expected);
  });
  test.each([
    [45, '45m0s'],
    [60, '1h0m0s'],
    [360, '6h0m0s'],
    [1.5, '1m30s'],
    [0.5, '30s'],
  ])('goDuration(%s) = %s', (minutes, text) => expect(goDuration(minutes)).toBe(text));
});
