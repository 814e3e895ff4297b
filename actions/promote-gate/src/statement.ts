/**
 * Signed evidence: the statement `record` (and `fail`) signs with the environment's KMS key, and
 * how a signed copy is read back. The signature covers the exact bytes stored (base64 in the
 * deployment payload), so nothing is re-serialised before verifying; a statement is accepted
 * only when it verifies under the key configured for its environment and every field is of the
 * expected form. Which statements then let a digest through is decided in signed-rules.ts.
 */
import { DIGEST_RE, SHA_RE } from './refs';

export const STATEMENT_TYPE = 'deploy-actions/promote-gate/evidence@v1';

export interface Statement {
  type: typeof STATEMENT_TYPE;
  /** The GitHub repository (owner/name) whose run made the statement. */
  githubRepository: string;
  /** The ECR repository of the image. */
  imageRepository: string;
  digest: string;
  /** build-push-ecr's content key, '' when none was given. */
  contentKey: string;
  commit: string;
  environment: string;
  runUrl: string;
  /** The image's registry host (`<account>.dkr.ecr.<region>.amazonaws.com`), '' when the image-ref named none. */
  registry: string;
  /** The run that signed it: its id, workflow name and the actor who started it (GITHUB_RUN_ID, GITHUB_WORKFLOW, GITHUB_ACTOR). */
  runId: string;
  workflow: string;
  actor: string;
  /** When it was signed (ISO 8601, UTC): the order of statements. */
  time: string;
  hotfix: boolean;
  /** success: validated here; failed: marked failed here (a bake breach, a rollback away from it). */
  status: 'success' | 'failed';
  /**
   * `sha256:<64 hex>` of the release card the environment's reviewers saw before approving
   * (docs/release-card.md), '' when none was shown. Statements signed before the field existed
   * read as ''.
   */
  card: string;
}

/** What a deployment payload carries under `signed`. */
export interface SignedEvidence {
  /** base64 of the statement's bytes (JSON). */
  statement: string;
  /** base64 of the DER ECDSA signature (KMS ECDSA_SHA_256 over the bytes). */
  signature: string;
  /** The key ARN that signed it (informative: verify uses the configured key). */
  key: string;
}

/** What a signer gives: every field but the type; no card is ''. */
export type StatementInput = Omit<Statement, 'type' | 'card'> & { card?: string };

/** The statement's bytes, fields always in this order (a field added later goes at the end). */
export function encodeStatement(s: StatementInput): Buffer {
  const ordered: Statement = {
    type: STATEMENT_TYPE,
    githubRepository: s.githubRepository,
    imageRepository: s.imageRepository,
    digest: s.digest,
    contentKey: s.contentKey,
    commit: s.commit,
    environment: s.environment,
    runUrl: s.runUrl,
    registry: s.registry,
    runId: s.runId,
    workflow: s.workflow,
    actor: s.actor,
    time: s.time,
    hotfix: s.hotfix,
    status: s.status,
    card: s.card ?? '',
  };
  return Buffer.from(JSON.stringify(ordered), 'utf8');
}

/** A registry host (name or address, optional port): what an image reference may start with. */
const REGISTRY_RE = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$/i;
/** A release card's hash as statements carry it. */
export const CARD_HASH_RE = /^sha256:[0-9a-f]{64}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
const str = (v: unknown): v is string => typeof v === 'string';

/** The statement in `bytes` when every field has its expected form, else why not. */
export function parseStatement(bytes: Buffer): Statement | string {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch {
    return 'statement is not JSON';
  }
  if (!v || typeof v !== 'object' || v.type !== STATEMENT_TYPE) return `statement type is not ${STATEMENT_TYPE}`;
  const ok =
    str(v.githubRepository) &&
    str(v.imageRepository) &&
    str(v.digest) && DIGEST_RE.test(v.digest) &&
    str(v.contentKey) && (v.contentKey === '' || /^tree-[0-9a-f]{40}$/.test(v.contentKey)) &&
    str(v.commit) && SHA_RE.test(v.commit) &&
    str(v.environment) &&
    str(v.runUrl) &&
    str(v.registry) && (v.registry === '' || REGISTRY_RE.test(v.registry)) &&
    str(v.runId) &&
    str(v.workflow) &&
    str(v.actor) &&
    str(v.time) && ISO_TIME.test(v.time) &&
    typeof v.hotfix === 'boolean' &&
    (v.status === 'success' || v.status === 'failed') &&
    (v.card === undefined || (str(v.card) && (v.card === '' || CARD_HASH_RE.test(v.card))));
  return ok ? ({ ...v, card: v.card ?? '' } as unknown as Statement) : 'statement fields are malformed';
}

/**
 * The signed statement a payload carries, checked with `verify` (the configured key of the
 * environment): a Statement, or why it is not evidence ('unsigned', a bad signature, ...).
 */
export function openSigned(payload: Record<string, unknown>, verify: (message: Buffer, signature: Buffer) => boolean): Statement | string {
  const signed = payload.signed as Partial<SignedEvidence> | undefined;
  if (!signed || typeof signed !== 'object') return 'unsigned';
  if (!str(signed.statement) || !str(signed.signature)) return 'signed evidence without statement or signature';
  const bytes = Buffer.from(signed.statement, 'base64');
  let valid = false;
  try {
    valid = verify(bytes, Buffer.from(signed.signature, 'base64'));
  } catch {
    valid = false;
  }
  if (!valid) return 'signature does not verify with the environment\'s key';
  return parseStatement(bytes);
}
