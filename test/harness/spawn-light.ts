/**
 * Starting a process from a small process instead of the test worker. Linux's fork (libuv's
 * spawn) copies the page tables of the process that forks, and the parent waits until the child
 * has exec'd: from a vitest worker of about 250 MB during a pipeline file that was 7.6-23 ms of
 * CPU per process (test/README.md, "Where the time goes"), for every action bundle, `run:`
 * script and git command the harness, the executor and the checkout double start, thousands per
 * run. `spawnLight` asks one long-lived helper per worker (spawn-server.mjs, a bare node
 * process) to spawn it and relays its output, exit and signals: the same process, the same argv,
 * cwd and environment, stdin ignored, stdout and stderr piped, as `spawn` with
 * `stdio: ['ignore', 'pipe', 'pipe']` gives.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';

/** What callers use of a ChildProcess: its output, its end, and signals. */
export interface LightChild extends EventEmitter {
  readonly stdout: PassThrough;
  readonly stderr: PassThrough;
  /** Set once it has started ('spawn'). */
  pid: number | undefined;
  /** Like ChildProcess.kill: false once it has exited. */
  kill(signal?: NodeJS.Signals): boolean;
}

type ServerMessage =
  | { t: 'spawn'; id: number; pid: number }
  | { t: 'out'; id: number; fd: 1 | 2; data: Uint8Array }
  | { t: 'exit' | 'close'; id: number; code: number | null; signal: NodeJS.Signals | null }
  | { t: 'error'; id: number; error: { message: string; code?: string; errno?: number; syscall?: string; path?: string } };

interface Pending {
  child: LightChild;
  exited: boolean;
}

let server: ChildProcess | undefined;
const pending = new Map<number, Pending>();
let nextId = 1;

function helper(): ChildProcess {
  if (server?.connected) return server;
  // No execArgv: vitest's flags (a --cpu-prof, loaders) are not the helper's.
  const started = fork(new URL('./spawn-server.mjs', import.meta.url), [], { serialization: 'advanced', execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  started.on('message', (m: ServerMessage) => deliver(m));
  started.on('exit', () => {
    if (server === started) server = undefined;
    // Children it had not reported on: their end is unknown; say so rather than wait forever.
    for (const [id, p] of pending) {
      pending.delete(id);
      p.child.emit('error', new Error('the spawn helper exited before its child did'));
    }
  });
  started.unref();
  started.channel?.unref();
  server = started;
  return started;
}

function deliver(m: ServerMessage): void {
  const p = pending.get(m.id);
  if (!p) return;
  const { child } = p;
  switch (m.t) {
    case 'spawn':
      child.pid = m.pid;
      child.emit('spawn');
      break;
    case 'out':
      (m.fd === 1 ? child.stdout : child.stderr).write(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength));
      break;
    case 'exit':
      p.exited = true;
      child.emit('exit', m.code, m.signal);
      break;
    case 'close':
      settle(m.id);
      child.stdout.end();
      child.stderr.end();
      // After the streams' own 'end', as a ChildProcess's 'close' comes after its stdio closed.
      setImmediate(() => child.emit('close', m.code, m.signal));
      break;
    case 'error': {
      settle(m.id);
      const error = Object.assign(new Error(m.error.message), m.error);
      child.emit('error', error);
      break;
    }
  }
}

function settle(id: number): void {
  pending.delete(id);
  if (pending.size === 0) server?.channel?.unref();
}

/** `spawn(file, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })`, started by the helper. */
export function spawnLight(file: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv }): LightChild {
  const id = nextId++;
  const via = helper();
  const p: Pending = { child: undefined as unknown as LightChild, exited: false };
  const child = Object.assign(new EventEmitter(), {
    stdout: new PassThrough(),
    stderr: new PassThrough(),
    pid: undefined as number | undefined,
    kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
      if (p.exited || !pending.has(id)) return false;
      via.send({ t: 'kill', id, signal });
      return true;
    },
  });
  p.child = child;
  pending.set(id, p);
  via.channel?.ref();
  via.send({ t: 'spawn', id, file, args, cwd: opts.cwd ?? process.cwd(), env: { ...(opts.env ?? process.env) } });
  return child;
}

/** `execFile` promisified, through the helper: resolves with the output on exit code 0, else rejects with `code`, `signal`, `stdout`, `stderr`. */
export function execFileLight(file: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv }): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawnLight(file, args, opts);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0) resolve({ stdout, stderr });
      else reject(Object.assign(new Error(`Command failed: ${[file, ...args].join(' ')}\n${stderr}`), { code, signal, stdout, stderr }));
    });
  });
}
