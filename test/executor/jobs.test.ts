/** Jobs and steps against GitHub's documented behaviour, on small workflows in temporary repositories. */
import { existsSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import type { JobRun } from './model';
import { runFiles } from './testing';

const wf = (jobs: string, head = 'on: push\n') => ({ '.github/workflows/main.yml': `${head}jobs:\n${jobs}` });
const step = (run: JobRun, name: string) => run.steps.find((s) => s.name === name)!;

describe('run steps', () => {
  test("a job's runner directory (workspace, temp, home) is gone when the run returns, as a hosted runner's", async () => {
    const r = await runFiles(
      wf(`  a:
    runs-on: ubuntu-latest
    outputs:
      dirs: \${{ steps.where.outputs.dirs }}
    steps:
      - id: where
        run: |
          touch "$GITHUB_WORKSPACE/made" "$RUNNER_TEMP/made" "$HOME/made"
          echo "dirs=$GITHUB_WORKSPACE $RUNNER_TEMP $HOME" >> "$GITHUB_OUTPUT"
`),
    );
    const dirs = r.jobs[0]!.outputs.dirs!.split(' ');
    expect(dirs).toHaveLength(3);
    for (const dir of dirs) expect(existsSync(dir), dir).toBe(false);
  });

  test('default shell is bash -e without pipefail; shell: bash adds pipefail', async () => {
    const r = await runFiles(
      wf(`  a:
    runs-on: ubuntu-latest
    steps:
      - name: default
        run: false | true
      - name: explicit bash
        continue-on-error: true
        run: false | true
      - name: stops at the first failing command
        continue-on-error: true
        run: |
          false
          echo "not reached"
`.replace('        continue-on-error: true\n        run: false | true', '        continue-on-error: true\n        shell: bash\n        run: false | true')),
    );
    const job = r.jobs[0]!;
    expect(step(job, 'default').outcome).toBe('success');
    expect(step(job, 'explicit bash').outcome).toBe('failure');
    expect(step(job, 'explicit bash').conclusion).toBe('success');
    expect(step(job, 'stops at the first failing command').log).not.toContain('not reached');
    expect(job.result).toBe('success');
  });

  test('file commands: outputs, env and path reach later steps; job outputs from steps', async () => {
    const r = await runFiles(
      wf(`  a:
    runs-on: ubuntu-latest
    outputs:
      greeting: \${{ steps.one.outputs.greeting }}
      multi: \${{ steps.one.outputs.multi }}
    steps:
      - id: one
        run: |
          echo "greeting=hello" >> "$GITHUB_OUTPUT"
          { echo "multi<<EOF_1"; echo "line 1"; echo "line 2"; echo "EOF_1"; } >> "$GITHUB_OUTPUT"
          echo "EXPORTED=from-env" >> "$GITHUB_ENV"
          mkdir -p "$RUNNER_TEMP/bin" && printf '#!/bin/sh\\necho tool-ran\\n' > "$RUNNER_TEMP/bin/mytool" && chmod +x "$RUNNER_TEMP/bin/mytool"
          echo "$RUNNER_TEMP/bin" >> "$GITHUB_PATH"
          echo "# Summary" >> "$GITHUB_STEP_SUMMARY"
      - name: reads
        env:
          FROM_OUTPUT: \${{ steps.one.outputs.greeting }}
        run: echo "$FROM_OUTPUT $EXPORTED \${{ env.EXPORTED }} $(mytool)"
`),
    );
    const job = r.jobs[0]!;
    expect(step(job, 'reads').log.trim()).toBe('hello from-env from-env tool-ran');
    expect(job.outputs).toEqual({ greeting: 'hello', multi: 'line 1\nline 2' });
    expect(job.steps[0]!.summary).toBe('# Summary\n');
    expect(job.steps[0]!.name).toBe('Run echo "greeting=hello" >> "$GITHUB_OUTPUT"');
  });

  test('implicit success(): a failed step skips the next unless if: uses a status function', async () => {
    const r = await runFiles(
      wf(`  a:
    runs-on: ubuntu-latest
    steps:
      - name: fails
        run: exit 3
      - name: plain
        run: echo plain
      - name: condition without status function
        if: github.ref == 'refs/heads/main'
        run: echo cond
      - name: on failure
        if: failure()
        run: echo failure
      - name: always
        if: always()
        run: echo always
`),
    );
    const job = r.jobs[0]!;
    expect(job.steps.map((s) => [s.name, s.conclusion])).toEqual([
      ['fails', 'failure'],
      ['plain', 'skipped'],
      ['condition without status function', 'skipped'],
      ['on failure', 'success'],
      ['always', 'success'],
    ]);
    expect(step(job, 'fails').annotations.map((a) => a.message)).toContain('Process completed with exit code 3.');
    expect(job.result).toBe('failure');
    expect(r.conclusion).toBe('failure');
  });

  test('masking: secrets and ::add-mask:: values are *** in logs; a job output holding one is dropped', async () => {
    const r = await runFiles(
      wf(`  a:
    runs-on: ubuntu-latest
    outputs:
      leaked: \${{ steps.s.outputs.value }}
      fine: \${{ steps.s.outputs.other }}
      token: \${{ steps.s.outputs.token }}
    steps:
      - id: s
        env:
          SECRET: \${{ secrets.API_KEY }}
        run: |
          echo "::add-mask::generated-value"
          echo "key is $SECRET and generated-value"
          echo "value=generated-value" >> "$GITHUB_OUTPUT"
          echo "other=plain" >> "$GITHUB_OUTPUT"
          echo "token=\${{ github.token }}" >> "$GITHUB_OUTPUT"
`),
      {},
      { secrets: { API_KEY: 'sup3r-secret' }, mintToken: () => 'ghs_minted_for_job' },
    );
    const job = r.jobs[0]!;
    expect(job.steps[0]!.log.trim()).toBe('key is *** and ***');
    expect(job.outputs).toEqual({ fine: 'plain' });
  });

  test('continue-on-error as an expression; steps context outcome and conclusion', async () => {
    const r = await runFiles(
      wf(`  a:
    runs-on: ubuntu-latest
    steps:
      - id: f
        continue-on-error: \${{ github.ref == 'refs/heads/main' }}
        run: exit 1
      - name: sees
        run: echo "\${{ steps.f.outcome }} \${{ steps.f.conclusion }}"
`),
    );
    expect(step(r.jobs[0]!, 'sees').log.trim()).toBe('failure success');
    expect(r.conclusion).toBe('success');
  });

  test('working-directory and defaults.run', async () => {
    const r = await runFiles(
      wf(`  a:
    runs-on: ubuntu-latest
    defaults:
      run:
        working-directory: sub
    steps:
      - run: mkdir -p sub/deeper
        working-directory: .
      - name: default dir
        run: basename "$PWD"
      - name: own dir
        working-directory: sub/deeper
        run: basename "$PWD"
`),
    );
    expect(step(r.jobs[0]!, 'default dir').log.trim()).toBe('sub');
    expect(step(r.jobs[0]!, 'own dir').log.trim()).toBe('deeper');
  });

  test('a third-party action without a double fails the step in one line naming it', async () => {
    const r = await runFiles(wf(`  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: someone/unknown-action@v1\n`));
    expect(r.jobs[0]!.steps[0]!.annotations[0]!.message).toMatch(/^Unable to resolve action someone\/unknown-action@v1: the executor has no double for someone\/unknown-action/);
    expect(r.conclusion).toBe('failure');
  });
});

describe('jobs', () => {
  test('needs order, outputs through needs, implicit success() over every upstream job', async () => {
    const r = await runFiles(
      wf(`  last:
    needs: middle
    runs-on: ubuntu-latest
    steps:
      - run: echo last
  middle:
    needs: first
    if: always()
    runs-on: ubuntu-latest
    steps:
      - run: echo "\${{ needs.first.result }}"
  first:
    runs-on: ubuntu-latest
    outputs:
      v: \${{ steps.s.outputs.v }}
    steps:
      - id: s
        run: echo "v=1" >> "$GITHUB_OUTPUT" && exit 1
  other:
    needs: first
    runs-on: ubuntu-latest
    steps:
      - run: echo other
`),
    );
    const result = Object.fromEntries(r.jobs.map((j) => [j.path.join('/'), j.result]));
    expect(result).toEqual({ first: 'failure', middle: 'success', last: 'skipped', other: 'skipped' });
    expect(r.jobs.map((j) => j.path[0])).toEqual(['first', 'middle', 'last', 'other']);
    expect(r.jobs[1]!.steps[0]!.log.trim()).toBe('failure');
  });

  test('job if: and environment name/url, concurrency group evaluated', async () => {
    const r = await runFiles(
      wf(`  deploy:
    if: github.ref == 'refs/heads/main'
    runs-on: ubuntu-latest
    environment:
      name: \${{ github.ref_name == 'main' && 'Production' || 'qa' }}
      url: \${{ steps.u.outputs.url }}
    concurrency:
      group: deploy-\${{ github.repository }}-prod
      cancel-in-progress: false
    steps:
      - id: u
        run: echo "url=https://svc.example" >> "$GITHUB_OUTPUT"
  never:
    if: github.ref == 'refs/heads/develop'
    runs-on: ubuntu-latest
    steps:
      - run: echo never
`),
    );
    const [deploy, never] = r.jobs;
    expect(deploy!.environment).toEqual({ name: 'Production', url: 'https://svc.example', approvals: [] });
    expect(deploy!.concurrency).toEqual({ group: 'deploy-acme/svc-prod', cancelInProgress: false, queue: 'single' });
    expect(never!.result).toBe('skipped');
  });

  test('an environment gate that refuses fails the job before its steps', async () => {
    const r = await runFiles(wf(`  d:\n    runs-on: ubuntu-latest\n    environment: production\n    steps:\n      - run: echo ran\n`), {}, {
      environments: { enter: async (req) => ({ ok: false, environment: req.name, error: `Branch "${req.ref}" is not allowed to deploy to ${req.name} due to environment protection rules.` }) },
    });
    expect(r.jobs[0]!.result).toBe('failure');
    expect(r.jobs[0]!.steps).toEqual([]);
    expect(r.jobs[0]!.error).toMatch(/not allowed to deploy to production/);
  });

  test('on: push branch filters decide whether the workflow runs', async () => {
    const files = wf(`  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n`, 'on:\n  push:\n    branches: [develop, main, "release/**"]\n');
    const run = (branch: string) => runFiles(files, {}, { event: { name: 'push', ref: `refs/heads/${branch}`, sha: 'b'.repeat(40), payload: {} } });
    expect((await run('main')).notTriggered).toBeUndefined();
    expect((await run('release/1.2/x')).notTriggered).toBeUndefined();
    expect((await run('feature/x')).notTriggered).toBe(true);
  });
});
