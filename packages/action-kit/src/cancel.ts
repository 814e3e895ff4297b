/**
 * A cancelled job. The runner signals the action (SIGINT, then SIGTERM a few seconds later,
 * then kills it); Node's default is to die at once, leaving behind whatever the action was
 * about to clean up (a docker config holding a registry password) and its child processes.
 * An action that registers a cleanup here gets, on the first signal: its cleanups run, every
 * child started through `exec` sent SIGTERM, the step failed with one line, and the exit.
 */
import type { ChildProcess } from 'node:child_process';
import { issueCommand } from './commands';

const cleanups = new Set<() => void>();
/** Children started through `exec` that have not exited yet. */
export const liveChildren = new Set<ChildProcess>();
let installed = false;

function cancelled(signal: NodeJS.Signals): void {
  for (const child of liveChildren) child.kill('SIGTERM');
  for (const cleanup of cleanups) {
    try {
      cleanup();
    } catch (err) {
      issueCommand('warning', `Cleanup after ${signal} failed: ${(err as Error).message}`);
    }
  }
  issueCommand('error', `Cancelled (${signal}): child processes stopped, temporary credentials removed`);
  process.exit(1);
}

/**
 * Runs `cleanup` (synchronous: it runs from a signal handler) if the process is cancelled before
 * the returned function unregisters it. The first registration installs the signal handlers.
 */
export function onCancel(cleanup: () => void): () => void {
  if (!installed) {
    installed = true;
    process.once('SIGINT', cancelled);
    process.once('SIGTERM', cancelled);
  }
  cleanups.add(cleanup);
  return () => void cleanups.delete(cleanup);
}
