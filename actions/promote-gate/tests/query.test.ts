/**
 * The query modes (status, last-validated, fail) with real Octokit against the GitHub stand-in,
 * after a sequence of deploys, a failed one and a rollback recorded by `record` itself.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { Inputs, runContextFrom, mapInputs, recordingIO, type Outputs } from '@deploy-actions/action-kit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startGithubStandin, type GithubStandin } from '../../../test/standins/github';
import { main } from '../src/cli';
import { getAnyInputs, loadMode } from '../src/modes';
import type { EnvironmentStatus } from '../src/status';

const REPO = 'team/orders';
const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const D3 = `sha256:${'3'.repeat(64)}`;
const S1 = 'a'.repeat(40);
const S2 = 'b'.repeat(40);
const S3 = 'c'.repeat(40);

let gh: GithubStandin;
beforeAll(async () => {
  gh = await startGithubStandin({
    tokens: {
      writer: { permissions: { deployments: 'write', actions: 'read' } },
      reader: { permissions: { deployments: 'read', actions: 'read' } },
      blind: { permissions: { deployments: 'read' } },
    },
  });
});
afterAll(() => gh.stop());

async function gate(w: Record<string, string>, o: { runId?: number; sha?: string; token?: string; approver?: string; env?: string } = {}) {
  const runId = o.runId ?? 1;
  if (o.approver) gh.state.approvals.push({ repo: 'acme/sample-service', runId, environments: [o.env ?? w.environment!], state: 'approved', login: o.approver, comment: '' });
  const env = {
    GITHUB_API_URL: gh.url,
    GITHUB_REPOSITORY: 'acme/sample-service',
    GITHUB_SHA: o.sha ?? S1,
    GITHUB_REF: 'refs/heads/main',
    GITHUB_RUN_ID: String(runId),
    GITHUB_WORKFLOW: 'pipeline',
    GITHUB_ACTOR: 'dev',
    GITHUB_SERVER_URL: 'https://github.com',
  };
  const io = recordingIO();
  const inputs = getAnyInputs(new Inputs(mapInputs({ 'github-token': o.token ?? 'writer', repository: REPO, evidence: 'github', ...w })), env, runContextFrom(env));
  const { run, realDeps } = await loadMode(inputs);
  const outputs: Outputs = await run(inputs, realDeps(io, inputs));
  return { outputs, io };
}
const record = (environment: string, digest: string, sha: string, runId: number, approver?: string) =>
  gate({ mode: 'record', environment, digest, sha }, { runId, sha, approver });
const status = async (token = 'reader') =>
  JSON.parse(String((await gate({ mode: 'status' }, { token })).outputs.status)) as EnvironmentStatus[];
const by = (view: EnvironmentStatus[], env: string) => view.find((s) => s.environment === env)!;

describe('after deploys, a failure and a rollback', () => {
  test('deploys: each environment runs what was recorded last, approvers and what waits', async () => {
    await record('qa', D1, S1, 11);
    await record('preprod', D1, S1, 12, 'alice');
    let view = await status();
    expect(by(view, 'qa').running).toMatchObject({ digest: D1, sha: S1, runId: '11', runUrl: 'https://github.com/acme/sample-service/actions/runs/11' });
    expect(by(view, 'preprod')).toMatchObject({ running: { digest: D1 }, approvedBy: 'alice' });
    expect(by(view, 'production').running).toBeUndefined();
    expect(by(view, 'production').waiting).toMatchObject({ digest: D1, sha: S1 });

    await record('production', D1, S1, 13, 'bob');
    await record('preprod', D2, S2, 14, 'alice');
    await record('production', D2, S2, 15, 'bob');
    view = await status();
    expect(by(view, 'production')).toMatchObject({ running: { digest: D2, sha: S2, state: 'success' }, approvedBy: 'bob' });
    expect(by(view, 'production').waiting).toBeUndefined();
    expect(by(view, 'preprod').waiting).toMatchObject({ digest: D1 }); // qa runs D1, preprod D2
  });

  test('a failed deploy: production keeps showing what runs, and the failed attempt', async () => {
    await record('preprod', D3, S3, 16, 'alice');
    // The bake breach of D3 in production: mark-failed creates a failure-only record.
    const failed = await gate({ mode: 'fail', environment: 'production', digest: D3, sha: S3, description: "alarm 'orders-5xx' is ALARM" }, { runId: 17 });
    expect(failed.outputs['deployment-id']).not.toBe('');
    const view = await status();
    const prod = by(view, 'production');
    expect(prod.running).toMatchObject({ digest: D2 });
    expect(prod.failed).toMatchObject({ digest: D3, state: 'failure', stateDescription: "alarm 'orders-5xx' is ALARM" });
    // D2 runs again since the breach of D3 (its rollback), not since it was recorded.
    expect(prod.since).toBe(prod.failed!.stateAt);
    expect(prod.since! > prod.running!.recordedAt).toBe(true);
    // preprod runs D3, but D3 failed in production: it does not wait for promotion there.
    expect(prod.waiting).toBeUndefined();
  });

  test('last-validated looks past the running digest and past failed ones', async () => {
    // Before the rollback: production runs D2; D3 failed; D1 was superseded (inactive) but validated.
    const t = await gate({ mode: 'last-validated', environment: 'production' }, { token: 'reader' });
    expect(t.outputs).toMatchObject({ found: true, digest: D1, sha: S1, 'image-ref': `${REPO}@${D1}`, 'validated-by': 'dev', 'approved-by': 'bob' });
    // The bake of D3 looks past D3 itself: D2.
    const bake = await gate({ mode: 'last-validated', environment: 'production', digest: D3 }, { token: 'reader' });
    expect(bake.outputs.digest).toBe(D2);
  });

  test('a rollback: re-recorded target runs, the release rolled away from is failed and skipped', async () => {
    await record('production', D1, S1, 18, 'carol');
    await gate({ mode: 'fail', environment: 'production', digest: D2, sha: S2, description: 'rolled back to D1 by carol' }, { runId: 18 });
    const view = await status();
    const prod = by(view, 'production');
    expect(prod).toMatchObject({ running: { digest: D1, runId: '18' }, approvedBy: 'carol' });
    expect(prod.waiting).toBeUndefined();
    // Nothing validated is left but what runs.
    const none = await gate({ mode: 'last-validated', environment: 'production', required: 'false' }, { token: 'reader' });
    expect(none.outputs.found).toBe(false);
    await expect(gate({ mode: 'last-validated', environment: 'production' }, { token: 'reader' })).rejects.toThrow(
      `No validated release of ${REPO} in production other than ${D1}`,
    );
    const summary = (await gate({ mode: 'status' }, { token: 'reader' })).io.summaries.join('\n');
    expect(summary).toContain('| production | `111111111111` aaaaaaa |');
    // The chain above the table, as the release card draws it: what each environment runs; the
    // release waiting nearest production (preprod's D3 waits nowhere: it failed in production; qa's D1 waits in preprod).
    expect(summary).toMatch(/```mermaid\nflowchart LR\n {2}e0\["qa<br\/>111111111111(, [^"]+)?"\]\n {2}e1\["preprod<br\/>333333333333(, [^"]+)?"\]\n {2}e2\["production<br\/>111111111111(, [^"]+)?"\]/);
    expect(summary).toMatch(/c\(\["candidate<br\/>111111111111 aaaaaaa"\]\)\n {2}c -\. "awaits promotion" \.-> e1/);
  });

  test('the laptop command (pnpm status) prints the same view', async () => {
    const { stdout } = await promisify(execFile)('pnpm', ['status', '--repo', 'acme/sample-service', '--repository', REPO], {
      cwd: new URL('../../..', import.meta.url).pathname,
      env: { ...process.env, GITHUB_TOKEN: 'reader', GITHUB_API_URL: gh.url },
    });
    expect(stdout).toContain(`production: ${D1} (commit ${S1}) since `);
    expect(stdout).toContain('approved by carol');
    // production: D3 failed there, so it does not wait; preprod: qa runs D1.
    expect(stdout).not.toContain(`waiting to be promoted: ${D3}`);
    expect(stdout).toContain(`  waiting to be promoted: ${D1} (commit ${S1})`);
    const err: string[] = [];
    expect(await main(['--repo', 'acme/sample-service'], { GITHUB_TOKEN: 'reader' }, { out: () => undefined, err: (l) => void err.push(l) })).toBe(1);
    expect(err).toEqual(["error: --repository must be an ECR repository name like team/service (got '')"]);
  });

  test('pnpm status --card prints the card kept with what runs, and says an unsigned record is display only', async () => {
    const card = '## Release card: orders to qa\n\nwhat the reviewers saw';
    const hash = `sha256:${createHash('sha256').update(card, 'utf8').digest('hex')}`;
    const D4 = `sha256:${'4'.repeat(64)}`;
    await gate({ mode: 'record', environment: 'qa', digest: D4, sha: 'd'.repeat(40), 'card-sha256': hash, card }, { runId: 19, sha: 'd'.repeat(40) });
    const out: string[] = [];
    expect(await main(['--repo', 'acme/sample-service', '--repository', REPO, '--card', 'qa'], { GITHUB_TOKEN: 'reader', GITHUB_API_URL: gh.url }, { out: (l) => void out.push(l), err: () => undefined })).toBe(0);
    const printed = out.join('\n');
    expect(printed).toContain(`\nqa runs ${D4} (commit ddddddd, deployment `);
    expect(printed).toContain(`release card:\n\n${card}\n\ncard ${hash}: UNSIGNED record, display only`);
    const err: string[] = [];
    expect(await main(['--repo', 'acme/sample-service', '--repository', REPO, '--card', 'staging'], { GITHUB_TOKEN: 'reader' }, { out: () => undefined, err: (l) => void err.push(l) })).toBe(1);
    expect(err).toEqual(["error: --card must name one of the environments qa, preprod, production (got 'staging')"]);
  });

  test('a token that cannot read run reviews still gets the view', async () => {
    const view = await status('blind');
    expect(by(view, 'production').approvedBy).toMatch(/unknown.*actions: read/);
  });

  test.each([
    [{ mode: 'status', environments: 'qa,pro duction' }, "Input 'environments'"],
    [{ mode: 'fail', environment: 'production' }, "Input 'digest' is required"],
    [{ mode: 'last-validated' }, "Input 'environment' is required"],
    [{ mode: 'status', repository: 'Team/X' }, "Input 'repository'"],
  ])('bad input %j fails naming it', (w, message) => {
    expect(() => getAnyInputs(new Inputs(mapInputs({ 'github-token': 't', repository: REPO, ...w })), {}, runContextFrom({ GITHUB_REPOSITORY: 'acme/x' }))).toThrow(message);
  });
});
