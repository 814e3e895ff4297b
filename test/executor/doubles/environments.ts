/**
 * GitHub environments as a job with `environment:` meets them, configured from the
 * environments-as-code file (parsed by packages/environments, the parser users run):
 *   1. names compare case-insensitively; a name the file does not define is created on first
 *      use without protection rules;
 *   2. deployment branch policies are matched against the run's GITHUB_REF (File.fnmatch
 *      style: wildcards do not match `/`); a ref they do not allow fails the job at once:
 *      `Branch "<name>" is not allowed to deploy to <env> due to environment protection rules.`;
 *   3. required reviewers: the approver callback answers for the run (one approval suffices);
 *      the reviewer must be a listed user or a member of a listed team, and with
 *      prevent_self_review not the person who triggered the run; a rejection fails the job;
 *   4. then the job gets the environment's variables and secrets.
 * Sources are listed in test/README.md ("Environments and approvals").
 */
import { readFileSync } from 'node:fs';
import picomatch from 'picomatch';
import { parseEnvironmentsFile, type EnvironmentSpec } from '@deploy-actions/environments';

export interface ApprovalRequest {
  environment: string;
  runId: string;
  actor: string;
  ref: string;
  /** Logins allowed to approve (listed users and members of listed teams). */
  eligible: string[];
  preventSelfReview: boolean;
}
export type ApprovalDecision = { approve: true; reviewer: string; comment?: string } | { approve: false; reviewer: string; comment?: string };
export type Approver = (req: ApprovalRequest) => ApprovalDecision | Promise<ApprovalDecision>;

export interface EnvironmentsOptions {
  /** The environments file (text) and the repository owner (default org of teams). */
  file: string;
  owner: string;
  /** Team members, keyed `org/slug`. */
  teams?: Record<string, string[]>;
  /** Branches with protection rules (for `deployment_branches: protected`). */
  protectedBranches?: string[];
  /** Environment variables and secrets, keyed by environment name (any case). */
  vars?: Record<string, Record<string, string>>;
  secrets?: Record<string, Record<string, string>>;
  approver?: Approver;
}

export interface EnterRequest {
  name: string;
  /** GITHUB_REF of the run. */
  ref: string;
  /** Who triggered the run (github.triggering_actor). */
  actor: string;
  runId?: string | number;
}

export type EnterResult =
  | { ok: true; environment: string; approvedBy?: string; waitTimerMinutes: number; vars: Record<string, string>; secrets: Record<string, string> }
  | { ok: false; environment: string; error: string; rejectedBy?: string };

export interface ApprovalRecord {
  environment: string;
  runId: string;
  reviewer: string;
  state: 'approved' | 'rejected';
  comment?: string;
}

export interface Environments {
  enter(req: EnterRequest): Promise<EnterResult>;
  /** Environments that exist (defined by the file or created by a job), by their first spelling. */
  names(): string[];
  approvals: ApprovalRecord[];
}

const byName = <T>(map: Record<string, T> | undefined, name: string): T | undefined =>
  Object.entries(map ?? {}).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];

/** Whether `ref` may deploy under the environment's deployment branch policy. */
export function refAllowed(spec: EnvironmentSpec, ref: string, protectedBranches: string[] = []): boolean {
  const branch = ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined;
  const tag = ref.startsWith('refs/tags/') ? ref.slice('refs/tags/'.length) : undefined;
  switch (spec.branches.mode) {
    case 'all':
      return true;
    case 'protected':
      return branch !== undefined && protectedBranches.includes(branch);
    case 'custom':
      return spec.branches.policies.some((p) => {
        const name = p.type === 'tag' ? tag : branch;
        return name !== undefined && picomatch.isMatch(name, p.name, { dot: true, nobrace: true, noextglob: true });
      });
  }
}

export function refusal(ref: string, environment: string): string {
  const tag = ref.startsWith('refs/tags/');
  const name = ref.replace(/^refs\/(heads|tags)\//, '');
  return `${tag ? 'Tag' : 'Branch'} "${name}" is not allowed to deploy to ${environment} due to environment protection rules.`;
}

export function loadEnvironments(opts: EnvironmentsOptions): Environments {
  const specs = parseEnvironmentsFile(opts.file, opts.owner);
  const created: string[] = [];
  const approvals: ApprovalRecord[] = [];

  function eligible(spec: EnvironmentSpec): string[] {
    const members = spec.teams.flatMap((t) => byName(opts.teams, `${t.org}/${t.slug}`) ?? []);
    return [...new Set([...spec.users, ...members])];
  }

  async function enter(req: EnterRequest): Promise<EnterResult> {
    const runId = String(req.runId ?? '');
    const spec = specs.find((s) => s.name.toLowerCase() === req.name.toLowerCase());
    const environment = spec?.name ?? created.find((n) => n.toLowerCase() === req.name.toLowerCase()) ?? req.name;
    if (!spec && !created.includes(environment)) created.push(environment);
    const granted = (approvedBy?: string): EnterResult => ({
      ok: true,
      environment,
      approvedBy,
      waitTimerMinutes: spec?.waitTimer ?? 0,
      vars: { ...byName(opts.vars, environment) },
      secrets: { ...byName(opts.secrets, environment) },
    });
    if (!spec) return granted();
    if (!refAllowed(spec, req.ref, opts.protectedBranches)) return { ok: false, environment, error: refusal(req.ref, environment) };
    if (spec.users.length + spec.teams.length === 0) return granted();

    const who = eligible(spec);
    if (!opts.approver) return { ok: false, environment, error: `${environment} requires a review and no reviewer answered` };
    const decision = await opts.approver({ environment, runId, actor: req.actor, ref: req.ref, eligible: who, preventSelfReview: spec.preventSelfReview });
    const reviewer = who.find((u) => u.toLowerCase() === decision.reviewer.toLowerCase());
    // GitHub offers the review only to eligible reviewers, and not to the run's initiator when
    // self-review is prevented: such an answer never counts, the job would wait (and fail after 30 days).
    if (!reviewer) return { ok: false, environment, error: `${decision.reviewer} is not a required reviewer of ${environment} (eligible: ${who.join(', ') || 'nobody'})` };
    if (spec.preventSelfReview && reviewer.toLowerCase() === req.actor.toLowerCase()) {
      return { ok: false, environment, error: `${reviewer} cannot review a deployment of a run they triggered: ${environment} prevents self-review` };
    }
    approvals.push({ environment, runId, reviewer, state: decision.approve ? 'approved' : 'rejected', comment: decision.comment });
    if (!decision.approve) return { ok: false, environment, error: `${reviewer} rejected the deployment to ${environment}`, rejectedBy: reviewer };
    return granted(reviewer);
  }

  return { enter, approvals, names: () => [...specs.map((s) => s.name), ...created] };
}

/** The project's own environments-as-code file (workflows/environments.yml). */
export function projectEnvironmentsFile(): string {
  return readFileSync(new URL('../../../workflows/environments.yml', import.meta.url), 'utf8');
}
