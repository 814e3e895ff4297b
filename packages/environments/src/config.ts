/**
 * The environments file: which GitHub deployment environments a repository has and how each
 * is protected. Parsed and validated completely before any API call.
 *
 *   environments:
 *     preprod:
 *       reviewers: { teams: [platform], users: [alice] }
 *       prevent_self_review: true
 *       wait_timer: 0
 *       deployment_branches: [main]        # or: all | protected | [main, release/*, {tag: v*}]
 *       can_admins_bypass: false           # default: false in a promotion target, else GitHub's true
 *   promotion:                             # optional; this is the default when both names exist
 *     chain: [preprod, production]         # each environment needs evidence from the one before
 *     refs: [refs/heads/main]              # the only refs that may deploy to a promotion target
 */
import { parse as parseYaml } from 'yaml';
import { isMap, parseAws, parseServices, parseTarget, parseVariables, type AwsSettings, type EnvironmentTarget, type ServiceSpec } from './aws-config';
import { ConfigError } from './errors';
import { DEFAULT_PROMOTION, EXACT_REF_RE, type Promotion } from './promotion';

export { DEFAULT_PROMOTION, EXACT_REF_RE, type Promotion };

export type BranchPolicySpec = { name: string; type: 'branch' | 'tag' };
export type DeploymentBranches = { mode: 'all' } | { mode: 'protected' } | { mode: 'custom'; policies: BranchPolicySpec[] };

export interface TeamRef {
  org: string;
  slug: string;
}

export interface EnvironmentSpec {
  name: string;
  users: string[];
  teams: TeamRef[];
  preventSelfReview: boolean;
  waitTimer: number;
  branches: DeploymentBranches;
  canAdminsBypass: boolean;
  /** Where it deploys (account, region, cluster): only with the file's aws section. */
  target?: EnvironmentTarget;
  /** Extra GitHub environment variables from the file (SMOKE_URL, BAKE_*). */
  variables: Record<string, string>;
}


export interface EnvironmentsConfig {
  environments: EnvironmentSpec[];
  promotion: Promotion;
  /** The AWS set-up (absent in a file that only manages GitHub environments). */
  aws?: AwsSettings;
  services: ServiceSpec[];
}


export { ConfigError };

const ENV_KEYS = new Set(['reviewers', 'prevent_self_review', 'wait_timer', 'deployment_branches', 'can_admins_bypass', 'account', 'region', 'cluster', 'variables']);
const LOGIN_RE = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
const SLUG_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const ENV_NAME_RE = /^[^\s/][^\n]{0,254}$/;

function stringList(v: unknown, where: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && x.trim() !== '')) {
    throw new ConfigError(`${where} must be a list of names`);
  }
  return v.map((x: string) => x.trim());
}

function branches(v: unknown, where: string): DeploymentBranches {
  if (v === undefined || v === null || v === 'all') return { mode: 'all' };
  if (v === 'protected') return { mode: 'protected' };
  if (!Array.isArray(v) || v.length === 0) {
    throw new ConfigError(`${where} must be 'all', 'protected' or a non-empty list of branch patterns`);
  }
  const policies: BranchPolicySpec[] = [];
  for (const item of v) {
    let p: BranchPolicySpec;
    if (typeof item === 'string' && item.trim()) p = { name: item.trim(), type: 'branch' };
    else if (isMap(item) && Object.keys(item).length === 1 && typeof (item.branch ?? item.tag) === 'string') {
      p = item.tag !== undefined ? { name: String(item.tag), type: 'tag' } : { name: String(item.branch), type: 'branch' };
    } else {
      throw new ConfigError(`${where} entries must be branch patterns or {branch: pattern} / {tag: pattern} (got ${JSON.stringify(item)})`);
    }
    if (policies.some((q) => q.name === p.name && q.type === p.type)) throw new ConfigError(`${where} lists ${p.type} ${p.name} twice`);
    policies.push(p);
  }
  return { mode: 'custom', policies };
}

/** Parses and validates the file. `owner` is the repository owner (the default org of teams). */
export function parseEnvironmentsFile(text: string, owner: string, file = 'environments file'): EnvironmentSpec[] {
  return parseEnvironmentsConfig(text, owner, file).environments;
}

function promotionOf(raw: unknown, names: readonly string[], file: string): Promotion {
  const canonical = (n: string) => names.find((x) => x.toLowerCase() === n.toLowerCase());
  if (raw === undefined || raw === null) {
    const chain = DEFAULT_PROMOTION.chain.map(canonical);
    return { chain: chain.every((n) => n !== undefined) ? (chain as string[]) : [], refs: DEFAULT_PROMOTION.refs };
  }
  const where = `${file}: promotion`;
  if (!isMap(raw)) throw new ConfigError(`${where} must be a mapping with chain and refs`);
  for (const k of Object.keys(raw)) if (k !== 'chain' && k !== 'refs') throw new ConfigError(`${where}: unknown key '${k}' (allowed: chain, refs)`);
  const chain = stringList(raw.chain, `${where}.chain`).map((n) => {
    const hit = canonical(n);
    if (!hit) throw new ConfigError(`${where}.chain: '${n}' is not one of the environments (${names.join(', ')})`);
    return hit;
  });
  if (chain.length < 2 || new Set(chain.map((n) => n.toLowerCase())).size !== chain.length) {
    throw new ConfigError(`${where}.chain must list at least two different environments, in promotion order`);
  }
  // The file may extend the default chain, never weaken it: where preprod and production both
  // exist, production still needs preprod's evidence.
  const [before, after] = DEFAULT_PROMOTION.chain.map((n) => chain.findIndex((c) => c.toLowerCase() === n));
  if (DEFAULT_PROMOTION.chain.every((n) => canonical(n)) && !(before! >= 0 && after! === before! + 1)) {
    throw new ConfigError(`${where}.chain must keep ${DEFAULT_PROMOTION.chain.join(' directly before ')} (they are both environments here)`);
  }
  const refs = raw.refs === undefined ? DEFAULT_PROMOTION.refs : stringList(raw.refs, `${where}.refs`);
  for (const r of refs) if (!EXACT_REF_RE.test(r)) throw new ConfigError(`${where}.refs: '${r}' must be an exact ref such as refs/heads/main (no patterns)`);
  if (refs.length === 0) throw new ConfigError(`${where}.refs must not be empty`);
  return { chain, refs };
}

/** The environments and the promotion chain. */
export function parseEnvironmentsConfig(text: string, owner: string, file = 'environments file'): EnvironmentsConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!isMap(doc) || !isMap(doc.environments)) throw new ConfigError(`${file}: must have an 'environments' mapping`);
  const extra = Object.keys(doc).filter((k) => !['environments', 'promotion', 'aws', 'services'].includes(k));
  if (extra.length) throw new ConfigError(`${file}: unknown top-level key '${extra[0]}'`);
  const aws = parseAws(doc.aws, file);
  const out: EnvironmentSpec[] = [];
  for (const [name, raw] of Object.entries(doc.environments)) {
    const where = `${file}: environments.${name}`;
    if (!ENV_NAME_RE.test(name)) throw new ConfigError(`${where}: not a valid environment name`);
    if (out.some((e) => e.name.toLowerCase() === name.toLowerCase())) {
      throw new ConfigError(`${where}: environment names are case-insensitive; ${name} is listed twice`);
    }
    const spec = raw ?? {};
    if (!isMap(spec)) throw new ConfigError(`${where} must be a mapping`);
    for (const k of Object.keys(spec)) {
      if (!ENV_KEYS.has(k)) throw new ConfigError(`${where}: unknown key '${k}' (allowed: ${[...ENV_KEYS].join(', ')})`);
    }
    const reviewers = spec.reviewers ?? {};
    if (!isMap(reviewers)) throw new ConfigError(`${where}.reviewers must be a mapping with users and/or teams`);
    for (const k of Object.keys(reviewers)) {
      if (k !== 'users' && k !== 'teams') throw new ConfigError(`${where}.reviewers: unknown key '${k}' (allowed: users, teams)`);
    }
    const users = stringList(reviewers.users, `${where}.reviewers.users`);
    for (const u of users) if (!LOGIN_RE.test(u)) throw new ConfigError(`${where}.reviewers.users: '${u}' is not a GitHub login`);
    const teams = stringList(reviewers.teams, `${where}.reviewers.teams`).map((t) => {
      const [a, b, ...rest] = t.split('/');
      const ref = b === undefined ? { org: owner, slug: a! } : { org: a!, slug: b };
      if (rest.length || !SLUG_RE.test(ref.slug) || !LOGIN_RE.test(ref.org)) {
        throw new ConfigError(`${where}.reviewers.teams: '${t}' must be a team slug or org/slug`);
      }
      return ref;
    });
    if (users.length + teams.length > 6) throw new ConfigError(`${where}.reviewers: GitHub allows at most 6 reviewers`);
    const prevent = spec.prevent_self_review ?? false;
    if (typeof prevent !== 'boolean') throw new ConfigError(`${where}.prevent_self_review must be true or false`);
    if (prevent && users.length + teams.length === 0) {
      throw new ConfigError(`${where}.prevent_self_review needs reviewers`);
    }
    const wait = spec.wait_timer ?? 0;
    if (!Number.isInteger(wait) || (wait as number) < 0 || (wait as number) > 43200) {
      throw new ConfigError(`${where}.wait_timer must be whole minutes from 0 to 43200`);
    }
    const bypass = spec.can_admins_bypass;
    if (bypass !== undefined && typeof bypass !== 'boolean') throw new ConfigError(`${where}.can_admins_bypass must be true or false`);
    out.push({
      name,
      users,
      teams,
      preventSelfReview: prevent,
      waitTimer: wait as number,
      branches: branches(spec.deployment_branches, `${where}.deployment_branches`),
      canAdminsBypass: bypass ?? true,
      target: parseTarget(spec, where, aws),
      variables: parseVariables(spec.variables, `${where}.variables`),
    });
  }
  if (out.length === 0) throw new ConfigError(`${file}: 'environments' is empty`);
  const promotion = promotionOf(doc.promotion, out.map((e) => e.name), file);
  // A promotion target's approval cannot be skipped by an administrator unless the file says so.
  for (const e of out) {
    const raw = (doc.environments as Record<string, Record<string, unknown> | null>)[e.name];
    if (raw?.can_admins_bypass === undefined && promotion.chain.indexOf(e.name) > 0) e.canAdminsBypass = false;
  }
  const services = parseServices(doc.services, file, out.map((e) => e.name), aws);
  if (services.length) {
    const missing = out.find((e) => !e.target);
    if (missing) throw new ConfigError(`${file}: environments.${missing.name}.account and .cluster are required with services (where does it deploy?)`);
    // Each environment's account holds its evidence keys, administered by a principal of that account.
    const other = aws?.keyAdminArn && out.find((e) => e.target!.account !== aws.keyAdminArn!.account);
    if (other) {
      throw new ConfigError(
        `${file}: aws.key_admin_role: ${aws!.keyAdminArn!.arn} is in account ${aws!.keyAdminArn!.account}, but environments.${other.name} keeps its evidence keys in ${other.target!.account}: give a role name (the role of that name in each account) instead`,
      );
    }
  }
  return { environments: out, promotion, aws, services };
}
