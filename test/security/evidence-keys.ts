/**
 * The evidence keys a team creates by following workflows/README.md ("7. KMS: the evidence
 * keys"), read from that README so the tests exercise the key policy users are told to apply:
 * one KMS key per environment whose `SignEvidence` statement names that environment's deploy
 * role, in the KMS stand-in, sharing the IAM store of the STS stand-in that issues the roles'
 * sessions.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { deployRoleArn, README_ACCOUNT } from '../executor/doubles/aws-trust';
import type { IamStore, PolicyDocument, Statement } from '../standins/iam/index';
import { startKmsStandin, type KmsKey, type KmsStandin } from '../standins/kms/index';

const README = fileURLToPath(new URL('../../workflows/README.md', import.meta.url));

/** The README's key policy for `environment`'s key. */
export function readmeKeyPolicy(environment: string, account = README_ACCOUNT): PolicyDocument {
  const block = [...readFileSync(README, 'utf8').matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.includes('"SignEvidence"'));
  if (!block) throw new Error('workflows/README.md: the evidence key policy (Sid SignEvidence) was not found');
  const policy = JSON.parse(block.replaceAll(README_ACCOUNT, account)) as PolicyDocument;
  const sign = (policy.Statement as Statement[]).find((s) => s.Sid === 'SignEvidence')!;
  sign.Principal = { AWS: deployRoleArn(environment, account) };
  return policy;
}

export interface EvidenceKms {
  kms: KmsStandin;
  keys: Record<string, KmsKey>;
  /** The EVIDENCE_KMS_KEYS variable: `env=arn` entries. */
  variable: string;
}

export async function startEvidenceKms(opts: { iam: IamStore; account?: string; region?: string; environments?: string[] }): Promise<EvidenceKms> {
  const account = opts.account ?? README_ACCOUNT;
  const kms = await startKmsStandin({ iam: opts.iam, accountId: account, region: opts.region });
  const keys: Record<string, KmsKey> = {};
  for (const env of opts.environments ?? ['qa', 'preprod', 'production']) keys[env] = kms.createKey({ policy: readmeKeyPolicy(env, account), alias: `evidence-${env}` });
  return { kms, keys, variable: Object.entries(keys).map(([env, k]) => `${env}=${k.arn}`).join(',') };
}
