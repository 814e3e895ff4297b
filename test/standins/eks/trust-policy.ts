/**
 * Evaluates a role's trust policy for one request, the way IAM does for sts:AssumeRole*:
 * an explicit Deny wins, else an Allow whose Principal, Action and every Condition match,
 * else the implicit deny. Written from the IAM policy reference
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
 * and reference_policies_evaluation-logic.html) because no maintained npm package evaluates
 * IAM policies.
 *
 * - Condition key names are case-insensitive; values compare case-sensitively except for
 *   the *IgnoreCase operators. A list of values in one key is OR; several keys and several
 *   operators are AND.
 * - A key missing from the request makes a condition false, except for negated operators
 *   (StringNotEquals, StringNotLike, ...) which are then true, `...IfExists` which is true,
 *   and `Null` which tests presence.
 * - StringLike: `*` any run of characters (also none), `?` exactly one.
 * - `ForAnyValue:` / `ForAllValues:` for multi-valued keys (e.g. an `aud` list).
 * Anything else (NotPrincipal, NotAction, unsupported operators) is refused as a malformed
 * policy, so a test never passes on a policy the evaluator silently misread.
 */
export type ContextValue = string | string[];
export type RequestContext = Record<string, ContextValue | undefined>;

export interface TrustRequest {
  action: string;
  /** The caller as a policy Principal names it, e.g. { Federated: 'arn:aws:iam::1:oidc-provider/host' }. */
  principal: { type: 'Federated' | 'AWS' | 'Service'; id: string };
  context: RequestContext;
}

export type Decision = 'allow' | 'explicit-deny' | 'implicit-deny';

export class MalformedPolicyError extends Error {
  override name = 'MalformedPolicyDocument';
}

interface Statement {
  Effect: 'Allow' | 'Deny';
  Principal?: '*' | Record<string, string | string[]>;
  Action?: string | string[];
  Condition?: Record<string, Record<string, string | string[] | boolean>>;
}

const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function wildcard(pattern: string, flags = ''): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, `s${flags}`);
}

type Compare = (actual: string, expected: string) => boolean;
const OPERATORS: Record<string, { test: Compare; negated: boolean }> = {
  StringEquals: { test: (a, e) => a === e, negated: false },
  StringNotEquals: { test: (a, e) => a === e, negated: true },
  StringEqualsIgnoreCase: { test: (a, e) => a.toLowerCase() === e.toLowerCase(), negated: false },
  StringNotEqualsIgnoreCase: { test: (a, e) => a.toLowerCase() === e.toLowerCase(), negated: true },
  StringLike: { test: (a, e) => wildcard(e).test(a), negated: false },
  StringNotLike: { test: (a, e) => wildcard(e).test(a), negated: true },
};

function lookup(context: RequestContext, key: string): string[] | undefined {
  const lower = key.toLowerCase();
  const hit = Object.entries(context).find(([k]) => k.toLowerCase() === lower)?.[1];
  return hit === undefined ? undefined : list(hit);
}

function conditionHolds(operator: string, key: string, expected: string[], context: RequestContext): boolean {
  const actual = lookup(context, key);
  if (operator === 'Null') {
    const wantsMissing = expected.map((e) => String(e).toLowerCase());
    if (wantsMissing.some((e) => e !== 'true' && e !== 'false')) throw new MalformedPolicyError(`Null takes true or false (${key})`);
    return wantsMissing.includes(actual === undefined ? 'true' : 'false');
  }
  const m = /^(ForAnyValue:|ForAllValues:)?([A-Za-z]+?)(IfExists)?$/.exec(operator);
  const op = m && OPERATORS[m[2]!];
  if (!m || !op) throw new MalformedPolicyError(`unsupported condition operator ${operator}`);
  const [, set, , ifExists] = m;
  if (actual === undefined) return Boolean(ifExists) || op.negated || set === 'ForAllValues:';
  const matchesOne = (a: string) => expected.some((e) => op.test(a, String(e)));
  if (set === 'ForAllValues:') return actual.every((a) => (op.negated ? !matchesOne(a) : matchesOne(a)));
  if (set === 'ForAnyValue:') return actual.some((a) => (op.negated ? !matchesOne(a) : matchesOne(a)));
  if (actual.length !== 1) return false; // a single-valued operator on a multi-valued key
  return op.negated ? !matchesOne(actual[0]!) : matchesOne(actual[0]!);
}

function principalMatches(p: Statement['Principal'], who: TrustRequest['principal']): boolean {
  if (p === undefined) throw new MalformedPolicyError('a trust policy statement needs a Principal');
  if (p === '*') return true;
  return Object.entries(p).some(([type, ids]) => type === who.type && list(ids).some((id) => id === '*' || id === who.id));
}

function statementApplies(s: Statement, req: TrustRequest): boolean {
  for (const k of Object.keys(s)) {
    if (!['Sid', 'Effect', 'Principal', 'Action', 'Condition'].includes(k)) throw new MalformedPolicyError(`unsupported policy element ${k}`);
  }
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw new MalformedPolicyError(`Effect must be Allow or Deny`);
  if (!principalMatches(s.Principal, req.principal)) return false;
  if (!list(s.Action).some((a) => wildcard(a, 'i').test(req.action))) return false;
  return Object.entries(s.Condition ?? {}).every(([operator, keys]) =>
    Object.entries(keys).every(([key, values]) => conditionHolds(operator, key, list(values).map(String), req.context)),
  );
}

/** The decision for `req` under `policy` (a JSON document or its parsed form). */
export function evaluateTrustPolicy(policy: string | object, req: TrustRequest): Decision {
  const doc = (typeof policy === 'string' ? JSON.parse(policy) : policy) as { Statement?: Statement | Statement[] };
  const statements = list(doc.Statement);
  if (statements.length === 0) throw new MalformedPolicyError('the policy has no Statement');
  const applying = statements.filter((s) => statementApplies(s, req));
  if (applying.some((s) => s.Effect === 'Deny')) return 'explicit-deny';
  return applying.some((s) => s.Effect === 'Allow') ? 'allow' : 'implicit-deny';
}
