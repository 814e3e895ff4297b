/**
 * Double of aws-actions/configure-aws-credentials v5.0.0 (a03048d), following its source
 * (src/index.ts, assumeRole.ts, helpers.ts) for the OIDC path the workflows use:
 *   - inputs read as the action reads them (`aws-region` required, region pattern, YAML 1.2
 *     booleans, role-duration-seconds / retry-max-attempts parsed with parseInt fallbacks);
 *   - AWS_REGION and AWS_DEFAULT_REGION exported first;
 *   - OIDC only when `role-to-assume` is set and the job has ACTIONS_ID_TOKEN_REQUEST_TOKEN
 *     (granted by `id-token: write`); without it the action says so, then fails because no
 *     other credentials can be loaded on a hosted runner;
 *   - the ID token is requested from ACTIONS_ID_TOKEN_REQUEST_URL with `audience`, then
 *     exchanged by the real @aws-sdk/client-sts AssumeRoleWithWebIdentityCommand at
 *     AWS_ENDPOINT_URL_STS (the STS stand-in), both retried with the action's backoff;
 *   - credentials masked and exported, `aws-account-id` and `authenticated-arn` set from
 *     GetCallerIdentity made with the new credentials.
 * Inputs for paths the workflows do not use (access keys, role chaining, token files, proxies,
 * session policies) fail the step with "not modelled" instead of being ignored.
 */
import { AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient, type Credentials } from '@aws-sdk/client-sts';
import { runStep, StepFailure, type ActionMetadata, type Step } from './step';
import type { ActionDouble, ActionDoubleContext } from './types';

/** Inputs of action.yml at v5.0.0 and their defaults. */
export const CONFIGURE_AWS_CREDENTIALS_INPUTS: ActionMetadata = {
  'aws-region': undefined,
  'role-to-assume': undefined,
  'aws-access-key-id': undefined,
  'aws-secret-access-key': undefined,
  'aws-session-token': undefined,
  'web-identity-token-file': undefined,
  'role-chaining': undefined,
  audience: 'sts.amazonaws.com',
  'http-proxy': undefined,
  'mask-aws-account-id': undefined,
  'role-duration-seconds': undefined,
  'role-external-id': undefined,
  'role-session-name': undefined,
  'role-skip-session-tagging': undefined,
  'inline-session-policy': undefined,
  'managed-session-policies': undefined,
  'output-credentials': undefined,
  'output-env-credentials': 'true',
  'unset-current-credentials': undefined,
  'disable-retry': undefined,
  'retry-max-attempts': undefined,
  'special-characters-workaround': undefined,
  'use-existing-credentials': undefined,
  'allowed-account-ids': undefined,
  'force-skip-oidc': undefined,
};

const NOT_MODELLED = [
  'aws-access-key-id',
  'aws-secret-access-key',
  'aws-session-token',
  'web-identity-token-file',
  'role-chaining',
  'http-proxy',
  'role-external-id',
  'inline-session-policy',
  'managed-session-policies',
  'special-characters-workaround',
  'use-existing-credentials',
  'force-skip-oidc',
];

export interface ConfigureAwsOptions {
  /** The action's backoff sleeps (random up to 50·2^n ms per retry); tests pass a fast one. */
  sleep?: (ms: number) => Promise<void>;
}

/** helpers.ts getBooleanInput: YAML 1.2 core schema booleans only. */
function booleanInput(step: Step, name: string, byDefault = false): boolean {
  const v = step.input(name);
  if (['true', 'True', 'TRUE'].includes(v)) return true;
  if (['false', 'False', 'FALSE'].includes(v)) return false;
  if (v === '') return byDefault;
  throw new StepFailure(`Input does not meet YAML 1.2 "Core Schema" specification: ${name}\nSupport boolean input list: \`true | True | TRUE | false | False | FALSE\``);
}

/** helpers.ts retryAndBackoff: every error is retried until maxRetries attempts. */
async function retryAndBackoff<T>(fn: () => Promise<T>, retryable: boolean, maxRetries: number, sleep: (ms: number) => Promise<void>): Promise<T> {
  for (let retries = 0; ; ) {
    try {
      return await fn();
    } catch (err) {
      if (!retryable) throw err;
      await sleep(Math.random() * 2 ** retries * 50);
      retries += 1;
      if (retries >= maxRetries) throw err;
    }
  }
}

/** @actions/core getIDToken: GET the job's token URL with the audience, bearer the request token. */
async function getIDToken(env: Record<string, string>, audience: string): Promise<string> {
  const url = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  if (!url) throw new Error('Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable');
  const res = await fetch(`${url}&audience=${encodeURIComponent(audience)}`, {
    headers: { Authorization: `Bearer ${env.ACTIONS_ID_TOKEN_REQUEST_TOKEN}`, Accept: 'application/json' },
  });
  const body = (await res.json().catch(() => ({}))) as { value?: string; message?: string };
  if (res.status !== 200) throw new Error(`Failed to get ID Token. \n Error Code : ${res.status}\n Error Message: ${body.message ?? ''}`);
  if (!body.value) throw new Error('Response json body do not have ID Token field');
  return body.value;
}

/**
 * The job's OIDC request variables: from the step's environment when the executor put them
 * there, else (job granted `id-token: write`, token service at `job.oidcIssuerUrl`) obtained for
 * the job as the Actions service hands them to the runner at job start.
 */
async function withOidcEnv(ctx: ActionDoubleContext): Promise<Record<string, string>> {
  if (ctx.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN || ctx.job.permissions['id-token'] !== 'write' || !ctx.job.oidcIssuerUrl) return ctx.env;
  const res = await fetch(`${ctx.job.oidcIssuerUrl}/jobs`, { method: 'POST', body: JSON.stringify({ github: ctx.github, job: ctx.job }) });
  if (!res.ok) throw new StepFailure(`OIDC token service at ${ctx.job.oidcIssuerUrl} answered ${res.status}`);
  return { ...ctx.env, ...((await res.json()) as Record<string, string>) };
}

async function configure(ctx: ActionDoubleContext, step: Step, sleep: (ms: number) => Promise<void>): Promise<void> {
  const env = await withOidcEnv(ctx);
  const region = step.input('aws-region', { required: true });
  const roleToAssume = step.input('role-to-assume');
  const audience = step.input('audience');
  const maskAccountId = booleanInput(step, 'mask-aws-account-id');
  const roleDuration = Number.parseInt(step.input('role-duration-seconds')) || 3600;
  const roleSessionName = step.input('role-session-name') || 'GitHubActions';
  booleanInput(step, 'role-skip-session-tagging');
  const outputCredentials = booleanInput(step, 'output-credentials');
  const outputEnvCredentials = booleanInput(step, 'output-env-credentials', true);
  const unsetCurrent = booleanInput(step, 'unset-current-credentials');
  const disableRetry = booleanInput(step, 'disable-retry');
  const maxRetries = Math.max(1, Number.parseInt(step.input('retry-max-attempts')) || 12);
  const notModelled = NOT_MODELLED.filter((name) => step.input(name) !== '');
  if (notModelled.length) throw new StepFailure(`configure-aws-credentials double: input ${notModelled.join(', ')} is not modelled (only the OIDC path is)`);

  const oidc = Boolean(roleToAssume) && Boolean(env.ACTIONS_ID_TOKEN_REQUEST_TOKEN);
  if (roleToAssume && !env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
    step.info(
      'It looks like you might be trying to authenticate with OIDC. Did you mean to set the `id-token` permission? ' +
        'If you are not trying to authenticate with OIDC and the action is working successfully, you can ignore this message.',
    );
  }
  if (unsetCurrent && outputEnvCredentials) {
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_REGION', 'AWS_DEFAULT_REGION']) step.exportVariable(name, '');
  }
  if (!/^[a-z0-9-]+$/.test(region)) throw new StepFailure(`Region is not valid: ${region}`);
  if (outputEnvCredentials) {
    step.exportVariable('AWS_DEFAULT_REGION', region);
    step.exportVariable('AWS_REGION', region);
  }
  if (!oidc) {
    // A hosted runner has no instance profile: the SDK's default chain finds nothing.
    if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
      throw new StepFailure('configure-aws-credentials double: credentials from the environment are not modelled (only the OIDC path is)');
    }
    throw new StepFailure('Credentials could not be loaded, please check your action inputs: Could not load credentials from any providers');
  }

  let webIdentityToken: string;
  try {
    webIdentityToken = await retryAndBackoff(() => getIDToken(env, audience), !disableRetry, maxRetries, sleep);
  } catch (err) {
    throw new StepFailure(`getIDToken call failed: ${(err as Error).message}`);
  }
  const e = env;
  if (!e.GITHUB_REPOSITORY || !e.GITHUB_WORKFLOW || !e.GITHUB_ACTION || !e.GITHUB_ACTOR || !e.GITHUB_SHA || !e.GITHUB_WORKSPACE) {
    throw new StepFailure('Missing required environment variables. Are you running in GitHub Actions?');
  }
  if (!roleToAssume.startsWith('arn:aws')) throw new StepFailure('Source Account ID is needed if the Role Name is provided and not the Role Arn.');

  const endpoint = env.AWS_ENDPOINT_URL_STS || env.AWS_ENDPOINT_URL || undefined;
  const sts = new STSClient({ region, endpoint, customUserAgent: 'configure-aws-credentials-for-github-actions' });
  const assumed = await retryAndBackoff(
    async () => {
      step.info('Assuming role with OIDC');
      try {
        return await sts.send(
          new AssumeRoleWithWebIdentityCommand({ RoleArn: roleToAssume, RoleSessionName: roleSessionName, DurationSeconds: roleDuration, WebIdentityToken: webIdentityToken }),
        );
      } catch (err) {
        throw new StepFailure(`Could not assume role with OIDC: ${(err as Error).message}`);
      }
    },
    !disableRetry,
    maxRetries,
    sleep,
  );
  step.info(`Authenticated as assumedRoleId ${assumed.AssumedRoleUser?.AssumedRoleId}`);
  exportCredentials(step, assumed.Credentials, outputCredentials, outputEnvCredentials);
  if (!outputEnvCredentials) return;

  const creds = assumed.Credentials!;
  const asRole = new STSClient({
    region,
    endpoint,
    credentials: { accessKeyId: creds.AccessKeyId!, secretAccessKey: creds.SecretAccessKey!, sessionToken: creds.SessionToken },
  });
  const identity = await asRole.send(new GetCallerIdentityCommand({}));
  if (!identity.Account || !identity.Arn) throw new StepFailure('Could not get Account ID or ARN from STS. Did you set credentials?');
  if (maskAccountId) {
    step.setSecret(identity.Account);
    step.setSecret(identity.Arn);
  }
  step.setOutput('aws-account-id', identity.Account);
  step.setOutput('authenticated-arn', identity.Arn);
}

function exportCredentials(step: Step, creds: Credentials | undefined, outputCredentials: boolean, outputEnvCredentials: boolean): void {
  for (const secret of [creds?.AccessKeyId, creds?.SecretAccessKey, creds?.SessionToken]) if (secret) step.setSecret(secret);
  if (outputEnvCredentials) {
    if (creds?.AccessKeyId) step.exportVariable('AWS_ACCESS_KEY_ID', creds.AccessKeyId);
    if (creds?.SecretAccessKey) step.exportVariable('AWS_SECRET_ACCESS_KEY', creds.SecretAccessKey);
    if (creds?.SessionToken) step.exportVariable('AWS_SESSION_TOKEN', creds.SessionToken);
  }
  if (outputCredentials) {
    if (creds?.AccessKeyId) step.setOutput('aws-access-key-id', creds.AccessKeyId);
    if (creds?.SecretAccessKey) step.setOutput('aws-secret-access-key', creds.SecretAccessKey);
    if (creds?.SessionToken) step.setOutput('aws-session-token', creds.SessionToken);
    if (creds?.Expiration) step.setOutput('aws-expiration', creds.Expiration.toISOString());
  }
}

export function configureAwsCredentialsDouble(opts: ConfigureAwsOptions = {}): ActionDouble {
  const sleep = opts.sleep ?? (async () => {});
  return (ctx) => runStep(ctx, CONFIGURE_AWS_CREDENTIALS_INPUTS, (step) => configure(ctx, step, sleep));
}
