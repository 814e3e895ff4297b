/**
 * run() with fake helm, Kubernetes API and AWS: the orchestration paths the end-to-end tests cannot
 * force (a helm that ignores SIGTERM, a helm that does not roll back itself, access errors
 * in kubeconfig mode, an environment without its values file).
 */
import { describe, expect, test } from 'vitest';
import { Inputs as Raw, mapInputs, recordingIO, type ExecResult } from '@deploy-actions/action-kit';
import { getInputs } from '../src/inputs';
import { run, type Deps, type Proc } from '../src/run';
import { goNetworkFault, helmFault } from '../src/context';
import type { Pod } from '../src/pods';
import type { KubeReader } from '@deploy-actions/kube';

const DIGEST = `sha256:${'a'.repeat(64)}`;
/** The pinned sha256 of the helm 4.2.3 binary (tools.ts). */
const PIN_423 = 'aeb4645b9e6658948efa290e28dd23ae75a16fb73f137942f2294fd5c7fcb573';
const ctx = {
  workspace: '/ws',
  exists: (p: string) => ['/ws/chart', '/ws/chart/Chart.yaml', '/ws/kc'].includes(p),
  isDirectory: (p: string) => p === '/ws/chart',
  realpath: (p: string) => p,
  envRegion: 'eu-west-1',
  readText: () => 'current-context: c\ncontexts: [{name: c, context: {cluster: k}}]\nclusters: [{name: k, cluster: {server: "https://10.0.0.1:6443"}}]\n',
};

const ok = (stdout = ''): ExecResult => ({ exitCode: 0, stdout, stderr: '' });
const fail = (stderr: string): ExecResult => ({ exitCode: 1, stdout: '', stderr });

interface World {
  history: Array<{ revision: number; status: string; description?: string }>;
  pods: Pod[];
  calls: string[][];
  killed: string[];
  /** What the upgrade process does when killed. */
  onKill: 'exit' | 'ignore';
  upgradeResult?: ExecResult;
  historyError?: string;
  /** What helm template prints (default: one Deployment running the pinned image). */
  template?: string;
  /** The helm a hosted runner image holds on PATH. */
  runnerHelm?: { path: string; sha256: string };
  /** Pods the watch reports after the first list (created once helm runs). */
  later?: Pod[];
}

/** The Kubernetes API as the deploy reads it: lists from the world, a watch that adds `later`. */
function fakeKube(w: World): KubeReader {
  const listOf = (items: unknown[]) => ({ items: items as never[], resourceVersion: '1', requests: 1 });
  return {
    server: 'https://10.0.0.1:6443',
    list: async (path) => {
      w.calls.push(['api', 'list', path]);
      if (path.endsWith('/pods')) return listOf(w.pods.map((p) => ({ ...p, kind: 'Pod' })));
      if (path.endsWith('/events')) return listOf([{ kind: 'Event', metadata: { name: 'e' }, type: 'Warning', reason: 'Failed', message: 'Failed to pull image', count: 2 }]);
      return listOf([]);
    },
    watch: async (path, _q, onEvent, signal) => {
      w.calls.push(['api', 'watch', path]);
      await new Promise((r) => setTimeout(r, 10));
      if (path.endsWith('/pods')) for (const p of w.later ?? []) onEvent({ type: 'ADDED', object: { ...p, kind: 'Pod' } as never });
      await new Promise<void>((r) => (signal?.aborted ? r() : signal?.addEventListener('abort', () => r())));
      return 'aborted';
    },
    text: async (path) => (w.calls.push(['api', 'get', path]), ''),
  };
}

function fakeDeps(w: World): Deps & { io: ReturnType<typeof recordingIO> } {
  const io = recordingIO();
  let now = Date.parse('2026-11-21T10:00:00Z');
  return {
    io,
    exec: async (file, args) => {
      w.calls.push([file.split('/').pop()!, ...args]);
      switch (args[0]) {
        case 'version':
          return ok('v4.3.0');
        case 'lint':
          return ok('1 chart(s) linted, 0 chart(s) failed');
        case 'template':
          return ok(w.template ?? `kind: Deployment\nmetadata: { name: web }\nspec: { template: { spec: { containers: [{ name: app, image: "reg/app@${DIGEST}" }] } } }\n`);
        case 'history':
          if (w.historyError) return fail(w.historyError);
          return w.history.length ? ok(JSON.stringify(w.history)) : fail('Error: release: not found');
        case 'rollback': {
          const rev = w.history.length + 1;
          w.history.push({ revision: rev, status: 'deployed', description: `Rollback to ${args[2]}` });
          return ok();
        }
        case 'uninstall':
          w.history = [];
          return ok();
        case 'status': {
          const last = w.history.at(-1)!;
          return ok(JSON.stringify({ version: last.revision, info: { status: last.status } }));
        }
        default:
          return ok();
      }
    },
    start: (_file, args): Proc => {
      w.calls.push(['helm', ...args]);
      const rev = (w.history.at(-1)?.revision ?? 0) + 1;
      w.history.push({ revision: rev, status: 'pending-upgrade' });
      let resolve!: (r: ExecResult) => void;
      const done = new Promise<ExecResult>((r) => (resolve = r));
      if (w.upgradeResult) {
        w.history[w.history.length - 1]!.status = w.upgradeResult.exitCode === 0 ? 'deployed' : 'failed';
        resolve(w.upgradeResult);
      }
      return {
        done,
        kill: (signal) => {
          w.killed.push(signal);
          if (w.onKill === 'exit' || signal === 'SIGKILL') {
            w.history[w.history.length - 1]!.status = 'failed';
            resolve({ exitCode: signal === 'SIGKILL' ? 137 : 1, stdout: '', stderr: 'Error: context canceled' });
          }
        },
      };
    },
    sleep: async () => undefined,
    within: async (p, ms) => {
      now += ms;
      return Promise.race([p, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 5))]);
    },
    now: () => now,
    env: { RUNNER_TEMP: '/tmp/rt' },
    github: {
      sha: '0123456789abcdef0123456789abcdef01234567', eventName: 'push', ref: 'refs/heads/main', refName: 'main', refType: 'branch',
      repository: 'acme/svc', serverUrl: 'https://github.com', apiUrl: 'https://api.github.com', runId: '7', runNumber: '1',
      runAttempt: '1', actor: 'a', workflow: 'w', runUrl: 'https://github.com/acme/svc/actions/runs/7', branch: 'main',
    },
    aws: undefined,
    installTool: async (d) => (w.calls.push(['install', d.tool, d.version]), `/tools/${d.tool}`),
    onPath: async (tool) => (tool === 'helm' ? w.runnerHelm : undefined),
    writePrivate: () => undefined,
    appendEnv: () => undefined,
    exists: ctx.exists,
    readFile: (p) => (p === '/ws/kc' ? ctx.readText() : undefined),
    fetch: globalThis.fetch,
    kubeClient: () => fakeKube(w),
    nodePath: '/node',
    bundlePath: '/bundle.js',
    pollMs: 2000,
    heartbeatMs: 12_000,
    killGraceMs: 30_000,
  };
}

const inputs = (extra: Record<string, string> = {}) =>
  getInputs(new Raw(mapInputs({ release: 'web', kubeconfig: 'kc', image: `reg/app@${DIGEST}`, ...extra })), ctx);

const pullFailing = {
  kind: 'Pod',
  metadata: { name: 'web-new-1', creationTimestamp: '2026-11-21T10:00:05Z', labels: { 'app.kubernetes.io/instance': 'web' } },
  status: { phase: 'Pending', containerStatuses: [{ name: 'app', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff', message: 'not found' } } }] },
} as Pod;

/** A pod of the release's Deployment, running the image that resolved to `digest`. */
function running(digest: string): Pod {
  return {
    kind: 'Pod',
    metadata: { name: 'web-7d9-abcde', labels: { 'app.kubernetes.io/instance': 'web' } },
    status: { phase: 'Running', containerStatuses: [{ name: 'app', ready: true, image: `reg/app@${DIGEST}`, imageID: `reg/app@${digest}` }] },
  } as Pod;
}

/** The pod appears only after helm started (the list taken before helm is empty; the watch adds it). */
function withPodAfterStart(w: World, pod: Pod) {
  w.later = [pod];
  return fakeDeps(w);
}

describe('run', () => {
  test('a helm that ignores SIGTERM is killed after the grace period, and the release is rolled back explicitly', async () => {
    const w: World = { history: [{ revision: 1, status: 'deployed' }], pods: [], calls: [], killed: [], onKill: 'ignore' };
    const deps = withPodAfterStart(w, pullFailing);
    await expect(run(inputs(), deps)).rejects.toThrow(
      'pod web-new-1 container app: ImagePullBackOff (not found); rolled back web to revision 1 (revision 2 failed)',
    );
    expect(w.killed).toEqual(['SIGTERM', 'SIGKILL']);
    // The rollout is followed by list + watch of the API, with no kubectl anywhere.
    expect(w.calls).toContainEqual(['api', 'watch', '/api/v1/namespaces/default/pods']);
    expect(w.calls.some((c) => c[0] === 'kubectl')).toBe(false);
    expect(deps.io.warnings.join('\n')).toContain('helm did not stop within 30 s of SIGTERM');
    expect(w.calls.find((c) => c[1] === 'rollback')).toEqual(expect.arrayContaining(['rollback', 'web', '1', '--wait=watcher']));
    // One annotation: runAction's setFailed; run() adds none of its own.
    expect(deps.io.errors).toHaveLength(0);
    expect(deps.io.summaries.join('')).toContain('Rollout failed: ImagePullBackOff');
    expect(deps.io.summaries.join('')).toContain('Failed to pull image');
  });

  test('a helm upgrade that never ends (a silent API server) is stopped at timeout + 60 s: one line names the operation, the endpoint and the time waited, then the restore', async () => {
    const w: World = { history: [{ revision: 1, status: 'deployed' }], pods: [], calls: [], killed: [], onKill: 'ignore' };
    const deps = fakeDeps(w);
    const err = (await run(inputs({ timeout: '1s' }), deps).catch((e: unknown) => e)) as Error;
    expect(w.killed).toEqual(['SIGTERM', 'SIGKILL']);
    // 61 s (timeout + 60 s) then the 30 s SIGTERM grace, on the fake clock (2 s polls).
    expect(err.message).toMatch(/^helm upgrade web: the cluster API server( \([^)]*\))?: no answer within 61 s \(9\d s waited\); rolled back web to revision 1 \(revision 2 failed\)$/);
    expect(deps.io.lines.join('\n')).toContain('helm did not finish within 61 s (its --timeout and 60 s for the API calls around it); stopping it');
  });

  test('fail-fast restores even with rollback-on-failure false; a first install is uninstalled', async () => {
    const w: World = { history: [], pods: [], calls: [], killed: [], onKill: 'exit' };
    const deps = withPodAfterStart(w, pullFailing);
    await expect(run(inputs({ 'rollback-on-failure': 'false' }), deps)).rejects.toThrow(/ImagePullBackOff.*uninstalled web \(revision 1 failed; it had no earlier good revision\)/);
    expect(w.killed).toEqual(['SIGTERM']);
    expect(w.calls.some((c) => c[1] === 'uninstall')).toBe(true);
    expect(w.calls.find((c) => c[1] === 'upgrade')).not.toContain('--rollback-on-failure');
  });

  test('a failed helm upgrade without rollback-on-failure is left as failed and says so', async () => {
    const w: World = { history: [{ revision: 1, status: 'deployed' }], pods: [], calls: [], killed: [], onKill: 'exit', upgradeResult: fail('Error: UPGRADE FAILED: context deadline exceeded') };
    const deps = fakeDeps(w);
    await expect(run(inputs({ 'rollback-on-failure': 'false' }), deps)).rejects.toThrow(
      /helm upgrade of web failed after [\d.]+ s: Error: UPGRADE FAILED: context deadline exceeded; left as failed \(rollback-on-failure is false\)/,
    );
    expect(w.calls.some((c) => c[1] === 'rollback')).toBe(false);
  });

  const RESET = 'Error: Kubernetes cluster unreachable: Get "https://10.0.0.1:6443/version": read tcp 10.1.0.9:41000->10.0.0.1:6443: read: connection reset by peer';
  test('an API server that resets helm history ends the step in the one fault line, helm\'s words kept; nothing runs after it', async () => {
    const w: World = { history: [], pods: [], calls: [], killed: [], onKill: 'exit', historyError: RESET };
    await expect(run(inputs(), fakeDeps(w))).rejects.toThrow(
      `helm history web: the cluster API server (https://10.0.0.1:6443): the connection was reset (0 s waited); helm: ${RESET.slice('Error: '.length)}`,
    );
    expect(w.calls.some((c) => c[1] === 'upgrade')).toBe(false);
  });

  test.each([
    ['reset, the cluster back for the restore: rolled back', false, /^helm upgrade web: the cluster API server \(https:\/\/10\.0\.0\.1:6443\): the connection was reset \([\d.]+ s waited\); helm: UPGRADE FAILED: .*connection reset by peer; rolled back web to revision 1 \(revision 2 failed\)$/],
    ['reset, the cluster still unreachable: says so and what the next run does', true, /^helm upgrade web: the cluster API server \(https:\/\/10\.0\.0\.1:6443\): the connection was reset \([\d.]+ s waited\); helm: UPGRADE FAILED: .*; not restored, the cluster could not be reached \(helm history web: the cluster API server \(https:\/\/10\.0\.0\.1:6443\): the connection was reset \([\d.]+ s waited\); helm: Kubernetes cluster unreachable: .*\): the next run restores a release left pending before it upgrades$/],
  ])('helm upgrade meets a network fault (%s)', async (_name, stillDown, want) => {
    const w: World = { history: [{ revision: 1, status: 'deployed' }], pods: [], calls: [], killed: [], onKill: 'exit', upgradeResult: fail('Error: UPGRADE FAILED: Put "https://10.0.0.1:6443/apis/apps/v1/namespaces/default/deployments/web": read tcp 10.1.0.9:41002->10.0.0.1:6443: read: connection reset by peer') };
    const deps = fakeDeps(w);
    const start = deps.start;
    deps.start = (file, args, env) => {
      const p = start(file, args, env);
      if (stillDown) w.historyError = RESET;
      return p;
    };
    const err = await run(inputs(), deps).then(() => undefined, (e: Error) => e);
    expect(err?.message).toMatch(want);
    expect(err?.message.split('\n')).toHaveLength(1);
  });

  test('a 401 with a given kubeconfig names the kubeconfig, not EKS', async () => {
    const w: World = { history: [], pods: [], calls: [], killed: [], onKill: 'exit', historyError: 'Error: Kubernetes cluster unreachable: the server has asked for the client to provide credentials' };
    await expect(run(inputs(), fakeDeps(w))).rejects.toThrow(/^The cluster refused the credentials of the given kubeconfig \(Kubernetes cluster unreachable: the server has asked for the client to provide credentials\)/);
  });

  test('an environment without its values file fails before anything runs, naming the input', () => {
    expect(() => inputs({ environment: 'production' })).toThrow(
      "Input 'environment' has no values file in the chart: add values-production.yaml to chart, or set allow-missing-values-file: true to deploy with values.yaml (got 'production')",
    );
  });

  test('a successful deploy (base values allowed explicitly) reports outputs', async () => {
    const w: World = { history: [{ revision: 3, status: 'deployed' }], pods: [running(DIGEST)], calls: [], killed: [], onKill: 'exit', upgradeResult: ok() };
    const deps = fakeDeps(w);
    const out = await run(inputs({ environment: 'production', 'allow-missing-values-file': 'true' }), deps);
    expect(out['running-images']).toBe(`reg/app@${DIGEST}`);
    expect(out).toMatchObject({ release: 'web', namespace: 'default', revision: 4, status: 'deployed', 'previous-revision': 3, 'image-ref': `reg/app@${DIGEST}`, kubeconfig: '/ws/kc' });
    expect(deps.io.warnings).toEqual([]);
    const upgrade = w.calls.find((c) => c[1] === 'upgrade')!;
    expect(upgrade).toEqual(expect.arrayContaining(['--description', `commit 0123456789ab image ${DIGEST} run https://github.com/acme/svc/actions/runs/7`]));
    expect(upgrade).toEqual(expect.arrayContaining(['--labels', 'deploy-actions/commit=0123456789abcdef0123456789abcdef01234567,deploy-actions/run-id=7']));
    expect(upgrade).toEqual(expect.arrayContaining(['--set-string', `podAnnotations.deploy-actions/image-digest=${DIGEST}`]));
    // Lint and template ran before anything touched the cluster.
    const order = w.calls.map((c) => c[1]);
    expect(order.indexOf('lint')).toBeLessThan(order.indexOf('history'));
    expect(order.indexOf('template')).toBeLessThan(order.indexOf('history'));
  });

  test.each([
    ['no answer', () => new DOMException('The operation was aborted due to timeout', 'TimeoutError'), 'no answer within 10 s'],
    ['a reset', () => new TypeError('fetch failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) }), 'the connection was reset'],
  ])('a smoke URL that gives %s: the deadline line (the call, the endpoint, the attempts and time waited), and the release rolled back', async (_name, error, words) => {
    const w: World = { history: [{ revision: 1, status: 'deployed' }], pods: [running(DIGEST)], calls: [], killed: [], onKill: 'exit', upgradeResult: ok() };
    const deps = fakeDeps(w);
    let asked = 0;
    deps.fetch = async () => {
      asked++;
      throw error();
    };
    const err = (await run(inputs({ 'smoke-url': 'https://web.example/health', 'smoke-attempts': '2' }), deps).catch((e: unknown) => e)) as Error;
    expect(asked).toBe(2);
    expect(err.message).toMatch(new RegExp(`^smoke check GET https://web\\.example/health: https://web\\.example: ${words} \\(2 attempts, [\\d.]+ s waited\\); rolled back web to revision 1 \\(revision 2 failed validation\\)$`));
  });

  test('a hook Job pod that cannot pull its image fails the deploy naming the Job', async () => {
    const hook = `kind: Job\nmetadata: { name: web-migrate, annotations: { helm.sh/hook: pre-upgrade } }\nspec: { template: { spec: { containers: [{ name: migrate, image: "reg/app@${DIGEST}" }] } } }\n`;
    const w: World = { history: [{ revision: 1, status: 'deployed' }], pods: [], calls: [], killed: [], onKill: 'exit', template: hook };
    const hookPod = { ...pullFailing, metadata: { name: 'web-migrate-x1', ownerReferences: [{ kind: 'Job', name: 'web-migrate', controller: true }] } } as Pod;
    const deps = withPodAfterStart(w, hookPod);
    await expect(run(inputs(), deps)).rejects.toThrow(
      'hook Job web-migrate (pre-upgrade): pod web-migrate-x1 container app: ImagePullBackOff (not found); rolled back web to revision 1 (revision 2 failed)',
    );
  });

  test('pods running another digest than the pinned one fail the step after the rollout and roll back', async () => {
    const other = `sha256:${'b'.repeat(64)}`;
    const w: World = { history: [{ revision: 1, status: 'deployed' }], pods: [running(other)], calls: [], killed: [], onKill: 'exit', upgradeResult: ok() };
    const deps = fakeDeps(w);
    await expect(run(inputs(), deps)).rejects.toThrow(
      `The release's pods do not run the pinned digest sha256:aaaaaaaaaaaa…: web-7d9-abcde/app runs reg/app@sha256:bbbbbbbbbbbb…; rolled back web to revision 1 (revision 2 failed validation)`,
    );
  });

  test.each([
    ['the pinned build on a GitHub-hosted runner is used as is', 'github-hosted', PIN_423, [], 'helm 4.2.3 preinstalled on the runner (/usr/local/bin/helm): sha256 aeb4645b'],
    ['another build is not: the pinned archive is downloaded', 'github-hosted', 'f'.repeat(64), [['install', 'helm', '4.2.3']], "the runner's /usr/local/bin/helm is not helm 4.2.3 (its sha256 ffffffffffff… is not the pin)"],
    ['a self-hosted runner\'s helm is never trusted this way', 'self-hosted', PIN_423, [['install', 'helm', '4.2.3']], undefined],
  ])('preinstalled helm: %s', async (_name, runnerEnvironment, sha256, installs, note) => {
    const w: World = { history: [{ revision: 1, status: 'deployed' }], pods: [running(DIGEST)], calls: [], killed: [], onKill: 'exit', upgradeResult: ok(), runnerHelm: { path: '/usr/local/bin/helm', sha256 } };
    const deps = fakeDeps(w);
    deps.env.RUNNER_ENVIRONMENT = runnerEnvironment;
    await run(inputs({ 'helm-version': '4.2.3' }), deps);
    expect(w.calls.filter((c) => c[0] === 'install')).toEqual(installs);
    if (note) expect(deps.io.lines.join('\n')).toContain(note);
    else expect(deps.io.lines.join('\n')).not.toMatch(/runner's|preinstalled/);
  });
});

describe('network faults as helm 3.18 and 4.2 print them (seen against listeners that reset, close, refuse)', () => {
  test.each([
    ['Error: Kubernetes cluster unreachable: Get "http://127.0.0.1:33023/version": read tcp 127.0.0.1:43702->127.0.0.1:33023: read: connection reset by peer', 'reset'],
    ['Error: kubernetes cluster unreachable: Get "http://127.0.0.1:39797/version": EOF', 'reset'],
    ['Error: kubernetes cluster unreachable: Get "http://127.0.0.1:9/version": dial tcp 127.0.0.1:9: connect: connection refused', 'refused'],
    ['Error: kubernetes cluster unreachable: Get "http://nosuchhost.invalid:443/version": dial tcp: lookup nosuchhost.invalid on 10.255.255.53:53: no such host', 'unreachable'],
    ['Error: Get "https://10.0.0.1:6443/api/v1/namespaces/web/secrets": dial tcp 10.0.0.1:6443: i/o timeout', 'timeout'],
    ['Error: UPGRADE FAILED: context deadline exceeded', undefined],
    ['Error: UPGRADE FAILED: release web failed: YAML parse error: unexpected EOF', undefined],
  ])('%s -> %s', (stderr, want) => expect(goNetworkFault(`some output\n${stderr}\n`)?.fault).toBe(want));

  test("helm's whole error is kept, from its Error: line on (helm 4.1.4, a reset during an install it then failed to uninstall)", () => {
    const stderr = [
      'Release "web" does not exist. Installing it now.',
      'Error: an error occurred while uninstalling the release. original install error: Patch "http://127.0.0.1:36369/apis/policy/v1/namespaces/web/poddisruptionbudgets/web": read tcp 127.0.0.1:41898->127.0.0.1:36369: read: connection reset by peer',
      'Patch "http://127.0.0.1:36369/apps/v1/namespaces/web/deployments/web": read tcp 127.0.0.1:41924->127.0.0.1:36369: read: connection reset by peer: kubernetes cluster unreachable: Get "http://127.0.0.1:36369/version": EOF',
    ].join('\n');
    expect(goNetworkFault(stderr)).toEqual({
      fault: 'reset',
      origin: 'http://127.0.0.1:36369',
      said: 'an error occurred while uninstalling the release. original install error: Patch "http://127.0.0.1:36369/apis/policy/v1/namespaces/web/poddisruptionbudgets/web": read tcp 127.0.0.1:41898->127.0.0.1:36369: read: connection reset by peer | Patch "http://127.0.0.1:36369/apps/v1/namespaces/web/deployments/web": read tcp 127.0.0.1:41924->127.0.0.1:36369: read: connection reset by peer: kubernetes cluster unreachable: Get "http://127.0.0.1:36369/version": EOF',
    });
  });

  test('a host other than the API server (a chart repository) is named as helm named it', () => {
    const c = { apiServer: 'https://10.0.0.1:6443', inputs: { release: 'web' } } as Parameters<typeof helmFault>[0];
    const e = helmFault(c, 'helm upgrade', 'Error: Get "https://charts.example.com/index.yaml": read tcp 1.2.3.4:5->5.6.7.8:443: read: connection reset by peer', 1500);
    expect(e?.message).toBe('helm upgrade web: https://charts.example.com: the connection was reset (1.5 s waited); helm: Get "https://charts.example.com/index.yaml": read tcp 1.2.3.4:5->5.6.7.8:443: read: connection reset by peer');
  });
});
