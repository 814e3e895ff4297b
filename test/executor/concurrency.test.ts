/**
 * Concurrency groups across runs started side by side (sources in test/README.md): GitHub's order
 * (group, then the environment's deployment and protection rules, then the runner), pending-job
 * replacement with cancel-in-progress false, cancel-in-progress true (also of a job waiting for
 * approval), workflow-level groups, queue: max, group names ignoring case, the deadlock message.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cancelledBy, ConcurrencyGroups } from './concurrency';
import type { WorkflowRun } from './model';
import { heldApprovals, pushEvent, runFiles, waitFor } from './testing';

const wf = (jobs: string, head = 'on: push\n') => ({ '.github/workflows/main.yml': `${head}jobs:\n${jobs}` });
const deployJob = (concurrency: string, steps = '      - run: echo deployed') =>
  wf(`  deploy:\n    runs-on: ubuntu-latest\n    environment: production\n    concurrency: ${concurrency}\n    steps:\n${steps}\n`);

const deploy = (runs: WorkflowRun) => runs.jobs.find((j) => j.path.join('/') === 'deploy')!;
const groupEvents = (groups: ConcurrencyGroups, event: string) => groups.events.filter((e) => e.event === event);

describe('cancel-in-progress: false (the deploy queue)', () => {
  test('three runs: the first waits for approval holding the group, the middle one is cancelled (not skipped), the newest runs after the first', async () => {
    const trace: string[] = [];
    const gate = heldApprovals(trace);
    const groups = new ConcurrencyGroups();
    const files = deployJob('{ group: deploy-production, cancel-in-progress: false }');
    const start = (actor: string) => runFiles(files, {}, { ...gate, concurrency: groups, event: { ...pushEvent('main'), actor } });

    const first = start('alice');
    await waitFor('alice at the approval', () => gate.waitingFor('alice'));
    const second = start('bob');
    await waitFor('bob pending', () => groupEvents(groups, 'pending').length === 1);
    const third = start('carol');
    await waitFor('bob cancelled', () => groupEvents(groups, 'cancelled').length === 1);
    // Neither pending run reached its environment: no deployment, no approval request.
    expect(trace).toEqual(['deployment created (production)', 'alice: waiting for approval']);

    gate.approve('alice');
    const [a, b] = await Promise.all([first, second]);
    expect(deploy(a).result).toBe('success');
    expect(deploy(b)).toMatchObject({ result: 'cancelled', error: cancelledBy('deploy-production'), steps: [] });
    expect(b.conclusion).toBe('cancelled');

    await waitFor('carol at the approval', () => gate.waitingFor('carol'));
    gate.approve('carol');
    const c = await third;
    expect(deploy(c).result).toBe('success');
    expect(deploy(c).concurrency).toEqual({ group: 'deploy-production', cancelInProgress: false, queue: 'single', waited: true });
    expect(trace).toEqual([
      'deployment created (production)',
      'alice: waiting for approval',
      'deployment finished: success',
      'deployment created (production)',
      'carol: waiting for approval',
      'deployment finished: success',
    ]);
  });

  test('rejecting the approval frees the group at once; group names ignore case', async () => {
    const gate = heldApprovals([]);
    const groups = new ConcurrencyGroups();
    const start = (actor: string, group: string) => runFiles(deployJob(group), {}, { ...gate, concurrency: groups, event: { ...pushEvent('main'), actor } });
    const first = start('alice', 'Deploy-Production');
    await waitFor('alice at the approval', () => gate.waitingFor('alice'));
    const second = start('bob', 'deploy-production');
    await waitFor('bob pending', () => groupEvents(groups, 'pending').length === 1);
    gate.reject('alice');
    await waitFor('bob at the approval', () => gate.waitingFor('bob'));
    gate.approve('bob');
    const [a, b] = await Promise.all([first, second]);
    expect(deploy(a)).toMatchObject({ result: 'failure', error: 'Rejected by reviewer' });
    expect(deploy(b).result).toBe('success');
  });
});

describe('cancel-in-progress: true', () => {
  test('a newer job cancels the one waiting for approval, and its deployment ends failed', async () => {
    const trace: string[] = [];
    const gate = heldApprovals(trace);
    const groups = new ConcurrencyGroups();
    const start = (actor: string, cancel: boolean) => runFiles(deployJob(`{ group: g, cancel-in-progress: ${cancel} }`), {}, { ...gate, concurrency: groups, event: { ...pushEvent('main'), actor } });
    const first = start('alice', false);
    await waitFor('alice at the approval', () => gate.waitingFor('alice'));
    const second = start('bob', true);
    const a = await first;
    expect(deploy(a)).toMatchObject({ result: 'cancelled', error: cancelledBy('g') });
    await waitFor('bob at the approval', () => gate.waitingFor('bob'));
    gate.approve('bob');
    expect(deploy(await second).result).toBe('success');
    expect(trace.slice(0, 4)).toEqual(['deployment created (production)', 'alice: waiting for approval', 'deployment finished: failure', 'deployment created (production)']);
  });

  test('a newer job cancels the running step (SIGINT); later steps do not run; the newer job starts once it has stopped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'da-conc-'));
    const started = join(dir, 'started');
    const steps = `      - run: touch "${started}"; trap 'echo got SIGINT; exit 130' INT; while true; do sleep 0.05; done\n      - name: later\n        run: echo later`;
    const files = wf(`  work:\n    runs-on: ubuntu-latest\n    concurrency: { group: build, cancel-in-progress: true }\n    steps:\n${steps}\n`);
    const quick = wf(`  work:\n    runs-on: ubuntu-latest\n    concurrency: { group: build, cancel-in-progress: true }\n    steps:\n      - run: echo quick\n`);
    const groups = new ConcurrencyGroups();
    const first = runFiles(files, {}, { concurrency: groups });
    await waitFor('the first step running', () => existsSync(started));
    const second = runFiles(quick, {}, { concurrency: groups });
    const [a, b] = await Promise.all([first, second]);
    const work = a.jobs[0]!;
    expect(work).toMatchObject({ result: 'cancelled', error: cancelledBy('build') });
    expect(work.steps.map((s) => [s.outcome, s.annotations.map((x) => x.message)])).toEqual([['cancelled', ['The operation was canceled.']], ['skipped', []]]);
    expect(work.steps[0]!.log).toContain('got SIGINT');
    expect(a.conclusion).toBe('cancelled');
    expect(b.jobs[0]!.result).toBe('success');
    expect(groups.events.map((e) => e.event)).toEqual(['running', 'pending', 'released', 'running', 'released']);
  });
});

describe('workflow-level concurrency', () => {
  test('a run waits whole; a newer run with cancel-in-progress cancels the running job and skips the jobs not started', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'da-conc-'));
    const started = join(dir, 'started');
    const head = 'on: push\nconcurrency: { group: "ci-${{ github.ref }}", cancel-in-progress: true }\n';
    const slow = wf(`  one:\n    runs-on: ubuntu-latest\n    steps:\n      - run: touch "${started}"; trap 'exit 130' INT; while true; do sleep 0.05; done\n  two:\n    needs: one\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo two\n  report:\n    needs: one\n    if: always()\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo report\n`, head);
    const fast = wf(`  one:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo fast\n`, head);
    const groups = new ConcurrencyGroups();
    const first = runFiles(slow, {}, { concurrency: groups });
    await waitFor('the first run holding ci-refs/heads/main', () => existsSync(started));
    const second = runFiles(fast, {}, { concurrency: groups });
    const [a, b] = await Promise.all([first, second]);
    expect(a.concurrency).toEqual({ group: 'ci-refs/heads/main', cancelInProgress: true, queue: 'single' });
    expect(a.jobs.map((j) => [j.path.join('/'), j.result])).toEqual([['one', 'cancelled'], ['two', 'skipped'], ['report', 'success']]);
    expect(a.conclusion).toBe('cancelled');
    expect(b.concurrency?.waited).toBe(true);
    expect(b.conclusion).toBe('success');
  });

  test('the same group at workflow and job level: the job is cancelled with GitHub\'s deadlock line', async () => {
    const r = await runFiles(wf('  build:\n    runs-on: ubuntu-latest\n    concurrency: test\n    steps:\n      - run: echo never\n', 'on: push\nconcurrency: test\n'));
    expect(r.jobs[0]).toMatchObject({ result: 'cancelled', error: "Canceling since a deadlock for concurrency group 'test' was detected between 'top level workflow' and 'build'" });
  });

  test('a called workflow\'s own group is held for the call; the same group as its caller\'s is a deadlock', async () => {
    const called = (group: string) => ({ '.github/workflows/leaf.yml': `on: workflow_call\nconcurrency: ${group}\njobs:\n  leaf:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo leaf\n` });
    const caller = wf('  call:\n    uses: org/deploy-actions/.github/workflows/leaf.yml@v1\n', 'on: push\nconcurrency: top\n');
    const ok = await runFiles(caller, called('leaf-group'));
    expect(ok.jobs.map((j) => [j.path.join('/'), j.result])).toEqual([['call', 'success'], ['call/leaf', 'success']]);
    expect(ok.jobs[0]!.concurrency?.group).toBe('leaf-group');
    const stuck = await runFiles(caller, called('TOP'));
    expect(stuck.jobs[0]).toMatchObject({ result: 'cancelled', error: "Canceling since a deadlock for concurrency group 'TOP' was detected between 'top level workflow' and 'call'" });
  });
});

describe('queue', () => {
  test('queue: max keeps every pending run, in the order they started waiting', async () => {
    const gate = heldApprovals([]);
    const groups = new ConcurrencyGroups();
    const files = deployJob('{ group: g, queue: max }');
    const start = (actor: string) => runFiles(files, {}, { ...gate, concurrency: groups, event: { ...pushEvent('main'), actor } });
    const runs: Promise<WorkflowRun>[] = [start('alice')];
    await waitFor('alice at the approval', () => gate.waitingFor('alice'));
    runs.push(start('bob'));
    await waitFor('bob pending', () => groupEvents(groups, 'pending').length === 1);
    runs.push(start('carol'));
    await waitFor('carol pending', () => groupEvents(groups, 'pending').length === 2);
    for (const actor of ['alice', 'bob', 'carol']) {
      await waitFor(`${actor} at the approval`, () => gate.waitingFor(actor));
      gate.approve(actor);
    }
    const done = await Promise.all(runs);
    expect(done.map((r) => deploy(r).result)).toEqual(['success', 'success', 'success']);
    expect(groupEvents(groups, 'cancelled')).toEqual([]);
  });

  test('queue: max with cancel-in-progress: true is refused as the docs say', async () => {
    const r = await runFiles(deployJob('{ group: g, queue: max, cancel-in-progress: true }'));
    expect(r.error).toMatch(/queue: max cannot be combined with cancel-in-progress: true$/);
  });
});

test('strategy (matrix, fail-fast, max-parallel) is refused, not ignored', async () => {
  await expect(runFiles(wf('  a:\n    runs-on: ubuntu-latest\n    strategy: { fail-fast: false, max-parallel: 1 }\n    steps:\n      - run: echo a\n'))).rejects.toThrow(/strategy \(matrix, fail-fast, max-parallel\) is not modelled/);
});
