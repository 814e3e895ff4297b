/**
 * The GitHub variables the workflows read, as the file and the deployed stacks say they must be,
 * and a sync that reads each one, reports the difference and (unless --check) sets it.
 *
 * Repository: AWS_REGION, AWS_BUILD_ROLE_ARN, AWS_EVIDENCE_ROLE_ARN (rollback plan),
 * ECR_PULL_ACCOUNTS and ECR_DEPLOY_ROLES (other accounts' clusters and deploy roles, for the
 * repository policy build-push-ecr keeps), EVIDENCE_KMS_KEYS and PROVENANCE_KMS_KEY (from the
 * stacks' outputs).
 * Each environment: AWS_DEPLOY_ROLE_ARN, EKS_CLUSTER_NAME, K8S_NAMESPACE, AWS_REGION when it
 * differs, and the file's own `variables` (SMOKE_URL, BAKE_*).
 */
import { InputError, parseArn, shown, UserError } from '@deploy-actions/action-kit';
import type { SetupGithubApi } from './github-api';
import { pascal, type KeyRef, type SetupConfig, type SetupPlan } from './template';

/**
 * A key's ARN as its stack's output gives it, parsed (action-kit's parseArn) before it becomes
 * EVIDENCE_KMS_KEYS: a KMS key of the account and region its environment names.
 */
export function keyArnOf(k: KeyRef, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const where = `stack output ${k.output}`;
  let arn;
  try {
    arn = parseArn(where, value, { service: 'kms', region: k.region, what: 'the ARN of a KMS key' });
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    throw new UserError(`${where} ${err.expected.replace("the aws-region's", `${k.region}'s`)} (got '${shown(value)}')`);
  }
  if (arn.region !== k.region || arn.account !== k.account || !/^key\/[A-Za-z0-9-]+$/.test(arn.resource)) {
    throw new UserError(`${where} is ${value}: not a KMS key of account ${k.account} in ${k.region}, where the environments file puts ${k.environment}'s evidence key (was the stack deployed from another file?)`);
  }
  return value;
}

/** The service's build provenance key from the build stack's output, checked like an evidence key. */
function provenanceArnOf(cfg: SetupConfig, service: string, outputs: ReadonlyMap<string, string>): string | undefined {
  const output = `${pascal(service)}ProvenanceKeyArn`;
  return keyArnOf({ service, environment: 'build', account: cfg.aws.buildAccount, region: cfg.aws.region, output }, outputs.get(output));
}

export interface VariableSpec {
  repository: string;
  environment?: string;
  name: string;
  /** undefined: only known once the stacks are deployed (their outputs were not read). */
  value: string | undefined;
}

export function desiredVariables(cfg: SetupConfig, p: SetupPlan, outputs: ReadonlyMap<string, string>): VariableSpec[] {
  const out: VariableSpec[] = [];
  for (const s of cfg.services) {
    const roles = p.roles.filter((r) => r.service === s.name);
    const build = roles.find((r) => r.kind === 'build')!;
    const reader = roles.find((r) => r.kind === 'reader')!;
    const deploys = roles.filter((r) => r.kind === 'deploy');
    const others = deploys.filter((r) => r.account !== cfg.aws.buildAccount);
    const repo = (name: string, value: string | undefined) => out.push({ repository: s.repository, name, value });
    repo('AWS_REGION', cfg.aws.region);
    repo('AWS_BUILD_ROLE_ARN', build.arn);
    repo('AWS_EVIDENCE_ROLE_ARN', reader.arn);
    if (others.length) {
      repo('ECR_PULL_ACCOUNTS', [...new Set(others.map((r) => r.account))].sort().join(','));
      repo('ECR_DEPLOY_ROLES', others.map((r) => r.arn).join(','));
    }
    const keys = p.keys.filter((k) => k.service === s.name);
    const arns = keys.map((k) => keyArnOf(k, outputs.get(k.output)));
    repo('PROVENANCE_KMS_KEY', provenanceArnOf(cfg, s.name, outputs));
    repo('EVIDENCE_KMS_KEYS', arns.every((a) => a) ? keys.map((k, i) => `${k.environment}=${arns[i]}`).join(',') : undefined);
    for (const e of cfg.environments) {
      const env = (name: string, value: string) => out.push({ repository: s.repository, environment: e.name, name, value });
      env('AWS_DEPLOY_ROLE_ARN', deploys.find((r) => r.environment === e.name)!.arn);
      env('EKS_CLUSTER_NAME', e.target!.cluster);
      env('K8S_NAMESPACE', s.namespaces[e.name]!);
      if (e.target!.region !== cfg.aws.region) env('AWS_REGION', e.target!.region);
      for (const [k, v] of Object.entries(e.variables)) env(k, v);
    }
  }
  return out;
}

export interface VariableChange {
  spec: VariableSpec;
  current: string | undefined;
}

const where = (v: VariableSpec) => `${v.repository}${v.environment ? ` environment ${v.environment}` : ''} ${v.name}`;

/** Reads every variable (before anything is written, so a token that cannot read them changes nothing). */
export async function readVariables(specs: readonly VariableSpec[], api: SetupGithubApi): Promise<{ changes: VariableChange[]; unknown: VariableSpec[] }> {
  const changes: VariableChange[] = [];
  const unknown: VariableSpec[] = [];
  for (const spec of specs) {
    const current = await api.getVariable(spec.repository, spec.environment, spec.name);
    if (spec.value === undefined) unknown.push(spec);
    else if (current !== spec.value) changes.push({ spec, current });
  }
  return { changes, unknown };
}

/** Reports each change and, unless `check`, makes it (values that are not known yet are never written). */
export async function applyVariables(changes: readonly VariableChange[], api: SetupGithubApi, opts: { check: boolean; log: (line: string) => void }): Promise<void> {
  for (const { spec, current } of changes) {
    const line = `${where(spec)}: ${current === undefined ? 'unset' : JSON.stringify(current)} -> ${JSON.stringify(spec.value)}`;
    opts.log(`${opts.check ? 'differs' : 'set'} ${line}`);
    if (!opts.check) await api.setVariable(spec.repository, spec.environment, spec.name, spec.value!, current !== undefined);
  }
}
