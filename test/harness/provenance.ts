/**
 * Build provenance for images a test pushes itself rather than through build.yml: the statement
 * build-push-ecr writes (in-toto Statement v1, SLSA provenance v1, in a DSSE envelope), signed with
 * `key` (the world's provenance key for a genuine one, any other key for a forgery) and stored
 * beside `storedBeside` (default: the digest it names) as build-push-ecr stores it: referrers API,
 * else the `sha256-<hex>` tag. Speaks the registry API with the library's own client.
 */
import { sign, type KeyObject } from 'node:crypto';
import { encodeProvenance, OciRegistry, pushProvenance, signEnvelope } from '@deploy-actions/aws/provenance';
import type { Registry } from './registry';

export interface TestProvenance {
  /** ECR repository (registry path) of the image. */
  repository: string;
  digest: string;
  commit: string;
  /** owner/name of the service's GitHub repository. */
  githubRepository: string;
  /** The key ARN the envelope names (PROVENANCE_KMS_KEY for a genuine statement). */
  keyArn: string;
  key: KeyObject;
  contentKey?: string;
  /** The image the artifact refers to (default `digest`; another one copies a statement beside it). */
  storedBeside?: string;
}

export async function pushBuildProvenance(registry: Registry, p: TestProvenance): Promise<void> {
  const time = new Date().toISOString();
  const statement = encodeProvenance({
    digest: p.digest,
    ecrRepository: p.repository,
    contentKey: p.contentKey ?? '',
    commit: p.commit,
    githubRepository: p.githubRepository,
    workflowRef: 'org/deploy-actions/.github/workflows/build.yml@refs/heads/v1',
    runUrl: `https://github.com/${p.githubRepository}/actions/runs/1/attempts/1`,
    time,
  });
  const envelope = Buffer.from(JSON.stringify(await signEnvelope({ sign: async (_k: string, m: Buffer) => sign('sha256', m, p.key) }, p.keyArn, statement)));
  await pushProvenance(new OciRegistry(registry.url, registry.authHeader), p.repository, p.storedBeside ?? p.digest, envelope, time);
}
