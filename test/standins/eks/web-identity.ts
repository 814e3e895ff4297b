/**
 * sts:AssumeRoleWithWebIdentity as AWS STS answers it, for the STS stand-in: the caller sends
 * no signature, only the token. In order:
 *   1. parameters (RoleArn, RoleSessionName pattern and length, DurationSeconds range);
 *   2. the token's issuer must be an OIDC provider registered in the role's account
 *      (InvalidIdentityToken "No OpenIDConnect provider found in your account for <iss>");
 *   3. the signature is checked against the keys the issuer publishes (discovery document ->
 *      jwks_uri, fetched over HTTP), then exp/nbf (ExpiredTokenException) and `aud` against the
 *      provider's client IDs (InvalidIdentityToken "Incorrect token audience");
 *   4. the role's trust policy (the shared IAM store, test/standins/iam) decides for the
 *      Federated principal, with the token's claims as condition keys
 *      `<provider host/path>:<claim>`: `aud` and `sub` for every provider, and for GitHub's
 *      issuer the claims AWS's service authorization reference lists as condition keys of
 *      sts:AssumeRoleWithWebIdentity (`GITHUB_CLAIM_KEYS`; STS validates them since January
 *      2026, which outdates GitHub's "custom claims are unavailable in AWS"); other claims are
 *      not keys. An unknown role and any deny both answer 403 AccessDenied "Not authorized to
 *      perform sts:AssumeRoleWithWebIdentity";
 *   5. the store issues the temporary credentials (ASIA…), so every stand-in sharing it
 *      accepts them, as that role, until they expire.
 * Error codes and messages: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html
 */
import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { accountOfArn, type IamStore, type Identity, type PolicyDocument } from '../iam/index';

export interface OidcProvider {
  /** arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com */
  arn: string;
  /** The issuer URL as registered (https://token.actions.githubusercontent.com). */
  url: string;
  clientIds: string[];
  /** Where the issuer's discovery document is really served (the local token service). */
  discoveryBase: string;
}

/** A role to register in the store: its trust policy and permission policies (default: everything allowed). */
export interface Role {
  arn: string;
  trustPolicy: PolicyDocument;
  policies?: PolicyDocument[];
}

export interface WebIdentityFederation {
  providers: OidcProvider[];
  iam: IamStore;
  /** Token claims exposed as condition keys (default: aud, sub and, for GitHub's issuer, GITHUB_CLAIM_KEYS). */
  conditionClaims?: string[];
}

/** GitHub token claims AWS evaluates as condition keys of sts:AssumeRoleWithWebIdentity (service authorization reference, STS). */
export const GITHUB_CLAIM_KEYS = ['actor', 'actor_id', 'enterprise_id', 'environment', 'job_workflow_ref', 'ref', 'repository', 'repository_id', 'repository_owner_id', 'workflow'] as const;
const GITHUB_ISSUER_HOST = 'token.actions.githubusercontent.com';

/** A new role's maximum session duration (seconds). */
const MAX_SESSION_DURATION = 3600;

export interface IssuedSession {
  roleArn: string;
  sessionName: string;
  subject: string;
  identity: Identity;
}

export type StsAnswer = { ok: true; xml: string; session: IssuedSession } | { ok: false; status: number; code: string; message: string };

const fail = (status: number, code: string, message: string): StsAnswer => ({ ok: false, status, code, message });
const ACCESS_DENIED = fail(403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const providerKey = (url: string) => url.replace(/^https:\/\//, '').replace(/\/$/, '');

async function verifiedClaims(token: string, provider: OidcProvider, now: Date): Promise<JWTPayload | StsAnswer> {
  let jwks;
  try {
    const discovery = (await (await fetch(`${provider.discoveryBase}/.well-known/openid-configuration`)).json()) as { jwks_uri: string };
    jwks = createLocalJWKSet((await (await fetch(discovery.jwks_uri)).json()) as { keys: [] });
  } catch {
    return fail(400, 'IDPCommunicationError', "Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements");
  }
  try {
    const { payload } = await jwtVerify(token, jwks, { currentDate: now, algorithms: ['RS256', 'ES256', 'RS384', 'RS512'] });
    return payload;
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) {
      // AWS's wording, epoch seconds and the missing space included.
      const at = Math.floor(now.getTime() / 1000);
      return fail(400, 'ExpiredTokenException', `Token expired: current date/time ${at} must be before the expiration date/time${decodeJwt(token).exp}`);
    }
    return fail(400, 'InvalidIdentityToken', 'The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request.');
  }
}

export async function assumeRoleWithWebIdentity(params: URLSearchParams, fed: WebIdentityFederation, now = new Date()): Promise<StsAnswer> {
  const roleArn = params.get('RoleArn') ?? '';
  const sessionName = params.get('RoleSessionName') ?? '';
  const token = params.get('WebIdentityToken') ?? '';
  const duration = Number(params.get('DurationSeconds') ?? '3600');
  const invalid: string[] = [];
  if (roleArn.length < 20) invalid.push(`Value '${roleArn}' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20`);
  if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
    invalid.push(`Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and length 2 to 64`);
  }
  if (!Number.isInteger(duration) || duration < 900 || duration > 43200) {
    invalid.push(`Value '${params.get('DurationSeconds')}' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200`);
  }
  if (token.length < 4) invalid.push(`Value at 'webIdentityToken' failed to satisfy constraint: Member must have length greater than or equal to 4`);
  if (invalid.length) return fail(400, 'ValidationError', `${invalid.length} validation error${invalid.length > 1 ? 's' : ''} detected: ${invalid.join('; ')}`);

  let iss: string;
  try {
    iss = String(decodeJwt(token).iss ?? '');
  } catch {
    return fail(400, 'InvalidIdentityToken', 'Couldn\'t parse the web identity token');
  }
  const account = accountOfArn(roleArn);
  const provider = fed.providers.find((p) => accountOfArn(p.arn) === account && providerKey(p.url) === providerKey(iss));
  if (!provider) return fail(400, 'InvalidIdentityToken', `No OpenIDConnect provider found in your account for ${iss}`);
  const claims = await verifiedClaims(token, provider, now);
  if ('ok' in claims) return claims as StsAnswer;
  const audiences = [claims.aud ?? []].flat().map(String);
  if (!audiences.some((a) => provider.clientIds.includes(a))) return fail(400, 'InvalidIdentityToken', 'Incorrect token audience');

  if (!fed.iam.role(roleArn)) return ACCESS_DENIED;
  const key = providerKey(provider.url);
  const context: Record<string, string | string[]> = {};
  for (const claim of fed.conditionClaims ?? ['aud', 'sub', ...(key === GITHUB_ISSUER_HOST ? GITHUB_CLAIM_KEYS : [])]) {
    const v = claims[claim];
    if (v !== undefined) context[`${key}:${claim}`] = Array.isArray(v) ? v.map(String) : String(v);
  }
  if (!(await fed.iam.mayAssume(roleArn, { arn: provider.arn, federated: provider.arn }, 'sts:AssumeRoleWithWebIdentity', context)).allowed) return ACCESS_DENIED;
  if (duration > MAX_SESSION_DURATION) {
    return fail(400, 'ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
  }
  const identity: Identity = fed.iam.issueCredentials(roleArn, sessionName, { durationSeconds: duration, now });
  const expiration = identity.expiresAt!;
  const subject = String(claims.sub ?? '');
  const out = `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>${xml(subject)}</SubjectFromWebIdentityToken>
    <Audience>${xml(audiences[0]!)}</Audience>
    <AssumedRoleUser>
      <Arn>${xml(identity.arn)}</Arn>
      <AssumedRoleId>${xml(identity.userId!)}</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <SessionToken>${identity.sessionToken}</SessionToken>
      <SecretAccessKey>${identity.secretAccessKey}</SecretAccessKey>
      <Expiration>${expiration.toISOString()}</Expiration>
      <AccessKeyId>${identity.accessKeyId}</AccessKeyId>
    </Credentials>
    <Provider>${xml(iss)}</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata>
    <RequestId>${randomUUID()}</RequestId>
  </ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>
`;
  return { ok: true, xml: out, session: { roleArn, sessionName, subject, identity } };
}
