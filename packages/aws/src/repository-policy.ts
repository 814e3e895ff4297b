/**
 * ECR repository policies, pure: the statements deploy-actions keeps in a repository policy
 * (pull for the clusters' accounts, read for the deploy roles), merged into whatever the policy
 * already holds, and the question a deploy asks before its rollout: may this account pull?
 *
 * Written by hand: an IAM simulator (e.g. @cloud-copilot/iam-simulate) answers "may this
 * principal make this request", but a deploy does not know which node role will pull, only
 * the cluster's account, and the merge is a few lines of list work over the policy's JSON.
 */
import { partitionOf } from '@deploy-actions/action-kit';

/** What a node's image pull amounts to in ECR (the manifest, then the layers). */
export const PULL_ACTIONS = ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'] as const;
/**
 * What a deploy role in another account reads: promote-gate verify looks the evidence tag up
 * (DescribeImages), helm-deploy-eks reads the policy to check a cluster's account may pull.
 */
export const READ_ACTIONS = ['ecr:DescribeImages', 'ecr:GetRepositoryPolicy'] as const;
/**
 * What a deploy role of another account needs to record promote-gate's ECR evidence tag: the
 * manifest, the tag look-up, and PutImage of the same manifest under the new tag (tags are
 * immutable in our repositories, so no existing tag can be moved this way).
 */
export const RECORD_ACTIONS = ['ecr:BatchGetImage', 'ecr:DescribeImages', 'ecr:PutImage'] as const;
/** Our statements' Sids: stable, so a re-run replaces exactly what it wrote before. */
export const PULL_SID = 'DeployActionsPull';
export const READ_SID = 'DeployActionsRead';
export const RECORD_SID = 'DeployActionsRecordEvidence';

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: '*' | Record<string, string | string[]>;
  NotPrincipal?: Record<string, string | string[]>;
  Action?: string | string[];
  NotAction?: string | string[];
  Condition?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface PolicyDocument {
  Version?: string;
  Statement: Statement | Statement[];
  [key: string]: unknown;
}

export interface Grants {
  /** Principal ARNs that may pull: account roots (`arn:aws:iam::<id>:root`) or roles. */
  pull: string[];
  /** Principal ARNs that may read (deploy roles). */
  read: string[];
  /** Principal ARNs that may record evidence tags (deploy roles that run promote-gate record). */
  record: string[];
}

const OURS: Array<[string, keyof Grants, readonly string[]]> = [
  [PULL_SID, 'pull', PULL_ACTIONS],
  [READ_SID, 'read', READ_ACTIONS],
  [RECORD_SID, 'record', RECORD_ACTIONS],
];

/** The partition of a region, for the ARNs we write (action-kit's table of every partition). */
export { partitionOf };

export function accountRoot(account: string, region: string): string {
  return `arn:${partitionOf(region)}:iam::${account}:root`;
}

const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function ourStatement(sid: string, principals: string[], actions: readonly string[]): Statement[] {
  const sorted = [...new Set(principals)].sort();
  if (sorted.length === 0) return [];
  return [{ Sid: sid, Effect: 'Allow', Principal: { AWS: sorted.length === 1 ? sorted[0]! : sorted }, Action: [...actions] }];
}

/**
 * The repository policy with our statements replaced by the ones `grants` asks for (none
 * when a list is empty), every other statement kept as it was, in its place. `text` is the
 * policy ECR holds (undefined: none). `changed` is false when ECR already holds this policy;
 * `text` is undefined when nothing is left (the policy is then deleted, not set empty).
 */
export function mergeRepositoryPolicy(current: string | undefined, grants: Grants): { text?: string; changed: boolean } {
  const doc: PolicyDocument = current ? (JSON.parse(current) as PolicyDocument) : { Version: '2012-10-17', Statement: [] };
  const theirs = list(doc.Statement).filter((s) => !OURS.some(([sid]) => s.Sid === sid));
  const statements = [...theirs, ...OURS.flatMap(([sid, key, actions]) => ourStatement(sid, grants[key], actions))];
  const text = statements.length > 0 ? JSON.stringify({ ...doc, Version: doc.Version ?? '2012-10-17', Statement: statements }, null, 2) : undefined;
  const same = current !== undefined && text !== undefined && canonical(JSON.parse(current)) === canonical(JSON.parse(text));
  return { text, changed: !same && !(current === undefined && text === undefined) };
}

/** JSON with object keys sorted: ECR may hand the policy back laid out otherwise. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** `*` and `?` wildcards over the whole string (IAM actions, ECR tag exclusion filters). */
export function wildcardRegExp(pattern: string, flags = ''): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, flags);
}

function coversAction(s: Statement, action: string): boolean {
  const matches = (patterns: string[]) => patterns.some((p) => wildcardRegExp(p, 'i').test(action));
  return s.Action !== undefined ? matches(list(s.Action)) : !matches(list(s.NotAction));
}

/** Does the statement's Principal name `account` or any principal in it (or everyone)? */
function namesAccount(s: Statement, account: string): boolean {
  if (s.Principal === '*') return true;
  return list(s.Principal?.AWS).some((p) => p === '*' || p === account || p.split(':')[4] === account);
}

/** Does the statement name the whole account (or everyone), not only some principals of it? */
function namesWholeAccount(s: Statement, account: string): boolean {
  if (s.Principal === '*') return true;
  return list(s.Principal?.AWS).some((p) => p === '*' || p === account || /^arn:[a-z-]+:iam::\d{12}:root$/.test(p) && p.split(':')[4] === account);
}

/**
 * The pull actions `account` lacks in this policy: those no Allow statement grants to the
 * account (or a principal in it, or everyone), and those an unconditional Deny refuses the whole
 * account. Conditional statements count as granting (their keys, such as an organisation id, are
 * not known here): the check fails only on what is certain.
 */
export function missingPullActions(policy: PolicyDocument, account: string): string[] {
  const statements = list(policy.Statement);
  return PULL_ACTIONS.filter((action) => {
    const denied = statements.some((s) => s.Effect === 'Deny' && !s.Condition && namesWholeAccount(s, account) && coversAction(s, action));
    const allowed = statements.some((s) => s.Effect === 'Allow' && namesAccount(s, account) && coversAction(s, action));
    return denied || !allowed;
  });
}
