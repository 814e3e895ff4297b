/**
 * The AWS side a service team sets up by following workflows/README.md ("AWS: one OIDC
 * provider, one role per stage"), read from that README itself so the tests exercise the
 * policies users are told to create: the trust policies are its JSON blocks that allow
 * sts:AssumeRoleWithWebIdentity, with ORG/REPO replaced by the service repository (and, for
 * the deploy role, `production` by each environment: "the same with qa and preprod").
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { PolicyDocument } from '../../standins/iam/index';
import type { OidcProvider, Role } from '../../standins/eks/web-identity';
import type { OidcTokenService } from './oidc';

const README = fileURLToPath(new URL('../../../workflows/README.md', import.meta.url));

/** The README's account (111122223333) and role names. */
export const README_ACCOUNT = '111122223333';
export const buildRoleArn = (account = README_ACCOUNT) => `arn:aws:iam::${account}:role/gha-my-service-build`;
export const deployRoleArn = (environment: string, account = README_ACCOUNT) => `arn:aws:iam::${account}:role/gha-my-service-${environment}`;

/** The README's trust policies, as text with ORG/REPO in place: [build, deploy-production]. */
export function readmeTrustPolicies(readme = readFileSync(README, 'utf8')): { build: string; deploy: string } {
  const blocks = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => b.includes('sts:AssumeRoleWithWebIdentity'));
  const build = blocks.find((b) => b.includes(':ref:refs/heads/'));
  const deploy = blocks.find((b) => b.includes(':environment:production'));
  if (!build || !deploy) throw new Error('workflows/README.md: the build and deploy trust policies were not found');
  return { build, deploy };
}

export interface ProjectTrust {
  provider: OidcProvider;
  roles: Role[];
}

/** The OIDC provider and the build and per-environment deploy roles of `repository`. */
export function projectTrust(opts: { repository: string; tokenService: Pick<OidcTokenService, 'url' | 'issuer'>; environments?: string[]; account?: string }): ProjectTrust {
  const account = opts.account ?? README_ACCOUNT;
  const { build, deploy } = readmeTrustPolicies();
  const fill = (policy: string) => JSON.parse(policy.replaceAll('ORG/REPO', opts.repository).replaceAll(README_ACCOUNT, account)) as PolicyDocument;
  const host = opts.tokenService.issuer.replace(/^https:\/\//, '');
  return {
    provider: { arn: `arn:aws:iam::${account}:oidc-provider/${host}`, url: opts.tokenService.issuer, clientIds: ['sts.amazonaws.com'], discoveryBase: opts.tokenService.url },
    roles: [
      { arn: buildRoleArn(account), trustPolicy: fill(build) },
      ...(opts.environments ?? ['qa', 'preprod', 'production']).map((env) => ({
        arn: deployRoleArn(env, account),
        trustPolicy: fill(deploy.replace(':environment:production"', `:environment:${env}"`)),
      })),
    ],
  };
}
