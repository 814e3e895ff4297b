/**
 * deploy-setup doctor against the world the tests run in: workflows/aws/ as deployed (roles,
 * trust and identity policies in the IAM stand-in, the evidence keys in KMS, the access entries
 * in EKS), the GitHub stand-in set up by `deploy-setup github`. Every AWS read goes through the
 * real SDK clients (IAM Query protocol, KMS JSON, EKS REST) with per-account profiles from a
 * shared credentials file, as a platform engineer runs it. Clean: exit 0. Each mutation gives
 * its one row and exit 2.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { logText } from '../../packages/action-kit/src/log';
import { setupMain } from '../../packages/environments/src/setup/cli';
import type { ReadOutputs } from '../../packages/environments/src/setup/stack-outputs';
import { addGeneratedRoles, buildRoleArn, deployRoleArn, generatedSetup, SAMPLE_REPOSITORY } from '../executor/doubles/aws-trust';
import { repoRoot } from '../harness/runner';
import { startEvidenceKms, type EvidenceKms } from '../security/evidence-keys';
import { startEksStandin, type ClusterSpec, type EksStandin } from '../standins/eks/index';
import { startGithubStandin, type GithubStandin } from '../standins/github';
import { ALLOW_ALL, IamStore, type PolicyDocument, type Statement } from '../standins/iam/index';
import { startIamStandin, type IamStandin } from '../standins/iam/service';

const ADMIN = 'ghp_doctor_admin_0123456789';
const EXAMPLE = join(repoRoot, 'workflows/environments.yml');
const REGION = 'eu-west-1';
const { setup } = generatedSetup();
const ACCOUNTS = [...new Set(setup.stacks.map((s) => s.account))];

let gh: GithubStandin;
let iam: IamStore;
let iamApi: IamStandin;
let kms: EvidenceKms;
let eks: EksStandin;
let clusters: ClusterSpec[];
const saved: Record<string, string | undefined> = {};

const outputs: ReadOutputs = async (stack) => setup.stacks.find((s) => s.stackName === stack.stackName)?.outputs;
const profiles = ACCOUNTS.flatMap((a) => ['--profile', `${a}=doctor-${a}`]);

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await setupMain(
    args,
    { GITHUB_TOKEN: ADMIN, GITHUB_API_URL: gh.url },
    { out: (l) => logText(l, (t) => void (out += t)), err: (l) => logText(l, (t) => void (err += t)) },
    { outputs: () => outputs },
  );
  return { code, out, err };
}

const doctor = () => run(['doctor', '--file', EXAMPLE, ...profiles]);
/** The table's rows (after its header and rule). */
const rows = (out: string) => out.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Where') && !l.startsWith('| ---'));

beforeAll(async () => {
  iam = new IamStore();
  addGeneratedRoles(iam);
  // The platform engineer's own credentials in each account: the key administrator's role.
  const dir = mkdtempSync(join(tmpdir(), 'da-doctor-'));
  let credentials = '';
  for (const a of ACCOUNTS) {
    const id = { accessKeyId: `AKIADOCTOR${a}`, secretAccessKey: `doctor-secret-${a}`, arn: `arn:aws:sts::${a}:assumed-role/platform-kms-admin/doctor` };
    iam.addIdentity(id, [ALLOW_ALL]);
    credentials += `[doctor-${a}]\naws_access_key_id = ${id.accessKeyId}\naws_secret_access_key = ${id.secretAccessKey}\n\n`;
  }
  writeFileSync(join(dir, 'credentials'), credentials);
  writeFileSync(join(dir, 'config'), '');
  iamApi = await startIamStandin({ iam });
  kms = await startEvidenceKms({ iam });
  clusters = [...new Set(setup.accessEntries.map((e) => `${e.account}/${e.cluster}`))].map((key) => {
    const [account, name] = key.split('/') as [string, string];
    const entries = setup.accessEntries.filter((e) => e.account === account && e.cluster === name);
    return { name, account, endpoint: 'https://127.0.0.1:1', caData: '', accessEntries: entries.map((e) => ({ principalArn: e.principalArn, type: e.type, policies: e.policies })) };
  });
  eks = await startEksStandin({ region: REGION, iam, clusters });
  const env: Record<string, string> = {
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
    AWS_CONFIG_FILE: join(dir, 'config'),
    AWS_ENDPOINT_URL_IAM: iamApi.url,
    AWS_ENDPOINT_URL_KMS: kms.kms.url,
    AWS_ENDPOINT_URL_EKS: eks.url,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  for (const k of [...Object.keys(env), 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_REGION']) saved[k] = process.env[k];
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE']) delete process.env[k];
  Object.assign(process.env, env);

  gh = await startGithubStandin({
    tokens: { [ADMIN]: { permissions: { administration: 'write', members: 'read', actions: 'read', variables: 'write', environments: 'write' } } },
    repositories: [SAMPLE_REPOSITORY],
    teams: [
      { org: 'acme', slug: 'platform', id: 501 },
      { org: 'acme', slug: 'release-managers', id: 502 },
    ],
    orgPlans: { acme: 'team' },
  });
  const applied = await run(['github', '--file', EXAMPLE]);
  expect(applied.code, applied.err).toBe(0);
}, 60_000);

afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
  else process.env[k] = v;
  await Promise.all([gh?.stop(), iamApi?.stop(), kms?.kms.stop(), eks?.stop()]);
});

const restore: Array<() => void> = [];
afterEach(() => {
  while (restore.length) restore.pop()!();
});

/** Replaces a role's trust policy for one test. */
function mutateTrust(arn: string, edit: (doc: PolicyDocument) => PolicyDocument): void {
  const role = iam.role(arn)!;
  const before = role.trustPolicy;
  role.trustPolicy = edit(structuredClone(before!));
  restore.push(() => void (role.trustPolicy = before));
}

describe('deploy-setup doctor', () => {
  test('the world loaded from workflows/aws/, set up by deploy-setup github: nothing wrong, exit 0', async () => {
    const before = { iam: iamApi.requests.length, kms: kms.kms.requests.length, eks: eks.requests.length };
    const r = await doctor();
    expect(r.err).toBe('');
    expect(r.out).toMatch(/deploy-setup doctor: nothing wrong \(5 roles, 3 evidence keys, 3 EKS access entries, 1 repositories' environments and variables/);
    expect(r.code).toBe(0);
    // Every kind of read reached its stand-in through the SDK.
    expect(iamApi.requests.length).toBeGreaterThan(before.iam);
    expect(kms.kms.calls.filter((c) => c.operation === 'GetKeyPolicy' && !c.error)).toHaveLength(3);
    expect(eks.requests.slice(before.eks).some((q) => q.url.endsWith('/access-policies'))).toBe(true);
  }, 60_000);

  test('a trust policy with the old-format sub (repo:OWNER/REPO:...): its row, exit 2', async () => {
    const arn = deployRoleArn('qa');
    mutateTrust(arn, (doc) => {
      const st = [doc.Statement].flat()[0]!;
      const where = Object.values(st.Condition!).find((block) => 'token.actions.githubusercontent.com:sub' in block)!;
      where['token.actions.githubusercontent.com:sub'] = 'repo:acme/sample-service:environment:qa';
      return doc;
    });
    const r = await doctor();
    expect(r.code).toBe(2);
    expect(rows(r.out)).toEqual([
      expect.stringMatching(
        /^\| role gha-sample-service-qa \(222222222222\) \| trust refuses the tokens of deploy\.yml jobs of acme\/sample-service in environment qa: it wants token\.actions\.githubusercontent\.com:sub repo:acme\/sample-service:environment:qa; the tokens carry repo:acme@190000001\/sample-service@1041000001:environment:qa \| deploy stack deploy-actions-qa-preprod/,
      ),
    ]);
  }, 60_000);

  test('a trust without the job_workflow_ref binding: any workflow of the repository could assume it', async () => {
    mutateTrust(buildRoleArn(), (doc) => {
      const st = [doc.Statement].flat()[0]!;
      for (const block of Object.values(st.Condition!)) delete block['token.actions.githubusercontent.com:job_workflow_ref'];
      return doc;
    });
    const r = await doctor();
    expect(r.code).toBe(2);
    expect(rows(r.out)).toEqual([expect.stringContaining('| role gha-sample-service-build (111111111111) | trust admits any workflow of acme/sample-service')]);
  }, 60_000);

  test('a role missing an action (the build role without ecr:TagResource): its row from IAM simulation, exit 2', async () => {
    const role = iam.role(buildRoleArn())!;
    const before = role.policies;
    role.policies = structuredClone(before).map((doc) => ({
      ...doc,
      Statement: [doc.Statement].flat().map((st: Statement) => ({ ...st, Action: [st.Action ?? []].flat().filter((a) => a !== 'ecr:TagResource') })),
    }));
    restore.push(() => void (role.policies = before));
    const r = await doctor();
    expect(r.code).toBe(2);
    expect(rows(r.out)).toEqual([
      expect.stringMatching(/^\| role gha-sample-service-build \(111111111111\) \| IAM's simulation denies what the actions call: ecr:TagResource on arn:aws:ecr:eu-west-1:111111111111:repository\/acme\/sample-service \(implicitDeny\) \|/),
    ]);
  }, 60_000);

  test('a key policy without the deploy role: its row, exit 2', async () => {
    const key = kms.keys.qa!;
    const before = key.policy;
    kms.kms.setKeyPolicy(key.arn, { ...before, Statement: [before.Statement].flat().filter((st) => st.Sid !== 'SignEvidence') });
    restore.push(() => kms.kms.setKeyPolicy(key.arn, before));
    const r = await doctor();
    expect(r.code).toBe(2);
    expect(rows(r.out)).toEqual([expect.stringContaining(`| evidence key of acme/sample-service qa (${key.arn}) | the key policy does not allow gha-sample-service-qa kms:Sign |`)]);
  }, 60_000);

  test('an access entry of another namespace: its row, exit 2', async () => {
    const spec = clusters.find((c) => c.accessEntries!.some((e) => e.principalArn === deployRoleArn('qa')))!;
    const other: ClusterSpec = {
      ...spec,
      accessEntries: spec.accessEntries!.map((e) => (e.principalArn === deployRoleArn('qa') ? { ...e, policies: e.policies.map((p) => ({ ...p, scope: { type: 'namespace' as const, namespaces: ['payments'] } })) } : e)),
    };
    eks.setCluster(other);
    restore.push(() => eks.setCluster(spec));
    const r = await doctor();
    expect(r.code).toBe(2);
    expect(rows(r.out)).toEqual([
      expect.stringContaining(`| EKS access of gha-sample-service-qa on cluster ${spec.name} (${spec.account}) | AmazonEKSEditPolicy is not scoped to namespace sample-qa (K8S_NAMESPACE of qa); the entry's policies are scoped to payments |`),
    ]);
  }, 60_000);

  test('a missing GitHub variable: its row, exit 2', async () => {
    const at = gh.state.variables.findIndex((v) => v.name === 'K8S_NAMESPACE' && v.environment === 'qa');
    const [removed] = gh.state.variables.splice(at, 1);
    restore.push(() => void gh.state.variables.push(removed!));
    const r = await doctor();
    expect(r.code).toBe(2);
    expect(rows(r.out)).toEqual(['| acme/sample-service environment qa variable K8S_NAMESPACE | is not set; the workflows need "sample-qa" | deploy-setup github --file ' + EXAMPLE + ' |']);
  }, 60_000);
});
