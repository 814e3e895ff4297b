/**
 * configure-aws-credentials double end to end: a real RS256 token from the OIDC token
 * service (the immutable subject the GitHub stand-in says the repository gets), the real STS
 * client, the STS stand-in evaluating the generated trust policies (workflows/aws/), and the
 * issued credentials used again (the IAM store the AWS stand-ins share issues them).
 */
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startStsStandin, type StsStandinWithSessions } from '../../standins/eks/index';
import { IamStore } from '../../standins/iam/index';
import { accountOf, buildAccount, buildRoleArn, deployRoleArn, projectTrust, subjectsOfStandin } from './aws-trust';
import { configureAwsCredentialsDouble } from './configure-aws-credentials';
import { startOidcTokenService, type OidcTokenService } from './oidc';
import { stepContext, type JobSpec } from './testing';

const REPO = 'acme/sample-service';
/** The subject of the sample service (created after 2026-07-15: owner and repository ids). */
const SUBJECT = 'repo:acme@190000001/sample-service@1041000001';
const BUILD_WORKFLOW = 'org/deploy-actions/.github/workflows/build.yml@refs/heads/v1';
const PRODUCTION = accountOf('production');
let tokens: OidcTokenService;
let sts: StsStandinWithSessions;
const iam = new IamStore();
const double = configureAwsCredentialsDouble();

beforeAll(async () => {
  tokens = await startOidcTokenService({ subjects: subjectsOfStandin });
  const trust = projectTrust({ tokenService: tokens });
  sts = await startStsStandin({ region: 'eu-west-1', iam, webIdentity: { providers: trust.providers, roles: trust.roles } });
});
afterAll(async () => {
  await sts?.stop();
  await tokens?.stop();
});

/** Runs the double as the executor would: the job's OIDC variables, the STS endpoint. */
function run(spec: JobSpec & { role: string }) {
  const ctx = stepContext({ repository: REPO, ...spec, with: { 'aws-region': 'eu-west-1', 'role-to-assume': spec.role, 'role-session-name': 'deploy-4242-1', ...spec.with } });
  Object.assign(ctx.env, tokens.jobEnv(ctx), { AWS_ENDPOINT_URL_STS: sts.url });
  return double(ctx);
}

describe('a job allowed by the trust policy', () => {
  test('deploy job in the production environment assumes the production role; the credentials work elsewhere', async () => {
    const r = await run({ environment: 'production', role: deployRoleArn('production') });
    expect(r.error).toBeUndefined();
    expect(r.outcome).toBe('success');
    expect(r.outputs).toEqual({ 'aws-account-id': PRODUCTION, 'authenticated-arn': `arn:aws:sts::${PRODUCTION}:assumed-role/gha-sample-service-production/deploy-4242-1` });
    expect(r.exportEnv).toMatchObject({ AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'eu-west-1' });
    expect(r.exportEnv.AWS_ACCESS_KEY_ID).toMatch(/^ASIA[A-Z0-9]{16}$/);
    expect(r.addMask).toEqual(expect.arrayContaining([r.exportEnv.AWS_ACCESS_KEY_ID, r.exportEnv.AWS_SECRET_ACCESS_KEY, r.exportEnv.AWS_SESSION_TOKEN]));
    expect(r.addMask).not.toContain(PRODUCTION);
    // The token really carried the job's claims.
    const issued = tokens.issued.at(-1)!;
    expect(issued.audience).toBe('sts.amazonaws.com');
    expect(issued.claims).toMatchObject({
      sub: `${SUBJECT}:environment:production`,
      repository_id: '1041000001',
      environment: 'production',
      job_workflow_ref: 'org/deploy-actions/.github/workflows/deploy.yml@refs/heads/v1',
      repository_owner: 'acme',
      ref: 'refs/heads/main',
    });
    // The session is in the shared IAM store, as that role: accepted with its token, refused without, as AWS does.
    expect(iam.identity(r.exportEnv.AWS_ACCESS_KEY_ID!)?.roleArn).toBe(deployRoleArn('production'));
    const client = (sessionToken?: string) =>
      new STSClient({
        region: 'eu-west-1',
        endpoint: sts.url,
        credentials: { accessKeyId: r.exportEnv.AWS_ACCESS_KEY_ID!, secretAccessKey: r.exportEnv.AWS_SECRET_ACCESS_KEY!, sessionToken },
      });
    expect((await client(r.exportEnv.AWS_SESSION_TOKEN).send(new GetCallerIdentityCommand({}))).Arn).toBe(r.outputs['authenticated-arn']);
    await expect(client().send(new GetCallerIdentityCommand({}))).rejects.toThrow(/security token included in the request is invalid/);
  });

  test.each(['refs/heads/develop', 'refs/heads/main'])('build job on %s assumes the build role', async (ref) => {
    const r = await run({ ref, role: buildRoleArn(), workflowRef: BUILD_WORKFLOW });
    expect(r.error).toBeUndefined();
    expect(r.outputs['authenticated-arn']).toBe(`arn:aws:sts::${buildAccount()}:assumed-role/gha-sample-service-build/deploy-4242-1`);
  });

  test('mask-aws-account-id masks the account and the ARN', async () => {
    const r = await run({ environment: 'qa', role: deployRoleArn('qa'), with: { 'mask-aws-account-id': 'true' } });
    expect(r.addMask).toEqual(expect.arrayContaining([accountOf('qa'), r.outputs['authenticated-arn']]));
  });
});

describe('a job the trust policy refuses fails as on AWS', () => {
  const refused = 'Could not assume role with OIDC: Not authorized to perform sts:AssumeRoleWithWebIdentity';
  test.each<[string, JobSpec & { role: string }]>([
    ['no environment: the subject is the ref', { role: deployRoleArn('production') }],
    ['another environment', { environment: 'preprod', role: deployRoleArn('production') }],
    ['an environment spelled Production (IAM compares case-sensitively)', { environment: 'Production', role: deployRoleArn('production') }],
    ['a build from a feature branch', { ref: 'refs/heads/feature/x', role: buildRoleArn(), workflowRef: BUILD_WORKFLOW }],
    ['a pull_request run (subject repo:…:pull_request)', { ref: 'refs/pull/7/merge', eventName: 'pull_request', role: buildRoleArn(), workflowRef: BUILD_WORKFLOW }],
    ['another repository', { repository: 'acme/other', role: buildRoleArn(), workflowRef: BUILD_WORKFLOW }],
    ['a job of deploy.yml on main (the build role trusts build.yml only)', { role: buildRoleArn() }],
    ['a role that does not exist', { role: `arn:aws:iam::${buildAccount()}:role/nope` }],
  ])('%s', async (_name, spec) => {
    const before = sts.webIdentityCalls.length;
    const r = await run(spec);
    expect(r.outcome).toBe('failure');
    expect(r.error).toBe(refused);
    expect(r.exportEnv.AWS_ACCESS_KEY_ID).toBeUndefined();
    // The action retries every error: 12 attempts by default.
    expect(sts.webIdentityCalls.length - before).toBe(12);
  });

  test('disable-retry makes one attempt; a wrong audience is refused by the provider', async () => {
    const before = sts.webIdentityCalls.length;
    const r = await run({ environment: 'qa', role: deployRoleArn('qa'), with: { audience: 'https://github.com/acme', 'disable-retry': 'true' } });
    expect(r.error).toBe('Could not assume role with OIDC: Incorrect token audience');
    expect(sts.webIdentityCalls.length - before).toBe(1);
  });
});

describe('the job variables from the token service URL (job.oidcIssuerUrl)', () => {
  test.each([
    [{ contents: 'read', 'id-token': 'write' }, undefined],
    [{ contents: 'read' }, 'Credentials could not be loaded, please check your action inputs: Could not load credentials from any providers'],
  ])('permissions %j -> %s', async (permissions, error) => {
    const ctx = stepContext({ repository: REPO, environment: 'qa', permissions, with: { 'aws-region': 'eu-west-1', 'role-to-assume': deployRoleArn('qa') } });
    ctx.job.oidcIssuerUrl = tokens.url;
    ctx.env.AWS_ENDPOINT_URL_STS = sts.url;
    const r = await double(ctx);
    expect(r.error).toBe(error);
    if (!error) expect(tokens.issued.at(-1)!.claims.sub).toBe(`${SUBJECT}:environment:qa`);
  });
});

describe('inputs and permissions as the action checks them', () => {
  test('without id-token: write the action hints at the permission, then finds no credentials', async () => {
    const r = await run({ environment: 'qa', role: deployRoleArn('qa'), permissions: { contents: 'read' } });
    expect(r.error).toBe('Credentials could not be loaded, please check your action inputs: Could not load credentials from any providers');
    expect(r.log[0]).toMatch(/Did you mean to set the `id-token` permission\?/);
    expect(r.exportEnv).toEqual({ AWS_DEFAULT_REGION: 'eu-west-1', AWS_REGION: 'eu-west-1' });
  });

  test.each([
    [{ 'aws-region': '' }, 'Input required and not supplied: aws-region'],
    [{ 'aws-region': 'EU west' }, 'Region is not valid: EU west'],
    [{ 'mask-aws-account-id': 'yes' }, 'Input does not meet YAML 1.2 "Core Schema" specification: mask-aws-account-id Support boolean input list: `true | True | TRUE | false | False | FALSE`'],
    [{ 'role-to-assume': 'gha-sample-service-qa' }, 'Source Account ID is needed if the Role Name is provided and not the Role Arn.'],
    [{ 'aws-access-key-id': 'AKIA' }, 'configure-aws-credentials double: input aws-access-key-id is not modelled (only the OIDC path is)'],
  ])('%o -> %s', async (inputs, error) => {
    const r = await run({ environment: 'qa', role: deployRoleArn('qa'), with: inputs });
    expect(r.outcome).toBe('failure');
    expect(r.error).toBe(error);
  });

  test('an unknown input is a runner warning, and the step still runs', async () => {
    const r = await run({ environment: 'qa', role: deployRoleArn('qa'), with: { 'aws-regoin': 'x' } });
    expect(r.outcome).toBe('success');
    expect(r.log[0]).toMatch(/^Warning: Unexpected input\(s\) 'aws-regoin', valid inputs are \['aws-region', 'role-to-assume', /);
  });
});
