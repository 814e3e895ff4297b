/**
 * doctor's AWS checks of one stack's account, against what `generate` writes for the file (the
 * plan, its templates: the one source of what each role may do and whom it trusts):
 *   - each role exists and its deployed trust admits the tokens this repository's jobs will carry
 *     (ids and subject format as read from GitHub), and refuses a job of another workflow;
 *   - IAM's SimulatePrincipalPolicy allows each role every action the template grants it, on
 *     the template's resources (the evidence keys' ARNs from the stack outputs);
 *   - each evidence key's policy lets its deploy role sign and its readers read the public key;
 *   - each deploy role's EKS access entry has the edit policy scoped to the service's namespace.
 * Each check ends in at most one finding per role, key or access entry.
 */
import { partitionOf } from '@deploy-actions/aws';
import { EKS_ACCESS_POLICY } from '../permissions';
import { GITHUB_ISSUER_HOST, tokenClaims, type RepoIdentity, type TokenJob } from '../subject';
import { releaseRefs, type RoleRef, type SetupConfig, type SetupPlan, type Stack } from '../template';
import type { DoctorAws } from './aws';
import { conditionsHold, coversAction, namesPrincipal, statements, type PolicyDoc, type PolicyStatement } from './policy-match';

export interface Finding {
  where: string;
  problem: string;
  fix: string;
}

/** What one check found, and how many things it checked. */
export interface Checked {
  findings: Finding[];
  count: number;
}

export interface StackContext {
  cfg: SetupConfig;
  plan: SetupPlan;
  stack: Stack;
  identities: ReadonlyMap<string, RepoIdentity>;
  outputs: ReadonlyMap<string, string>;
  aws: DoctorAws;
}

type Res = { Type: string; Properties?: Record<string, any> };

const redeploy = (s: Stack) => `deploy stack ${s.stackName} in ${s.account} again from what deploy-setup generate writes (README: the aws cloudformation deploy line)`;
const CLAIM = `${GITHUB_ISSUER_HOST}:`;

/** A template value as deployed: strings, Fn::Sub of the pseudo parameters, Fn::GetAtt Arn of a key (its stack output) or role. */
function resolveValue(v: unknown, ctx: StackContext, roles: Map<string, string>): string[] {
  if (Array.isArray(v)) return v.flatMap((x) => resolveValue(x, ctx, roles));
  if (typeof v === 'string') return [v];
  const o = v as Record<string, unknown>;
  if (typeof o['Fn::Sub'] === 'string') {
    const pseudo: Record<string, string> = { 'AWS::Partition': partitionOf(ctx.stack.region), 'AWS::Region': ctx.stack.region, 'AWS::AccountId': ctx.stack.account };
    return [(o['Fn::Sub'] as string).replace(/\$\{([^}]+)\}/g, (_, k: string) => pseudo[k] ?? `\${${k}}`)];
  }
  const att = o['Fn::GetAtt'] as [string, string] | undefined;
  if (att?.[1] === 'Arn') {
    const role = roles.get(att[0]);
    if (role) return [role];
    const out = ctx.outputs.get(`${att[0]}Arn`);
    return out ? [out] : [];
  }
  return [];
}

interface RoleTemplate {
  ref: RoleRef;
  trust: PolicyDoc;
  /** Every Allow statement of its identity policies, resolved: actions on resources. */
  grants: Array<{ actions: string[]; resources: string[] }>;
}

function roleTemplates(ctx: StackContext): RoleTemplate[] {
  const resources = ctx.stack.template.Resources as unknown as Record<string, Res>;
  const roleArns = new Map<string, string>();
  const byLogical = new Map<string, RoleRef>();
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type !== 'AWS::IAM::Role') continue;
    const ref = ctx.plan.roles.find((x) => x.account === ctx.stack.account && x.name === r.Properties!.RoleName);
    if (ref) (roleArns.set(id, ref.arn), byLogical.set(id, ref));
  }
  const docs = new Map<string, PolicyDoc[]>();
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type === 'AWS::IAM::Role') docs.set(id, [...(docs.get(id) ?? []), ...((r.Properties!.Policies ?? []) as Array<{ PolicyDocument: PolicyDoc }>).map((p) => p.PolicyDocument)]);
    if (r.Type === 'AWS::IAM::RolePolicy') {
      const target = (r.Properties!.RoleName as { Ref?: string }).Ref!;
      docs.set(target, [...(docs.get(target) ?? []), r.Properties!.PolicyDocument as PolicyDoc]);
    }
  }
  return [...byLogical].map(([id, ref]) => ({
    ref,
    trust: (resources[id]!.Properties!.AssumeRolePolicyDocument ?? {}) as PolicyDoc,
    grants: (docs.get(id) ?? [])
      .flatMap(statements)
      .filter((s) => s.Effect === 'Allow')
      .map((s) => ({ actions: [s.Action ?? []].flat() as string[], resources: resolveValue((s as { Resource?: unknown }).Resource, ctx, roleArns) })),
  }));
}

/** The jobs a role exists for, as their tokens will describe them, and one it must refuse. */
function jobsOf(ctx: StackContext, role: RoleRef): { admit: TokenJob[]; refuse?: TokenJob; what: string } {
  const s = ctx.cfg.services.find((x) => x.name === role.service)!;
  const concrete = (ref: string) => ref.replace(/[*?]+/g, 'x');
  const refs = releaseRefs(ctx.cfg).map(concrete);
  // A caller pins deploy-actions' reusable workflow at a release (README: @v1).
  const own = (file: string, _ref: string) => `${ctx.cfg.aws.deployActions}/.github/workflows/${file}@refs/tags/v1`;
  const theirs = (ref: string) => `${s.repository}/.github/workflows/other.yml@${ref}`;
  if (role.kind === 'deploy') {
    const ref = refs[refs.length - 1]!;
    const job: TokenJob = { environment: role.environment!, ref, jobWorkflowRef: own('deploy.yml', ref) };
    return { admit: [job], refuse: { ...job, jobWorkflowRef: theirs(ref) }, what: `deploy.yml jobs of ${s.repository} in environment ${role.environment}` };
  }
  if (role.kind === 'build') {
    return { admit: refs.map((ref) => ({ ref, jobWorkflowRef: own('build.yml', ref) })), refuse: { ref: refs[0]!, jobWorkflowRef: theirs(refs[0]!) }, what: `build.yml jobs of ${s.repository} on ${refs.join(', ')}` };
  }
  return { admit: refs.map((ref) => ({ ref, jobWorkflowRef: `${s.repository}/.github/workflows/rollback.yml@${ref}` })), what: `jobs of ${s.repository} on ${refs.join(', ')}` };
}

type TrustAnswer = { admits: true } | { admits: false; why: string } | { admits: 'unknown'; why: string };

/** Would `trust` let a token with these claims assume the role through the account's GitHub provider? */
export function trustAdmits(trust: PolicyDoc, providerArn: string, claims: Record<string, string>): TrustAnswer {
  const context = Object.fromEntries(Object.entries(claims).map(([k, v]) => [`${CLAIM}${k}`, v]));
  const known = (key: string) => key.toLowerCase().startsWith(CLAIM);
  const applies = (st: PolicyStatement) => coversAction(st, 'sts:AssumeRoleWithWebIdentity') && namesPrincipal(st, 'Federated', providerArn);
  let why = `no statement allows sts:AssumeRoleWithWebIdentity from ${providerArn}`;
  let admitted = false;
  for (const st of statements(trust).filter(applies)) {
    const c = conditionsHold(st, context, known);
    if (c.holds === 'unknown') return { admits: 'unknown', why: `doctor cannot evaluate its ${c.what}` };
    if (st.Effect === 'Deny' && c.holds) return { admits: false, why: `a Deny statement${st.Sid ? ` (${st.Sid})` : ''} refuses them` };
    if (st.Effect === 'Allow') {
      if (c.holds) admitted = true;
      else why = `it wants ${c.key} ${c.wants.join(' or ')}; the tokens carry ${c.got === undefined ? 'no such claim' : c.got}`;
    }
  }
  return admitted ? { admits: true } : { admits: false, why };
}

export async function checkRoles(ctx: StackContext): Promise<Checked> {
  const findings: Finding[] = [];
  const providerArn = `arn:${partitionOf(ctx.stack.region)}:iam::${ctx.stack.account}:oidc-provider/${GITHUB_ISSUER_HOST}`;
  const templates = roleTemplates(ctx);
  for (const t of templates) {
    const where = `role ${t.ref.name} (${t.ref.account})`;
    const deployed = await ctx.aws.trustOf(t.ref.name);
    if (!deployed) {
      findings.push({ where, problem: 'does not exist', fix: redeploy(ctx.stack) });
      continue;
    }
    const s = ctx.cfg.services.find((x) => x.name === t.ref.service)!;
    const id = ctx.identities.get(s.repository.toLowerCase())!;
    const jobs = jobsOf(ctx, t.ref);
    const refused = jobs.admit.map((j) => ({ j, a: trustAdmits(deployed.trust, providerArn, tokenClaims(id, j)) })).filter((x) => x.a.admits !== true);
    if (refused.length) {
      const a = refused[0]!.a as Exclude<TrustAnswer, { admits: true }>;
      findings.push({
        where,
        problem: a.admits === 'unknown' ? `trust not checked: ${a.why}` : `trust refuses the tokens of ${jobs.what}: ${a.why}`,
        fix: `${redeploy(ctx.stack)}; its trust is written for the ids and subject format GitHub reports for ${s.repository}`,
      });
    } else if (jobs.refuse && trustAdmits(deployed.trust, providerArn, tokenClaims(id, jobs.refuse)).admits === true) {
      findings.push({
        where,
        problem: `trust admits any workflow of ${s.repository} (a job of ${jobs.refuse.jobWorkflowRef}), not only deploy-actions' ${t.ref.kind === 'build' ? 'build.yml' : 'deploy.yml'}`,
        fix: `${redeploy(ctx.stack)}; its trust binds the role to the reusable workflow (job_workflow_ref)`,
      });
    }
    const denied: string[] = [];
    for (const g of t.grants) {
      for (const resource of g.resources) {
        const decisions = await ctx.aws.simulate(deployed.arn, g.actions, resource);
        for (const a of g.actions) if (decisions.get(a) !== 'allowed') denied.push(`${a} on ${resource} (${decisions.get(a) ?? 'not simulated'})`);
      }
    }
    if (denied.length) findings.push({ where, problem: `IAM's simulation denies what the actions call: ${denied.join(', ')}`, fix: redeploy(ctx.stack) });
  }
  return { findings, count: templates.length };
}

/** Can `roleArn` do `action` under this key policy (an Allow naming it or its account, no Deny)? */
function keyAllows(policy: PolicyDoc, roleArn: string, action: string): boolean {
  const account = /:iam::(\d{12}):/.exec(roleArn)?.[1] ?? '';
  const context = { 'aws:PrincipalArn': roleArn, 'aws:PrincipalAccount': account };
  const known = (key: string) => /^aws:Principal(Arn|Account)$/i.test(key);
  const hits = statements(policy).filter((st) => coversAction(st, action) && namesPrincipal(st, 'AWS', roleArn) && conditionsHold(st, context, known).holds === true);
  return hits.some((st) => st.Effect === 'Allow') && !hits.some((st) => st.Effect === 'Deny');
}

export async function checkKeys(ctx: StackContext, sign: readonly string[], verify: readonly string[]): Promise<Checked> {
  const findings: Finding[] = [];
  const keys = ctx.plan.keys.filter((k) => k.account === ctx.stack.account && ctx.stack.environments.includes(k.environment));
  for (const k of keys) {
    const s = ctx.cfg.services.find((x) => x.name === k.service)!;
    const where = `evidence key of ${s.repository} ${k.environment}`;
    const arn = ctx.outputs.get(k.output);
    if (!arn) {
      findings.push({ where, problem: `stack ${ctx.stack.stackName} has no output ${k.output} (not deployed, or not readable)`, fix: redeploy(ctx.stack) });
      continue;
    }
    const policy = await ctx.aws.keyPolicy(arn);
    if (!policy) {
      findings.push({ where: `${where} (${arn})`, problem: 'does not exist', fix: redeploy(ctx.stack) });
      continue;
    }
    const roles = ctx.plan.roles.filter((r) => r.service === k.service);
    const signer = roles.find((r) => r.kind === 'deploy' && r.environment === k.environment)!;
    const readers = roles.filter((r) => r.kind === 'deploy' || r.kind === 'reader');
    const missing = [
      ...sign.filter((a) => !keyAllows(policy, signer.arn, a)).map((a) => `${signer.name} ${a}`),
      ...readers.flatMap((r) => verify.filter((a) => (r !== signer || !sign.includes(a)) && !keyAllows(policy, r.arn, a)).map((a) => `${r.name} ${a}`)),
    ];
    if (missing.length) {
      findings.push({ where: `${where} (${arn})`, problem: `the key policy does not allow ${[...new Set(missing)].join(', ')}`, fix: `${redeploy(ctx.stack)}, as the key administrator ${ctx.cfg.aws.keyAdminRole}` });
    }
  }
  return { findings, count: keys.length };
}

export async function checkAccessEntries(ctx: StackContext): Promise<Checked> {
  const findings: Finding[] = [];
  const listed = new Map<string, string[] | undefined>();
  let entries = 0;
  for (const envName of ctx.stack.environments) {
    const e = ctx.cfg.environments.find((x) => x.name === envName)!;
    const cluster = e.target!.cluster;
    if (!listed.has(cluster)) listed.set(cluster, await ctx.aws.accessEntries(cluster));
    const present = listed.get(cluster);
    for (const s of ctx.cfg.services) {
      entries++;
      const role = ctx.plan.roles.find((r) => r.service === s.name && r.kind === 'deploy' && r.environment === envName)!;
      const namespace = s.namespaces[envName]!;
      const where = `EKS access of ${role.name} on cluster ${cluster} (${ctx.stack.account})`;
      if (!present) {
        findings.push({ where, problem: `cluster ${cluster} does not exist in ${ctx.stack.account} ${ctx.stack.region}`, fix: `set environments.${envName}.cluster to the cluster's name, then deploy-setup generate and deploy` });
        continue;
      }
      const entry = present.includes(role.arn) ? await ctx.aws.accessEntry(cluster, role.arn) : undefined;
      if (!entry) {
        findings.push({ where, problem: 'no access entry', fix: redeploy(ctx.stack) });
        continue;
      }
      const edit = entry.policies.filter((p) => p.policyArn.endsWith(`/${EKS_ACCESS_POLICY}`));
      const wide = entry.policies.filter((p) => p.scope.type !== 'namespace');
      if (wide.length) {
        findings.push({ where, problem: `cluster-wide access (${wide.map((p) => p.policyArn.split('/').pop()).join(', ')}), wider than namespace ${namespace}`, fix: `associate ${EKS_ACCESS_POLICY} scoped to namespace ${namespace} only: ${redeploy(ctx.stack)}` });
      } else if (!edit.some((p) => p.scope.namespaces.includes(namespace))) {
        const scoped = [...new Set(entry.policies.flatMap((p) => p.scope.namespaces))];
        findings.push({
          where,
          problem: `${EKS_ACCESS_POLICY} is not scoped to namespace ${namespace} (K8S_NAMESPACE of ${envName})${scoped.length ? `; the entry's policies are scoped to ${scoped.join(', ')}` : ''}`,
          fix: redeploy(ctx.stack),
        });
      }
    }
  }
  return { findings, count: entries };
}
