/**
 * IAM policy evaluation for the AWS stand-ins, written from the IAM documentation ("Policy
 * evaluation logic", "Cross-account policy evaluation logic", "IAM JSON policy elements").
 * By hand because no maintained npm package evaluates identity and resource policies
 * together; it covers what the stand-ins need and throws on anything it does not know (an
 * unknown condition operator), so a test can never pass through a policy it misread.
 *
 * Covered: Effect Allow/Deny; Action/NotAction and Resource/NotResource with `*` and `?`
 * wildcards (actions case-insensitive); Principal/NotPrincipal by `*`, account id, account
 * root, role ARN (matches the role's sessions), session or user ARN, Federated, Service;
 * Condition operators String(Not)Equals(IgnoreCase), String(Not)Like, Arn(Not)Equals,
 * Arn(Not)Like, Bool, Null, the `IfExists` suffix and the `ForAnyValue:`/`ForAllValues:`
 * set qualifiers. Not covered: permission boundaries, SCPs, session policies, NotPrincipal
 * with Allow, numeric/date/IP operators, policy variables.
 */

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

/** IAM wildcard matching: `*` any run of characters, `?` exactly one. */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, ignoreCase ? 'is' : 's').test(value);
}

const ACCOUNT_ID = /^\d{12}$/;
const ACCOUNT_ROOT = /^arn:aws[a-z-]*:iam::(\d{12}):root$/;

/** The account a principal entry names as a whole (`123456789012` or its root ARN), else undefined. */
export function accountOfEntry(entry: string): string | undefined {
  if (ACCOUNT_ID.test(entry)) return entry;
  return ACCOUNT_ROOT.exec(entry)?.[1];
}

/**
 * How a principal entry matches the caller: 'direct' (the caller itself, its role, or `*`),
 * 'account' (the caller's whole account: that delegates to the account's own IAM policies),
 * or undefined.
 */
export type PrincipalMatch = 'direct' | 'account' | undefined;

function matchAwsEntry(entry: string, p: Principal): PrincipalMatch {
  if (entry === '*') return 'direct';
  const account = accountOfEntry(entry);
  if (account !== undefined) return p.account === account ? 'account' : undefined;
  if (entry === p.arn || (p.roleArn !== undefined && entry === p.roleArn)) return 'direct';
  return undefined;
}

export function matchPrincipal(block: Statement['Principal'], p: Principal): PrincipalMatch {
  if (block === undefined) return undefined;
  if (block === '*') return 'direct';
  let best: PrincipalMatch;
  for (const entry of asList(block.AWS)) {
    const m = matchAwsEntry(entry, p);
    if (m === 'direct') return m;
    best ??= m;
  }
  if (p.federated && asList(block.Federated).includes(p.federated)) return 'direct';
  if (p.service && asList(block.Service).includes(p.service)) return 'direct';
  return best;
}

function matchesAny(patterns: string[], value: string, ignoreCase: boolean): boolean {
  return patterns.some((pat) => wildcardMatch(pat, value, ignoreCase));
}

function actionApplies(s: Statement, action: string): boolean {
  if (s.Action !== undefined) return matchesAny(asList(s.Action), action, true);
  if (s.NotAction !== undefined) return !matchesAny(asList(s.NotAction), action, true);
  return false;
}

function resourceApplies(s: Statement, resource: string, resourcePolicy: boolean): boolean {
  // A resource policy may leave Resource out: it then means the resource it is attached to.
  if (s.Resource !== undefined) return matchesAny(asList(s.Resource), resource, false);
  if (s.NotResource !== undefined) return !matchesAny(asList(s.NotResource), resource, false);
  return resourcePolicy;
}

/** The global condition keys of a request: aws:PrincipalArn (the role for a session), aws:PrincipalAccount, ... */
export function conditionKeys(req: Request): Record<string, string | string[] | undefined> {
  const p = req.principal;
  return {
    'aws:PrincipalArn': p.roleArn ?? p.arn,
    'aws:PrincipalAccount': p.account,
    'aws:PrincipalType': p.roleArn ? 'AssumedRole' : p.federated ? 'WebIdentityUser' : p.account ? 'User' : 'Service',
    ...req.context,
  };
}

type Comparator = (pattern: string, value: string) => boolean;
const COMPARATORS: Record<string, { test: Comparator; negated: boolean }> = {
  StringEquals: { test: (p, v) => p === v, negated: false },
  StringNotEquals: { test: (p, v) => p === v, negated: true },
  StringEqualsIgnoreCase: { test: (p, v) => p.toLowerCase() === v.toLowerCase(), negated: false },
  StringNotEqualsIgnoreCase: { test: (p, v) => p.toLowerCase() === v.toLowerCase(), negated: true },
  StringLike: { test: (p, v) => wildcardMatch(p, v), negated: false },
  StringNotLike: { test: (p, v) => wildcardMatch(p, v), negated: true },
  ArnEquals: { test: (p, v) => p === v, negated: false },
  ArnNotEquals: { test: (p, v) => p === v, negated: true },
  ArnLike: { test: (p, v) => wildcardMatch(p, v), negated: false },
  ArnNotLike: { test: (p, v) => wildcardMatch(p, v), negated: true },
  Bool: { test: (p, v) => p.toLowerCase() === v.toLowerCase(), negated: false },
};

/** One operator/key pair of a Condition block. */
export function conditionHolds(operatorText: string, key: string, expected: Array<string | boolean>, keys: Record<string, string | string[] | undefined>): boolean {
  const set = /^(ForAnyValue|ForAllValues):/.exec(operatorText)?.[1];
  let operator = set ? operatorText.slice(set.length + 1) : operatorText;
  const ifExists = operator.endsWith('IfExists');
  if (ifExists) operator = operator.slice(0, -'IfExists'.length);
  // Condition key names are not case-sensitive (IAM JSON policy elements: Condition).
  const actual = keys[key] ?? keys[Object.keys(keys).find((k) => k.toLowerCase() === key.toLowerCase()) ?? ''];
  const values = actual === undefined ? [] : Array.isArray(actual) ? actual : [actual];
  const patterns = expected.map(String);
  if (operator === 'Null') return patterns.every((p) => (p.toLowerCase() === 'true') === (values.length === 0));
  const cmp = COMPARATORS[operator];
  if (!cmp) throw new Error(`IAM stand-in: condition operator ${operatorText} is not supported`);
  if (values.length === 0) return ifExists || (cmp.negated && set !== 'ForAnyValue') || set === 'ForAllValues';
  const matchOne = (v: string) => patterns.some((p) => cmp.test(p, v));
  if (set === 'ForAllValues') return values.every((v) => (cmp.negated ? !matchOne(v) : matchOne(v)));
  if (cmp.negated) return set === 'ForAnyValue' ? values.some((v) => !matchOne(v)) : !values.some(matchOne);
  return values.some(matchOne);
}

function conditionsHold(s: Statement, keys: Record<string, string | string[] | undefined>): boolean {
  for (const [operator, block] of Object.entries(s.Condition ?? {})) {
    for (const [key, expected] of Object.entries(block)) {
      if (!conditionHolds(operator, key, asList(expected), keys)) return false;
    }
  }
  return true;
}

/** Statements of one policy that apply to the request, with how their principal matched (resource policies). */
export function applicable(doc: PolicyDocument | undefined, req: Request, kind: 'identity' | 'resource'): Array<{ s: Statement; match: PrincipalMatch }> {
  const keys = conditionKeys(req);
  const out: Array<{ s: Statement; match: PrincipalMatch }> = [];
  for (const s of statementsOf(doc)) {
    let match: PrincipalMatch = 'direct';
    if (kind === 'resource') {
      if (s.NotPrincipal !== undefined) match = matchPrincipal(s.NotPrincipal, req.principal) ? undefined : 'direct';
      else match = matchPrincipal(s.Principal, req.principal);
      if (!match) continue;
    }
    if (!actionApplies(s, req.action) || !resourceApplies(s, req.resource, kind === 'resource') || !conditionsHold(s, keys)) continue;
    out.push({ s, match });
  }
  return out;
}

export type Decision =
  | { allowed: true; via: 'identity' | 'resource' | 'both' }
  | { allowed: false; reason: 'explicit-deny-identity' | 'explicit-deny-resource' | 'no-identity-allow' | 'no-resource-allow'; message: string };

export interface Evaluation extends Request {
  /** The caller's identity-based policies (its role's policies). */
  identityPolicies: PolicyDocument[];
  /** The resource's policy (repository policy, key policy, role trust policy). */
  resourcePolicy?: PolicyDocument;
  /** The account that owns the resource; absent: the caller's own. */
  resourceAccount?: string;
  /**
   * 'either' (ECR, S3, most services): in its own account a caller needs an identity OR a
   * resource policy allow; across accounts both. 'resource-required' (KMS key policies, role
   * trust policies): the resource policy must allow the caller, or allow its account and
   * the caller's identity policies allow too.
   */
  mode?: 'either' | 'resource-required';
}

/** The AWS decision for one request, with the AccessDenied message AWS would give when refused. */
export function evaluate(e: Evaluation): Decision {
  const denied = (reason: Exclude<Decision, { allowed: true }>['reason'], why: string): Decision => ({
    allowed: false,
    reason,
    message: `User: ${e.principal.arn} is not authorized to perform: ${e.action} on resource: ${e.resource} ${why}`,
  });
  const identity = e.identityPolicies.flatMap((d) => applicable(d, e, 'identity'));
  const resource = applicable(e.resourcePolicy, e, 'resource');
  if (identity.some((a) => a.s.Effect === 'Deny')) return denied('explicit-deny-identity', 'with an explicit deny in an identity-based policy');
  if (resource.some((a) => a.s.Effect === 'Deny')) return denied('explicit-deny-resource', 'with an explicit deny in a resource-based policy');
  const identityAllows = identity.some((a) => a.s.Effect === 'Allow');
  const allows = resource.filter((a) => a.s.Effect === 'Allow');
  const direct = allows.some((a) => a.match === 'direct');
  const viaAccount = allows.length > 0;
  const sameAccount = e.resourceAccount === undefined || e.resourceAccount === e.principal.account;
  const noIdentity = () => denied('no-identity-allow', `because no identity-based policy allows the ${e.action} action`);
  const noResource = () => denied('no-resource-allow', `because no resource-based policy allows the ${e.action} action`);
  if ((e.mode ?? 'either') === 'resource-required') {
    if (direct) return { allowed: true, via: 'resource' };
    if (!viaAccount) return noResource();
    return identityAllows ? { allowed: true, via: 'both' } : noIdentity();
  }
  if (sameAccount) {
    if (identityAllows) return { allowed: true, via: direct ? 'both' : 'identity' };
    return direct ? { allowed: true, via: 'resource' } : noIdentity();
  }
  if (!viaAccount) return noResource();
  return identityAllows ? { allowed: true, via: 'both' } : noIdentity();
}
