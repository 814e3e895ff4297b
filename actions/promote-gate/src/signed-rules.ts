/**
 * Which signed statements let a digest into a promotion target (docs/promote-gate.md, "Signed
 * evidence: the rules"). Statements are ordered by their signed time, never by when a deployment
 * carrying them was created, so a copy of an old statement (a replay) is as old as the original.
 *
 *   1. Only statements that verify under the required environment's configured key, name this
 *      GitHub repository, this image repository and that environment count.
 *   2. The newest statement about the digest decides whether it is failed: a bake breach or a
 *      rollback away from it signs `failed`, and no earlier success can be replayed past it.
 *   3. Forward promotion: the digest is the one the environment holds, the newest digest whose
 *      own newest statement is a success there. A digest the environment has moved on from is
 *      refused, so an old validated statement cannot be promoted again.
 *   4. Rollback: a digest the environment has moved on from passes when the target itself holds
 *      signed, unfailed evidence that it ran it (it was promoted there before): production may go
 *      back to a release it ran, never to one it did not.
 */
import { evidenceTask, payloadOf, type Deployment, type DeploymentsApi } from './github';
import { sameEnvironment } from './refs';
import { openSigned, type Statement } from './statement';

export interface SignedRecord {
  statement: Statement;
  /** The deployment that carried it (its other payload fields are not signed). */
  deployment: Deployment;
}

export interface SignedSubject {
  githubRepository: string;
  imageRepository: string;
  digest: string;
  sha: string;
  contentKey?: string;
}

/**
 * Clock difference allowed between a runner (a statement's signed `time`) and GitHub (the
 * `created_at` of the deployment that first carried it, created right after signing).
 */
export const CLOCK_SKEW_MS = 10 * 60_000;
/** Pages of 100 deployments one read may take; a read that does not end within them refuses (100,000 deployments). */
export const EVIDENCE_MAX_PAGES = 1000;

export interface EvidenceRead {
  /** Verified statements about this repository in the environment, oldest first. */
  records: SignedRecord[];
  /** Why deployments carrying something else were ignored, with their counts. */
  rejected: Map<string, number>;
  /** How many distinct deployments were read (both reads). */
  read: number;
}

/**
 * The environment's signed statements about this repository, from a complete, bounded read that
 * no number of added deployments can change (docs/promote-gate.md, "Reading the evidence"):
 *
 *  - Deployments are listed by their task (evidenceTask), which a status cannot change, never by
 *    their environment, which one can: the environment is the one the statement signs.
 *  - The head read goes newest first and stops once it holds a success statement S whose digest
 *    no newer statement failed (the held digest) and has read every deployment created since
 *    `S.time - CLOCK_SKEW_MS`. Any statement signed after S was carried by a deployment created
 *    after it was signed, so it has been read: the held digest, and everything newer, is exact.
 *    Replays (old statements in new deployments) only make the read longer, never shorter.
 *  - With `sha`, every deployment of that commit is read too (all pages): the statements about
 *    the subject's commit however old, for a rollback and for `failed`.
 *  - `history`: read at least that many deployments (the status view's older releases).
 * The cost is one request per 100 deployments created since the held statement (plus those of the
 * commit); a read that does not end within EVIDENCE_MAX_PAGES refuses instead of deciding.
 */
export async function signedRecords(
  api: DeploymentsApi,
  environment: string,
  subject: Pick<SignedSubject, 'githubRepository' | 'imageRepository'>,
  verify: (message: Buffer, signature: Buffer) => boolean,
  opts: { sha?: string; history?: number } = {},
): Promise<EvidenceRead> {
  const rejected = new Map<string, number>();
  const reject = (why: string) => rejected.set(why, (rejected.get(why) ?? 0) + 1);
  const byId = new Map<number, SignedRecord>();
  const seen = new Set<number>();
  const take = (d: Deployment) => {
    if (seen.has(d.id)) return;
    seen.add(d.id);
    const payload = payloadOf(d);
    if (!payload.signed) return reject('unsigned');
    const s = openSigned(payload, verify);
    if (typeof s === 'string') reject(s);
    else if (s.githubRepository !== subject.githubRepository) reject(`signed for repository ${s.githubRepository}`);
    else if (s.imageRepository !== subject.imageRepository) return; // another image of this repository
    else if (!sameEnvironment(s.environment, environment)) reject(`signed for environment ${s.environment}`);
    else byId.set(d.id, { statement: s, deployment: d });
  };
  const ordered = () => [...byId.values()].sort(byTime);
  const task = evidenceTask(environment);
  let taken = 0;
  let oldest = '';
  const enough = (read: readonly Deployment[]) => {
    for (; taken < read.length; taken++) {
      const d = read[taken]!;
      take(d);
      if (!oldest || d.created_at < oldest) oldest = d.created_at;
    }
    if (read.length < (opts.history ?? 0)) return false;
    const held = heldDigest(ordered());
    return held !== undefined && Date.parse(oldest) < Date.parse(held.statement.time) - CLOCK_SKEW_MS;
  };
  const head = await api.list({ task, maxPages: EVIDENCE_MAX_PAGES, complete: true, until: enough });
  enough(head);
  if (opts.sha) for (const d of await api.list({ task, sha: opts.sha, maxPages: EVIDENCE_MAX_PAGES, complete: true })) take(d);
  return { records: ordered(), rejected, read: seen.size };
}

const byTime = (a: SignedRecord, b: SignedRecord) =>
  a.statement.time === b.statement.time ? a.deployment.id - b.deployment.id : a.statement.time < b.statement.time ? -1 : 1;

const sameSource = (s: Statement, subject: SignedSubject) =>
  s.commit === subject.sha || (subject.contentKey !== undefined && s.contentKey === subject.contentKey);

/** The newest statement about each digest, newest first. */
function newestPerDigest(records: readonly SignedRecord[]): SignedRecord[] {
  const seen = new Set<string>();
  return [...records].reverse().filter((r) => !seen.has(r.statement.digest) && seen.add(r.statement.digest));
}

/** The digest the environment holds: the newest digest whose own newest statement is a success. */
export function heldDigest(records: readonly SignedRecord[]): SignedRecord | undefined {
  return newestPerDigest(records).find((r) => r.statement.status === 'success');
}

const when = (r: SignedRecord) => `${r.statement.time}${r.statement.runUrl ? ` (${r.statement.runUrl})` : ''}`;

export type Decision = { ok: true; detail: string; record: SignedRecord } | { ok: false; detail: string };

/**
 * Rules 2-4 over the statements of the required environment (`required`) and of the target
 * (`target`, undefined when the target has no key configured: no rollback path).
 */
export function decideSigned(
  subject: SignedSubject,
  required: { environment: string; records: readonly SignedRecord[] },
  target: { environment: string; records: readonly SignedRecord[] } | undefined,
): Decision {
  const R = required.environment;
  const digest = subject.digest;
  const aboutDigest = required.records.filter((r) => r.statement.digest === digest);
  const last = aboutDigest.at(-1);
  if (!last) return { ok: false, detail: `no statement signed with ${R}'s key says digest ${digest} passed ${R}` };
  if (last.statement.status === 'failed') {
    return { ok: false, detail: `digest ${digest} was marked failed in ${R} at ${when(last)}; earlier ${R} evidence of it no longer counts` };
  }
  const passed = aboutDigest.filter((r) => r.statement.status === 'success' && sameSource(r.statement, subject)).at(-1);
  if (!passed) {
    const commits = [...new Set(aboutDigest.map((r) => r.statement.commit.slice(0, 7)))].join(', ');
    return {
      ok: false,
      detail: `${R}'s signed evidence of digest ${digest} is for commit ${commits}, not ${subject.sha.slice(0, 7)}${subject.contentKey ? ` nor content key ${subject.contentKey}` : ''}`,
    };
  }
  const held = heldDigest(required.records);
  if (held?.statement.digest === digest) {
    return { ok: true, detail: `signed ${R} evidence: digest ${digest} passed ${R} at ${when(passed)}, and ${R} still holds it`, record: passed };
  }
  const movedOn = `${R} has moved on to ${held?.statement.digest ?? 'no validated digest'}${held ? ` (passed at ${when(held)})` : ''} since ${digest} passed it at ${passed.statement.time}`;
  if (!target) return { ok: false, detail: `${movedOn}; only the digest ${R} holds can be promoted` };
  const T = target.environment;
  const ran = target.records.filter((r) => r.statement.digest === digest).at(-1);
  if (ran?.statement.status === 'success') {
    return {
      ok: true,
      detail: `rollback: digest ${digest} passed ${R} at ${when(passed)} and ran in ${T} (signed at ${when(ran)}); ${movedOn}`,
      record: passed,
    };
  }
  return {
    ok: false,
    detail: `${movedOn}; only the digest ${R} holds can be promoted, or one ${T} ran before (a rollback)${ran ? `, and ${digest} was marked failed in ${T} at ${when(ran)}` : ''}`,
  };
}
