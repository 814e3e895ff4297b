/**
 * Authorization for the AWS stand-ins, decided by @cloud-copilot/iam-simulate: an independent
 * IAM simulator (identity, resource, trust and KMS key policies; same- and cross-account
 * requests; every condition operator). This file only translates a stand-in's question into a
 * simulation and the answer into the AccessDenied message AWS gives; it decides nothing itself.
 *
 * The simulator's safe entry point (`runSimulation`) validates the policies, the action and the
 * resource ARN against AWS's service reference, then drops every context key its data does not
 * list for the action (it reports them as `ignoredContextKeys`). Its data lists GitHub's claim
 * keys for sts:AssumeRoleWithWebIdentity (`token.actions.githubusercontent.com:repository_id`,
 * `:job_workflow_ref`, `:environment`, `:ref`, ...) but not the OIDC `aud` and `sub` keys, which
 * IAM evaluates for every provider. A dropped key would make a `sub` condition silently fail
 * closed or, under a negated operator, silently pass, so no key is ever dropped here:
 *   - after the safe run, any ignored key that is not an OIDC claim key of the token's own
 *     provider is an error (a stand-in passing a key AWS does not evaluate is a stand-in bug);
 *   - when the ignored keys are such claim keys, the decision is the simulator's documented
 *     unvalidated entry point (`runUnsafeSimulation`, "without input validation or context
 *     variable verification") given the full context, on the inputs the safe run has just
 *     validated. The simulator's own context-key table accepts `<provider>:aud`/`:sub` as real
 *     keys (it validates policies that use them); only its per-action list omits them.
 *
 * AGPL-3.0 (test-only devDependency of @deploy-actions/test; never bundled into an action:
 * scripts/license-allowlist.json governs what dist/ may carry). See test/README.md.
 */
import { runSimulation, runUnsafeSimulation, type Simulation } from '@cloud-copilot/iam-simulate';

export type OneOrMore<T> = T | T[];

export interface PrincipalBlock {
  AWS?: OneOrMore<string>;
  Federated?: OneOrMore<string>;
  Service?: OneOrMore<string>;
}

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: '*' | PrincipalBlock;
  NotPrincipal?: PrincipalBlock;
  Action?: OneOrMore<string>;
  NotAction?: OneOrMore<string>;
  Resource?: OneOrMore<string>;
  NotResource?: OneOrMore<string>;
  Condition?: Record<string, Record<string, OneOrMore<string | boolean>>>;
}

export interface PolicyDocument {
  Version?: string;
  Id?: string;
  Statement: OneOrMore<Statement>;
}

/** Who is asking: an IAM principal (role session, user, account root) or a federated/service one. */
export interface Principal {
  /** The caller's ARN: arn:aws:sts::<account>:assumed-role/<role>/<session>, an IAM user, or a provider. */
  arn: string;
  /** The caller's account (absent for federated and service principals). */
  account?: string;
  /** For a role session: the role's ARN (arn:aws:iam::<account>:role/<path><name>). */
  roleArn?: string;
  /** For AssumeRoleWithWebIdentity: the identity provider's ARN. */
  federated?: string;
  /** For an AWS service principal, e.g. eks.amazonaws.com. */
  service?: string;
}

export interface Request {
  principal: Principal;
  /** service:Operation, e.g. ecr:BatchGetImage. */
  action: string;
  /** The resource ARN, or '*' for actions without one (ecr:GetAuthorizationToken). */
  resource: string;
  /** Condition keys beyond the global ones derived from the principal (e.g. token claims). */
  context?: Record<string, string | string[] | undefined>;
}

const asList = <T>(v: OneOrMore<T> | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

export const statementsOf = (doc: PolicyDocument | undefined): Statement[] => asList(doc?.Statement);

/** IAM-style wildcard matching (`*` any run, `?` one character), for names that are not policies (ECR tag filters). */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, ignoreCase ? 'is' : 's').test(value);
}

const ARN_ACCOUNT = /^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):/;

export type Decision =
  | { allowed: true }
  | { allowed: false; reason: 'explicit-deny-identity' | 'explicit-deny-resource' | 'no-identity-allow' | 'no-resource-allow'; message: string };

export interface Evaluation extends Request {
  /** The caller's identity-based policies (its role's policies). */
  identityPolicies: PolicyDocument[];
  /** The resource's policy (repository policy, key policy, role trust policy). */
  resourcePolicy?: PolicyDocument;
  /** The account that owns the resource; absent: the account in its ARN, else the caller's. */
  resourceAccount?: string;
}

/** The global condition keys AWS derives from an IAM principal (aws:PrincipalArn is the role for a session). */
function globalKeys(p: Principal): Record<string, string> {
  if (p.federated || p.service) return {};
  const keys: Record<string, string> = { 'aws:PrincipalArn': p.roleArn ?? p.arn };
  if (p.account) keys['aws:PrincipalAccount'] = p.account;
  return keys;
}

/** `<provider host/path>:<claim>` of the federated caller's own provider (the keys IAM evaluates for its tokens). */
function isOwnProviderClaimKey(key: string, p: Principal): boolean {
  const host = /:oidc-provider\/(.+)$/.exec(p.federated ?? '')?.[1];
  return host !== undefined && key.toLowerCase().startsWith(`${host.toLowerCase()}:`);
}

export class SimulatorRefused extends Error {}

/**
 * The simulation with its resource policy marked as validated (iam-policy's ValidatedPolicy
 * shape, a plain object), for the unvalidated run after the validated one: that run loads a raw
 * resource policy without a name and then fails reading it (iam-simulate 0.1.173).
 */
function validated(simulation: Simulation): Simulation {
  if (!simulation.resourcePolicy) return simulation;
  return { ...simulation, resourcePolicy: { __validated: true, policyDocument: simulation.resourcePolicy, metadata: { name: 'resource-policy' }, errors: [] } };
}

/** The AWS decision for one request, with the AccessDenied message AWS would give when refused. */
export async function evaluate(e: Evaluation): Promise<Decision> {
  const p = e.principal;
  const context: Record<string, string | string[]> = { ...globalKeys(p) };
  for (const [k, v] of Object.entries(e.context ?? {})) if (v !== undefined) context[k] = v;
  const simulation: Simulation = {
    request: {
      principal: p.federated ?? p.service ?? p.arn,
      action: e.action,
      resource: { resource: e.resource, accountId: e.resourceAccount ?? ARN_ACCOUNT.exec(e.resource)?.[1] ?? p.account ?? '000000000000' },
      contextVariables: context,
    },
    identityPolicies: e.identityPolicies.map((policy, i) => ({ name: `identity-${i + 1}`, policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(e.resourcePolicy ? { resourcePolicy: e.resourcePolicy } : {}),
  };
  const safe = await runSimulation(simulation, {});
  if (safe.resultType === 'error') {
    throw new SimulatorRefused(`iam-simulate refused ${e.action} on ${e.resource}: ${JSON.stringify(safe.errors)}`);
  }
  const results = safe.resultType === 'single' ? [safe.result] : safe.results;
  const ignored = [...new Set(results.flatMap((r) => r.ignoredContextKeys ?? []))];
  const notEvaluable = ignored.filter((k) => !isOwnProviderClaimKey(k, p));
  if (notEvaluable.length) {
    throw new SimulatorRefused(`iam-simulate: context key(s) ${notEvaluable.join(', ')} do not apply to ${e.action}; a stand-in must not pass keys AWS does not evaluate`);
  }
  const result = ignored.length ? runUnsafeSimulation(validated(simulation), {}) : safe.overallResult;
  if (result === 'Allowed') return { allowed: true };

  // Which side refused, for AWS's wording: the identity side when it denied or did not allow, else the resource's.
  // Without the analysis (the unvalidated run gives only the result) a caller with no identity policies (a web identity) was refused by the resource's.
  const analysis = safe.resultType === 'single' && !ignored.length ? safe.result.analysis : undefined;
  const identity = analysis ? analysis.identityAnalysis?.result : e.identityPolicies.length ? undefined : 'Allowed';
  const explicit = result === 'ExplicitlyDenied';
  const onResource = explicit ? identity !== 'ExplicitlyDenied' : identity === 'Allowed';
  const reason = explicit ? (onResource ? 'explicit-deny-resource' : 'explicit-deny-identity') : onResource ? 'no-resource-allow' : 'no-identity-allow';
  const why = {
    'explicit-deny-identity': 'with an explicit deny in an identity-based policy',
    'explicit-deny-resource': 'with an explicit deny in a resource-based policy',
    'no-identity-allow': `because no identity-based policy allows the ${e.action} action`,
    'no-resource-allow': `because no resource-based policy allows the ${e.action} action`,
  }[reason];
  return { allowed: false, reason, message: `User: ${p.arn} is not authorized to perform: ${e.action} on resource: ${e.resource} ${why}` };
}
