/**
 * The single file a release attaches (dist/deploy-setup.mjs, built by `pnpm build` and committed,
 * checked for drift like the actions' bundles), run as a user runs it: copied alone into an empty
 * directory with the environments file, by node with nothing but PATH to node, no node_modules.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { EXAMPLE_DIR, EXAMPLE_FILE } from '../../src/setup/example';

const BUNDLE = fileURLToPath(new URL('../../dist/deploy-setup.mjs', import.meta.url));
const node = process.env.DEPLOY_ACTIONS_TEST_NODE ?? process.execPath;

async function runAlone(args: string[]): Promise<{ code: number; stdout: string; stderr: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'da-deploy-setup-'));
  copyFileSync(BUNDLE, join(dir, 'deploy-setup.mjs'));
  copyFileSync(EXAMPLE_FILE, join(dir, 'environments.yml'));
  const r = await promisify(execFile)(node, ['deploy-setup.mjs', ...args], { cwd: dir, env: { PATH: dirname(node) }, timeout: 60_000 }).then(
    (o) => ({ code: 0, ...o }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
  return { ...r, dir };
}

describe('dist/deploy-setup.mjs alone, with only node', () => {
  test('generate --offline writes the templates of workflows/aws/ byte for byte', async () => {
    expect(existsSync(BUNDLE), 'run pnpm build').toBe(true);
    const r = await runAlone(['generate', '--offline', '--repo-ids', 'acme/sample-service=190000001/1041000001', '--file', 'environments.yml', '--out', 'aws']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/deploy-actions-production: account 333333333333 eu-west-1, \d+ resources -> aws\/production\.template\.json/);
    const written = readdirSync(join(r.dir, 'aws')).sort();
    expect(written).toEqual(readdirSync(EXAMPLE_DIR).sort());
    for (const f of written.filter((n) => n !== 'stacks.json')) expect(readFileSync(join(r.dir, 'aws', f), 'utf8'), f).toBe(readFileSync(join(EXAMPLE_DIR, f), 'utf8'));
    // stacks.json names the file it was generated from.
    expect(JSON.parse(readFileSync(join(r.dir, 'aws', 'stacks.json'), 'utf8'))).toEqual({ ...JSON.parse(readFileSync(join(EXAMPLE_DIR, 'stacks.json'), 'utf8')), source: 'environments.yml' });
  }, 90_000);

  test('bad input: one line naming it, exit 1, nothing written', async () => {
    const r = await runAlone(['generate', '--offline', '--file', 'environments.yml', '--out', 'aws']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('error: --offline: give the ids of acme/sample-service with --repo-ids acme/sample-service=OWNER_ID/REPO_ID (services.sample-service.repository)');
    expect(existsSync(join(r.dir, 'aws'))).toBe(false);
  }, 90_000);
});
