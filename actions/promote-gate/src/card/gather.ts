/**
 * Gathers the card's facts (CardData) from the evidence and the sources: what runs in each
 * environment (signed statements when keys are given), what let the candidate through, the
 * commits, both renders, both images and scans. A part that cannot be had becomes one line
 * ("not available: why") instead of failing the card; only the evidence itself must be read.
 */
import { approvedBy, type ApprovalsApi } from '../approvals';
import type { DeploymentsApi } from '../github';
import { lastValidated, newestPerDigest, releasesIn, running, type Release, type SignedView } from '../releases';
import { commitRange, withPullRequests, type CommitRange } from './commits';
import { compareImages, type ImageChange } from './image';
import { errorMessage } from '@deploy-actions/action-kit';
import { compareManifests, parseRendered, type ManifestChanges } from './manifests';
import type { CardData, CardRelease, LetThrough, Maybe } from './render';
import type { CompareApi, RegistryApi, RenderApi } from './sources';

export interface CardSubject {
  release: string;
  environment: string;
  /** The environment whose evidence the candidate needs ('' when none). */
  requireEnvironment: string;
  /** The chain, in order, for the diagram. */
  environments: string[];
  githubRepository: string;
  imageRepository: string;
  namespace: string;
  digest: string;
  commit: string;
  hotfix: boolean;
  bake: string;
  alarms: string;
  pending: string;
}

export interface CardDeps {
  github: DeploymentsApi;
  approvals?: ApprovalsApi;
  signed?: (environment: string) => Promise<SignedView | undefined>;
  compare?: CompareApi;
  registry?: RegistryApi;
  render?: RenderApi;
  now: () => Date;
}

const why = (err: unknown) => ({ unavailable: errorMessage(err).split('\n')[0]! });

async function part<T>(fn: (() => Promise<T>) | undefined, missing: string): Promise<Maybe<T>> {
  if (!fn) return { unavailable: missing };
  try {
    return await fn();
  } catch (err) {
    return why(err);
  }
}

async function asCard(r: Release, approvals: ApprovalsApi | undefined, environment: string): Promise<CardRelease> {
  return { digest: r.digest, commit: r.sha, since: r.recordedAt, runUrl: r.runUrl, actor: r.actor, approvedBy: await approvedBy(approvals, r.runId, environment) };
}

export async function gatherCard(s: CardSubject, deps: CardDeps): Promise<CardData> {
  const histories = new Map<string, Release[]>();
  const envs = [...new Set([...s.environments, s.environment, ...(s.requireEnvironment ? [s.requireEnvironment] : [])])];
  await Promise.all(envs.map(async (e) => histories.set(e, await releasesIn(deps.github, e, s.imageRepository, await deps.signed?.(e)))));
  const here = histories.get(s.environment) ?? [];
  const now = running(here);
  const runningCard = now ? await asCard(now, deps.approvals, s.environment) : undefined;
  const back = lastValidated(here, s.digest);
  const isSigned = async (e: string) => (await deps.signed?.(e)) !== undefined;

  // What let the candidate through: its newest validated record in the environment required before.
  const letThrough: LetThrough[] = [];
  if (s.requireEnvironment) {
    const r = newestPerDigest(histories.get(s.requireEnvironment) ?? []).find((x) => x.digest === s.digest);
    if (r) {
      letThrough.push({
        environment: s.requireEnvironment,
        status: r.validated ? 'success' : r.state,
        time: r.recordedAt,
        runUrl: r.runUrl,
        approvedBy: await approvedBy(deps.approvals, r.runId, s.requireEnvironment),
        signed: await isSigned(s.requireEnvironment),
      });
    }
  }
  // A rollback: the target ran this digest before.
  const ranHere = newestPerDigest(here).find((x) => x.digest === s.digest && x !== now);
  if (ranHere) {
    letThrough.push({
      environment: s.environment,
      status: ranHere.validated ? 'ran here before (success)' : `ran here before (${ranHere.state})`,
      time: ranHere.recordedAt,
      runUrl: ranHere.runUrl,
      approvedBy: await approvedBy(deps.approvals, ranHere.runId, s.environment),
      signed: await isSigned(s.environment),
    });
  }

  const commits = part<CommitRange>(
    deps.compare &&
      (async () => {
        if (!now) return commitRange(undefined);
        const fwd = await deps.compare!.compare(now.sha, s.commit);
        const range = commitRange(fwd, fwd.status === 'behind' ? await deps.compare!.compare(s.commit, now.sha) : undefined);
        return withPullRequests(range, deps.compare!.pullOf?.bind(deps.compare));
      }),
    'no GitHub compare client',
  );
  let valuesFiles: string[] = [];
  const manifests = part<ManifestChanges>(
    deps.render &&
      (async () => {
        const [before, after] = await Promise.all([now ? deps.render!.render(now.sha, now.digest) : undefined, deps.render!.render(s.commit, s.digest)]);
        valuesFiles = after.valuesFiles.filter((f) => f !== 'values.yaml');
        return compareManifests(before ? parseRendered(before.text, s.namespace) : [], parseRendered(after.text, s.namespace));
      }),
    'no helm',
  );
  const image = part<ImageChange>(
    deps.registry &&
      (async () => {
        const [from, to] = await Promise.all([now && now.digest !== s.digest ? deps.registry!.image(now.digest).catch(() => undefined) : undefined, deps.registry!.image(s.digest)]);
        return compareImages(from, to);
      }),
    'no ECR read access (no AWS credentials for the card)',
  );
  const scan = part(
    deps.registry &&
      (async () => {
        const candidate = await deps.registry!.findings(s.digest);
        if (!now) return { candidate };
        if (now.digest === s.digest) return { candidate, running: candidate };
        try {
          return { candidate, running: await deps.registry!.findings(now.digest) };
        } catch (err) {
          return { candidate, runningUnavailable: why(err).unavailable };
        }
      }),
    'no ECR read access',
  );

  const [c, m, i, sc] = await Promise.all([commits, manifests, image, scan]);
  const chain = s.environments.map((e) => {
    const r = running(histories.get(e) ?? []);
    return { environment: e, ...(r ? { digest: r.digest, since: r.recordedAt } : {}) };
  });
  return {
    release: s.release,
    environment: s.environment,
    githubRepository: s.githubRepository,
    imageRepository: s.imageRepository,
    now: deps.now(),
    chain,
    pending: s.pending,
    ...(runningCard ? { running: runningCard } : {}),
    candidate: { digest: s.digest, commit: s.commit, ...(letThrough[0] ? { since: letThrough[0].time } : {}) },
    letThrough,
    hotfix: s.hotfix,
    commits: c,
    manifests: m,
    valuesFiles,
    image: i,
    scan: sc,
    guards: { bake: s.bake, alarms: s.alarms, ...(back ? { rollbackTo: await asCard(back, deps.approvals, s.environment) } : {}) },
  };
}
