/**
 * The one decision both build-push-ecr (before reusing an image) and promote-gate (before
 * recording or promoting one) make: does a provenance statement, signed with the build
 * provenance key, say that this digest in this repository was built by build.yml for this
 * commit (or from this content key)? Pure (`judgeProvenance`) apart from the reads.
 */
import { findProvenance, type OciRegistry, type Referrers } from './oci';
import { openEnvelope } from './dsse';
import { parseProvenance, type BuildFacts } from './statement';

export interface ProvenanceClaim {
  digest: string;
  ecrRepository: string;
  /** owner/name of the GitHub repository the image must have been built for. */
  githubRepository: string;
  /** The commit the image is used for; the statement's commit must be it ... */
  commit: string;
  /** ... or, when given, the statement's content key must be this one (another commit built the same content). */
  contentKey?: string;
}

export type ProvenanceVerdict = { ok: true; facts: BuildFacts; detail: string } | { ok: false; detail: string };

const short = (sha: string) => sha.slice(0, 7);

function against(f: BuildFacts, c: ProvenanceClaim): string | undefined {
  if (f.digest !== c.digest) return `it is signed for ${f.digest}`;
  if (f.ecrRepository !== c.ecrRepository) return `it is signed for repository ${f.ecrRepository}`;
  if (f.githubRepository.toLowerCase() !== c.githubRepository.toLowerCase()) return `it was built for ${f.githubRepository}`;
  if (f.commit === c.commit) return undefined;
  if (c.contentKey && f.contentKey === c.contentKey) return undefined;
  return `it was built from commit ${short(f.commit)}${f.contentKey ? ` (content key ${f.contentKey})` : ''}, not commit ${short(c.commit)}${c.contentKey ? ` or content key ${c.contentKey}` : ''}`;
}

/** The verdict on the artifacts found for `c.digest`. */
export function judgeProvenance(found: Referrers, verify: (message: Buffer, signature: Buffer) => boolean, c: ProvenanceClaim): ProvenanceVerdict {
  const reasons: string[] = [];
  for (const { artifact, envelope } of found.envelopes) {
    const opened = openEnvelope(envelope, verify);
    const facts = typeof opened === 'string' ? opened : parseProvenance(opened);
    const why = typeof facts === 'string' ? facts : against(facts, c);
    if (!why && typeof facts !== 'string') {
      const by = f(facts);
      return { ok: true, facts, detail: `provenance of ${c.digest} verified: ${by}` };
    }
    reasons.push(`${artifact.slice(0, 19)}: ${why}`);
  }
  reasons.push(...found.skipped);
  if (reasons.length === 0) {
    const where = found.via === 'referrers' ? 'the referrers API lists none' : `neither the referrers API nor tag ${c.digest.replace(':', '-')} lists one`;
    return { ok: false, detail: `${c.digest} has no build provenance (${where}): nothing shows build.yml built it` };
  }
  return { ok: false, detail: `${c.digest} has no valid build provenance: ${reasons.join('; ')}` };
}

const f = (x: BuildFacts) => `built by ${x.workflowRef} from commit ${short(x.commit)}${x.contentKey ? ` (content key ${x.contentKey})` : ''}, run ${x.runUrl}`;

export async function checkProvenance(reg: OciRegistry, verify: (message: Buffer, signature: Buffer) => boolean, c: ProvenanceClaim): Promise<ProvenanceVerdict> {
  return judgeProvenance(await findProvenance(reg, c.ecrRepository, c.digest), verify, c);
}
