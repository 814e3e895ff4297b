/**
 * The release card end to end below the workflow: real git and real helm (the binaries the
 * tests use everywhere) on a copy of the sample chart, the evidence in the in-memory deployments
 * API, GitHub's compare and ECR behind fakes of their interfaces.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_KEYS } from '@deploy-actions/chart';
import { exec, recordingIO } from '@deploy-actions/action-kit';
import { ensureKubeTools } from '../../../test/tools/kube-binaries';
import { RECORDED_BY } from '../src/gate';
import type { Approval, ApprovalsApi } from '../src/approvals';
import { cardHash } from '../src/card/hash';
import type { Comparison } from '../src/card/commits';
import type { Finding, ImageFacts } from '../src/card/image';
import { runCard, type CardInputs } from '../src/card/mode';
import { CARD_BUDGET } from '../src/card/render';
import { helmRender, Unavailable, type RegistryApi } from '../src/card/sources';
import { fakeGithub } from './fakes';
import { manyTemplate } from './card-charts';

const REPO = 'team/sample-service';
const HOST = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const D = (c: string) => `sha256:${c.repeat(64)}`;
const sampleChart = join(__dirname, '../../../test/fixtures/sample-service/chart');

let helm = '';
let work = '';
const commits: Record<string, string> = {};
const git = (...args: string[]) => execFileSync('git', args, { cwd: work, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'Dev', GIT_AUTHOR_EMAIL: 'd@x', GIT_COMMITTER_NAME: 'Dev', GIT_COMMITTER_EMAIL: 'd@x' } }).trim();

const secretTemplate = `apiVersion: v1
kind: Secret
metadata:
  name: {{ .Release.Name }}-db
type: Opaque
data:
  password: {{ .Values.dbPassword | b64enc }}
  user: {{ "admin" | b64enc }}
`;

beforeAll(async () => {
  helm = (await ensureKubeTools()).newest.helm4;
  work = mkdtempSync(join(tmpdir(), 'card-repo-'));
  git('init', '-q', '-b', 'main');
  cpSync(sampleChart, join(work, 'chart'), { recursive: true });
  writeFileSync(join(work, 'chart/templates/many.yaml'), manyTemplate);
  writeFileSync(join(work, 'chart/values-ci.yaml'), 'many: 0\nmanyValue: a\ndbPassword: first-secret-value\nautoscaling:\n  enabled: false\n');
  git('add', '.');
  git('commit', '-q', '-m', 'A: the chart');
  commits.A = git('rev-parse', 'HEAD');
  writeFileSync(join(work, 'chart/templates/secret.yaml'), secretTemplate);
  writeFileSync(join(work, 'chart/values-ci.yaml'), 'many: 0\nmanyValue: a\ndbPassword: second-secret-value\nautoscaling:\n  enabled: false\nreplicaCount: 4\n');
  git('add', '.');
  git('commit', '-q', '-m', 'B: four replicas and a database secret (#7)');
  commits.B = git('rev-parse', 'HEAD');
}, 300_000);

function inputs(over: { environment?: string; digest: string; commit: string; requireEnvironment?: string; hotfix?: boolean; valuesFiles?: string[] }): CardInputs {
  const environment = over.environment ?? 'production';
  return {
    mode: 'card',
    subject: {
      release: 'sample-service',
      environment,
      requireEnvironment: over.requireEnvironment ?? (environment === 'production' ? 'preprod' : ''),
      environments: ['qa', 'preprod', 'production'],
      githubRepository: 'acme/sample-service',
      imageRepository: REPO,
      namespace: 'sample',
      digest: over.digest,
      commit: over.commit,
      hotfix: over.hotfix ?? false,
      bake: '10m after the rollout',
      alarms: 'sample-5xx',
      pending: `${environment} reviewers`,
    },
    chart: {
      release: 'sample-service',
      chart: 'chart',
      namespace: 'sample',
      environment,
      valuesFiles: over.valuesFiles ?? ['chart/values-ci.yaml'],
      set: [],
      setString: [],
      imageKeys: DEFAULT_KEYS,
      imageRepository: `${HOST}/${REPO}`,
    },
    region: 'eu-west-1',
    helm,
    token: 't',
    owner: 'acme',
    repo: 'sample-service',
    apiUrl: 'http://unused',
    workspace: work,
    evidenceKeys: {},
  };
}

async function record(gh: ReturnType<typeof fakeGithub>, environment: string, sha: string, digest: string, state = 'success', runId = '1') {
  const d = await gh.api.create({ ref: sha, environment, description: '', payload: { digest, repository: REPO, recorded_by: RECORDED_BY, run_url: `https://github.com/acme/sample-service/actions/runs/1${gh.deployments.length}`, run_id: runId, actor: 'dev' }, production_environment: false, transient_environment: true });
  await gh.api.createStatus(d.id, { state: state as 'success', description: '', auto_inactive: false });
}

/** GitHub's compare over the real git history of the test repository. */
const compare = {
  async compare(base: string, head: string): Promise<Comparison> {
    const ahead = git('rev-list', `${base}..${head}`).split('\n').filter(Boolean);
    const behind = git('rev-list', `${head}..${base}`).split('\n').filter(Boolean);
    const status = ahead.length && behind.length ? 'diverged' : ahead.length ? 'ahead' : behind.length ? 'behind' : 'identical';
    return {
      status,
      ahead_by: ahead.length,
      behind_by: behind.length,
      total_commits: ahead.length,
      commits: ahead.reverse().map((sha) => ({ sha, commit: { message: git('log', '-1', '--format=%B', sha), author: { name: 'Dev', date: '2026-12-01T00:00:00Z' } }, author: { login: 'dev' } })),
    };
  },
};

function registry(findings: Record<string, Finding[] | 'none'>): RegistryApi {
  const facts = (digest: string): ImageFacts => ({ size: digest === D('b') ? 5_300_000 : 5_000_000, layers: [{ digest: 'sha256:base', size: 4_000_000 }, { digest: `sha256:app-${digest.slice(7, 9)}`, size: digest === D('b') ? 1_300_000 : 1_000_000 }] });
  return {
    image: async (digest) => facts(digest),
    findings: async (digest) => {
      const f = findings[digest];
      if (!f || f === 'none') throw new Unavailable(`no scan of ${digest.slice(0, 19)}`);
      return f;
    },
  };
}

async function card(i: CardInputs, gh: ReturnType<typeof fakeGithub>, findings: Record<string, Finding[] | 'none'> = {}, approvals?: ApprovalsApi) {
  const io = recordingIO();
  const render = helmRender({ exec, helm, workspace: work, spec: i.chart });
  const out = await runCard(i, { io, github: gh.api, compare, registry: registry(findings), render, now: () => new Date('2026-12-07T12:00:00Z'), ...(approvals ? { approvals } : {}) });
  return { text: String(out.card), hash: String(out['card-sha256']), io };
}

describe('release card', () => {
  test('ordinary promotion: running and candidate, what let it through, commits, diff counts, a Secret by its keys only', async () => {
    const gh = fakeGithub();
    await record(gh, 'preprod', commits.A!, D('a'));
    await record(gh, 'production', commits.A!, D('a'));
    await record(gh, 'preprod', commits.B!, D('b'));
    const { text, hash, io } = await card(inputs({ digest: D('b'), commit: commits.B! }), gh, { [D('a')]: [{ id: 'CVE-1', severity: 'HIGH' }], [D('b')]: [{ id: 'CVE-2', severity: 'CRITICAL' }] });
    expect(text.startsWith('## Release card: sample-service to production\n\n```mermaid\nflowchart LR')).toBe(true);
    expect(hash).toBe(cardHash(text));
    expect(text).toContain(`| Running in production | \`${D('a')}\` | \`${commits.A!.slice(0, 7)}\``);
    expect(text).toMatch(/\| preprod \| success \(unsigned\) \|/);
    expect(text).toContain('1 commit(s) from what runs to the candidate');
    expect(text).toMatch(/B: four replicas and a database secret \(#7\) \| #7 \|/);
    expect(text).toContain('replicas Deployment/sample-service 3 → 4');
    expect(text).toMatch(/objects: 1 added, \d+ changed, 0 removed/);
    expect(text).toContain('Secret/sample-service-db: keys added password, user (values are never shown)');
    expect(text).not.toMatch(/second-secret-value|c2Vjb25kLXNlY3JldC12YWx1ZQ/);
    expect(text).toContain('-  replicas: 3\n+  replicas: 4');
    expect(text).toContain('Scan findings: new 1 CRITICAL; fixed 1 HIGH');
    expect(text).toContain('| Candidate | 5.1 MiB (+292.97 KiB) | 2 | 1 new (1.2 MiB), 1 dropped |'.replace('292.97 KiB', '293.0 KiB'));
    expect(text).toContain(`Rollback: a failed rollout or a breached bake goes back to \`${'a'.repeat(12)}\``);
    expect(io.summaries[0]).toContain(hash);
  });

  test('who approved, everywhere: the review history of each run the evidence names (running, what let it through, the rollback target), each run asked once', async () => {
    const gh = fakeGithub();
    await record(gh, 'preprod', commits.A!, D('a'), 'success', '11');
    await record(gh, 'production', commits.A!, D('a'), 'success', '12');
    await record(gh, 'preprod', commits.B!, D('b'), 'success', '13');
    const history: Record<string, Approval[]> = {
      '11': [{ state: 'approved', environments: [{ name: 'preprod' }], user: { login: 'paula' } }],
      '12': [
        { state: 'rejected', environments: [{ name: 'production' }], user: { login: 'sam' } },
        { state: 'approved', environments: [{ name: 'Production' }], user: { login: 'olga' } },
      ],
      '13': [{ state: 'approved', environments: [{ name: 'preprod' }], user: { login: 'rita' } }],
    };
    const asked: string[] = [];
    const reviews: ApprovalsApi = { ofRun: async (id) => (asked.push(id), history[id] ?? []) };
    const { text } = await card(inputs({ digest: D('b'), commit: commits.B! }), gh, {}, reviews);
    expect(text).toMatch(/\| Running in production \|.*\| olga \|\n/);
    expect(text).toMatch(/\| preprod \| success \(unsigned\) \| [^|]+ \| \[run\]\([^)]+\) \| rita \|/);
    expect(text).toContain('(commit `' + commits.A!.slice(0, 7) + '`, validated ');
    expect(text).toMatch(/goes back to `a{12}` \(commit `[0-9a-f]{7}`, validated [^)]*, approved by olga\)/);
    expect(asked.sort()).toEqual(['12', '12', '13']); // the card's own memo is octokitApprovals' (approvals.test.ts)

    // A token that may not read them, and a read that fails: the card says why, and is made all the same.
    const { text: refused } = await card(inputs({ digest: D('b'), commit: commits.B! }), gh, {}, { ofRun: async () => undefined });
    expect(refused).toMatch(/\| Running in production \|.*\| \(unknown: the token cannot read the run reviews; it needs actions: read\) \|\n/);
    const { text: failed } = await card(inputs({ digest: D('b'), commit: commits.B! }), gh, {}, { ofRun: async (id) => { throw new Error(`run ${id} is not in acme/sample-service any more (deleted?)`); } });
    expect(failed).toMatch(/\| preprod \| success \(unsigned\) \| [^|]+ \| \[run\]\([^)]+\) \| \(unknown: run 13 is not in acme\/sample-service any more \(deleted\?\)\) \|/);
  });

  test('first deploy: nothing runs, every object added', async () => {
    const gh = fakeGithub();
    await record(gh, 'preprod', commits.B!, D('b'));
    const { text } = await card(inputs({ digest: D('b'), commit: commits.B! }), gh, { [D('b')]: [] });
    expect(text).toContain('**first deploy**: nothing runs here yet');
    expect(text).toMatch(/objects: \d+ added, 0 changed, 0 removed/);
    expect(text).toContain('| Running in production | nothing running |');
    expect(text).toContain('Scan findings: new none; fixed none; candidate in all none.');
    expect(text).toContain('nothing to go back to: a failed first install is removed');
  });

  test('rollback: the candidate is behind what runs, shown as such', async () => {
    const gh = fakeGithub();
    await record(gh, 'preprod', commits.A!, D('a'));
    await record(gh, 'production', commits.A!, D('a'));
    await record(gh, 'preprod', commits.B!, D('b'));
    await record(gh, 'production', commits.B!, D('b'));
    const { text } = await card(inputs({ digest: D('a'), commit: commits.A! }), gh);
    expect(text).toContain('**rollback**: 1 commit(s) taken away');
    expect(text).toContain('**Rollback**: the candidate is 1 commit(s) behind what runs; these are taken away:');
    expect(text).toContain('replicas Deployment/sample-service 4 → 3');
    expect(text).toMatch(/\| production \| ran here before \(success\) \(unsigned\)/);
    expect(text).toContain('Secret/sample-service-db: keys removed password, user');
    expect(text).toMatch(/Scan not available: no scan of sha256:aaaaaaaaaaaa/);
  });

  test("the running image has no scan: the candidate's findings, not all counted as new", async () => {
    const gh = fakeGithub();
    await record(gh, 'preprod', commits.A!, D('a'));
    await record(gh, 'production', commits.A!, D('a'));
    await record(gh, 'preprod', commits.B!, D('b'));
    const { text } = await card(inputs({ digest: D('b'), commit: commits.B! }), gh, { [D('a')]: 'none', [D('b')]: [{ id: 'CVE-2', severity: 'CRITICAL' }] });
    expect(text).toContain(`Scan findings of the candidate: 1 CRITICAL; new and fixed not known (the running image's scan is not available: no scan of sha256:${'a'.repeat(12)}). Critical/high: CVE-2.`);
    expect(text).not.toContain('Scan findings: new');
  });

  test('evidence that cannot be read: a card saying so and a warning, never a failed step', async () => {
    const gh = fakeGithub();
    gh.api.list = async () => {
      throw new Error('kms:GetPublicKey: Could not load credentials from any providers');
    };
    const { text, hash, io } = await card(inputs({ digest: D('b'), commit: commits.B! }), gh);
    expect(text).toBe('## Release card: sample-service to production\n\n**No card could be made**: kms:GetPublicKey: Could not load credentials from any providers');
    expect(hash).toBe(cardHash(text));
    expect(io.warnings).toEqual(['No release card: kms:GetPublicKey: Could not load credentials from any providers']);
  });

  test('hotfix to preprod: nothing let it through, said so', async () => {
    const gh = fakeGithub();
    const { text } = await card(inputs({ environment: 'preprod', digest: D('b'), commit: commits.B!, requireEnvironment: '', hotfix: true }), gh);
    expect(text).toContain('## Release card: sample-service to preprod');
    expect(text).toContain('it is a **hotfix**');
    expect(text).toContain(' · **hotfix**');
  });

  test('200 objects: the diff is cut to fit, with a count of what is left out', async () => {
    git('checkout', '-q', '-b', 'many', commits.B!);
    try {
      const values = (v: string) => `many: 200\nmanyValue: ${v.repeat(300)}\ndbPassword: second-secret-value\nautoscaling:\n  enabled: false\nreplicaCount: 4\n`;
      writeFileSync(join(work, 'chart/values-ci.yaml'), values('x'));
      git('commit', '-q', '-am', 'C: 200 ConfigMaps');
      const c = git('rev-parse', 'HEAD');
      writeFileSync(join(work, 'chart/values-ci.yaml'), values('y'));
      git('commit', '-q', '-am', 'D: another value in each');
      const d = git('rev-parse', 'HEAD');
      const gh = fakeGithub();
      await record(gh, 'preprod', c, D('c'));
      await record(gh, 'production', c, D('c'));
      await record(gh, 'preprod', d, D('d'));
      const { text } = await card(inputs({ digest: D('d'), commit: d }), gh);
      expect(Buffer.byteLength(text, 'utf8')).toBeLessThanOrEqual(CARD_BUDGET);
      expect(text).toMatch(/objects: 0 added, 20[0-9] changed, 0 removed/);
      expect(text).toMatch(/_Diff cut to fit the card: \d+ more line\(s\) in \d+ object\(s\) not shown \(ConfigMap\/cm-\d+, /);
      // What is shown plus what is counted is every changed object.
      const shown = new Set([...text.matchAll(/^\+\+\+ b\/(\S+)$/gm)].map((m) => m[1]));
      const cut = Number(/in (\d+) object\(s\) not shown/.exec(text)![1]);
      const changed = Number(/objects: 0 added, (\d+) changed/.exec(text)![1]);
      expect(shown.size + cut).toBeGreaterThanOrEqual(changed);
    } finally {
      git('checkout', '-q', 'main');
    }
  });
});
