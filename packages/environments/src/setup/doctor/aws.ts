/**
 * What doctor reads of AWS, read-only, with the user's own credentials (the default chain, or a
 * named profile per account: --profile ACCOUNT=NAME): IAM GetRole and SimulatePrincipalPolicy,
 * KMS GetKeyPolicy, EKS ListAccessEntries, DescribeAccessEntry and ListAssociatedAccessPolicies.
 * Each client is made as the actions' are (awsClientConfig: connection and request deadlines from
 * DEADLINES, no SDK retries) and each call goes through awsCall (the one retry policy, a whole
 * deadline, AccessDenied as one line naming the IAM action).
 */
import { DescribeAccessEntryCommand, EKSClient, ListAccessEntriesCommand, ListAssociatedAccessPoliciesCommand } from '@aws-sdk/client-eks';
import { GetRoleCommand, IAMClient, SimulatePrincipalPolicyCommand, type EvaluationResult } from '@aws-sdk/client-iam';
import { GetKeyPolicyCommand, KMSClient } from '@aws-sdk/client-kms';
import { awsCall, awsClientConfig, awsErrorName, reportEndpoint } from '@deploy-actions/aws';
import type { PolicyDoc } from './policy-match';

export type Decision = 'allowed' | 'explicitDeny' | 'implicitDeny';

export interface AccessEntry {
  type: string;
  policies: Array<{ policyArn: string; scope: { type: string; namespaces: string[] } }>;
}

export interface DoctorAws {
  /** The role's trust policy; undefined when there is no such role. */
  trustOf(roleName: string): Promise<{ arn: string; trust: PolicyDoc } | undefined>;
  /** IAM's simulation of the role's identity policies: each action on `resource`. */
  simulate(roleArn: string, actions: readonly string[], resource: string): Promise<Map<string, Decision>>;
  /** The key's `default` policy; undefined when the key does not exist. */
  keyPolicy(keyArn: string): Promise<PolicyDoc | undefined>;
  /** The principal ARNs with an access entry; undefined when the cluster does not exist. */
  accessEntries(cluster: string): Promise<string[] | undefined>;
  /** One access entry with its associated policies; undefined when there is none. */
  accessEntry(cluster: string, principalArn: string): Promise<AccessEntry | undefined>;
}

/** The AWS reads of one account and region. */
export type DoctorAwsFactory = (account: string, region: string, profile: string | undefined) => DoctorAws;

const NOT_FOUND = new Set(['NoSuchEntity', 'NoSuchEntityException', 'NotFoundException', 'ResourceNotFoundException']);

async function orUndefined<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    if (NOT_FOUND.has(awsErrorName(err))) return undefined;
    throw err;
  }
}

export const sdkDoctorAws: DoctorAwsFactory = (account, region, profile) => {
  const config = { ...awsClientConfig(region), ...(profile ? { profile } : {}) };
  let iam: IAMClient | undefined;
  let kms: KMSClient | undefined;
  let eks: EKSClient | undefined;
  const IAM = () => (iam ??= reportEndpoint(new IAMClient(config)));
  const KMS = () => (kms ??= reportEndpoint(new KMSClient(config)));
  const EKS = () => (eks ??= reportEndpoint(new EKSClient(config)));
  const clusterArn = (cluster: string) => `cluster ${cluster} (account ${account}, ${region})`;
  return {
    async trustOf(roleName) {
      const r = await orUndefined(awsCall('iam:GetRole', `role ${roleName} (account ${account})`, () => IAM().send(new GetRoleCommand({ RoleName: roleName }))));
      if (!r?.Role) return undefined;
      // IAM returns policy documents URL-encoded (RFC 3986).
      return { arn: r.Role.Arn ?? '', trust: JSON.parse(decodeURIComponent(r.Role.AssumeRolePolicyDocument ?? '{}')) as PolicyDoc };
    },
    async simulate(roleArn, actions, resource) {
      const out = new Map<string, Decision>();
      let marker: string | undefined;
      do {
        const r = await awsCall('iam:SimulatePrincipalPolicy', roleArn, () =>
          IAM().send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: roleArn, ActionNames: [...actions], ResourceArns: [resource], Marker: marker })),
        );
        for (const e of r.EvaluationResults ?? ([] as EvaluationResult[])) if (e.EvalActionName) out.set(e.EvalActionName, (e.EvalDecision ?? 'implicitDeny') as Decision);
        marker = r.IsTruncated ? r.Marker : undefined;
      } while (marker);
      return out;
    },
    async keyPolicy(keyArn) {
      const r = await orUndefined(awsCall('kms:GetKeyPolicy', keyArn, () => KMS().send(new GetKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default' }))));
      return r ? (JSON.parse(r.Policy ?? '{}') as PolicyDoc) : undefined;
    },
    async accessEntries(cluster) {
      const all: string[] = [];
      let nextToken: string | undefined;
      do {
        const r = await orUndefined(awsCall('eks:ListAccessEntries', clusterArn(cluster), () => EKS().send(new ListAccessEntriesCommand({ clusterName: cluster, nextToken }))));
        if (!r) return undefined;
        all.push(...(r.accessEntries ?? []));
        nextToken = r.nextToken;
      } while (nextToken);
      return all;
    },
    async accessEntry(cluster, principalArn) {
      const where = `the access entry of ${principalArn} on ${clusterArn(cluster)}`;
      const d = await orUndefined(awsCall('eks:DescribeAccessEntry', where, () => EKS().send(new DescribeAccessEntryCommand({ clusterName: cluster, principalArn }))));
      if (!d?.accessEntry) return undefined;
      const policies: AccessEntry['policies'] = [];
      let nextToken: string | undefined;
      do {
        const r = await awsCall('eks:ListAssociatedAccessPolicies', where, () => EKS().send(new ListAssociatedAccessPoliciesCommand({ clusterName: cluster, principalArn, nextToken })));
        for (const p of r.associatedAccessPolicies ?? []) {
          policies.push({ policyArn: p.policyArn ?? '', scope: { type: p.accessScope?.type ?? 'cluster', namespaces: p.accessScope?.namespaces ?? [] } });
        }
        nextToken = r.nextToken;
      } while (nextToken);
      return { type: d.accessEntry.type ?? 'STANDARD', policies };
    },
  };
};
