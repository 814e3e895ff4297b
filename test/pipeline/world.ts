/**
 * Everything a service repository's workflows meet when they run: the GitHub side (API stand-in
 * with job tokens carrying the job's permissions, the OIDC token service, the environments of
 * workflows/environments.yml with their reviewers, the action doubles, a real git repository of
 * the service) and the AWS side set up as workflows/README.md tells a team to (the OIDC provider
 * and the build and per-environment deploy roles with their trust policies; ECR over a real
 * registry; two EKS clusters in front of the Kubernetes stand-in), plus a runner tool cache
 * holding helm and kubectl as a runner image would. `options()` gives the executor all of it.
 */
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createActionDoubles } from '../executor/doubles/index';
import { buildRoleArn, deployRoleArn, projectTrust, README_ACCOUNT } from '../executor/doubles/aws-trust';
import { loadEnvironments, projectEnvironmentsFile, type Approver, type Environments } from '../executor/doubles/environments';
import { startOidcTokenService, type OidcTokenService } from '../executor/doubles/oidc';
import type { ExecutorOptions } from '../executor/model';
import { granted } from '../executor/permissions';
import { startRegistry, type Registry } from '../harness/registry';
import { startEcrStandin, type EcrStandin } from '../standins/ecr/index';
import { startEksWorld, type EksWorld } from '../standins/eks/world';
import type { Identity } from '../standins/eks/index';
import { startCloudWatchStandin, type CloudWatchStandin } from '../standins/cloudwatch/index';
import { startGithubStandin, type GithubStandin } from '../standins/github/index';
import { IamStore } from '../standins/iam/index';
import { startKubeStandin, type KubeStandin } from '../standins/kube/index';
import { byKind } from '../standins/kube/resources';
import { startEvidenceKms, type EvidenceKms } from '../security/evidence-keys';
import { ensureKubeTools, PACKAGES } from '../tools/kube-binaries';
import type { ServiceRepo } from './service-repo';

export const REGION = 'eu-west-1';
export const ENVIRONMENTS = ['qa', 'preprod', 'production'] as const;
/** Which cluster each environment deploys to (EKS_CLUSTER_NAME of the environment). */
export const CLUSTERS: Record<string, string> = { qa: 'nonprod', preprod: 'nonprod', production: 'prod' };
export const namespaceOf = (environment: string) => `sample-${environment}`;
/** Reviewers: the teams workflows/environments.yml names, with one member each. */
export const TEAMS = { 'acme/platform': ['alice'], 'acme/release-managers': ['bob'] };

export interface PipelineWorld {
  registry: Registry;
  ecr: EcrStandin;
  kube: KubeStandin;
  eks: EksWorld;
  github: GithubStandin;
  tokens: OidcTokenService;
  environments: Environments;
  identities: Identity[];
  evidence: EvidenceKms;
  /** CloudWatch alarms (with the `cloudwatch` option), on the same identity store. */
  cloudwatch?: CloudWatchStandin;
  /** Where ECR repository URIs point (registry host). */
  registryHost: string;
  toolCache: string;
  /** Executor options for a run of `repo`'s workflows. */
  options(repo: ServiceRepo, log?: (line: string) => void): Omit<ExecutorOptions, 'workflow' | 'event'>;
  stop(): Promise<void>;
}

/** helm and kubectl where @actions/tool-cache finds them (<tool>/<version>/<arch> + .complete). */
async function warmToolCache(): Promise<string> {
  const tools = await ensureKubeTools();
  const cache = mkdtempSync(join(tmpdir(), 'da-tool-cache-'));
  // The versions helm-deploy-eks downloads by default, so it finds them here instead of downloading.
  // kubectl follows the cluster's minor version (the EKS stand-in's clusters run 1.35).
  const { v35, v36 } = PACKAGES;
  const binaries = [
    ['helm', v36.helm, tools.newest.helm4],
    ['kubectl', v36.kubectl, tools.newest.kubectl],
    ['kubectl', v35.kubectl, tools.kubectl],
  ] as const;
  for (const [tool, tag, binary] of binaries) {
    const version = tag.slice(1);
    const dir = join(cache, tool, version, 'amd64');
    mkdirSync(dir, { recursive: true });
    copyFileSync(binary, join(dir, tool));
    writeFileSync(`${dir}.complete`, '');
  }
  return cache;
}

const approveAll: Approver = ({ eligible }) => ({ approve: true, reviewer: eligible[0]! });

export async function startPipelineWorld(opts: {
  runtime: 'fake' | 'docker';
  repository: string;
  approver?: Approver;
  /** Starts the CloudWatch stand-in (AWS_ENDPOINT_URL_CLOUDWATCH) for the bake's alarms. */
  cloudwatch?: boolean;
  /** More environment variables per environment (SMOKE_URL, BAKE_DURATION, ...). */
  vars?: Record<string, Record<string, string>>;
}): Promise<PipelineWorld> {
  const stops: Array<() => Promise<void>> = [];
  const started = async <T extends { stop(): Promise<void> }>(p: Promise<T>): Promise<T> => {
    const s = await p;
    stops.push(() => s.stop());
    return s;
  };
  try {
    // The clusters' node role pulls images; the jobs' identities join as STS issues them.
    const node: Identity = { accessKeyId: 'AKIANODEROLE00000001', secretAccessKey: 'node-secret', arn: `arn:aws:sts::${README_ACCOUNT}:assumed-role/eks-node/i-0123456789` };
    const identities: Identity[] = [node];
    const iam = IamStore.of(identities);
    const tokens = await started(startOidcTokenService());
    const trust = projectTrust({ repository: opts.repository, tokenService: tokens, environments: [...ENVIRONMENTS] });
    const registry = await started(startRegistry());
    const ecr = await started(startEcrStandin({ registry, accountId: README_ACCOUNT, region: REGION, iam }));
    const pull = await ecr.registryLogin(node);
    const kube = await started(startKubeStandin({ tls: true, runtime: opts.runtime, registry: { url: pull.url, username: pull.username, password: pull.password } }));
    const eks = await started(
      startEksWorld({
        kube,
        iam,
        identities,
        accessEntries: ENVIRONMENTS.map((env) => deployRoleArn(env)),
        clusterNames: ['nonprod', 'prod'],
        region: REGION,
        webIdentity: { providers: [trust.provider], roles: trust.roles },
      }),
    );
    // One evidence key per environment, signable only by its deploy role (workflows/README.md, 7).
    const evidence = await startEvidenceKms({ iam, region: REGION, environments: [...ENVIRONMENTS] });
    stops.push(() => evidence.kms.stop());
    const cloudwatch = opts.cloudwatch ? await started(startCloudWatchStandin({ iam, region: REGION, accountId: README_ACCOUNT })) : undefined;
    const github = await started(startGithubStandin({ tokens: {}, repositories: [opts.repository] }));
    const toolCache = await warmToolCache();
    // The platform team creates each namespace once (workflows/README.md: a namespace-scoped access entry cannot).
    for (const env of ENVIRONMENTS) kube.api.create(byKind('Namespace'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespaceOf(env) } });
    const environments = loadEnvironments({
      file: projectEnvironmentsFile(),
      owner: opts.repository.split('/')[0]!,
      teams: TEAMS,
      vars: Object.fromEntries(
        ENVIRONMENTS.map((env) => [env, { AWS_DEPLOY_ROLE_ARN: deployRoleArn(env), EKS_CLUSTER_NAME: CLUSTERS[env]!, K8S_NAMESPACE: namespaceOf(env), ...opts.vars?.[env] }]),
      ),
      approver: async (req) => {
        const decision = await (opts.approver ?? approveAll)(req);
        // GitHub keeps an eligible reviewer's answer on the run (GET .../actions/runs/{id}/approvals: who approved).
        if (req.eligible.some((u) => u.toLowerCase() === decision.reviewer.toLowerCase())) {
          github.state.approvals.push({ repo: opts.repository, runId: Number(req.runId), environments: [req.environment], state: decision.approve ? 'approved' : 'rejected', login: decision.reviewer, comment: decision.comment ?? '' });
        }
        return decision;
      },
    });
    return {
      registry,
      ecr,
      kube,
      eks,
      github,
      tokens,
      environments,
      identities,
      evidence,
      ...(cloudwatch ? { cloudwatch } : {}),
      registryHost: pull.host,
      toolCache,
      options: (repo, log) => ({
        repository: { root: repo.root, name: repo.name },
        vars: { AWS_REGION: REGION, AWS_BUILD_ROLE_ARN: buildRoleArn(), EVIDENCE_KMS_KEYS: evidence.variable },
        actions: createActionDoubles({ repositories: { [repo.name]: repo.root } }),
        environments,
        deployments: github,
        idTokens: tokens,
        mintToken: (permissions) => github.mintToken(granted(permissions)),
        toolCache,
        apiUrl: github.url,
        runnerEnv: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          AWS_ENDPOINT_URL_ECR: ecr.url,
          AWS_ENDPOINT_URL_EKS: eks.eks.url,
          AWS_ENDPOINT_URL_STS: eks.sts.url,
          AWS_ENDPOINT_URL_KMS: evidence.kms.url,
          ...(cloudwatch ? { AWS_ENDPOINT_URL_CLOUDWATCH: cloudwatch.url } : {}),
          AWS_EC2_METADATA_DISABLED: 'true',
          ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
        },
        log,
      }),
      stop: async () => {
        for (const stop of stops.reverse()) await stop().catch(() => undefined);
      },
    };
  } catch (err) {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    throw err;
  }
}
