/**
 * The contract between the workflow executor (test/executor) and the doubles of third-party
 * actions (actions/checkout, aws-actions/configure-aws-credentials) it dispatches `uses:` to.
 * The executor evaluates the step's `with:` (action defaults applied), builds the step's
 * environment and calls the double; the double answers as the real action would.
 */
export interface ActionDoubleContext {
  /** Evaluated step inputs, action.yml defaults applied. */
  with: Record<string, string>;
  /** The step's environment (GITHUB_* included). */
  env: Record<string, string>;
  /** GITHUB_WORKSPACE. */
  workspace: string;
  runnerTemp: string;
  /** The github context. */
  github: Record<string, unknown>;
  job: {
    environment?: string;
    permissions: Record<string, string>;
    /** job_workflow_ref: owner/repo/.github/workflows/file.yml@ref of the workflow the job is defined in. */
    workflowRef: string;
    oidcIssuerUrl?: string;
  };
}

export interface ActionDoubleResult {
  outcome: 'success' | 'failure';
  outputs: Record<string, string>;
  /** Becomes GITHUB_ENV for the later steps. */
  exportEnv: Record<string, string>;
  /** core.addPath directories in the order added, as GITHUB_PATH lines (the last one comes first on PATH). */
  path?: string[];
  addMask: string[];
  log: string[];
  /** The one-line error the real action would print. */
  error?: string;
}

export type ActionDouble = (ctx: ActionDoubleContext) => Promise<ActionDoubleResult>;
