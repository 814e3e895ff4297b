/** Helpers for executor tests: a throw-away repository of workflow files and a push event. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
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
