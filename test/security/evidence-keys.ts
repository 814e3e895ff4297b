/**
 * The evidence keys of the generated set-up (workflows/aws/, loaded as CloudFormation creates
 * them): one KMS key per environment with its generated key policy (the key administrator; the
 * environment's deploy role signs; every deploy role and the evidence reader read the public
 * key, across accounts), under the ids the stacks' outputs give, in one KMS stand-in sharing the
 * IAM store of the STS stand-in that issues the roles' sessions.
 */
import { generatedSetup, SAMPLE_REPOSITORY, variablesOf } from '../executor/doubles/aws-trust';
import type { IamStore } from '../standins/iam/index';
import { startKmsStandin, type KmsKey, type KmsStandin } from '../standins/kms/index';

export interface EvidenceKms {
  kms: KmsStandin;
  keys: Record<string, KmsKey>;
  /** The EVIDENCE_KMS_KEYS variable deploy-setup sets: `env=arn` entries. */
  variable: string;
}

export async function startEvidenceKms(opts: { iam: IamStore; repository?: string }): Promise<EvidenceKms> {
  const repository = opts.repository ?? SAMPLE_REPOSITORY;
  const generated = generatedSetup().setup.keys.filter((k) => k.repository?.toLowerCase() === repository.toLowerCase());
  const regions = [...new Set(generated.map((k) => k.region))];
  if (regions.length !== 1) throw new Error(`workflows/aws: the evidence keys of ${repository} span ${regions.length} regions; the KMS stand-in serves one`);
  const kms = await startKmsStandin({ iam: opts.iam, region: regions[0] });
  const keys: Record<string, KmsKey> = {};
  for (const k of generated) keys[k.environment!] = kms.createKey({ policy: k.policy, account: k.account, keyId: k.keyId, alias: `evidence-${k.environment}` });
  return { kms, keys, variable: variablesOf(repository).repository.EVIDENCE_KMS_KEYS! };
}
