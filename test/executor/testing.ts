/** Helpers for executor tests: a throw-away repository of workflow files and a push event. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { EnterResult } from './doubles/environments';
import type { ExecutorOptions, GithubEvent } from './model';
import { runWorkflow } from './workflow';

/** Writes files (path -> text) into a new temporary directory and returns it. */
export function tempTree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'da-exec-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

export function pushEvent(branch: string, sha = 'a'.repeat(40)): GithubEvent {
  const ref = `refs/heads/${branch}`;
  return { name: 'push', ref, sha, payload: { ref, before: '0'.repeat(40), after: sha } };
}

/**
 * Runs `.github/workflows/main.yml` of a temporary caller repository; `self` files (reusable
 * workflows, actions) live in another temporary tree served as org/deploy-actions.
 */
export async function runFiles(caller: Record<string, string>, self: Record<string, string> = {}, options: Partial<ExecutorOptions> = {}) {
  return runWorkflow({
    workflow: { path: '.github/workflows/main.yml' },
    event: pushEvent('main'),
    repository: { root: tempTree(caller), name: 'acme/svc' },
    selfRoot: tempTree(self),
    ...options,
  });
}

/** Polls until `ok()` (runs started side by side reach a state), or fails naming what it waited for. */
export async function waitFor(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > until) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Protection rules whose approvals the test gives: every `enter` waits until the test approves or
 * rejects the run of that actor. `trace` records, in order, what GitHub would show.
 */
export function heldApprovals(trace: string[] = []) {
  const waiting = new Map<string, (r: EnterResult) => void>();
  const environments: ExecutorOptions['environments'] = {
    enter: (req) =>
      new Promise<EnterResult>((resolve) => {
        trace.push(`${req.actor}: waiting for approval`);
        waiting.set(req.actor, resolve);
      }),
  };
  const deployments: ExecutorOptions['deployments'] = {
    actionsJob: async (o) => {
      trace.push(`deployment created (${o.environment})`);
      return { finish: async (state = 'success') => void trace.push(`deployment finished: ${state}`) };
    },
  };
  const answer = (actor: string, ok: boolean) => {
    waiting.get(actor)!(ok ? { ok: true, environment: 'production', approvedBy: 'reviewer', waitTimerMinutes: 0, vars: {}, secrets: {} } : { ok: false, environment: 'production', error: `Rejected by reviewer`, rejectedBy: 'reviewer' });
    waiting.delete(actor);
  };
  return { environments, deployments, waitingFor: (actor: string) => waiting.has(actor), approve: (a: string) => answer(a, true), reject: (a: string) => answer(a, false) };
}
