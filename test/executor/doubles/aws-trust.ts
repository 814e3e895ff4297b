/**
 * The AWS side of every test world, as a team deploys it: the stacks deploy-setup generated
 * from workflows/environments.yml into workflows/aws/, loaded as CloudFormation creates them
 * (test/standins/cloudformation/deployed.ts): the GitHub OIDC provider of each account, the
 * build, evidence-reader and per-environment deploy roles with their trust and identity
 * policies. The GitHub variables that point the workflows at them are the ones
 * `deploy-setup github` sets (packages/environments: desiredVariables over the stacks'
 * outputs), so a role renamed or a policy changed by the generator reaches the tests unedited.
 */
import { desiredVariables } from '../../../packages/environments/src/setup/variables';
import { readFileSync } from 'node:fs';
import { parseEnvironmentsConfig } from '../../../packages/environments/src/config';
import { EXAMPLE_FILE, EXAMPLE_IDENTITIES, exampleSetup } from '../../../packages/environments/src/setup/example';
import { renderFiles } from '../../../packages/environments/src/setup/files';
import { plan, type SetupConfig } from '../../../packages/environments/src/setup/template';
import { loadDeployedSetup, type DeployedSetup } from '../../standins/cloudformation/deployed';
import { defaultRepositoryInfo } from '../../standins/github/setup-routes';
import { accountOfArn, IamStore } from '../../standins/iam/index';
import type { OidcProvider, Role } from '../../standins/eks/web-identity';
import { subjectFormatOf, type OidcTokenService, type SubjectFormat } from './oidc';

/** The service of the example file (workflows/environments.yml). */
export const SAMPLE_REPOSITORY = 'acme/sample-service';

export interface GeneratedVariables {
  /** Repository variables (AWS_REGION, AWS_BUILD_ROLE_ARN, AWS_EVIDENCE_ROLE_ARN, ECR_*, EVIDENCE_KMS_KEYS). */
  repository: Record<string, string>;
  /** Each environment's variables (AWS_DEPLOY_ROLE_ARN, EKS_CLUSTER_NAME, K8S_NAMESPACE, the file's own). */
  environments: Record<string, Record<string, string>>;
  /** Names from the file's own `variables:` (values that point at the team's real endpoints). */
  own: Record<string, string[]>;
}

let cached: { setup: DeployedSetup; variables: Map<string, GeneratedVariables> } | undefined;
let ecrRepository: string | undefined;

/**
 * The set-up deploy-setup generates when the example file's service keeps its images in another
 * ECR repository (the `--service` rehearsal of a team's own deploy.yml): the example file with
 * that `ecr_repository`, generated in memory. Without it, workflows/aws/ as committed.
 */
export function useEcrRepository(repository: string | undefined): void {
  if (repository === ecrRepository) return;
  ecrRepository = repository;
  cached = undefined;
}

function exampleFor(repository: string | undefined): { setup: DeployedSetup; cfg: SetupConfig; plan: ReturnType<typeof plan> } {
  const example = exampleSetup();
  if (repository === undefined || example.cfg.services.every((s) => s.ecrRepository === repository)) return { setup: loadDeployedSetup(), ...example };
  const text = readFileSync(EXAMPLE_FILE, 'utf8').replace(/^(\s*ecr_repository:\s*)\S+/m, `$1${repository}`);
  const cfg = parseEnvironmentsConfig(text, 'acme', 'workflows/environments.yml') as SetupConfig;
  const generated = plan(cfg, new Map(EXAMPLE_IDENTITIES.map((i) => [i.repository.toLowerCase(), i])));
  return { setup: loadDeployedSetup(undefined, renderFiles(generated, EXAMPLE_IDENTITIES, 'workflows/environments.yml')), cfg, plan: generated };
}

/** workflows/aws/ as deployed, and the variables deploy-setup sets for each service repository. */
export function generatedSetup(): { setup: DeployedSetup; variables: Map<string, GeneratedVariables> } {
  if (cached) return cached;
  const { setup, cfg, plan } = exampleFor(ecrRepository);
  const variables = new Map<string, GeneratedVariables>();
  for (const v of desiredVariables(cfg, plan, setup.outputs)) {
    const key = v.repository.toLowerCase();
    if (!variables.has(key)) variables.set(key, { repository: {}, environments: {}, own: {} });
    const g = variables.get(key)!;
    if (v.value === undefined) throw new Error(`workflows/aws: ${v.name} of ${v.repository} has no value (a stack output is missing)`);
    if (v.environment) (g.environments[v.environment] ??= {})[v.name] = v.value;
    else g.repository[v.name] = v.value;
  }
  for (const e of cfg.environments) {
    for (const g of variables.values()) g.own[e.name] = Object.keys(e.variables);
  }
  return (cached = { setup, variables });
}

/** The variables deploy-setup sets for `repository` (one of the example file's services). */
export function variablesOf(repository = SAMPLE_REPOSITORY): GeneratedVariables {
  const v = generatedSetup().variables.get(repository.toLowerCase());
  if (!v) throw new Error(`workflows/environments.yml has no service for ${repository}: the generated set-up cannot serve it`);
  return v;
}

export const buildRoleArn = (repository = SAMPLE_REPOSITORY) => variablesOf(repository).repository.AWS_BUILD_ROLE_ARN!;
export const evidenceRoleArn = (repository = SAMPLE_REPOSITORY) => variablesOf(repository).repository.AWS_EVIDENCE_ROLE_ARN!;
export const deployRoleArn = (environment: string, repository = SAMPLE_REPOSITORY) => {
  const arn = variablesOf(repository).environments[environment]?.AWS_DEPLOY_ROLE_ARN;
  if (!arn) throw new Error(`workflows/environments.yml has no environment ${environment}`);
  return arn;
};
/** The account of the build role (ECR) and of each environment's deploy role (its cluster, key, alarms). */
export const buildAccount = (repository = SAMPLE_REPOSITORY) => accountOfArn(buildRoleArn(repository))!;
export const accountOf = (environment: string, repository = SAMPLE_REPOSITORY) => accountOfArn(deployRoleArn(environment, repository))!;

/** What the GitHub stand-in says of a repository's OIDC subject (its creation date and customization). */
export function subjectsOfStandin(repository: string): Promise<SubjectFormat> {
  const info = defaultRepositoryInfo(repository.toLowerCase());
  return Promise.resolve(subjectFormatOf({ created_at: info.createdAt }, info.subject, undefined));
}

/** The ids the GitHub stand-in gives a repository, as the executor's `repository.id` / `ownerId`. */
export function repositoryIds(repository: string): { id: string; ownerId: string } {
  const info = defaultRepositoryInfo(repository.toLowerCase());
  return { id: String(info.id), ownerId: String(info.ownerId) };
}

export interface ProjectTrust {
  /** One GitHub OIDC provider per account that creates one, served by `tokenService`. */
  providers: OidcProvider[];
  /** Every generated role: trust policy and identity policies. */
  roles: Role[];
}

/** The OIDC providers and roles of the generated set-up, for the STS stand-in (`webIdentity`). */
export function projectTrust(opts: { tokenService: Pick<OidcTokenService, 'url' | 'issuer'> }): ProjectTrust {
  const { setup } = generatedSetup();
  const issuer = opts.tokenService.issuer.replace(/\/$/, '');
  return {
    providers: setup.providers.map((p) => {
      if (p.url.replace(/\/$/, '') !== issuer) throw new Error(`workflows/aws: OIDC provider ${p.url} is not the token service's issuer ${issuer}`);
      return { arn: p.arn, url: p.url, clientIds: p.clientIds, discoveryBase: opts.tokenService.url };
    }),
    roles: setup.roles.map((r) => ({ arn: r.arn, trustPolicy: r.trustPolicy, policies: r.policies })),
  };
}

/** Registers every generated role in `iam` (trust and identity policies as deployed). */
export function addGeneratedRoles(iam: IamStore): void {
  for (const r of generatedSetup().setup.roles) iam.addRole({ account: r.account, name: r.name, trustPolicy: r.trustPolicy, policies: r.policies });
}
