/**
 * The bake window: its judgements (pure), the real CloudWatch client against the CloudWatch
 * stand-in (AWS JSON 1.0), and the whole phase on a scripted release: a breach rolls back to the
 * last validated digest, skipping a later revision that was never validated.
 */
import { createServer } from 'node:http';
import { Inputs as Raw, mapInputs, recordingIO, UserError, type ExecResult } from '@deploy-actions/action-kit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { closeServer, listenLocal } from '../../../test/harness/net';
import { startCloudWatchStandin, type CloudWatchStandin } from '../../../test/standins/cloudwatch';
import { bakePhase, checkBakeAlarms, digestOfRevision, watchBake } from '../src/bake/bake';
import { alarmBreach, httpBreach, podBreach, podWatch, servingPods } from '../src/bake/checks';
import { describeAlarms, makeCloudWatch } from '../src/bake/cloudwatch';
import { bakeInputs } from '../src/bake/inputs';
import type { Ctx } from '../src/context';
import type { Pod } from '../src/pods';

const D = (c: string) => `sha256:${c.repeat(64)}`;
const pod = (name: string, restarts = 0, ready = true): Pod => ({
  metadata: { name },
  status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }], containerStatuses: [{ name: 'app', restartCount: restarts }] },
});

describe('judgements', () => {
  test.each([
    [[false, false, false, false], 0.1, undefined],
    [[true, true, true, true, true], 0.5, 'is 1.00 (5 of the last 5 requests), above 0.5'],
    [[...Array(18).fill(false), true, true], 0.1, undefined],
    [[...Array(17).fill(false), true, true, true], 0.1, 'is 0.15 (3 of the last 20 requests)'],
    [[...Array(30).fill(true), ...Array(20).fill(false)], 0, undefined],
  ])('http window %j, max %s', (w, max, want) => {
    const got = httpBreach(w, max, 'http://svc/health');
    if (want === undefined) expect(got).toBeUndefined();
    else expect(got).toContain(want);
  });

  test('alarms: the first in ALARM', () => {
    expect(alarmBreach([{ name: 'a', state: 'OK', reason: '' }, { name: 'b', state: 'INSUFFICIENT_DATA', reason: '' }])).toBeUndefined();
    expect(alarmBreach([{ name: 'a', state: 'OK', reason: '' }, { name: 'p99', state: 'ALARM', reason: 'Threshold Crossed' }])).toBe("CloudWatch alarm 'p99' is ALARM (Threshold Crossed)");
    // A state reason over several lines stays one line (the step's one failure line).
    expect(alarmBreach([{ name: 'p99', state: 'ALARM', reason: 'Threshold Crossed:\n::error::forged\r\n  more' }])).toBe("CloudWatch alarm 'p99' is ALARM (Threshold Crossed: ::error::forged more)");
  });

  test('pods: restarts counted from the bake start, unready for too long', () => {
    const w = podWatch([pod('a', 3), pod('b')]);
    expect(podBreach(w, [pod('a', 3), pod('b')], 0, 0, 30_000)).toBeUndefined();
    expect(podBreach(w, [pod('a', 4), pod('b')], 1, 0, 30_000)).toBe('pod a restarted 1 time(s) during the bake (allowed 0)');
    expect(podBreach(w, [pod('a', 4), pod('b')], 1, 1, 30_000)).toBeUndefined();
    expect(podBreach(w, [pod('a', 3), pod('b', 0, false)], 1_000, 0, 30_000)).toBeUndefined();
    expect(podBreach(w, [pod('a', 3), pod('b', 0, false)], 40_000, 0, 30_000)).toBe('pod b has not been ready for 39 s');
  });

  test('pods: a finished helm test or hook pod is not watched (never ready, yet not a breach)', () => {
    const finished = (name: string, phase: string): Pod => ({ ...pod(name, 0, false), status: { ...pod(name, 0, false).status, phase } });
    const pods = [pod('web'), finished('web-test-connection', 'Succeeded'), finished('web-migrate', 'Failed')];
    expect(servingPods(pods).map((p) => p.metadata.name)).toEqual(['web']);
    const w = podWatch(servingPods(pods));
    podBreach(w, servingPods(pods), 0, 0, 30_000);
    expect(podBreach(w, servingPods(pods), 40_000, 0, 30_000)).toBeUndefined();
  });

  test.each([
    [3, D('c')],
    [4, D('a')], // Rollback to 1
    [5, D('a')], // Rollback to 4 -> 1
    [6, undefined],
  ])('digest of revision %s', (rev, want) => {
    const h = [
      { revision: 1, status: 'superseded', description: `commit abc image ${D('a')} run x` },
      { revision: 3, status: 'superseded', description: `commit abc image ${D('c')}` },
      { revision: 4, status: 'superseded', description: 'Rollback to 1' },
      { revision: 5, status: 'deployed', description: 'Rollback to 4' },
      { revision: 6, status: 'failed', description: 'Upgrade complete' },
    ];
    expect(digestOfRevision(h, rev)).toBe(want);
  });

  test.each([
    [{ 'bake-duration': '5x' }, "Input 'bake-duration'"],
    [{ 'bake-duration': '10m', 'bake-alarms': 'a', 'bake-alarm-prefix': 'b' }, "Input 'bake-alarm-prefix' cannot be combined"],
    [{ 'bake-duration': '10m', 'bake-error-ratio': '1.5' }, "Input 'bake-error-ratio'"],
    [{ 'bake-duration': '10m', 'bake-rollback-digest': 'sha256:zz' }, "Input 'bake-rollback-digest'"],
    [{ 'bake-duration': '10m', 'bake-interval': '0s' }, "Input 'bake-interval'"],
    [{ 'bake-duration': '10m', 'bake-alarm-prefix': 'svc-\r::warning::x' }, "Input 'bake-alarm-prefix' must be CloudWatch alarm names without control characters"],
    [{ 'bake-duration': '10m', 'bake-alarm-prefix': 'a\nb' }, "Input 'bake-alarm-prefix' must be one alarm name prefix"],
    [{ 'bake-duration': '10m', 'bake-alarms': 'a\tb' }, "Input 'bake-alarms' must be CloudWatch alarm names without control characters"],
    [{ 'bake-duration': '9999999h' }, "Input 'bake-duration' must be at most 2562047h"],
    [{ 'bake-alarms': 'web-5xx' }, "Input 'bake-alarms' is read only with bake-duration"],
    [{ 'bake-duration': '0s', 'bake-alarm-prefix': 'web-' }, "Input 'bake-alarm-prefix' is read only with bake-duration"],
    [{ 'bake-interval': '10s' }, "Input 'bake-interval' is read only with bake-duration"],
    [{ 'bake-error-ratio': '0.2' }, "Input 'bake-error-ratio' is read only with bake-duration"],
    [{ 'bake-max-restarts': '2' }, "Input 'bake-max-restarts' is read only with bake-duration"],
    [{ 'bake-unready-timeout': '1m' }, "Input 'bake-unready-timeout' is read only with bake-duration"],
    [{ 'bake-rollback-digest': `sha256:${'a'.repeat(64)}` }, "Input 'bake-rollback-digest' is read only with bake-duration"],
  ])('bad input %j', (w, msg) => {
    expect(() => bakeInputs(new Raw(mapInputs(w)))).toThrow(msg);
  });
});

let cw: CloudWatchStandin;
beforeAll(async () => {
  cw = await startCloudWatchStandin({ pageSize: 2 });
  Object.assign(process.env, cw.env);
});
afterAll(() => cw.stop());

describe('CloudWatch DescribeAlarms, real client against the stand-in', () => {
  test('by names and by prefix, every page', async () => {
    for (const n of ['orders-5xx', 'orders-latency', 'orders-queue', 'billing-5xx']) cw.setAlarm(n, 'OK');
    cw.setAlarm('orders-latency', 'ALARM', 'Threshold Crossed: 1 datapoint [2.5] > 1.0');
    const client = makeCloudWatch('eu-west-1');
    const byPrefix = await describeAlarms(client, { names: [], prefix: 'orders-' });
    expect(byPrefix.map((a) => a.name)).toEqual(['orders-5xx', 'orders-latency', 'orders-queue']);
    expect(byPrefix.find((a) => a.name === 'orders-latency')).toEqual({ name: 'orders-latency', state: 'ALARM', reason: 'Threshold Crossed: 1 datapoint [2.5] > 1.0' });
    const byName = await describeAlarms(client, { names: ['billing-5xx'], prefix: '' });
    expect(byName).toEqual([{ name: 'billing-5xx', state: 'OK', reason: expect.any(String) }]);
    expect(cw.calls.filter((c) => c.operation === 'DescribeAlarms').length).toBe(3); // two pages + one
  });
});

/** A release with history 1 (A, validated) -> 2 (B, deployed but never validated) -> 3 (C, baking). */
function scripted(bake: Record<string, string>, smokeUrl = '') {
  let clock = 0;
  const execs: string[][] = [];
  const history = [
    { revision: 1, status: 'superseded', description: `commit 111 image ${D('a')}` },
    { revision: 2, status: 'superseded', description: `commit 222 image ${D('b')}` },
    { revision: 3, status: 'deployed', description: `commit 333 image ${D('c')}` },
  ];
  const ok = (stdout: string): ExecResult => ({ exitCode: 0, stdout, stderr: '' });
  const io = recordingIO();
  let podReads = async () => ({ items: [pod('orders-c-1'), pod('orders-c-2')] as never[], resourceVersion: '1', requests: 1 });
  const c = {
    inputs: { bake: bakeInputs(new Raw(mapInputs(bake))), smokeUrl, podSelector: 'app.kubernetes.io/instance=orders', release: 'orders', environment: 'production', historyMax: 10, timeout: '5m' },
    deps: {
      io,
      now: () => clock,
      sleep: async (ms: number) => void (clock += ms),
      fetch: globalThis.fetch,
      exec: async (file: string, args: readonly string[]) => {
        execs.push([file, ...args]);
        if (file === 'helm' && args[0] === 'history') return ok(JSON.stringify(history));
        if (file === 'helm' && args[0] === 'rollback') return ok('Rollback was a success!');
        return ok('');
      },
    },
    helm: 'helm',
    major: 4,
    kubeEnv: {},
    kube: { api: { server: 'https://k', list: async () => podReads(), watch: async () => 'closed', text: async () => '' }, namespace: 'orders' },
    ref: { release: 'orders', namespace: 'orders' },
    timings: [],
  } as unknown as Ctx;
  return { c, io, execs, tick: () => clock, failPodReadsAfter: (n: number) => {
    const first = podReads;
    let reads = 0;
    podReads = async () => {
      if (++reads > n) throw new Error('list pods: the Kubernetes API server (https://k): no answer within 20 s (2 attempts, 40 s waited)');
      return first();
    };
  } };
}

describe('the bake phase', () => {
  test('an alarm in ALARM rolls back to the last validated digest, skipping the later unvalidated revision', async () => {
    cw.setAlarm('orders-5xx', 'OK');
    const s = scripted({ 'bake-duration': '5m', 'bake-interval': '10s', 'bake-alarms': 'orders-5xx', 'bake-rollback-digest': D('a') });
    let checks = 0;
    const sleep = s.c.deps.sleep;
    s.c.deps.sleep = async (ms) => {
      if (++checks === 3) cw.setAlarm('orders-5xx', 'ALARM', 'Threshold Crossed: 5xx > 1%');
      await sleep(ms);
    };
    const err = await bakePhase(s.c, makeCloudWatch('eu-west-1'), 2, { release: 'orders' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toBe(
      `Bake of orders failed: CloudWatch alarm 'orders-5xx' is ALARM (Threshold Crossed: 5xx > 1%); rolled back orders to revision 1, the last validated release ${D('a')}`,
    );
    expect((err as UserError).outputs).toMatchObject({ 'bake-result': 'breached', 'rolled-back-to': D('a') });
    expect(s.execs.find((a) => a[1] === 'rollback')?.slice(0, 6)).toEqual(['helm', 'rollback', 'orders', '1', '--namespace', 'orders']);
    expect(s.tick()).toBe(30_000); // the third check, 10 s apart
    expect(s.io.summaries.join('\n')).toContain("| 30 | BREACH: CloudWatch alarm 'orders-5xx' is ALARM");
  });

  test('an HTTP error ratio over the threshold does the same; a quiet bake passes', async () => {
    let failing = false;
    const server = createServer((_req, res) => {
      res.writeHead(failing ? 503 : 200);
      res.end();
    });
    const url = `http://127.0.0.1:${await listenLocal(server)}/health`;
    try {
      const quiet = scripted({ 'bake-duration': '30s', 'bake-interval': '10s', 'bake-error-ratio': '0.2', 'bake-rollback-digest': D('a') }, url);
      const r = await watchBake(quiet.c, undefined);
      expect(r.breach).toBeUndefined();
      expect(r.timeline.at(-1)![1]).toMatch(/^passed: 0 alarm\(s\) OK; 0 HTTP error\(s\) in 16; 2 pod\(s\)$/);
      expect(quiet.execs.some((a) => a[1] === 'rollback')).toBe(false);

      failing = true;
      const bad = scripted({ 'bake-duration': '5m', 'bake-interval': '10s', 'bake-error-ratio': '0.2', 'bake-rollback-digest': D('a') }, url);
      const err = (await bakePhase(bad.c, undefined, 2, {}).catch((e: unknown) => e)) as UserError;
      expect(err.message).toBe(`Bake of orders failed: HTTP error ratio of ${url} is 1.00 (8 of the last 8 requests), above 0.2; rolled back orders to revision 1, the last validated release ${D('a')}`);
    } finally {
      await closeServer(server);
    }
  });
});

describe('a bake that cannot read what it watches fails closed', () => {
  const badCredentials = () => makeCloudWatch('eu-west-1', { credentials: async () => ({ accessKeyId: 'AKIDNOTKNOWN', secretAccessKey: 'x' }) });

  test('alarms that cannot be read are a breach, and the release is rolled back', async () => {
    const s = scripted({ 'bake-duration': '5m', 'bake-interval': '10s', 'bake-alarms': 'orders-5xx', 'bake-rollback-digest': D('a') });
    const err = await bakePhase(s.c, badCredentials(), 2, { release: 'orders' }).catch((e: unknown) => e);
    expect((err as UserError).message).toMatch(/^Bake of orders failed: the alarms cannot be read \(.+\); rolled back orders to revision 1, the last validated release/);
    expect(s.execs.some((a) => a[1] === 'rollback')).toBe(true);
  });

  test('pods that cannot be read are a breach', async () => {
    const s = scripted({ 'bake-duration': '30s', 'bake-interval': '10s' });
    s.failPodReadsAfter(1);
    const r = await watchBake(s.c, undefined);
    expect(r.breach).toBe('the pods of app.kubernetes.io/instance=orders cannot be read');
  });

  test.each([
    [{ 'bake-alarms': 'orders-5xx,nope-1' }, "Input 'bake-alarms' must name CloudWatch alarms of this account and region; these do not exist (got 'nope-1')"],
    [{ 'bake-alarm-prefix': 'nothing-' }, "Input 'bake-alarm-prefix' must match at least one CloudWatch alarm"],
  ])('before the rollout: %j is refused', async (bake, message) => {
    cw.setAlarm('orders-5xx', 'OK');
    const s = scripted({ 'bake-duration': '5m', ...bake });
    await expect(checkBakeAlarms(s.c, makeCloudWatch('eu-west-1'))).rejects.toThrow(message);
  });

  test('before the rollout: credentials CloudWatch refuses stop the deploy in one line', async () => {
    const s = scripted({ 'bake-duration': '5m', 'bake-alarms': 'orders-5xx' });
    const err = (await checkBakeAlarms(s.c, badCredentials()).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/^The bake's alarms cannot be read, so nothing was deployed: /);
    expect(err.message).not.toContain('\n');
    cw.setAlarm('orders-5xx', 'OK');
    await expect(checkBakeAlarms(s.c, makeCloudWatch('eu-west-1'))).resolves.toBeUndefined();
  });
});
