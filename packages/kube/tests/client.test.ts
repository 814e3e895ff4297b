/**
 * The client against the Kubernetes stand-in (a real HTTP API server: TLS with its own CA,
 * bearer tokens, chunked lists, watches from a resourceVersion, 410 after compaction).
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { dirname } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { DeadlineError } from '@deploy-actions/action-kit';
import { startKubeStandin, type KubeStandin } from '../../../test/standins/kube/index';
import { byKind } from '../../../test/standins/kube/resources';
import { collectionPath, isGone, KubeApiError, KubeClient, type KubeObject, type KubeReader } from '../src/client';
import { parseKubeconfig } from '../src/kubeconfig';
import { Reflector } from '../src/reflector';

let s: KubeStandin | undefined;
let silent: Server | undefined;
const clients: KubeClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await s?.stop();
  s = undefined;
  silent?.close();
  silent = undefined;
});

async function standin(): Promise<KubeStandin> {
  s = await startKubeStandin({ runtime: 'fake', tls: true, auth: { mode: 'bearer', tokens: ['standin'] } });
  return s;
}

function clientOf(k: KubeStandin, opts: ConstructorParameters<typeof KubeClient>[1] = {}, context = ''): KubeClient {
  const conn = parseKubeconfig(readFileSync(k.kubeconfigPath, 'utf8'), { context, dir: dirname(k.kubeconfigPath), readFile: (p) => readFileSync(p, 'utf8') });
  const c = new KubeClient(conn, opts);
  clients.push(c);
  return c;
}

const EVENTS = collectionPath('events', 'default');
function addEvent(k: KubeStandin, name: string): void {
  k.api.create(
    byKind('Event'),
    { metadata: { name, namespace: 'default' }, involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'default' }, reason: 'Pulled', message: `event ${name}`, type: 'Normal' },
  );
}

const until = async (pred: () => boolean, ms = 10_000) => {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('KubeClient', () => {
  test('lists in pages over TLS with the kubeconfig CA and token, filling in the kind', async () => {
    const k = await standin();
    for (const n of ['a', 'b', 'c', 'd', 'e']) addEvent(k, n);
    const c = clientOf(k);
    const l = await c.list<KubeObject>(EVENTS, { limit: 2, fieldSelector: 'involvedObject.name=web-1' });
    expect(l.items.map((i) => [i.kind, i.metadata.name])).toEqual(['a', 'b', 'c', 'd', 'e'].map((n) => ['Event', n]));
    expect(l.requests).toBe(3);
    expect(k.requests.filter((r) => r.startsWith('GET /api/v1/namespaces/default/events?')).filter((r) => r.includes('continue='))).toHaveLength(2);
    expect(Number(l.resourceVersion)).toBeGreaterThan(0);
  });

  test('a continue token that expired between pages (410) restarts the list once', async () => {
    const k = await standin();
    for (const n of ['a', 'b', 'c']) addEvent(k, n);
    const push = k.requests.push.bind(k.requests);
    // The history is compacted while the client is between its first and second page.
    k.requests.push = (...r: string[]) => {
      if (r.some((x) => x.includes('continue=')) && !k.requests.some((x) => x.includes('continue='))) {
        addEvent(k, 'f');
        k.compact();
      }
      return push(...r);
    };
    const l = await clientOf(k).list<KubeObject>(EVENTS, { limit: 2 });
    expect(l.items.map((i) => i.metadata.name)).toEqual(['a', 'b', 'c', 'f']);
    expect(l.requests).toBe(4); // page 1, the expired page 2, then pages 1 and 2 again
  });

  test('a watch from a compacted resourceVersion is refused with 410 Expired', async () => {
    const k = await standin();
    addEvent(k, 'a');
    const c = clientOf(k);
    const rv = (await c.list(EVENTS)).resourceVersion;
    addEvent(k, 'b');
    k.compact();
    const err = await c.watch(EVENTS, { resourceVersion: rv }, () => undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(isGone(err)).toBe(true);
    expect((err as Error).message).toMatch(/^watch events: https:\/\/127\.0\.0\.1:\d+ ended the watch: too old resource version/);
  });

  test('get and text: a missing object is a 404 NotFound naming the call; logs come back as text', async () => {
    const k = await standin();
    const c = clientOf(k);
    const err = await c.get('/api/v1/namespaces/default/pods/missing').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 404, reason: 'NotFound' });
    expect((err as Error).message).toMatch(/^get pods\/missing: https:\/\/127\.0\.0\.1:\d+ answered 404 NotFound: pods "missing" not found$/);
    expect((await c.text('/api/v1/namespaces/default/pods/missing/log').catch((e: Error) => e.message))).toMatch(/^get log of pods\/missing: .* 404 NotFound/);
  });

  test('a wrong token is a 401; an exec plugin supplies the token', async () => {
    const k = await standin();
    const conn = parseKubeconfig(readFileSync(k.kubeconfigPath, 'utf8'), { dir: '/', readFile: (p) => readFileSync(p, 'utf8') });
    const wrong = new KubeClient({ ...conn, credentials: { kind: 'token', token: 'nope' } });
    clients.push(wrong);
    await expect(wrong.list(EVENTS)).rejects.toMatchObject({ code: 401, reason: 'Unauthorized' });
    const plugin = {
      command: process.execPath,
      args: ['-e', 'const i = JSON.parse(process.env.KUBERNETES_EXEC_INFO); console.log(JSON.stringify({ apiVersion: i.apiVersion, kind: "ExecCredential", status: { token: process.env.TOKEN } }))'],
      env: { TOKEN: 'standin' },
      apiVersion: 'client.authentication.k8s.io/v1beta1',
    };
    const viaExec = new KubeClient({ ...conn, credentials: { kind: 'exec', plugin } });
    clients.push(viaExec);
    expect((await viaExec.list(EVENTS)).items).toEqual([]);
  });

  test('a server that accepts and never answers: the request deadline, tried twice, one line', async () => {
    silent = createServer(() => undefined);
    await new Promise<void>((r) => silent!.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    const c = new KubeClient({ server: `http://127.0.0.1:${port}`, insecure: false, credentials: { kind: 'none' }, namespace: '' }, { deadlineMs: 200 });
    clients.push(c);
    const err = await c.list(EVENTS).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeadlineError);
    // Two attempts of 0.2 s: at least 0.4 s; timers fire late when the suite's other lane loads the machine.
    expect((err as Error).message).toMatch(new RegExp(`^list events: the Kubernetes API server \\(http://127\\.0\\.0\\.1:${port}\\): no answer within 0\\.2 s \\(2 attempts, 0\\.[4-9] s waited\\)$`));
  });
});

describe('Reflector', () => {
  test('list then watch: adds, changes and deletions arrive without polling', async () => {
    const k = await standin();
    addEvent(k, 'a');
    const r = new Reflector<KubeObject & { message?: string }>(clientOf(k), EVENTS);
    try {
      expect(await r.synced).toBe(true);
      expect(r.snapshot().map((e) => e.metadata.name)).toEqual(['a']);
      addEvent(k, 'b');
      await until(() => r.snapshot().length === 2);
      k.api.delete(byKind('Event'), 'default', 'a', {});
      await until(() => r.snapshot().length === 1);
      expect(r.snapshot().map((e) => [e.kind, e.metadata.name])).toEqual([['Event', 'b']]);
      expect(r.lists).toBe(1);
      expect(k.requests.filter((q) => q.includes('watch=true'))[0]).toMatch(/resourceVersion=\d+.*allowWatchBookmarks=true/);
    } finally {
      await r.stop();
    }
  });

  test('a watch refused as too old (410) makes it list again and catch up', async () => {
    const k = await standin();
    addEvent(k, 'a');
    const real = clientOf(k, { watchSeconds: 1 });
    let gate: Promise<void> = Promise.resolve();
    let open = () => undefined as void;
    const gated: KubeReader = {
      server: real.server,
      list: (p, q) => real.list(p, q),
      text: (p, q) => real.text(p, q),
      watch: async (p, q, on, sig) => {
        await gate;
        return real.watch(p, q, on, sig);
      },
    };
    const r = new Reflector<KubeObject>(gated, EVENTS, {}, { retryMs: 50 });
    try {
      expect(await r.synced).toBe(true);
      gate = new Promise<void>((res) => (open = res));
      // The open watch ends after its 1 s; the next one waits at the gate, behind the changes below.
      await until(() => r.watches >= 2);
      addEvent(k, 'b');
      k.compact();
      open();
      await until(() => r.snapshot().length === 2);
      expect(r.lists).toBe(2);
    } finally {
      open();
      await r.stop();
    }
  });
});
