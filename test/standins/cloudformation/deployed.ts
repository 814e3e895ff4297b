/**
 * The AWS set-up a team deploys: the stacks of workflows/aws/ (deploy-setup's output for
 * workflows/environments.yml, listed by its stacks.json), each loaded as CloudFormation creates
 * it in its account (index.ts), and read back as the facts the stand-ins need: the GitHub OIDC
 * providers, every role with its trust policy and its identity policies (inline `Policies` and
 * the `AWS::IAM::RolePolicy` resources attached to it), the KMS keys with their key policies,
 * the EKS access entries and the stack outputs. Nothing here knows a role name or a policy: a
 * change to the generator reaches every test world through these files.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AccessPolicySpec } from '../eks/index';
import type { PolicyDocument } from '../iam/index';
import { loadStack, TemplateError, type LoadedStack } from './index';

export const GENERATED_DIR = fileURLToPath(new URL('../../../workflows/aws', import.meta.url));

export interface DeployedRole {
  arn: string;
  name: string;
  account: string;
  trustPolicy: PolicyDocument;
  policies: PolicyDocument[];
}

export interface DeployedKey {
  keyId: string;
  arn: string;
  account: string;
  region: string;
  policy: PolicyDocument;
  /** The key's `deploy-actions:*` tags: whose evidence it signs. */
  repository?: string;
  environment?: string;
}

export interface DeployedAccessEntry {
  account: string;
  cluster: string;
  principalArn: string;
  /** AccessScope namespaces (empty: cluster-wide). */
  namespaces: string[];
  /** The access policies associated, with their scopes (the EKS stand-in's AccessEntrySpec). */
  policies: AccessPolicySpec[];
  type: string;
}

export interface DeployedProvider {
  arn: string;
  url: string;
  clientIds: string[];
}

export interface DeployedSetup {
  dir: string;
  stacks: LoadedStack[];
  /** The GitHub identities the trust policies were written for (stacks.json). */
  repositories: Array<{ repository: string; repositoryId: string; ownerId: string; subject: string }>;
  providers: DeployedProvider[];
  roles: DeployedRole[];
  keys: DeployedKey[];
  accessEntries: DeployedAccessEntry[];
  /** Every stack's outputs, by output name. */
  outputs: Map<string, string>;
}

interface IndexFile {
  stacks: Array<{ stackName: string; account: string; region: string; template: string; parameters: string }>;
  repositories: DeployedSetup['repositories'];
}

const ofType = (stack: LoadedStack, type: string) => Object.values(stack.resources).filter((r) => r.type === type);

/** workflows/aws/ (or another deploy-setup output directory) as its stacks create it. */
export function loadDeployedSetup(dir = GENERATED_DIR, files?: ReadonlyMap<string, string>): DeployedSetup {
  // `files`: deploy-setup's output in memory (file name -> text), as it would write it to `dir`.
  const read = (file: string) => JSON.parse(files ? files.get(file)! : readFileSync(join(dir, file), 'utf8'));
  const index = read('stacks.json') as IndexFile;
  const stacks = index.stacks.map((s) => loadStack({ stackName: s.stackName, account: s.account, region: s.region, template: read(s.template), parameters: read(s.parameters) }));
  const setup: DeployedSetup = { dir, stacks, repositories: index.repositories, providers: [], roles: [], keys: [], accessEntries: [], outputs: new Map() };
  for (const stack of stacks) {
    for (const p of ofType(stack, 'AWS::IAM::OIDCProvider')) {
      setup.providers.push({ arn: p.attributes.Arn!, url: String(p.properties.Url), clientIds: (p.properties.ClientIdList as string[]) ?? [] });
    }
    const roles = ofType(stack, 'AWS::IAM::Role').map((r) => {
      const role: DeployedRole = {
        arn: r.attributes.Arn!,
        name: r.ref,
        account: stack.account,
        trustPolicy: r.properties.AssumeRolePolicyDocument as PolicyDocument,
        policies: ((r.properties.Policies as Array<{ PolicyDocument: PolicyDocument }> | undefined) ?? []).map((p) => p.PolicyDocument),
      };
      setup.roles.push(role);
      return role;
    });
    for (const p of ofType(stack, 'AWS::IAM::RolePolicy')) {
      const role = roles.find((r) => r.name === p.properties.RoleName);
      if (!role) throw new TemplateError(`${stack.stackName} ${p.logicalId}: RoleName ${String(p.properties.RoleName)} is not a role of this stack`);
      role.policies.push(p.properties.PolicyDocument as PolicyDocument);
    }
    for (const k of ofType(stack, 'AWS::KMS::Key')) {
      const tags = new Map(((k.properties.Tags as Array<{ Key: string; Value: string }> | undefined) ?? []).map((t) => [t.Key, t.Value]));
      setup.keys.push({
        keyId: k.attributes.KeyId!,
        arn: k.attributes.Arn!,
        account: stack.account,
        region: stack.region,
        policy: k.properties.KeyPolicy as PolicyDocument,
        ...(tags.has('deploy-actions:repository') ? { repository: tags.get('deploy-actions:repository')! } : {}),
        ...(tags.has('deploy-actions:environment') ? { environment: tags.get('deploy-actions:environment')! } : {}),
      });
    }
    for (const e of ofType(stack, 'AWS::EKS::AccessEntry')) {
      const associated = (e.properties.AccessPolicies as Array<{ PolicyArn: string; AccessScope?: { Type: string; Namespaces?: string[] } }> | undefined) ?? [];
      const scopes = associated.map((p) => p.AccessScope);
      setup.accessEntries.push({
        account: stack.account,
        cluster: String(e.properties.ClusterName),
        principalArn: String(e.properties.PrincipalArn),
        namespaces: scopes.flatMap((s) => (s?.Type === 'namespace' ? (s.Namespaces ?? []) : [])),
        policies: associated.map((p) => ({
          policyArn: p.PolicyArn,
          scope: p.AccessScope?.Type === 'namespace' ? { type: 'namespace', namespaces: p.AccessScope.Namespaces ?? [] } : { type: 'cluster' },
        })),
        type: String(e.properties.Type ?? 'STANDARD'),
      });
    }
    for (const [k, v] of Object.entries(stack.outputs)) setup.outputs.set(k, v);
  }
  return setup;
}
