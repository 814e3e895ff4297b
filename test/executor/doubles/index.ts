/**
 * Doubles of the third-party actions the workflows use, for the workflow executor, plus the
 * GitHub- and AWS-side pieces they meet (OIDC token service, the README's trust policies).
 * See test/README.md, "Action doubles".
 */
import { configureAwsCredentialsDouble, type ConfigureAwsOptions } from './configure-aws-credentials';
import type { ActionDouble } from './types';

export type DoubleName = 'aws-actions/configure-aws-credentials';

export interface DoublesWorld extends ConfigureAwsOptions {}

/** The doubles by `uses:` name (without @ref). */
export function createActionDoubles(world: DoublesWorld = {}): Record<DoubleName, ActionDouble> {
  return {
    'aws-actions/configure-aws-credentials': configureAwsCredentialsDouble(world),
  };
}

export { startOidcTokenService, jobClaims, subjectFor, GITHUB_OIDC_ISSUER, type OidcTokenService, type JobIdentity } from './oidc';
export { projectTrust, buildRoleArn, deployRoleArn, readmeTrustPolicies, README_ACCOUNT } from './aws-trust';
export type * from './types';
