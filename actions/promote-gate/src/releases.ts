/**
 * Read side of the evidence: the releases promote-gate recorded in an environment, each with
 * its latest state. The status view, the rollback target and the bake's rollback read them
 * through here; nothing here writes.
 *
 * With the environment's evidence key (`signed`), only records carrying a statement that
 * verifies under that key count, and their state comes from the statements, never from
 * deployment statuses: anyone with `deployments: write` can create a record or post a status,
 * only the environment's deploy role can sign (signed-rules.ts).
 */
import { RECORDED_BY } from './gate';
import { newestFirst, payloadOf, type Deployment, type DeploymentsApi, type DeploymentStatus } from './github';
import { DIGEST_RE, SHA_RE, sameEnvironment } from './refs';
import { heldDigest, signedRecords, type SignedRecord } from './signed-rules';

/** How many of an environment's newest deployments are read (one page). */
export const HISTORY_WINDOW = 100;

export interface Release {
  deploymentId: number;
  environment: string;
  digest: string;
  sha: string;
  /** The image reference recorded (`<registry>/<repository>@<digest>` or `<repository>@<digest>`). */
  image: string;
  repository: string;
  recordedAt: string;
  /** Latest status: success, inactive (superseded), failure, error, ... or 'none'. */
  state: string;
  stateAt: string;
  stateDescription: string;
  /** Reached success once and was never marked failed or errored since: a rollback target. */
  validated: boolean;
  runUrl: string;
  runId: string;
  workflow: string;
  actor: string;
  environmentUrl: string;
  /**
   * true: every field but `stateDescription` and `environmentUrl` comes from a verified statement.
   * false: read from an unsigned deployment payload, which anyone with `deployments: write` can
   * write: display-only (the view says so).
   */
  signed: boolean;
  /** The release card kept with the record (display only) and the hash its signed statement names ('' when unsigned or none). */
  card: { text: string; signedSha256: string };
}

const str = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

/** A promote-gate record of `repository` in `environment`, or undefined for any other deployment. */
function asRecord(d: Deployment, environment: string, repository: string): Omit<Release, 'state' | 'stateAt' | 'stateDescription' | 'validated' | 'environmentUrl' | 'signed'> | undefined {
  const p = payloadOf(d);
  const digest = str(p.digest);
  if (p.recorded_by !== RECORDED_BY || p.repository !== repository) return undefined;
  if (!sameEnvironment(d.environment, environment) || !DIGEST_RE.test(digest) || !SHA_RE.test(d.sha)) return undefined;
  return {
    deploymentId: d.id,
    environment: d.environment,
    digest,
    sha: d.sha,
    image: str(p.image) || `${repository}@${digest}`,
    repository,
    recordedAt: d.created_at,
    runUrl: str(p.run_url),
    runId: str(p.run_id),
    workflow: str(p.workflow),
    actor: str(p.actor),
    card: { text: str(p.card), signedSha256: '' },
  };
}

function withStatuses(r: NonNullable<ReturnType<typeof asRecord>>, statuses: readonly DeploymentStatus[]): Release {
  const ordered = newestFirst(statuses);
  const latest = ordered[0];
  const markedBad = ordered.findIndex((s) => s.state === 'failure' || s.state === 'error');
  const succeeded = ordered.findIndex((s) => s.state === 'success');
  return {
    ...r,
    state: latest?.state ?? 'none',
    stateAt: latest?.created_at ?? '',
    stateDescription: latest?.description ?? '',
    validated: succeeded >= 0 && (markedBad < 0 || succeeded < markedBad),
    environmentUrl: ordered.find((s) => s.environment_url)?.environment_url ?? '',
    signed: false,
  };
}

/** How the records of an environment are verified: its key's verifier and the run's GitHub repository. */
export interface SignedView {
  githubRepository: string;
  verify: (message: Buffer, signature: Buffer) => boolean;
}

/**
 * promote-gate's records of `repository` in `environment`, newest first, with their latest states;
 * with `signed`, only the verified ones (signedReleases).
 */
export async function releasesIn(api: DeploymentsApi, environment: string, repository: string, signed?: SignedView, max = HISTORY_WINDOW): Promise<Release[]> {
  if (signed) return signedReleases(api, environment, repository, signed);
  const records = newestFirst(await api.list({ environment, max }))
    .map((d) => asRecord(d, environment, repository))
    .filter((r) => r !== undefined);
  return Promise.all(records.map(async (r) => withStatuses(r, await api.statuses(r.deploymentId))));
}

/**
 * The signed records as releases, newest statement first. A digest's newest statement decides:
 * `success` is validated, `failed` is not; the held digest's newest statement is what runs
 * (state `success`), older successes are `inactive`, failed statements `failure`. Everything a
 * consumer uses (image host and repository, digest, commit, run, actor, time) comes from the
 * statement; only a failure's reason (the deployment's description) does not, and says so.
 */
async function signedReleases(api: DeploymentsApi, environment: string, repository: string, signed: SignedView): Promise<Release[]> {
  const { records } = await signedRecords(api, environment, { githubRepository: signed.githubRepository, imageRepository: repository }, signed.verify, { history: HISTORY_WINDOW });
  const newest = new Map(records.map((r) => [r.statement.digest, r]));
  const held = heldDigest(records);
  const release = (r: SignedRecord): Release => {
    const s = r.statement;
    const state = s.status === 'failed' ? 'failure' : r === held ? 'success' : 'inactive';
    return {
      deploymentId: r.deployment.id,
      environment: r.deployment.environment,
      digest: s.digest,
      sha: s.commit,
      image: `${s.registry ? `${s.registry}/` : ''}${repository}@${s.digest}`,
      repository,
      recordedAt: s.time,
      state,
      stateAt: s.time,
      stateDescription: s.status === 'failed' ? `(unsigned reason) ${r.deployment.description ?? ''}`.trim() : '',
      validated: newest.get(s.digest)?.statement.status === 'success',
      runUrl: s.runUrl,
      runId: s.runId,
      workflow: s.workflow,
      actor: s.actor,
      environmentUrl: '',
      signed: true,
      card: { text: str(payloadOf(r.deployment).card), signedSha256: s.card },
    };
  };
  return records.map(release).reverse();
}

/** What runs: the newest record whose latest status is success. */
export function running(releases: readonly Release[]): Release | undefined {
  return releases.find((r) => r.state === 'success');
}

/**
 * The newest validated release of another digest than `exclude` (a digest whose newest record was
 * marked failed does not count): what a rollback goes back to.
 * It may be older than the previous helm revision when that one failed or was never validated.
 */
export function lastValidated(releases: readonly Release[], exclude?: string): Release | undefined {
  return newestPerDigest(releases).find((r) => r.validated && r.digest !== exclude);
}

/** The newest record of each digest, newest first: a digest's newest record decides whether it is validated. */
export function newestPerDigest(releases: readonly Release[]): Release[] {
  const seen = new Set<string>();
  return releases.filter((r) => !seen.has(r.digest) && seen.add(r.digest));
}
