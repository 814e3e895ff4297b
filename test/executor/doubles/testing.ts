/** A step context as the executor builds it, for the doubles' own tests. */
import { defaultRepositoryInfo } from '../../standins/github/setup-routes';
import type { ActionDoubleContext } from './types';

export interface JobSpec {
  repository?: string;
  ref?: string;
  sha?: string;
  eventName?: string;
  environment?: string;
  permissions?: Record<string, string>;
  with?: Record<string, string>;
  env?: Record<string, string>;
  workspace?: string;
  github?: Record<string, unknown>;
  /** The reusable workflow the job runs in (default deploy-actions' deploy.yml). */
  workflowRef?: string;
}

export function stepContext(spec: JobSpec = {}): ActionDoubleContext {
  const repository = spec.repository ?? 'acme/sample-service';
  const ref = spec.ref ?? 'refs/heads/main';
  const sha = spec.sha ?? 'c'.repeat(40);
  const workspace = spec.workspace ?? '/tmp/workspace';
  // The ids the GitHub stand-in gives the repository (github.repository_id / repository_owner_id).
  const ids = defaultRepositoryInfo(repository.toLowerCase());
  const github = {
    repository,
    repository_id: String(ids.id),
    repository_owner: repository.split('/')[0],
    repository_owner_id: String(ids.ownerId),
    ref,
    ref_name: ref.replace(/^refs\/(heads|tags)\//, ''),
    ref_type: ref.startsWith('refs/tags/') ? 'tag' : 'branch',
    sha,
    event_name: spec.eventName ?? 'push',
    actor: 'dev',
    run_id: '4242',
    run_attempt: '1',
    workflow: 'deploy',
    workflow_ref: `${repository}/.github/workflows/deploy.yml@${ref}`,
    token: 'ghs_job_token',
    server_url: 'https://github.com',
    ...spec.github,
  };
  return {
    with: spec.with ?? {},
    env: {
      GITHUB_ACTIONS: 'true',
      GITHUB_REPOSITORY: repository,
      GITHUB_WORKFLOW: 'deploy',
      GITHUB_ACTION: '__run_2',
      GITHUB_ACTOR: 'dev',
      GITHUB_SHA: sha,
      GITHUB_REF: ref,
      GITHUB_WORKSPACE: workspace,
      ...spec.env,
    },
    workspace,
    runnerTemp: '/tmp/runner-temp',
    github,
    job: {
      environment: spec.environment,
      permissions: spec.permissions ?? { contents: 'read', 'id-token': 'write' },
      workflowRef: spec.workflowRef ?? 'org/deploy-actions/.github/workflows/deploy.yml@refs/heads/v1',
    },
  };
}
