/**
 * The two policy questions doctor answers from a deployed document itself, because no AWS API
 * answers them read-only: would this role's trust admit a token with these claims (IAM's policy
 * simulator does not simulate web identities), and does this key policy name this role for these
 * actions (the simulator does not take KMS key policies). Only what the generated policies and
 * hand edits of them use is understood: Allow/Deny statements, Action/NotAction wildcards, AWS
 * and Federated principals (a role, its account's root or '*'), and the operators StringEquals,
 * StringLike, StringNotEquals, StringNotLike, ArnEquals, ArnLike (and their IfExists/IgnoreCase
 * forms where IAM has them). A statement with any other operator or key is reported as not
 * checked rather than guessed. Everything else (permissions) is IAM's own simulation.
 */

type OneOrMore<T> = T | T[];

export interface PolicyStatement {
  Sid?: string;
  Effect?: string;
  Principal?: '*' | { AWS?: OneOrMore<string>; Federated?: OneOrMore<string>; Service?: OneOrMore<string> };
  Action?: OneOrMore<string>;
  NotAction?: OneOrMore<string>;
  Condition?: Record<string, Record<string, OneOrMore<string | boolean>>>;
}

export interface PolicyDoc {
  Statement?: OneOrMore<PolicyStatement>;
}

const list = <T>(v: OneOrMore<T> | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

export const statements = (doc: PolicyDoc): PolicyStatement[] => list(doc.Statement);

/** IAM wildcards: `*` any run, `?` one character. */
export function wildcard(pattern: string, value: string, ignoreCase = false): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, ignoreCase ? 'is' : 's').test(value);
}

/** Does the statement's Action (or NotAction) cover `action`? Action names are case-insensitive. */
export function coversAction(st: PolicyStatement, action: string): boolean {
  if (st.NotAction !== undefined) return !list(st.NotAction).some((a) => wildcard(a, action, true));
  return list(st.Action).some((a) => wildcard(a, action, true));
}

export type ConditionResult = { holds: true } | { holds: false; key: string; wants: string[]; got: string | undefined } | { holds: 'unknown'; what: string };

const OPERATORS: Record<string, { match: (pattern: string, value: string) => boolean; negated: boolean }> = {
  StringEquals: { match: (p, v) => p === v, negated: false },
  StringEqualsIgnoreCase: { match: (p, v) => p.toLowerCase() === v.toLowerCase(), negated: false },
  StringLike: { match: (p, v) => wildcard(p, v), negated: false },
  StringNotEquals: { match: (p, v) => p === v, negated: true },
  StringNotEqualsIgnoreCase: { match: (p, v) => p.toLowerCase() === v.toLowerCase(), negated: true },
  StringNotLike: { match: (p, v) => wildcard(p, v), negated: true },
  ArnEquals: { match: (p, v) => wildcard(p, v), negated: false },
  ArnLike: { match: (p, v) => wildcard(p, v), negated: false },
  ArnNotEquals: { match: (p, v) => wildcard(p, v), negated: true },
  ArnNotLike: { match: (p, v) => wildcard(p, v), negated: true },
};

/**
 * Do the statement's conditions hold for these context values (keys compared case-insensitively,
 * as IAM does)? `known(key)`: whether a missing key is known to be absent (a claim the token does
 * not carry) rather than unknown to doctor.
 */
export function conditionsHold(st: PolicyStatement, context: Record<string, string>, known: (key: string) => boolean): ConditionResult {
  const ctx = new Map(Object.entries(context).map(([k, v]) => [k.toLowerCase(), v]));
  for (const [rawOp, block] of Object.entries(st.Condition ?? {})) {
    const ifExists = rawOp.endsWith('IfExists');
    const op = OPERATORS[ifExists ? rawOp.slice(0, -'IfExists'.length) : rawOp];
    if (!op) return { holds: 'unknown', what: `operator ${rawOp}` };
    for (const [key, raw] of Object.entries(block)) {
      const wants = list(raw).map(String);
      const got = ctx.get(key.toLowerCase());
      if (got === undefined) {
        if (!known(key)) return { holds: 'unknown', what: `condition key ${key}` };
        if (ifExists || op.negated) continue;
        return { holds: false, key, wants, got };
      }
      const any = wants.some((w) => op.match(w, got));
      if (op.negated ? any : !any) return { holds: false, key, wants, got };
    }
  }
  return { holds: true };
}

/** Does the statement's Principal name `arn`, or its account (root or the bare id), or everyone? */
export function namesPrincipal(st: PolicyStatement, kind: 'AWS' | 'Federated', arn: string): boolean {
  if (st.Principal === '*') return true;
  const account = /^arn:aws[a-z-]*:iam::(\d{12}):/.exec(arn)?.[1];
  return list(st.Principal?.[kind]).some((p) => p === '*' || p === arn || (kind === 'AWS' && account !== undefined && (p === account || wildcard(p, `arn:aws:iam::${account}:root`) || p.endsWith(`:iam::${account}:root`))));
}
