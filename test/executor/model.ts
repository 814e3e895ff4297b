/** What the executor takes and what a run gives back. */
import type { Annotation } from '../harness/runner';
import type { ConcurrencyGroups } from './concurrency';
import type { Environments } from './doubles/environments';
import type { OidcTokenService } from './doubles/oidc';
import type { ActionDouble } from './doubles/types';
import type { Json } from './expressions';
import type { Permissions } from './permissions';
import type { Policy } from './policy';

export type Result = 'success' | 'failure' | 'cancelled' | 'skipped';

export interface StepRun {
  /** The step's display name, as the Actions UI shows it. */
  name: string;
  id: string;
  /** Before continue-on-error. */
  outcome: Result;
  /** After continue-on-error. */
  conclusion: Result;
  outputs: Record<string, string>;
  /** The log as the UI shows it: workflow commands applied, masked values as ***. */
  log: string;
  annotations: Annotation[];
  summary: string;
  durationMs: number;
  /**
   * For a step running one of this repository's actions: where `uses:` resolved (repository,
   * path, the ref it was read at, the working tree of that commit).
   */
  action?: { repository: string; path: string; ref: string; tree: string };
}

export interface EnvironmentRun {
  name: string;
  url?: string;
  /** Who approved the job (required reviewers), as the environment gate recorded it. */
  approvals: string[];
}

export interface JobRun {
  /** Job ids from the top-level workflow down: ['pipeline', 'build', 'build']. */
  path: string[];
  /** Display names the Actions UI joins with ' / '. */
  names: string[];
  /** The workflow file the job is defined in (job_workflow_ref). */
  workflowRef: string;
  result: Result;
  outputs: Record<string, string>;
  steps: StepRun[];
  environment?: EnvironmentRun;
  /** The job's concurrency group as evaluated; `waited`: it was pending behind another job or run first. */
  concurrency?: JobConcurrency;
  permissions: Permissions;
  runsOn?: Json;
  /** Job-level continue-on-error was true: a failure here shows as failure, yet needs.<id>.result is success and the run does not fail. */
  continueOnError?: boolean;
  /** Why the job failed before or outside its steps (gate refused, expression error...). */
  error?: string;
  /** Set on a job that calls a reusable workflow (its jobs follow it in WorkflowRun.jobs). */
  calls?: string;
  /** The called workflow's inputs as they were bound (typed, defaults applied). */
  inputs?: Record<string, Json>;
}

export interface JobConcurrency {
  group: string;
  cancelInProgress: boolean;
  queue: 'single' | 'max';
  waited?: boolean;
}

export interface WorkflowRun {
  conclusion: Result;
  /** The run's workflow-level concurrency group, when it has one. */
  concurrency?: JobConcurrency;
  /** Every job that ran or was skipped, called workflows' jobs included, in the order they ran. */
  jobs: JobRun[];
  /** Outputs of a workflow_call workflow (top-level only when run as one). */
  outputs: Record<string, string>;
  /** Set when GitHub would refuse the run before any job starts (invalid file, permissions, types). */
  error?: string;
  /** The workflow was not triggered by the event (on: filters). */
  notTriggered?: boolean;
}

export interface GithubEvent {
  name: 'push' | 'workflow_dispatch' | 'pull_request';
  ref: string;
  sha: string;
  /** The webhook payload (github.event). */
  payload: Record<string, Json>;
  /** workflow_dispatch inputs as the UI/API sends them (strings, booleans). */
  inputs?: Record<string, string | boolean | number>;
  actor?: string;
}

export interface ExecutorOptions {
  /** The workflow to run: a repository-relative path resolved in `callerRoot`, or its text. */
  workflow: { path: string; text?: string };
  event: GithubEvent;
  /**
   * The caller repository: its working tree (a real git repository), owner/name, and its GitHub
   * ids (github.repository_id / repository_owner_id and the OIDC claims; defaults 1296269 / 1).
   */
  repository: { root: string; name: string; id?: string; ownerId?: string };
  /** owner/name of deploy-actions as workflows reference it; default org/deploy-actions. */
  self?: string;
  /** Working tree serving `<self>/...@ref`; default this repository. */
  selfRoot?: string;
  /** Working tree of `<self>` at a ref, instead of selfRoot for every ref (see test/executor/git-refs.ts). */
  selfAt?: (ref: string) => string | undefined;
  /** Replaced files of selfRoot (repository-relative path -> text). */
  overrides?: Record<string, string>;
  /** Repository variables (vars). */
  vars?: Record<string, string>;
  /** Repository secrets (secrets). GITHUB_TOKEN is added per job. */
  secrets?: Record<string, string>;
  /** Third-party actions by owner/name (actions/checkout, ...). */
  actions?: Record<string, ActionDouble>;
  /** Environments and their protection rules (doubles/environments.ts): branch policies, reviewers, vars, secrets. */
  environments?: Pick<Environments, 'enter'>;
  /** The deployment GitHub creates for a job with `environment:` (GitHub stand-in's actionsJob). */
  deployments?: { actionsJob(opts: { environment: string; sha: string; repository?: string }): Promise<{ finish(state?: 'success' | 'failure' | 'error'): Promise<void> }> };
  /** Mints the job's GITHUB_TOKEN for its permissions (e.g. registers it with the GitHub stand-in). */
  mintToken?: (permissions: Permissions, job: { workflowRef: string; job: string }) => string;
  /** The runner machine's own environment (endpoints of the stand-ins, PATH additions...). */
  runnerEnv?: Record<string, string>;
  /** Repository default permissions for workflows that declare none. Default restricted. */
  defaultPermissions?: 'restricted' | 'permissive';
  /** RUNNER_TOOL_CACHE shared by every job (a runner image's pre-installed tools); default one per job. */
  toolCache?: string;
  /** GITHUB_API_URL / GITHUB_SERVER_URL. */
  apiUrl?: string;
  /** OIDC issuer URL given to the doubles. */
  oidcIssuerUrl?: string;
  /** GitHub's OIDC token service: the ACTIONS_ID_TOKEN_REQUEST_* variables of a job granted id-token: write. */
  idTokens?: Pick<OidcTokenService, 'jobEnv'>;
  /** Live log: one call per line, as the run proceeds. */
  log?: (line: string) => void;
  /** Also log each step's job summary under it (the run page shows summaries; the main job prints the release card so). */
  logSummaries?: boolean;
  /** Organization policies: `requireShaPinning` ("actions must be pinned to a full-length commit SHA"). */
  policy?: Policy;
  /** How long a minute of `timeout-minutes` lasts here (ms); default 60000 (tests shorten it). */
  minuteMs?: number;
  /**
   * The repository's concurrency groups, shared by runs started side by side (concurrency.ts);
   * default: a set of groups for this run alone.
   */
  concurrency?: ConcurrencyGroups;
}
