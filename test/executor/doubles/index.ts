/**
 * Doubles of the third-party actions the workflows use, for the workflow executor, plus the
 * GitHub- and AWS-side pieces they meet (OIDC token service, the README's trust policies).
 * See test/README.md, "Action doubles".
 */
import { checkoutDouble, type CheckoutWorld } from './checkout';
import { configureAwsCredentialsDouble, type ConfigureAwsOptions } from './configure-aws-credentials';
import { setupNodeDouble } from './setup-node';
import type { ActionDouble } from './types';

export type DoubleName = 'actions/checkout' | 'actions/setup-node' | 'aws-actions/configure-aws-credentials';

export interface DoublesWorld extends CheckoutWorld, ConfigureAwsOptions {}

/** The doubles by `uses:` name (without @ref). */
export function createActionDoubles(world: DoublesWorld): Record<DoubleName, ActionDouble> {
  return {
    'actions/checkout': checkoutDouble(world),
    'actions/setup-node': setupNodeDouble(),
    'aws-actions/configure-aws-credentials': configureAwsCredentialsDouble(world),
  };
}

export { startOidcTokenService, jobClaims, subjectFor, GITHUB_OIDC_ISSUER, type OidcTokenService, type JobIdentity } from './oidc';
export { projectTrust, buildRoleArn, deployRoleArn, evidenceRoleArn, buildAccount, accountOf, addGeneratedRoles } from './aws-trust';
export { loadEnvironments, projectEnvironmentsFile, refAllowed, type Environments, type EnvironmentsOptions, type EnterRequest, type EnterResult, type Approver, type ApprovalDecision, type ApprovalRequest, type ApprovalRecord } from './environments';
export { createPullRequestRefs, type PullRequestRefs } from './pull-request';
export { CHECKOUT_INPUTS } from './checkout';
export { SETUP_NODE_INPUTS, addNodeToToolCache, findInToolCache } from './setup-node';
export { CONFIGURE_AWS_CREDENTIALS_INPUTS } from './configure-aws-credentials';
export type * from './types';
