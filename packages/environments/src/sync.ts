import { UserError } from '@deploy-actions/action-kit';
import type { BranchPolicySpec, EnvironmentSpec } from './config';
import type { BranchPolicy, BranchPolicySettings, EnvironmentJson, EnvironmentsApi, PutEnvironment, Reviewer } from './github';

export interface Change {
  environment: string;
  kind: 'create' | 'update' | 'add-policy' | 'remove-policy';
  detail: string;
}

export interface Desired {
  name: string;
  body: PutEnvironment;
  /** Reviewer labels by `Type:id`, for messages. */
  labels: Map<string, string>;
  policies: BranchPolicySpec[];
}

export interface Current {
  env: EnvironmentJson | undefined;
  policies: BranchPolicy[];
}

/** Resolves logins and team slugs to ids; every unknown name is reported at once. */
export async function resolve(specs: readonly EnvironmentSpec[], api: EnvironmentsApi): Promise<Desired[]> {
  const users = new Map<string, number | undefined>();
  const teams = new Map<string, number | undefined>();
  for (const s of specs) {
    for (const u of s.users) if (!users.has(u.toLowerCase())) users.set(u.toLowerCase(), await api.userId(u));
    for (const t of s.teams) {
      const key = `${t.org}/${t.slug}`.toLowerCase();
      if (!teams.has(key)) teams.set(key, await api.teamId(t.org, t.slug));
    }
  }
  const unknown: string[] = [];
  for (const s of specs) {
    for (const u of s.users) if (users.get(u.toLowerCase()) === undefined) unknown.push(`unknown user '${u}' (environments.${s.name}.reviewers.users)`);
    for (const t of s.teams) {
      if (teams.get(`${t.org}/${t.slug}`.toLowerCase()) === undefined) {
        unknown.push(`unknown team '${t.org}/${t.slug}' (environments.${s.name}.reviewers.teams; or the token lacks 'Members: read' on ${t.org})`);
      }
    }
  }
  if (unknown.length) throw new UserError(`Cannot resolve reviewers: ${unknown.join('; ')}`);
  return specs.map((s) => {
    const labels = new Map<string, string>();
    const reviewers: Reviewer[] = [];
    for (const u of s.users) {
      const id = users.get(u.toLowerCase())!;
      reviewers.push({ type: 'User', id });
      labels.set(`User:${id}`, u);
    }
    for (const t of s.teams) {
      const id = teams.get(`${t.org}/${t.slug}`.toLowerCase())!;
      reviewers.push({ type: 'Team', id });
      labels.set(`Team:${id}`, `${t.org}/${t.slug}`);
    }
    const policy: BranchPolicySettings | null =
      s.branches.mode === 'all'
        ? null
        : { protected_branches: s.branches.mode === 'protected', custom_branch_policies: s.branches.mode === 'custom' };
    return {
      name: s.name,
      body: { wait_timer: s.waitTimer, prevent_self_review: s.preventSelfReview, can_admins_bypass: s.canAdminsBypass, reviewers, deployment_branch_policy: policy },
      labels,
      policies: s.branches.mode === 'custom' ? s.branches.policies : [],
    };
  });
}

function branchMode(p: BranchPolicySettings | null | undefined): string {
  if (!p) return 'all branches';
  return p.protected_branches ? 'protected branches' : 'custom policies';
}

/** The protection an existing environment has, in PutEnvironment terms. */
export function currentSettings(env: EnvironmentJson): PutEnvironment & { labels: Map<string, string> } {
  const rules = env.protection_rules ?? [];
  const wait = rules.find((r) => r.type === 'wait_timer');
  const rev = rules.find((r) => r.type === 'required_reviewers');
  const labels = new Map<string, string>();
  const reviewers = (rev?.reviewers ?? []).map((r) => {
    labels.set(`${r.type}:${r.reviewer.id}`, r.reviewer.login ?? r.reviewer.slug ?? String(r.reviewer.id));
    return { type: r.type, id: r.reviewer.id };
  });
  return {
    wait_timer: wait?.wait_timer ?? 0,
    prevent_self_review: rev?.prevent_self_review ?? false,
    can_admins_bypass: env.can_admins_bypass ?? true,
    reviewers,
    deployment_branch_policy: env.deployment_branch_policy ?? null,
    labels,
  };
}

const key = (r: Reviewer) => `${r.type}:${r.id}`;
const policyKey = (p: { name: string; type?: string }) => `${p.type ?? 'branch'}:${p.name}`;

/** What must change for `current` to match `desired`. Pure. */
export function diff(desired: Desired, current: Current): Change[] {
  const changes: Change[] = [];
  const env = desired.name;
  const want = desired.body;
  if (!current.env) {
    const parts = [
      `reviewers ${want.reviewers.length ? want.reviewers.map((r) => desired.labels.get(key(r))).join(', ') : 'none'}`,
      ...(want.reviewers.length ? [`prevent_self_review ${want.prevent_self_review}`] : []),
      `wait_timer ${want.wait_timer}`,
      `can_admins_bypass ${want.can_admins_bypass}`,
      branchMode(want.deployment_branch_policy),
    ];
    changes.push({ environment: env, kind: 'create', detail: `create environment (${parts.join(', ')})` });
  } else {
    const have = currentSettings(current.env);
    const label = (r: Reviewer) => desired.labels.get(key(r)) ?? have.labels.get(key(r)) ?? key(r);
    if (have.wait_timer !== want.wait_timer) {
      changes.push({ environment: env, kind: 'update', detail: `wait_timer ${have.wait_timer} -> ${want.wait_timer}` });
    }
    const haveKeys = have.reviewers.map(key).sort();
    const wantKeys = want.reviewers.map(key).sort();
    if (haveKeys.join() !== wantKeys.join()) {
      const fmt = (rs: Reviewer[]) => (rs.length ? rs.map(label).sort().join(', ') : 'none');
      changes.push({ environment: env, kind: 'update', detail: `reviewers ${fmt(have.reviewers)} -> ${fmt(want.reviewers)}` });
    }
    // prevent_self_review only exists alongside reviewers.
    if (want.reviewers.length && have.prevent_self_review !== want.prevent_self_review) {
      changes.push({
        environment: env,
        kind: 'update',
        detail: `prevent_self_review ${have.prevent_self_review} -> ${want.prevent_self_review}`,
      });
    }
    if (have.can_admins_bypass !== want.can_admins_bypass) {
      changes.push({ environment: env, kind: 'update', detail: `can_admins_bypass ${have.can_admins_bypass} -> ${want.can_admins_bypass}` });
    }
    if (branchMode(have.deployment_branch_policy) !== branchMode(want.deployment_branch_policy)) {
      changes.push({
        environment: env,
        kind: 'update',
        detail: `deployment branches ${branchMode(have.deployment_branch_policy)} -> ${branchMode(want.deployment_branch_policy)}`,
      });
    }
  }
  if (want.deployment_branch_policy?.custom_branch_policies) {
    const have = new Set(current.policies.map(policyKey));
    const wantSet = new Set(desired.policies.map(policyKey));
    for (const p of desired.policies) {
      if (!have.has(policyKey(p))) changes.push({ environment: env, kind: 'add-policy', detail: `allow ${p.type} ${p.name}` });
    }
    for (const p of current.policies) {
      if (!wantSet.has(policyKey(p))) {
        changes.push({ environment: env, kind: 'remove-policy', detail: `remove ${p.type ?? 'branch'} policy ${p.name}` });
      }
    }
  }
  return changes;
}

export interface SyncResult {
  changes: Change[];
  /** Environments in the repository that the file does not manage (left alone). */
  unmanaged: string[];
}

export async function readCurrent(api: EnvironmentsApi, name: string): Promise<Current> {
  const env = await api.getEnvironment(name);
  const policies = env?.deployment_branch_policy?.custom_branch_policies ? await api.listBranchPolicies(name) : [];
  return { env, policies };
}

/**
 * Compares every environment with the file and, unless `check`, makes the repository match:
 * PUT for created or changed environments, then missing custom branch policies added and
 * extra ones removed. Environments not in the file are reported, never deleted.
 */
export async function sync(desired: readonly Desired[], api: EnvironmentsApi, opts: { check: boolean; log: (line: string) => void }): Promise<SyncResult> {
  const changes: Change[] = [];
  for (const d of desired) {
    const current = await readCurrent(api, d.name);
    const envChanges = diff(d, current);
    changes.push(...envChanges);
    if (opts.check || envChanges.length === 0) continue;
    if (envChanges.some((c) => c.kind === 'create' || c.kind === 'update')) {
      await api.putEnvironment(d.name, d.body);
      opts.log(`${d.name}: environment ${current.env ? 'updated' : 'created'}`);
    }
    if (d.body.deployment_branch_policy?.custom_branch_policies) {
      const have = await api.listBranchPolicies(d.name);
      const wantKeys = new Set(d.policies.map(policyKey));
      for (const p of have) {
        if (wantKeys.has(policyKey(p))) continue;
        await api.deleteBranchPolicy(d.name, p.id);
        opts.log(`${d.name}: removed ${p.type ?? 'branch'} policy ${p.name}`);
      }
      const haveKeys = new Set(have.map(policyKey));
      for (const p of d.policies) {
        if (haveKeys.has(policyKey(p))) continue;
        await api.addBranchPolicy(d.name, p);
        opts.log(`${d.name}: allowed ${p.type} ${p.name}`);
      }
    }
  }
  const names = new Set(desired.map((d) => d.name.toLowerCase()));
  const unmanaged = (await api.listEnvironments()).filter((n) => !names.has(n.toLowerCase()));
  return { changes, unmanaged };
}
