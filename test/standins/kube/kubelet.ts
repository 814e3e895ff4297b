// One node's kubelet: runs pods through a Runtime, pulls images (ErrImagePull/ImagePullBackOff), restarts containers
// (CrashLoopBackOff), runs readiness/liveness probes and records the kubelet's Events.
import type { ServiceProxy } from './service-proxy';
import type { Api } from './api';
import type { Recorder } from './events';
import { byKind } from './resources';
import type { RunningContainer, Runtime } from './runtime';
import { ApiError, type KObj, now } from './store';
import { podReady } from './controllers';
import type { LogOptions } from './server';

const POD = byKind('Pod');
export const NODE_NAME = 'standin-node';
const HOST_IP = '10.0.0.10';

export interface KubeletTiming {
  /** First back-off after a failed pull or a crash; doubles up to the max. Kubernetes: 10 s and 300 s. */
  backoffInitialMs: number;
  backoffMaxMs: number;
}

interface CState {
  name: string;
  image: string;
  restartCount: number;
  state: KObj;
  lastState: KObj;
  ready: boolean;
  started: boolean;
  imageID: string;
  containerID?: string;
  current?: RunningContainer;
  previous?: RunningContainer;
}

class PodWorker {
  stopped = false;
  containers = new Map<string, CState>();
  private wakers = new Set<() => void>();
  podIP?: string;
  startTime = now();
  private init: KObj[] = [];
  initDone = false;

  constructor(private k: Kubelet, public pod: KObj) {
    for (const c of pod.spec.containers ?? []) this.containers.set(c.name, { name: c.name, image: c.image, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } }, lastState: {}, ready: false, started: false, imageID: '' });
    this.init = pod.spec.initContainers ?? [];
  }
  get key() {
    return `${this.pod.metadata.namespace}/${this.pod.metadata.name}`;
  }
  sleep(ms: number) {
    return new Promise<void>((resolve) => {
      if (this.stopped) return resolve();
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wakers.add(done);
    });
  }
  async stop(graceSeconds = 0) {
    if (this.stopped) return;
    this.stopped = true;
    for (const w of this.wakers) w();
    await Promise.all([...this.containers.values()].map(async (c) => {
      if (c.current && c.state.running) {
        this.k.rec.event(this.pod, 'Normal', 'Killing', `Stopping container ${c.name}`, 'kubelet', `spec.containers{${c.name}}`);
        if (graceSeconds > 0) await c.current.stop(graceSeconds).catch(() => {});
      }
      await c.current?.remove().catch(() => {});
      await c.previous?.remove().catch(() => {});
    }));
  }

  ev(type: 'Normal' | 'Warning', reason: string, message: string, container?: string) {
    if (this.stopped) return;
    this.k.rec.event(this.pod, type, reason, message, 'kubelet', container ? `spec.containers{${container}}` : undefined);
  }

  writeStatus() {
    if (this.stopped) return;
    const cur = this.k.api.store.get(POD, this.pod.metadata.namespace, this.pod.metadata.name);
    if (!cur || cur.metadata.uid !== this.pod.metadata.uid) return;
    const cs = [...this.containers.values()];
    const restartPolicy = cur.spec.restartPolicy ?? 'Always';
    const allReady = cs.every((c) => c.ready);
    const terminated = cs.every((c) => c.state.terminated);
    let phase = 'Pending';
    if (terminated && cs.length) phase = cs.every((c) => c.state.terminated.exitCode === 0) ? 'Succeeded' : 'Failed';
    else if (cs.some((c) => c.state.running || c.restartCount > 0 || (c.state.terminated && restartPolicy !== 'Never'))) phase = 'Running';
    else if (restartPolicy === 'Never' && cs.some((c) => c.state.terminated)) phase = 'Running';
    const prevConds: KObj[] = cur.status?.conditions ?? [];
    const cond = (type: string, ok: boolean, reason?: string, message?: string) => {
      const prev = prevConds.find((c) => c.type === type);
      const status = ok ? 'True' : 'False';
      return { type, status, lastProbeTime: null, lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : now(), ...(reason ? { reason } : {}), ...(message ? { message } : {}) };
    };
    const notReady = cs.filter((c) => !c.ready).map((c) => c.name);
    const completed = phase === 'Succeeded' || phase === 'Failed';
    const msg = notReady.length ? `containers with unready status: [${notReady.join(' ')}]` : undefined;
    const status: KObj = {
      phase,
      conditions: [
        cond('PodReadyToStartContainers', !!this.podIP),
        cond('Initialized', this.initDone, this.initDone ? undefined : 'ContainersNotInitialized', this.initDone ? undefined : 'containers with incomplete status: [init]'),
        cond('Ready', allReady && !completed, allReady && !completed ? undefined : completed ? 'PodCompleted' : 'ContainersNotReady', allReady && !completed ? undefined : completed ? undefined : msg),
        cond('ContainersReady', allReady && !completed, allReady && !completed ? undefined : completed ? 'PodCompleted' : 'ContainersNotReady', allReady && !completed ? undefined : completed ? undefined : msg),
        cond('PodScheduled', true),
      ],
      hostIP: HOST_IP,
      hostIPs: [{ ip: HOST_IP }],
      ...(this.podIP ? { podIP: this.podIP, podIPs: [{ ip: this.podIP }] } : {}),
      startTime: this.startTime,
      containerStatuses: cs.map((c) => ({
        name: c.name,
        state: c.state,
        lastState: c.lastState,
        ready: c.ready,
        restartCount: c.restartCount,
        image: c.image,
        imageID: c.imageID,
        ...(c.containerID ? { containerID: c.containerID } : {}),
        started: c.started,
      })),
      qosClass: cur.status?.qosClass ?? 'BestEffort',
    };
    if (JSON.stringify(status) !== JSON.stringify(cur.status)) this.k.api.store.update(POD, { ...cur, status });
  }

  async run() {
    const cur = this.k.api.store.get(POD, this.pod.metadata.namespace, this.pod.metadata.name);
    if (!cur) return;
    if (!cur.spec.nodeName) {
      cur.spec.nodeName = NODE_NAME;
      this.pod = this.k.api.store.update(POD, cur);
    }
    this.k.rec.event(this.pod, 'Normal', 'Scheduled', `Successfully assigned ${this.pod.metadata.namespace}/${this.pod.metadata.name} to ${NODE_NAME}`, 'default-scheduler');
    this.writeStatus();
    // Init containers run one by one to completion.
    for (const ic of this.init) {
      const st: CState = { name: ic.name, image: ic.image, restartCount: 0, state: {}, lastState: {}, ready: false, started: false, imageID: '' };
      for (;;) {
        const code = await this.runContainer(ic, st, true);
        if (this.stopped) return;
        if (code === 0) break;
        if (this.pod.spec.restartPolicy === 'Never') {
          for (const c of this.containers.values()) c.state = { terminated: { exitCode: 1, reason: 'Init:Error' } };
          this.writeStatus();
          return;
        }
        st.restartCount++;
        await this.sleep(this.k.backoff(st.restartCount));
      }
    }
    this.initDone = true;
    this.writeStatus();
    await Promise.all((this.pod.spec.containers ?? []).map((c: KObj) => this.containerLoop(c, this.containers.get(c.name)!)));
  }

  private async pull(c: KObj, st: CState | undefined): Promise<boolean> {
    let attempt = 0;
    for (;;) {
      if (this.stopped) return false;
      this.ev('Normal', 'Pulling', `Pulling image "${c.image}"`, c.name);
      const r = await this.k.runtime.pull(c.image, this.pod);
      if (this.stopped) return false;
      if (r.ok) {
        if (st) st.imageID = r.imageID;
        this.ev('Normal', 'Pulled', `Successfully pulled image "${c.image}" in ${r.ms}ms (${r.ms}ms including waiting).${r.size ? ` Image size: ${r.size} bytes.` : ''}`, c.name);
        return true;
      }
      attempt++;
      this.ev('Warning', 'Failed', `Failed to pull image "${c.image}": ${r.message}`, c.name);
      this.ev('Warning', 'Failed', 'Error: ErrImagePull', c.name);
      if (st) {
        st.state = { waiting: { reason: 'ErrImagePull', message: r.message } };
        this.writeStatus();
      }
      await this.sleep(Math.min(this.k.timing.backoffInitialMs, 1000));
      if (st) {
        st.state = { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${c.image}": ErrImagePull: ${r.message}` } };
        this.writeStatus();
      }
      this.ev('Normal', 'BackOff', `Back-off pulling image "${c.image}"`, c.name);
      this.ev('Warning', 'Failed', 'Error: ImagePullBackOff', c.name);
      await this.sleep(this.k.backoff(attempt));
    }
  }

  /** Runs one container once; returns its exit code (or -1 when stopped). */
  private async runContainer(c: KObj, st: CState, isInit: boolean): Promise<number> {
    if (!st.imageID || c.imagePullPolicy === 'Always') {
      if (!(await this.pull(c, st))) return -1;
    }
    let env: [string, string][];
    try {
      env = this.k.resolveEnv(this.pod, c, this.podIP);
    } catch (e) {
      const msg = (e as Error).message;
      st.state = { waiting: { reason: 'CreateContainerConfigError', message: msg } };
      this.writeStatus();
      this.ev('Warning', 'Failed', `Error: ${msg}`, c.name);
      await this.sleep(this.k.backoff(1));
      return -2;
    }
    let rc: RunningContainer;
    try {
      rc = await this.k.runtime.start({ pod: this.pod, container: c, env, restartCount: st.restartCount, hosts: this.k.hostsFor(this.pod.metadata.namespace) });
    } catch (e) {
      const msg = (e as Error).message;
      st.state = { waiting: { reason: 'CreateContainerError', message: msg } };
      this.writeStatus();
      this.ev('Warning', 'Failed', `Error: ${msg}`, c.name);
      await this.sleep(this.k.backoff(1));
      return -2;
    }
    if (this.stopped) {
      await rc.remove().catch(() => {});
      return -1;
    }
    // Keep the last terminated instance for `logs --previous`; older ones go (after the pointers moved, so a
    // concurrent log request never sees a removed container).
    const older = st.previous;
    st.previous = st.current;
    st.current = rc;
    if (older) await older.remove().catch(() => {});
    st.containerID = `${this.k.runtime.name}://${rc.id}`;
    this.podIP ??= rc.ip;
    this.ev('Normal', 'Created', `Created container: ${c.name}`, c.name);
    this.ev('Normal', 'Started', `Started container ${c.name}`, c.name);
    const startedAt = now();
    st.state = { running: { startedAt } };
    st.started = true;
    st.ready = !isInit && !c.readinessProbe;
    this.writeStatus();
    let exited = false;
    let livenessKilled = false;
    const probeLoop = async (probe: KObj | undefined, kind: 'readiness' | 'liveness') => {
      if (!probe || isInit) return;
      await this.sleep((probe.initialDelaySeconds ?? 0) * 1000);
      let fails = 0;
      let oks = 0;
      while (!exited && !this.stopped) {
        const r = await rc.probe(probe, c, kind).catch((e: Error) => ({ ok: false, message: e.message }));
        if (exited || this.stopped) return;
        if (r.ok) {
          fails = 0;
          oks++;
          if (kind === 'readiness' && oks >= (probe.successThreshold ?? 1) && !st.ready) {
            st.ready = true;
            this.writeStatus();
          }
        } else {
          oks = 0;
          fails++;
          this.ev('Warning', 'Unhealthy', `${kind === 'readiness' ? 'Readiness' : 'Liveness'} probe failed: ${r.message}`, c.name);
          if (fails >= (probe.failureThreshold ?? 3)) {
            if (kind === 'readiness' && st.ready) {
              st.ready = false;
              this.writeStatus();
            }
            if (kind === 'liveness') {
              this.ev('Normal', 'Killing', `Container ${c.name} failed liveness probe, will be restarted`, c.name);
              livenessKilled = true;
              await rc.kill().catch(() => {});
              return;
            }
          }
        }
        await this.sleep((probe.periodSeconds ?? 10) * 1000);
      }
    };
    void probeLoop(c.readinessProbe, 'readiness');
    void probeLoop(c.livenessProbe, 'liveness');
    const stopWait = new Promise<{ exitCode: number; reason?: string }>((resolve) => {
      const i = setInterval(() => {
        if (this.stopped) {
          clearInterval(i);
          resolve({ exitCode: -1 });
        }
      }, 200);
      void rc.exited.finally(() => clearInterval(i));
    });
    const res = await Promise.race([rc.exited, stopWait]);
    exited = true;
    if (this.stopped) return -1;
    st.ready = false;
    st.state = { terminated: { exitCode: res.exitCode, reason: res.exitCode === 0 ? 'Completed' : livenessKilled ? 'Error' : res.reason ?? 'Error', startedAt, finishedAt: now(), containerID: st.containerID } };
    this.writeStatus();
    return res.exitCode;
  }

  private async containerLoop(c: KObj, st: CState) {
    const policy = this.pod.spec.restartPolicy ?? 'Always';
    for (;;) {
      const code = await this.runContainer(c, st, false);
      if (this.stopped || code === -1) return;
      if (code === -2) continue; // config error: retried after a back-off
      if (policy === 'Never' || (policy === 'OnFailure' && code === 0)) return;
      st.restartCount++;
      st.lastState = st.state;
      const delay = this.k.backoff(st.restartCount);
      st.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${c.name} pod=${this.pod.metadata.name}_${this.pod.metadata.namespace}(${this.pod.metadata.uid})` } };
      this.writeStatus();
      this.ev('Warning', 'BackOff', `Back-off restarting failed container ${c.name} in pod ${this.pod.metadata.name}_${this.pod.metadata.namespace}(${this.pod.metadata.uid})`, c.name);
      await this.sleep(delay);
    }
  }
}

export class Kubelet {
  private workers = new Map<string, PodWorker>();
  private unsubscribe?: () => void;
  private tick?: NodeJS.Timeout;

  constructor(readonly api: Api, readonly rec: Recorder, readonly runtime: Runtime, readonly timing: KubeletTiming) {}

  backoff(n: number): number {
    return Math.min(this.timing.backoffMaxMs, this.timing.backoffInitialMs * 2 ** Math.max(0, n - 1));
  }

  start() {
    this.api.gracefulPods = (p) => this.workers.has(p.metadata.uid) && !this.workers.get(p.metadata.uid)!.stopped;
    this.unsubscribe = this.api.store.subscribe((ev) => {
      if (ev.key !== '/pods') return;
      if (ev.type === 'DELETED') {
        const w = this.workers.get(ev.obj.metadata.uid);
        if (w) {
          this.workers.delete(ev.obj.metadata.uid);
          void w.stop();
        }
      } else if (ev.obj.metadata.deletionTimestamp) {
        // Graceful deletion: stop the containers, then the pod object goes.
        const w = this.workers.get(ev.obj.metadata.uid);
        if (w && !w.stopped) {
          void w.stop(ev.obj.metadata.deletionGracePeriodSeconds ?? 30).then(() => {
            this.workers.delete(ev.obj.metadata.uid);
            const cur = this.api.store.get(POD, ev.obj.metadata.namespace, ev.obj.metadata.name);
            if (cur && cur.metadata.uid === ev.obj.metadata.uid) this.api.store.delete(POD, cur.metadata.namespace, cur.metadata.name);
          });
        }
      } else if (!this.workers.has(ev.obj.metadata.uid) && ev.type === 'ADDED') {
        setImmediate(() => this.startWorker(ev.obj));
      }
    });
    for (const p of this.api.store.list(POD)) this.startWorker(p);
  }
  private startWorker(p: KObj) {
    if (this.workers.has(p.metadata.uid)) return;
    if (!this.api.store.get(POD, p.metadata.namespace, p.metadata.name)) return;
    const w = new PodWorker(this, p);
    this.workers.set(p.metadata.uid, w);
    void w.run().catch((e) => process.stderr.write(`[kube-standin] pod ${w.key}: ${(e as Error).stack}\n`));
  }
  async stop() {
    this.unsubscribe?.();
    clearInterval(this.tick);
    await Promise.all([...this.workers.values()].map((w) => w.stop()));
    this.workers.clear();
  }

  /** Environment as the kubelet builds it: service links, envFrom, env (with valueFrom). */
  resolveEnv(pod: KObj, c: KObj, podIP: string | undefined): [string, string][] {
    const ns = pod.metadata.namespace;
    const out = new Map<string, string>();
    if (pod.spec.enableServiceLinks !== false) {
      for (const s of this.api.store.list(byKind('Service'), ns)) {
        if (!s.spec?.clusterIP || s.spec.clusterIP === 'None') continue;
        const n = s.metadata.name.toUpperCase().replace(/-/g, '_');
        const port = s.spec.ports?.[0]?.port;
        out.set(`${n}_SERVICE_HOST`, s.spec.clusterIP);
        if (port) out.set(`${n}_SERVICE_PORT`, String(port));
      }
    }
    const getRef = (kind: 'ConfigMap' | 'Secret', name: string, optional: boolean): KObj | undefined => {
      const o = this.api.store.get(byKind(kind), ns, name);
      if (!o && !optional) throw new Error(`${kind.toLowerCase()} "${name}" not found`);
      return o;
    };
    const decode = (kind: string, v: string) => (kind === 'Secret' ? Buffer.from(v, 'base64').toString('utf8') : v);
    for (const ef of c.envFrom ?? []) {
      const kind = ef.configMapRef ? 'ConfigMap' : 'Secret';
      const ref = ef.configMapRef ?? ef.secretRef;
      const o = getRef(kind, ref.name, !!ref.optional);
      for (const [k, v] of Object.entries((o?.data ?? {}) as Record<string, string>)) out.set(`${ef.prefix ?? ''}${k}`, decode(kind, v));
    }
    for (const e of c.env ?? []) {
      if (e.value !== undefined) out.set(e.name, String(e.value).replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m: string, v: string) => out.get(v) ?? m));
      else if (e.valueFrom?.configMapKeyRef || e.valueFrom?.secretKeyRef) {
        const kind = e.valueFrom.configMapKeyRef ? 'ConfigMap' : 'Secret';
        const ref = e.valueFrom.configMapKeyRef ?? e.valueFrom.secretKeyRef;
        const o = getRef(kind, ref.name, !!ref.optional);
        const v = o?.data?.[ref.key];
        if (v === undefined && !ref.optional) throw new Error(`couldn't find key ${ref.key} in ${kind} ${ns}/${ref.name}`);
        if (v !== undefined) out.set(e.name, decode(kind, v));
      } else if (e.valueFrom?.fieldRef) {
        const path: string = e.valueFrom.fieldRef.fieldPath;
        const m = path.match(/^metadata\.(labels|annotations)\['(.*)'\]$/);
        const v = m ? pod.metadata[m[1]!]?.[m[2]!]
          : path === 'status.podIP' ? podIP
          : path === 'status.hostIP' ? HOST_IP
          : path === 'spec.nodeName' ? NODE_NAME
          : path.split('.').reduce((o: any, k) => o?.[k], pod);
        out.set(e.name, v === undefined ? '' : String(v));
      }
    }
    return [...out];
  }

  /** Routes Service ports to target ports (docker runtime); without it, names point at one endpoint pod. */
  serviceProxy?: ServiceProxy;

  /** Service DNS names of a namespace: the Service's proxy IP, else one ready endpoint pod. */
  hostsFor(ns: string): [string, string][] {
    const out: [string, string][] = [];
    for (const s of this.api.store.list(byKind('Service'), ns)) {
      const ep = this.api.store.get(byKind('Endpoints'), ns, s.metadata.name);
      const ip = this.serviceProxy?.ipFor(ns, s.metadata.name) ?? ep?.subsets?.[0]?.addresses?.[0]?.ip;
      if (!ip) continue;
      for (const n of [s.metadata.name, `${s.metadata.name}.${ns}`, `${s.metadata.name}.${ns}.svc`, `${s.metadata.name}.${ns}.svc.cluster.local`]) out.push([n, ip]);
    }
    return out;
  }

  async logs(ns: string, name: string, opts: LogOptions): Promise<string> {
    const pod = this.api.store.mustGet(POD, ns, name);
    const w = this.workers.get(pod.metadata.uid);
    const names = (pod.spec.containers ?? []).map((c: KObj) => c.name);
    const container = opts.container ?? (names.length === 1 ? names[0] : undefined);
    if (!container) throw new ApiError(400, 'BadRequest', `a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]`);
    if (!names.includes(container)) throw new ApiError(400, 'BadRequest', `container ${container} is not valid for pod ${name}`);
    const st = w?.containers.get(container);
    const rc = opts.previous ? st?.previous : st?.current;
    if (!rc) {
      if (opts.previous) throw new ApiError(400, 'BadRequest', `previous terminated container "${container}" in pod "${name}" not found`);
      const waiting = st?.state.waiting;
      throw new ApiError(400, 'BadRequest', `container "${container}" in pod "${name}" is waiting to start: ${waiting?.reason === 'ImagePullBackOff' || waiting?.reason === 'ErrImagePull' ? 'trying and failing to pull image' : (waiting?.reason ?? 'ContainerCreating')}`);
    }
    return rc.logs({ tailLines: opts.tailLines, timestamps: opts.timestamps }).catch((e: Error) => {
      throw new ApiError(400, 'BadRequest', `unable to retrieve container logs for ${st?.containerID ?? container}: ${e.message}`);
    });
  }

  /** For assertions: is the pod ready according to the store. */
  static ready(p: KObj) {
    return podReady(p);
  }
}
