// The process that starts the test worker's children (test/harness/spawn-light.ts says why).
// Plain JavaScript, node:child_process only: it starts in tens of milliseconds and stays small,
// so each fork it makes copies little. One message in, messages out, in the order they happen:
//   in:  { t: 'spawn', id, file, args, cwd, env } | { t: 'kill', id, signal }
//   out: { t: 'spawn', id, pid } | { t: 'out', id, fd: 1 | 2, data } | { t: 'exit' | 'close', id, code, signal }
//        | { t: 'error', id, error: { message, code, errno, syscall, path } }
// Its children outlive it as they would outlive the worker (it exits when the worker goes).
import { spawn } from 'node:child_process';

const children = new Map();
const send = (message) => {
  if (process.connected) process.send(message);
};

process.on('message', (m) => {
  if (m.t === 'kill') {
    children.get(m.id)?.kill(m.signal);
    return;
  }
  const { id } = m;
  let child;
  try {
    child = spawn(m.file, m.args, { cwd: m.cwd, env: m.env, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    send({ t: 'error', id, error: { message: e.message, code: e.code } });
    return;
  }
  children.set(id, child);
  child.on('spawn', () => send({ t: 'spawn', id, pid: child.pid }));
  child.stdout.on('data', (data) => send({ t: 'out', id, fd: 1, data }));
  child.stderr.on('data', (data) => send({ t: 'out', id, fd: 2, data }));
  child.on('error', (e) => {
    children.delete(id);
    send({ t: 'error', id, error: { message: e.message, code: e.code, errno: e.errno, syscall: e.syscall, path: e.path } });
  });
  child.on('exit', (code, signal) => send({ t: 'exit', id, code, signal }));
  child.on('close', (code, signal) => {
    children.delete(id);
    send({ t: 'close', id, code, signal });
  });
});
process.on('disconnect', () => process.exit(0));
