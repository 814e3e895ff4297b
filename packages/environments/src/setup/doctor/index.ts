/**
 * deploy-setup doctor: read-only checks of a deployed set-up against what the file says it must
 * be, with the user's own credentials, ending in one table of what is wrong and how to fix it.
 * AWS, per stack's account (checks.ts): roles' trust vs the tokens this repository's jobs will
 * carry, IAM's simulation of every action the template grants, the evidence keys' policies, the
 * EKS access entries' namespace scope. GitHub, per service repository, read as `github --check`
 * reads it: environments (reviewers, branch policies, ...) and every variable the workflows read;
 * and the plan's limits (required reviewers on a private repository need GitHub Enterprise).
 * Nothing is written. Exit 0 when nothing is wrong, 2 when something is.
 */
import { cell, UserError } from '@deploy-actions/action-kit';
import type { EnvironmentsApi } from '../../github';
import { resolve as resolveReviewers, sync as syncEnvironments } from '../../sync';
import type { SetupGithubApi } from '../github-api';
import { SIGN_ACTIONS, VERIFY_ACTIONS } from '../permissions';
import type { ReadOutputs } from '../stack-outputs';
import type { RepoIdentity } from '../subject';
import type { SetupConfig, SetupPlan } from '../template';
import { desiredVariables, readVariables } from '../variables';
import type { DoctorAwsFactory } from './aws';
import { checkAccessEntries, checkKeys, checkRoles, type Finding, type StackContext } from './checks';

export interface DoctorInput {
  file: string;
  cfg: SetupConfig;
  plan: SetupPlan;
  identities: ReadonlyArray<RepoIdentity & { private?: boolean }>;
  readOutputs: ReadOutputs;
  aws: DoctorAwsFactory;
  profiles: ReadonlyMap<string, string>;
  github: SetupGithubApi;
  environments: (repository: string) => EnvironmentsApi;
  out: (line: string) => void;
}

async function awsFindings(d: DoctorInput, counts: Record<'roles' | 'keys' | 'entries', number>): Promise<{ findings: Finding[]; outputs: Map<string, string> }> {
  const findings: Finding[] = [];
  const identities = new Map(d.identities.map((i) => [i.repository.toLowerCase(), i]));
  const outputs = new Map<string, string>();
  const deployed = [];
  for (const stack of d.plan.stacks) {
    const o = await d.readOutputs(stack);
    if (!o) findings.push({ where: `stack ${stack.stackName} (${stack.account} ${stack.region})`, problem: 'is not deployed', fix: 'deploy it: deploy-setup generate prints its aws cloudformation deploy line' });
    else deployed.push(stack);
    for (const [k, v] of Object.entries(o ?? {})) outputs.set(k, v);
  }
  for (const stack of deployed) {
    const ctx: StackContext = { cfg: d.cfg, plan: d.plan, stack, identities, outputs, aws: d.aws(stack.account, stack.region, d.profiles.get(stack.account)) };
    const creds = `use credentials of account ${stack.account} that may call iam:GetRole, iam:SimulatePrincipalPolicy, kms:GetKeyPolicy and the EKS access entry reads (--profile ${stack.account}=<profile>)`;
    const checks = [
      ['roles', () => checkRoles(ctx), creds],
      ['keys', () => checkKeys(ctx, SIGN_ACTIONS, VERIFY_ACTIONS), `${creds}; the key policies let the key administrator ${d.cfg.aws.keyAdminRole} read them`],
      ['entries', () => checkAccessEntries(ctx), creds],
    ] as const;
    for (const [key, check, fix] of checks) {
      // A check that could not run (no permission, a service that did not answer) is a finding too.
      try {
        const r = await check();
        counts[key] += r.count;
        findings.push(...r.findings);
      } catch (err) {
        if (!(err instanceof UserError)) throw err;
        findings.push({ where: `account ${stack.account}`, problem: `not checked: ${err.message}`, fix });
      }
    }
  }
  return { findings, outputs };
}

async function githubFindings(d: DoctorInput, outputs: ReadonlyMap<string, string>): Promise<Finding[]> {
  const findings: Finding[] = [];
  const fix = `deploy-setup github --file ${d.file}`;
  for (const s of d.cfg.services) {
    const api = d.environments(s.repository);
    const desired = await resolveReviewers(d.cfg.environments, api);
    const envs = await syncEnvironments(desired, api, { check: true, log: () => undefined });
    for (const c of envs.changes) findings.push({ where: `${s.repository} environment ${c.environment}`, problem: c.detail, fix });
  }
  const vars = await readVariables(desiredVariables(d.cfg, d.plan, outputs), d.github);
  for (const { spec, current } of vars.changes) {
    findings.push({
      where: `${spec.repository}${spec.environment ? ` environment ${spec.environment}` : ''} variable ${spec.name}`,
      problem: current === undefined ? `is not set; the workflows need ${JSON.stringify(spec.value)}` : `is ${JSON.stringify(current)}; the set-up needs ${JSON.stringify(spec.value)}`,
      fix,
    });
  }
  return findings;
}

/** Required reviewers and wait timers on a private repository are enforced only under GitHub Enterprise. */
async function planFindings(d: DoctorInput): Promise<{ findings: Finding[]; notes: string[] }> {
  const findings: Finding[] = [];
  const notes: string[] = [];
  const gated = d.cfg.environments.filter((e) => e.users.length + e.teams.length > 0 || e.waitTimer > 0).map((e) => e.name);
  if (!gated.length) return { findings, notes };
  for (const id of d.identities.filter((i) => i.private)) {
    const owner = id.repository.split('/')[0]!;
    const plan = await d.github.orgPlan(owner);
    if (plan === 'enterprise') continue;
    if (plan === undefined) {
      notes.push(`note: ${id.repository} is private and the plan of ${owner} is not visible to this token: required reviewers of ${gated.join(', ')} are enforced only under GitHub Enterprise (Cloud or Server)`);
      continue;
    }
    findings.push({
      where: `${id.repository} (private, ${owner}'s plan: ${plan})`,
      problem: `required reviewers and wait timers of ${gated.join(', ')} are not available for private repositories on this plan: nothing stops a deploy to them`,
      fix: 'make the repository public, or move the organization to GitHub Enterprise Cloud',
    });
  }
  return { findings, notes };
}

export async function runDoctor(d: DoctorInput): Promise<number> {
  const counts = { roles: 0, keys: 0, entries: 0 };
  const aws = await awsFindings(d, counts);
  const github = await githubFindings(d, aws.outputs);
  const plan = await planFindings(d);
  const findings = [...aws.findings, ...github, ...plan.findings];
  const checked = `${counts.roles} roles, ${counts.keys} evidence keys, ${counts.entries} EKS access entries, ${d.cfg.services.length} repositories' environments and variables`;
  for (const n of plan.notes) d.out(n);
  if (!findings.length) {
    d.out(`deploy-setup doctor: nothing wrong (${checked}, as ${d.file} says)`);
    return 0;
  }
  d.out(`deploy-setup doctor: ${findings.length} problem(s) (${checked}, against ${d.file})`);
  d.out(['| Where | What is wrong | Fix |', '| --- | --- | --- |', ...findings.map((f) => `| ${cell(f.where)} | ${cell(f.problem)} | ${cell(f.fix)} |`)].join('\n'));
  return 2;
}
