import { UserError, errorMessage } from '@deploy-actions/action-kit';
import { asEcrApi, awsCall, awsErrorName, findImageByTag, tagExistingImage, type AwsCallOptions, type EcrLike, type TagResult } from '@deploy-actions/aws';
import { evidenceTask, newestFirst, payloadOf, type Deployment, type DeploymentsApi, type DeploymentStatus } from './github';
import { WEAKENED, keyOf, type Inputs } from './inputs';
import type { EvidenceKeys } from '@deploy-actions/aws/kms';
import { refAllowed, sameEnvironment } from './refs';
import { cardHash } from './card/hash';
import { decideSigned, signedRecords, type SignedRecord } from './signed-rules';
import { proveProvenance, proveSource } from './source-proof';
import { encodeStatement, openSigned, type SignedEvidence, type StatementInput } from './statement';

export interface Check {
  source: 'ref' | 'source' | 'provenance' | 'github' | 'signed' | 'ecr';
  ok: boolean;
  detail: string;
  deploymentId?: number;
  tag?: string;
  /** Something a reviewer should know that does not refuse the promotion (a card that does not match its signed hash). */
  warning?: string;
}

export interface GateDeps {
  github?: DeploymentsApi;
  ecr?: EcrLike;
  aws?: AwsCallOptions;
  /** The environments' KMS evidence keys: needed when evidence-keys names the environment. */
  keys?: EvidenceKeys;
  now?: () => Date;
  info(message: string): void;
  /** A rule this run does not enforce, because an input switched it off: an error annotation, every run. */
  weakened?(message: string): void;
}

type Subject = Pick<Inputs, 'digest' | 'repository' | 'registryId' | 'registry' | 'sha' | 'tag' | 'evidenceEnvironment' | 'contentKey'>;
type SignedInputs = Subject & Pick<Inputs, 'githubRepository' | 'evidenceKeys' | 'targetEnvironment'>;

const short = (sha: string) => sha.slice(0, 7);

export function checkRef(ref: string, allowed: readonly string[], target: string): Check {
  if (allowed.length === 0) return { source: 'ref', ok: true, detail: `${target} is not a promotion target and no allowed-refs were given: any ref` };
  const ok = refAllowed(ref, allowed);
  return {
    source: 'ref',
    ok,
    detail: ok
      ? `${ref} may deploy to ${target}`
      : `${ref} may not deploy to ${target} (allowed: ${allowed.join(', ')})`,
  };
}

function latestStatus(statuses: readonly DeploymentStatus[]): DeploymentStatus | undefined {
  return newestFirst(statuses)[0];
}

/** Evidence of this commit, or of any commit whose recorded content key is this one (the same tree). */
function sameSource(d: Deployment, s: Subject): boolean {
  return d.sha === s.sha || (s.contentKey !== undefined && payloadOf(d).content_key === s.contentKey);
}

/** Deployments of this commit (or content key) to this environment whose payload names this digest (and repository), newest first. */
function matching(deployments: readonly Deployment[], s: Subject): { hits: Deployment[]; sameCommit: Deployment[] } {
  const sameCommit = newestFirst(
    deployments.filter((d) => sameSource(d, s) && sameEnvironment(d.environment, s.evidenceEnvironment)),
  );
  const hits = sameCommit.filter((d) => {
    const p = payloadOf(d);
    return p.digest === s.digest && (p.repository === undefined || p.repository === s.repository);
  });
  return { hits, sameCommit };
}

/** A successful GitHub deployment of this digest and commit in the environment, if there is one. */
export async function githubEvidence(api: DeploymentsApi, s: Subject): Promise<Check> {
  return (await findGithubEvidence(api, s)).check;
}

async function findGithubEvidence(api: DeploymentsApi, s: Subject): Promise<{ check: Check; deployment?: Deployment }> {
  const env = s.evidenceEnvironment;
  // A content key can match evidence of another commit: look through the environment's newest records.
  const listed = await api.list(s.contentKey ? { environment: env, max: SUPERSEDE_WINDOW } : { environment: env, sha: s.sha });
  const { hits, sameCommit } = matching(listed, s);
  if (hits.length === 0) {
    const others = [...new Set(sameCommit.map((d) => String(payloadOf(d).digest ?? 'no digest')))];
    if (s.contentKey && others.length === 0) {
      return {
        check: {
          source: 'github',
          ok: false,
          detail: `digest ${s.digest} (commit ${short(s.sha)}, content key ${s.contentKey}) never passed ${env}: no ${env} evidence of this commit or of this content`,
        },
      };
    }
    return {
      check: {
        source: 'github',
        ok: false,
        detail:
          `no GitHub deployment to ${env} of commit ${short(s.sha)} carries digest ${s.digest}` +
          (others.length ? ` (its ${env} deployments carry ${others.join(', ')})` : ` (commit ${short(s.sha)} was never recorded in ${env})`),
      },
    };
  }
  const seen: string[] = [];
  for (const d of hits) {
    const latest = latestStatus(await api.statuses(d.id));
    if (latest?.state === 'success') {
      return { check: { source: 'github', ok: true, detail: `deployment ${d.id} to ${env} is successful`, deploymentId: d.id }, deployment: d };
    }
    seen.push(`deployment ${d.id}: ${latest?.state ?? 'no status'}`);
  }
  return {
    check: {
      source: 'github',
      ok: false,
      detail: `no ${env} deployment of digest ${s.digest} has success as its latest status (${seen.join('; ')})`,
    },
  };
}

/**
 * The signed check (signed-rules.ts): statements of the required environment verified with its
 * key; the target's own statements (with its key, when configured) for a rollback.
 */
async function signedEvidence(api: DeploymentsApi, keys: EvidenceKeys, s: SignedInputs, requiredKey: string, info: (m: string) => void): Promise<{ check: Check; deployment?: Deployment }> {
  const R = s.evidenceEnvironment;
  const subject = { githubRepository: s.githubRepository, imageRepository: s.repository, digest: s.digest, sha: s.sha, contentKey: s.contentKey };
  const required = await signedRecords(api, R, subject, await keys.verifier(requiredKey), { sha: s.sha });
  const targetKey = keyOf(s.evidenceKeys, s.targetEnvironment);
  const target = targetKey ? await signedRecords(api, s.targetEnvironment, subject, await keys.verifier(targetKey), { sha: s.sha }) : undefined;
  const ignored = [...required.rejected].map(([why, n]) => `${n} ${why}`);
  info(
    `Read ${required.read} ${R} evidence deployments (${required.records.length} statements verified${ignored.length ? `; ignored: ${ignored.join('; ')}` : ''})` +
      (target ? `, ${target.read} of ${s.targetEnvironment}` : ''),
  );
  const decision = decideSigned(subject, { environment: R, records: required.records }, target && { environment: s.targetEnvironment, records: target.records });
  if (decision.ok) {
    const warning = cardMismatch(decision.record, R);
    return {
      check: { source: 'signed', ok: true, detail: decision.detail, deploymentId: decision.record.deployment.id, ...(warning ? { warning } : {}) },
      deployment: decision.record.deployment,
    };
  }
  return { check: { source: 'signed', ok: false, detail: decision.detail + (ignored.length ? ` (ignored in ${R}: ${ignored.join('; ')})` : '') } };
}

/**
 * The card kept with a record (its unsigned payload) must hash to the card its signed statement
 * names: a difference means what is shown there is not what the reviewers approved. It does not
 * refuse (the signed evidence stands); it is reported.
 */
export function cardMismatch(r: SignedRecord, environment: string): string | undefined {
  const card = payloadOf(r.deployment).card;
  if (typeof card !== 'string' || card === '') return undefined;
  const signed = r.statement.card;
  if (signed && cardHash(card) === signed) return undefined;
  return signed
    ? `the release card kept with ${environment}'s evidence (deployment ${r.deployment.id}) hashes to ${cardHash(card)}, not ${signed}, the card its signed statement says the reviewers saw: that card was not the one approved`
    : `deployment ${r.deployment.id} in ${environment} carries a release card, but its signed statement names none: the card was not part of the approval`;
}

/** A statement signed with `keyArn`, as a deployment payload carries it. */
export async function signStatement(keys: EvidenceKeys, keyArn: string, statement: StatementInput): Promise<SignedEvidence> {
  const bytes = encodeStatement(statement);
  const env = statement.environment;
  const signature = await keys.sign(keyArn, bytes).catch((err: unknown) => {
    const said = /AWS said: (.*)$/s.exec(errorMessage(err))?.[1];
    if (!(err instanceof UserError) || !/^AccessDenied/.test(err.message)) throw err;
    throw new UserError(
      `The role this job assumes may not sign with ${env}'s evidence key ${keyArn} (kms:Sign): its key policy lets only ${env}'s deploy role sign, so only a job that passed ${env}'s protection rules can record evidence there${said ? `. AWS said: ${said}` : ''}`,
    );
  });
  return { statement: bytes.toString('base64'), signature: signature.toString('base64'), key: keyArn };
}

/** Does `d` carry a statement signed with `keyArn` that says this subject passed? (a re-run's own record) */
async function signedSuccess(keys: EvidenceKeys, keyArn: string, d: Deployment, s: SignedInputs): Promise<boolean> {
  if (!payloadOf(d).signed) return false;
  const st = openSigned(payloadOf(d), await keys.verifier(keyArn));
  return typeof st !== 'string' && st.status === 'success' && st.digest === s.digest && st.commit === s.sha && st.githubRepository === s.githubRepository && st.imageRepository === s.repository;
}

export const RECORDED_BY = 'deploy-actions/promote-gate';
/** How many of the environment's newest deployments `record` looks through for evidence to supersede. */
export const SUPERSEDE_WINDOW = 100;

/** `a` was created before `b` (the order newestFirst uses: creation time, then id). */
function createdBefore(a: Deployment, b: Deployment): boolean {
  return a.created_at === b.created_at ? a.id < b.id : a.created_at < b.created_at;
}

/**
 * Marks `inactive` every earlier promote-gate record in the environment (same repository, another
 * digest) whose latest status is still success: the evidence now on `current` replaces them, so
 * only the digest last recorded in the environment can be promoted. GitHub's auto-inactivation
 * does not do this for us, because our records are transient. Returns the ids marked.
 */
export async function supersedeEarlierEvidence(api: DeploymentsApi, s: Subject, current: Deployment): Promise<number[]> {
  const env = s.evidenceEnvironment;
  const recent = await api.list({ environment: env, max: SUPERSEDE_WINDOW });
  const candidates = newestFirst(recent).filter((d) => {
    const p = payloadOf(d);
    return (
      d.id !== current.id &&
      sameEnvironment(d.environment, env) &&
      p.recorded_by === RECORDED_BY &&
      p.repository === s.repository &&
      p.digest !== s.digest &&
      createdBefore(d, current)
    );
  });
  const marked: number[] = [];
  for (const d of candidates) {
    if (latestStatus(await api.statuses(d.id))?.state !== 'success') continue;
    await api.createStatus(d.id, {
      state: 'inactive',
      description: `Superseded in ${env} by deployment ${current.id} (${s.digest.slice(0, 19)})`.slice(0, 140),
    });
    marked.push(d.id);
  }
  return marked;
}

/** The ECR evidence tag exists and is on this digest. */
export async function ecrEvidence(ecr: EcrLike, s: Subject, aws: AwsCallOptions = {}): Promise<Check> {
  const image = await findImageByTag(ecr, { repositoryName: s.repository, registryId: s.registryId }, s.tag, aws);
  if (!image) return { source: 'ecr', ok: false, detail: `ECR tag ${s.tag} does not exist in ${s.repository}`, tag: s.tag };
  if (image.imageDigest !== s.digest) {
    return {
      source: 'ecr',
      ok: false,
      detail: `ECR tag ${s.tag} in ${s.repository} is on ${image.imageDigest}, not ${s.digest}`,
      tag: s.tag,
    };
  }
  return { source: 'ecr', ok: true, detail: `ECR tag ${s.tag} is on ${s.digest}`, tag: s.tag };
}

export interface VerifyResult {
  checks: Check[];
  verified: boolean;
  deploymentId?: number;
}

/** Every check is made (so a refusal lists everything missing); nothing is written. */
export async function verifyPromotion(inputs: Inputs, deps: GateDeps): Promise<VerifyResult> {
  const checks: Check[] = [checkRef(inputs.ref, inputs.allowedRefs, inputs.targetEnvironment)];
  // Every target, promotion target or not: what deploy.yml deploys is build.yml's build of this commit.
  checks.push(...(await provenanceCheck(inputs, deps)));
  if (!inputs.evidenceEnvironment) return { checks, verified: checks.every((c) => c.ok) };
  // A content key finds evidence of another commit: it counts only with the commit it was built
  // from, the one whose chart is deployed (source-proof.ts).
  if (inputs.contentKey) {
    const proof = await proveSource(need(deps.ecr, 'ecr'), inputs, deps.aws);
    checks.push({ source: 'source', ok: proof.ok, detail: proof.detail });
  }
  let found: Deployment | undefined;
  const signingKey = keyOf(inputs.evidenceKeys, inputs.evidenceEnvironment);
  if (inputs.evidence.includes('github') && signingKey) {
    const signed = await signedEvidence(need(deps.github, 'github'), need(deps.keys, 'kms'), inputs, signingKey, deps.info);
    checks.push(signed.check);
    found = signed.deployment;
  } else if (inputs.evidence.includes('github')) {
    const github = await findGithubEvidence(need(deps.github, 'github'), inputs);
    checks.push(github.check);
    found = github.deployment;
  }
  if (inputs.evidence.includes('ecr')) {
    // Evidence found by content key was recorded for another commit: its ECR tag is the one it names.
    const recordedTag = found && found.sha !== inputs.sha ? payloadOf(found).tag : undefined;
    const tag = typeof recordedTag === 'string' ? recordedTag : inputs.tag;
    checks.push(await ecrEvidence(need(deps.ecr, 'ecr'), { ...inputs, tag }, deps.aws));
  }
  const deploymentId = checks.find((c) => c.deploymentId !== undefined)?.deploymentId;
  return { checks, verified: checks.every((c) => c.ok), ...(deploymentId !== undefined ? { deploymentId } : {}) };
}

/**
 * The digest's build provenance (source-proof.ts, `proveProvenance`) when provenance-kms-key is
 * given; without it, nothing is checked and the run says so in an error annotation.
 */
async function provenanceCheck(inputs: Inputs, deps: GateDeps): Promise<Check[]> {
  if (!inputs.provenanceKey) {
    deps.weakened?.(
      `${WEAKENED}${inputs.mode} did not check the build provenance of ${inputs.digest}: provenance-kms-key is empty (deploy.yml: the PROVENANCE_KMS_KEY variable deploy-setup sets), so an image tagged by anyone holding the build role is taken for commit ${short(inputs.sha)}'s build (docs/promote-gate.md, Threat model)`,
    );
    return [];
  }
  const proof = await proveProvenance(need(deps.ecr, 'ecr'), need(deps.keys, 'kms'), inputs.provenanceKey, inputs, deps.aws);
  return [{ source: 'provenance', ok: proof.ok, detail: proof.detail }];
}

export interface RecordResult {
  checks: Check[];
  deploymentId?: number;
  tagResult?: TagResult;
}

/**
 * Writes the evidence. Everything that can refuse is checked first (tags on other digests,
 * a missing image, existing evidence), then the GitHub deployment is created (so a token
 * without `deployments: write` fails before ECR is touched), then the ECR tag, then the
 * success status that turns the deployment into evidence. A failure after the deployment
 * exists marks it `error`. A re-run finds its own evidence and writes nothing new.
 */
export async function recordPromotion(inputs: Inputs, deps: GateDeps): Promise<RecordResult> {
  const env = inputs.evidenceEnvironment;
  const checks: Check[] = [];
  const ref = { repositoryName: inputs.repository, registryId: inputs.registryId };

  // 1. Refusals before any write. The digest must be this commit's build (source-proof.ts).
  let tagExists = false;
  if (inputs.evidence.includes('ecr') && inputs.commitTag) {
    const proof = await proveSource(need(deps.ecr, 'ecr'), inputs, deps.aws);
    if (!proof.ok) throw new UserError(`Refusing to record ${inputs.digest} for commit ${short(inputs.sha)} in ${env}: ${proof.detail}; nothing was written`);
    deps.info(proof.detail);
  } else {
    deps.weakened?.(
      `record did not check that ${inputs.digest} is the build of commit ${short(inputs.sha)}: ${inputs.commitTag ? 'evidence excludes ecr' : 'commit-tag-template is empty'}, so this evidence binds whatever image it was given to the commit (docs/promote-gate.md, What record writes)`,
    );
  }
  for (const proof of await provenanceCheck(inputs, deps)) {
    if (!proof.ok) throw new UserError(`Refusing to record ${inputs.digest} for commit ${short(inputs.sha)} in ${env}: ${proof.detail}; nothing was written`);
    deps.info(`Provenance checked: ${proof.detail}`);
    checks.push(proof);
  }
  if (inputs.evidence.includes('ecr')) {
    const ecr = need(deps.ecr, 'ecr');
    const current = await findImageByTag(ecr, ref, inputs.tag, deps.aws);
    if (current && current.imageDigest !== inputs.digest) {
      throw new UserError(
        `Refusing to record ${inputs.digest} in ${env}: tag ${inputs.tag} in ${inputs.repository} already points at ${current.imageDigest}`,
      );
    }
    tagExists = current !== undefined;
    if (!current && !inputs.commitTag && !(await imageExists(ecr, ref, inputs.digest, deps.aws))) {
      throw new UserError(`Refusing to record: image ${inputs.repository}@${inputs.digest} does not exist in ECR`);
    }
  }
  let existing: Deployment | undefined;
  const signingKey = keyOf(inputs.evidenceKeys, env);
  if (inputs.evidence.includes('github')) {
    // record looks for its own commit's evidence only; the content key is stored, not matched.
    existing = (await findGithubEvidence(need(deps.github, 'github'), { ...inputs, contentKey: undefined })).deployment;
    // With a key, only a record carrying our signed statement is ours to reuse.
    if (existing && signingKey && !(await signedSuccess(need(deps.keys, 'kms'), signingKey, existing, inputs))) existing = undefined;
  }
  // Signed before anything is written: a role that may not use the key leaves nothing behind.
  const signed =
    signingKey && !existing
      ? await signStatement(need(deps.keys, 'kms'), signingKey, {
          githubRepository: inputs.githubRepository,
          imageRepository: inputs.repository,
          digest: inputs.digest,
          contentKey: inputs.contentKey ?? '',
          commit: inputs.sha,
          environment: env,
          runUrl: inputs.runUrl,
          registry: inputs.registry,
          runId: inputs.context.runId,
          workflow: inputs.context.workflow,
          actor: inputs.context.actor,
          time: (deps.now?.() ?? new Date()).toISOString(),
          hotfix: inputs.hotfix,
          status: 'success',
          card: inputs.cardSha256,
        })
      : undefined;
  if (signed) deps.info(`Statement signed with ${env}'s evidence key ${signingKey}`);

  // 2. The GitHub deployment (no status yet: not evidence until the success status).
  const api = inputs.evidence.includes('github') ? need(deps.github, 'github') : undefined;
  let created: Deployment | undefined;
  if (api && !existing) {
    created = await api.create({
      ref: inputs.sha,
      task: evidenceTask(env),
      environment: env,
      // GitHub keeps at most 140 characters here: the card itself travels in the payload.
      description:
        inputs.description ||
        (inputs.cardSha256
          ? `${inputs.repository}@${inputs.digest.slice(0, 19)} validated in ${env}; release card ${inputs.cardSha256.slice(0, 19)}`
          : `${inputs.repository}@${inputs.digest} validated in ${env}`
        ).slice(0, 140),
      payload: {
        image: inputs.image,
        digest: inputs.digest,
        repository: inputs.repository,
        ...(inputs.registryId ? { registry_id: inputs.registryId } : {}),
        ...(inputs.evidence.includes('ecr') ? { tag: inputs.tag } : {}),
        run_url: inputs.runUrl,
        run_id: inputs.context.runId,
        workflow: inputs.context.workflow,
        actor: inputs.context.actor,
        recorded_by: RECORDED_BY,
        ...(inputs.contentKey ? { content_key: inputs.contentKey } : {}),
        ...(inputs.hotfix ? { hotfix: true } : {}),
        ...(inputs.cardSha256 ? { card_sha256: inputs.cardSha256 } : {}),
        ...(inputs.card ? { card: inputs.card } : {}),
        ...(signed ? { signed } : {}),
      },
      production_environment: inputs.productionEnvironment,
      transient_environment: inputs.transientEnvironment,
    });
  }
  // Leave no pending deployment behind: a failure below marks it errored.
  const failed = async (err: unknown): Promise<never> => {
    if (api && created) {
      await api
        .createStatus(created.id, { state: 'error', description: 'promote-gate could not record the evidence' })
        .catch(() => undefined);
    }
    throw err;
  };

  // 3. ECR tag (PutImage of the existing manifest: no layers move).
  let tagResult: TagResult | undefined;
  if (inputs.evidence.includes('ecr')) {
    tagResult = tagExists
      ? 'existed'
      : await tagExistingImage(need(deps.ecr, 'ecr'), ref, inputs.digest, inputs.tag, deps.aws).catch(failed);
    deps.info(`ECR tag ${inputs.tag} ${tagResult === 'created' ? 'created on' : 'already on'} ${inputs.digest}`);
    checks.push({ source: 'ecr', ok: true, detail: `ECR tag ${inputs.tag} ${tagResult} on ${inputs.digest}`, tag: inputs.tag });
  }

  // 4. The success status that makes the deployment evidence. auto_inactive: false, because
  //    the only deployments record may retire are its own earlier records (step 5); GitHub's
  //    default would also mark other deployments of the environment inactive.
  let ours: Deployment | undefined;
  if (existing) {
    ours = existing;
    deps.info(`GitHub deployment ${existing.id} already records ${inputs.digest} in ${env}`);
  } else if (api && created) {
    ours = created;
    await api
      .createStatus(created.id, {
        state: 'success',
        // What the environment's deployment history shows beside this record (140 characters at
        // most); the card itself is in the run's summary, which log_url opens.
        description: (inputs.cardSha256 ? `Digest validated in ${env}; release card ${inputs.cardSha256.slice(0, 19)} in the run summary` : `Digest validated in ${env}`).slice(0, 140),
        ...(inputs.runUrl ? { log_url: inputs.runUrl } : {}),
        ...(inputs.environmentUrl ? { environment_url: inputs.environmentUrl } : {}),
        auto_inactive: false,
      })
      .catch(failed);
    deps.info(`GitHub deployment ${created.id} to ${env} created with a success status`);
  }

  // 5. Earlier records of other digests in this environment stop being evidence. Also made on a
  //    re-run, so a run that failed here is finished by the next one.
  let deploymentId: number | undefined;
  if (api && ours) {
    deploymentId = ours.id;
    let superseded: number[];
    try {
      superseded = await supersedeEarlierEvidence(api, inputs, ours);
    } catch (err) {
      throw new UserError(
        `Recorded ${inputs.digest} in ${env} (deployment ${ours.id}), but could not mark the earlier ${env} evidence inactive: ${errorMessage(err)}. Re-run record to finish`,
      );
    }
    for (const id of superseded) deps.info(`Earlier ${env} evidence, deployment ${id}, marked inactive (superseded by ${inputs.digest})`);
    const what = existing ? `deployment ${ours.id} already successful` : `deployment ${ours.id} created with status success`;
    checks.push({
      source: 'github',
      ok: true,
      detail: superseded.length ? `${what}; superseded earlier ${env} evidence: deployment ${superseded.join(', ')}` : what,
      deploymentId,
    });
  }
  return { checks, ...(deploymentId !== undefined ? { deploymentId } : {}), ...(tagResult ? { tagResult } : {}) };
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`internal: ${what} client missing`);
  return value;
}

async function imageExists(ecr: EcrLike, ref: { repositoryName: string; registryId?: string }, digest: string, aws?: AwsCallOptions): Promise<boolean> {
  const api = await asEcrApi(ecr);
  try {
    const res = await awsCall(
      'ecr:DescribeImages',
      ref.repositoryName,
      () => api.call('DescribeImages', { ...ref, imageIds: [{ imageDigest: digest }] }),
      aws,
    );
    return (res.imageDetails ?? []).some((d) => d.imageDigest === digest);
  } catch (err) {
    if (awsErrorName(err) === 'ImageNotFoundException') return false;
    throw err;
  }
}
