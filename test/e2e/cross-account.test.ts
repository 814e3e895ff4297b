/**
 * One ECR repository in the build account, clusters in other accounts (the generated set-up of
 * workflows/aws/: its build role and the qa and production deploy roles with their generated
 * permissions, each in its account; the repository policy workflows/README.md shows), end to end
 * through the bundles: build-push-ecr builds
 * with the real Docker engine and pushes through the ECR stand-in's registry front (account
 * 111111111111) and keeps the repository policy; helm-deploy-eks deploys the image to the QA
 * cluster (account 222222222222) and the production cluster (333333333333), whose nodes pull
 * from the registry front as their own account (kube stand-ins, fake runtime: every pod start
 * is a manifest pull authorized for the node's role); promote-gate records and verifies its ECR
 * evidence from the cluster accounts; a push is cancelled with SIGINT and SIGTERM. One shared
 * fixture, one file.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { docker, dockerAvailable, prepareSampleService, sampleServiceVariant } from '../harness/docker';
import { startRegistry, type Registry } from '../harness/registry';
import { errorsOf, newRunnerDir, repoRoot, runActionBundle, type RunResult } from '../harness/runner';
import { accountOf, addGeneratedRoles, buildAccount, buildRoleArn, deployRoleArn, variablesOf } from '../executor/doubles/aws-trust';
import { startEcrStandin, type EcrStandin } from '../standins/ecr';
import { startEksWorld, type EksWorld } from '../standins/eks/world';
import { IamStore, type Identity, type PolicyDocument } from '../standins/iam/index';
import { startKubeStandin, type KubeStandin } from '../standins/kube/index';
import { ensureKubeTools } from '../tools/kube-binaries';
import { startToolArchives, type ToolArchives } from '../tools/tool-archives';

const BUILD = buildAccount();
const QA = accountOf('qa');
const PROD = accountOf('production');
const OUTSIDER = '444444444444';
/** The example service's ECR repository: the generated roles may push and read it, no other. */
const REPO = 'acme/sample-service';
const SHA = 'd4e5f60718293a4b5c6d7e8f9012345678901234';
/** ECR_DEPLOY_ROLES as deploy-setup sets it. */
const DEPLOY_ROLES = variablesOf().repository.ECR_DEPLOY_ROLES!;
/** Each environment's cluster (EKS_CLUSTER_NAME) and namespace (K8S_NAMESPACE) as deploy-setup sets them. */
const target = (env: 'qa' | 'production') => ({ cluster: variablesOf().environments[env]!.EKS_CLUSTER_NAME!, namespace: variablesOf().environments[env]!.K8S_NAMESPACE! });
const hasDocker = await dockerAvailable();
/** The repository policy workflows/README.md shows for this set-up. */
const readmePolicy = () => {
  const blocks = [...readFileSync(join(repoRoot, 'workflows/README.md'), 'utf8').matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return JSON.parse(blocks.find((b) => b.includes('"DeployActionsPull"'))!) as PolicyDocument;
};

const allow = (...actions: string[]): PolicyDocument => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }] });
/** What AmazonEC2ContainerRegistryReadOnly gives a node role. */
const NODE_POLICY = allow('ecr:GetAuthorizationToken', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability');

let iam: IamStore;
let registry: Registry;
let ecr: EcrStandin;
let archives: ToolArchives;
const clusters: Record<'qa' | 'production', { kube: KubeStandin; world: EksWorld; deployer: Identity; node: Identity }> = {} as never;
let builder: Identity;
let outsiderNode: Identity;
let workspace: string;
let imageRef: string;

describe.skipIf(!hasDocker)('one ECR in the build account, clusters in other accounts', () => {
  const stops: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    await ensureKubeTools();
    archives = await startToolArchives();
    stops.push(archives.stop);
    registry = await startRegistry();
    stops.push(registry.stop);
    iam = new IamStore();
    addGeneratedRoles(iam);
    builder = iam.issueCredentials(buildRoleArn(), 'build');
    outsiderNode = iam.issueCredentials(iam.addRole({ account: OUTSIDER, name: 'eks-node', policies: [NODE_POLICY] }).arn, 'i-0outsider');
    ecr = await startEcrStandin({ registry, accountId: BUILD, iam });
    stops.push(ecr.stop);
    for (const [name, account] of [['qa', QA], ['production', PROD]] as const) {
      const deployRole = iam.role(deployRoleArn(name))!;
      const node = iam.issueCredentials(iam.addRole({ account, name: 'eks-node', policies: [NODE_POLICY] }).arn, `i-0${name}`);
      // The cluster's nodes log in to the registry with their own account's ECR token.
      const kube = await startKubeStandin({ tls: true, runtime: 'fake', registry: await ecr.registryLogin(node), timing: { backoffInitialMs: 300, backoffMaxMs: 1000 } });
      stops.push(kube.stop);
      const world = await startEksWorld({ kube, iam, clusters: [{ name: target(name).cluster, account, accessEntries: [deployRole.arn] }] });
      stops.push(world.stop);
      clusters[name] = { kube, world, deployer: iam.issueCredentials(deployRole.arn, `deploy-${name}`), node };
    }
    workspace = mkdtempSync(join(tmpdir(), 'da-xacct-ws-'));
    cpSync(join(repoRoot, 'test/fixtures/sample-service/chart'), join(workspace, 'chart'), { recursive: true });
  }, 600_000);

  afterAll(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }, 180_000);

  const build = (pullAccounts: string, extra: Partial<Parameters<typeof runActionBundle>[0]> = {}, context = prepareSampleService(), sha = SHA): Promise<RunResult> =>
    runActionBundle({
      action: 'build-push-ecr',
      workspace: context,
      with: {
        repository: REPO,
        builder: 'docker',
        'pull-accounts': pullAccounts,
        'read-principals': DEPLOY_ROLES,
        'record-principals': DEPLOY_ROLES,
      },
      env: { ...ecr.envFor(builder), GITHUB_SHA: sha },
      timeoutMs: 180_000,
      ...extra,
    });

  const deploy = (name: 'qa' | 'production'): Promise<RunResult> => {
    const { world, deployer } = clusters[name];
    return runActionBundle({
      action: 'helm-deploy-eks',
      workspace,
      runnerDir: newRunnerDir(),
      timeoutMs: 240_000,
      with: {
        release: 'web',
        namespace: target(name).namespace,
        'create-namespace': 'true',
        chart: join(workspace, 'chart'),
        image: imageRef,
        'registry-id': BUILD,
        ...world.clusterInputs(),
        ...archives.inputs,
        timeout: '2m',
      },
      env: { ...world.envFor(deployer), AWS_ENDPOINT_URL_ECR: ecr.url },
    });
  };

  const policy = () => JSON.parse(ecr.repositories.get(REPO)!.policyText!) as PolicyDocument;
  const pulls = (account: string) => ecr.registryCalls.filter((c) => c.action === 'ecr:BatchGetImage' && c.caller?.split(':')[4] === account);

  test('build account: the image is built once and the repository policy lets both cluster accounts pull', async () => {
    const r = await build(`${QA},${PROD}`);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    imageRef = r.outputs['image-ref']!;
    // Exactly the policy workflows/README.md shows.
    expect(policy()).toEqual(readmePolicy());
    expect(r.summary).toContain('Repository policy | updated');
  }, 180_000);

  test.each([
    ['qa', QA],
    ['production', PROD],
  ] as const)('%s (account %s) deploys the image, its nodes pulling as their own account', async (name, account) => {
    const r = await deploy(name);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.log).toContain(`Account ${account} (EKS cluster ${target(name).cluster}) may pull from ECR repository ${REPO} in account ${BUILD}`);
    expect(pulls(account).length).toBeGreaterThan(0);
    expect(pulls(account).every((c) => c.allowed)).toBe(true);
  }, 240_000);

  test('promote-gate from the cluster accounts: preprod (222222222222) records its evidence tag in the build account, production verifies it', async () => {
    const gate = (name: 'qa' | 'production', inputs: Record<string, string>) =>
      runActionBundle({
        action: 'promote-gate',
        workspace,
        with: { 'image-ref': imageRef, 'registry-id': BUILD, evidence: 'ecr', sha: SHA, ...inputs },
        env: { ...ecr.envFor(clusters[name].deployer), GITHUB_SHA: SHA },
        timeoutMs: 60_000,
      });
    const recorded = await gate('qa', { mode: 'record', environment: 'preprod' });
    expect(recorded.exitCode, recorded.stdout + recorded.stderr).toBe(0);
    expect(recorded.outputs['tag-result']).toBe('created');
    // ECR evidence only, unsigned: production takes it under the explicit opt-out (fail closed otherwise).
    const verified = await gate('production', { mode: 'verify', 'require-environment': 'preprod', 'target-environment': 'production', 'weaken-promotion-gate': 'true' });
    expect(verified.exitCode, verified.stdout + verified.stderr).toBe(0);
    expect(verified.outputs.verified).toBe('true');
    expect(verified.outputs.tag).toBe(`preprod-${SHA.slice(0, 7)}`);
  }, 180_000);

  test("production's account removed from the policy: its deploy fails before the rollout, naming the account and the repository", async () => {
    // Someone else's statement survives our re-run.
    const other = { Sid: 'AuditRead', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${OUTSIDER}:role/audit` }, Action: 'ecr:DescribeImages' };
    const current = policy();
    ecr.repositories.get(REPO)!.policyText = JSON.stringify({ ...current, Statement: [other, ...[current.Statement].flat()] });
    const rebuilt = await build(QA);
    expect(rebuilt.exitCode, rebuilt.stdout + rebuilt.stderr).toBe(0);
    expect(rebuilt.outputs.skipped).toBe('true');
    const statements = [policy().Statement].flat();
    expect(statements[0]).toEqual(other);
    expect(statements.find((s) => s.Sid === 'DeployActionsPull')?.Principal).toEqual({ AWS: `arn:aws:iam::${QA}:root` });

    const { kube } = clusters.production;
    const releases = () => kube.list('Secret', target('production').namespace).filter((s) => (s as { type?: string }).type === 'helm.sh/release.v1').length;
    const before = releases();
    const r = await deploy('production');
    expect(r.exitCode).toBe(1);
    // The manifest (ecr:BatchGetImage) is still granted to the production deploy role, which
    // records evidence; the layers are granted to no one in the account.
    expect(errorsOf(r)).toEqual([
      `Account ${PROD} (EKS cluster ${target('production').cluster}) may not pull from ECR repository ${REPO} in account ${BUILD}: its repository policy does not allow ecr:GetDownloadUrlForLayer to that account; add ${PROD} to build-push-ecr's pull-accounts. Nothing was deployed`,
    ]);
    expect(releases()).toBe(before);
  }, 180_000);

  test('the registry itself refuses a pull by an account not granted (real docker pull)', async () => {
    const host = imageRef.slice(0, imageRef.indexOf('/'));
    const pull = async (node: Identity) => {
      // The engine built this image: drop its references to the repository (tags and digest;
      // layers stay) so that the pull has to ask the registry.
      const refs = (await docker(['images', '--format', '{{.Repository}}:{{.Tag}}', `${host}/${REPO}`])).split('\n').filter((l) => l && !l.endsWith(':<none>'));
      for (const ref of [...refs, imageRef]) await docker(['rmi', ref]).catch(() => undefined);
      const login = await ecr.registryLogin(node);
      const config = mkdtempSync(join(tmpdir(), 'da-xacct-docker-'));
      const env = { ...process.env, DOCKER_CONFIG: config };
      try {
        await docker(['login', login.host, '--username', login.username, '--password-stdin'], { input: login.password, env });
        await docker(['pull', imageRef], { env });
        return 'pulled';
      } catch (err) {
        return String((err as { stderr?: string }).stderr ?? err);
      } finally {
        rmSync(config, { recursive: true, force: true });
      }
    };
    expect(await pull(clusters.qa.node)).toBe('pulled');
    for (const node of [clusters.production.node, outsiderNode]) {
      const mark = ecr.registryCalls.length;
      const refused = await pull(node);
      expect(refused).toMatch(/denied/i);
      // Refused by the registry front: the manifest or, when the engine still knows it, a layer.
      const calls = ecr.registryCalls.slice(mark).filter((c) => c.caller === node.arn);
      expect(calls.length).toBeGreaterThan(0);
      for (const c of calls) {
        expect(c).toMatchObject({ allowed: false, message: expect.stringMatching(new RegExp(`^User: ${node.arn} is not authorized to perform: ecr:(BatchGetImage|GetDownloadUrlForLayer) `)) });
      }
    }
  }, 180_000);

  test.each([
    ['SIGINT', 'e5f60718293a4b5c6d7e8f9012345678901234ab'],
    ['SIGTERM', 'f60718293a4b5c6d7e8f9012345678901234abcd'],
  ] as const)('a job cancelled mid-push (%s) leaves no credential behind and no docker process running', async (signal, sha) => {
    const runnerDir = newRunnerDir();
    let exited: Promise<void> | undefined;
    const r = await build(QA, {
      runnerDir,
      onStart: (child) => {
        exited = new Promise((resolve) => child.once('exit', () => resolve()));
        // The first layer upload: docker push is under way. The runner cancels with SIGINT, then SIGTERM.
        ecr.onNextCall('InitiateLayerUpload', async () => {
          child.kill(signal);
          await exited;
        });
      },
    }, sampleServiceVariant(`cancelled-${signal}`), sha);
    expect(r.exitCode, r.stdout + r.stderr).toBe(1);
    expect(errorsOf(r)).toEqual([`Cancelled (${signal}): child processes stopped, temporary credentials removed`]);
    const password = r.masks.find((m) => m.startsWith('ecr-'));
    expect(password).toBeDefined();
    // No docker config is left in the runner's temp, and no file of the runner holds the password.
    expect(readdirSync(join(runnerDir, 'temp')).filter((f) => f.startsWith('docker-config-'))).toEqual([]);
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((f) => {
        const p = join(dir, f);
        return statSync(p).isDirectory() ? files(p) : [p];
      });
    expect(files(runnerDir).filter((f) => readFileSync(f, 'utf8').includes(password!))).toEqual([]);
    // The docker push the action started was stopped with it.
    const ps = async () => (await promisify(execFile)('ps', ['-eo', 'args'])).stdout.split('\n').filter((l) => l.startsWith('docker push') && l.includes(REPO));
    for (let i = 0; i < 20 && (await ps()).length > 0; i++) await new Promise((res) => setTimeout(res, 250));
    expect(await ps()).toEqual([]);
    expect(existsSync(join(runnerDir, 'temp'))).toBe(true);
  }, 180_000);
});
