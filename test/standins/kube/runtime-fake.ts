// Fast runtime: nothing runs. Image existence is checked against the registry's HTTP API; behaviour is scripted
// per image (options) or per pod (annotations `standin.deploy-actions/fake-*`).
import { randomBytes } from 'node:crypto';
import { type PullResult, type RegistryConfig, type RunningContainer, type Runtime, type StartSpec, registryHasManifest } from './runtime';
import type { KObj } from './store';

export const FAKE_ANNOTATION_PREFIX = 'standin.deploy-actions/fake-';

/** Scripted behaviour of a fake container. Annotations use the same names in kebab case (e.g. fake-exit-code). */
export interface FakeBehaviour {
  /** Exit with this code after exitAfterMs. Default: containers of restartPolicy Always pods run forever; others exit 0. */
  exitCode?: number;
  exitAfterMs?: number;
  /** Delay before the container counts as started. */
  startDelayMs?: number;
  /** Readiness probe fails until this long after start. */
  readyDelayMs?: number;
  /** 'fail': the readiness probe always fails. */
  readiness?: 'pass' | 'fail';
  /** 'fail': the liveness probe always fails. */
  liveness?: 'pass' | 'fail';
  /** Text the container "writes" to its log when it starts. */
  log?: string;
}

export interface FakeOptions {
  /** Behaviour by image reference (exact string as in the pod spec). */
  images?: Record<string, FakeBehaviour>;
  /** Pull duration (ms), default 5. */
  pullDelayMs?: number;
}

function behaviour(pod: KObj, image: string, opts: FakeOptions): FakeBehaviour {
  const b: FakeBehaviour = { ...(opts.images?.[image] ?? {}) };
  const a: Record<string, string> = pod.metadata.annotations ?? {};
  const num = (k: string) => (a[FAKE_ANNOTATION_PREFIX + k] !== undefined ? Number(a[FAKE_ANNOTATION_PREFIX + k]) : undefined);
  b.exitCode = num('exit-code') ?? b.exitCode;
  b.exitAfterMs = num('exit-after-ms') ?? b.exitAfterMs;
  b.startDelayMs = num('start-delay-ms') ?? b.startDelayMs;
  b.readyDelayMs = num('ready-delay-ms') ?? b.readyDelayMs;
  b.readiness = (a[FAKE_ANNOTATION_PREFIX + 'readiness'] as FakeBehaviour['readiness']) ?? b.readiness;
  b.liveness = (a[FAKE_ANNOTATION_PREFIX + 'liveness'] as FakeBehaviour['liveness']) ?? b.liveness;
  b.log = a[FAKE_ANNOTATION_PREFIX + 'log'] ?? b.log;
  return b;
}

let ipCounter = 2;

export class FakeRuntime implements Runtime {
  readonly name = 'fake' as const;
  constructor(private registry: RegistryConfig | undefined, private opts: FakeOptions = {}) {}

  async pull(image: string): Promise<PullResult> {
    await new Promise((r) => setTimeout(r, this.opts.pullDelayMs ?? 5));
    if (!this.registry) return { ok: true, imageID: image, ms: this.opts.pullDelayMs ?? 5 };
    return registryHasManifest(this.registry, image);
  }

  async start(spec: StartSpec): Promise<RunningContainer> {
    const b = behaviour(spec.pod, spec.container.image, this.opts);
    if (b.startDelayMs) await new Promise((r) => setTimeout(r, b.startDelayMs));
    const startedAt = Date.now();
    const n = ipCounter++;
    const ip = `10.244.${Math.floor(n / 250)}.${(n % 250) + 1}`;
    const lines: string[] = [`${new Date().toISOString()} fake container ${spec.container.name} started (image ${spec.container.image}, restart ${spec.restartCount})`];
    if (b.log) lines.push(...b.log.split('\n'));
    const runsForever = b.exitCode === undefined && (spec.pod.spec.restartPolicy ?? 'Always') === 'Always';
    let kill: (code: number) => void = () => {};
    const exited = new Promise<{ exitCode: number; reason?: string }>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      kill = (code) => {
        clearTimeout(timer);
        resolve({ exitCode: code, reason: code === 137 ? 'Error' : undefined });
      };
      if (!runsForever) {
        const code = b.exitCode ?? 0;
        timer = setTimeout(() => {
          lines.push(`${new Date().toISOString()} fake container ${spec.container.name} exiting with code ${code}`);
          kill(code);
        }, b.exitAfterMs ?? 100);
      }
    });
    return {
      id: randomBytes(32).toString('hex'),
      ip,
      exited,
      async probe(_probe, _c, kind) {
        if (kind === 'readiness') {
          // A container scripted to exit never serves (unless readiness is explicitly 'pass').
          if (b.readiness === 'fail' || (b.exitCode !== undefined && b.readiness !== 'pass')) return { ok: false, message: 'HTTP probe failed with statuscode: 503' };
          if (b.readyDelayMs && Date.now() - startedAt < b.readyDelayMs) return { ok: false, message: `Get "http://${ip}/": dial tcp ${ip}: connect: connection refused` };
        }
        if (kind === 'liveness' && b.liveness === 'fail') return { ok: false, message: 'HTTP probe failed with statuscode: 500' };
        return { ok: true, message: '' };
      },
      async kill() {
        kill(137);
      },
      async stop() {
        kill(0);
      },
      async logs(o) {
        const out = o.tailLines !== undefined ? lines.slice(-o.tailLines) : lines;
        return out.map((l) => l + '\n').join('');
      },
      async remove() {
        kill(137);
      },
    };
  }

  async stopAll() {}
}
