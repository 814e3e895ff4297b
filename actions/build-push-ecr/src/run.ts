import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, existsSync, symlinkSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEADLINES,
  UserError,
  exec as realExec,
  fetchWithDeadline,
  githubContext,
  onCancel,
  realSleep,
  runContextFrom,
  table,
  type ActionIO,
  type Exec,
  type GitHubContext,
  type Outputs,
  type Sleep,
} from '@deploy-actions/action-kit';
import { awsCall, ecrApi, getManifest, tagExistingImage, type AwsCallOptions, type EcrApi } from '@deploy-actions/aws';
import { conflicts, createRepository, readRepoState, reconcileRepository } from './repository';
import type { Inputs } from './inputs';
import { computeTags } from './tags';
import {
  buildxArgs,
  classicBuildArgs,
  loginArgs,
  ociLabels,
  parseBuildxMetadata,
  parsePushDigest,
  pushArgs,
  type BuildPlan,
} from './docker';
import { CONTENT_KEY_LABEL, hostPlatform } from './content-key';
import { identifySource, type Source, type WorkspaceDeps } from './source';
import { findReusable, tagContentKey } from './reuse';
import { keepPullPolicy } from './pull-policy';
import { ecrProvenance, jobWorkflowRef, storedLine, type Provenance } from './provenance';
import { kmsEvidenceKeys } from '@deploy-actions/aws/kms';
import { putShaTag, removeStagingTag, stagingTag, useWinner, type Staged } from './staging';

export interface Deps {
  io: ActionIO;
  ecr: EcrApi;
  exec: Exec;
  sleep: Sleep;
  now: () => Date;
  context: GitHubContext;
  /** A private directory for the docker client config; removed after the build, or on cancel. */
  makeTempDir: () => string;
  /** Runs a synchronous cleanup if the job is cancelled (SIGINT/SIGTERM) first; returns its unregister. */
  onCancel: (cleanup: () => void) => () => void;
  /** The docker config directory buildx builders and CLI plugins are read from. */
  dockerConfigDir: string;
  /** The checkout the content key and the commit are read from. */
  workspace: WorkspaceDeps;
  /** Build provenance (input provenance-kms-key); undefined: none written, reuse unchecked. */
  provenance?: Provenance;
  /** The random part of the staging tag (default: 8 hex digits). */
  nonce?: () => string;
}

const randomNonce = () => randomBytes(4).toString('hex');

export function realDeps(io: ActionIO, inputs: Inputs): Deps {
  const ecr = ecrApi(inputs.region);
  const context = githubContext(runContextFrom(process.env));
  const aws: AwsCallOptions = { sleep: realSleep, onRetry: (m) => io.warning(m) };
  return {
    io,
    ecr,
    exec: realExec,
    sleep: realSleep,
    now: () => new Date(),
    context,
    onCancel,
    makeTempDir: () => mkdtempSync(join(process.env.RUNNER_TEMP || tmpdir(), 'docker-config-')),
    dockerConfigDir: process.env.DOCKER_CONFIG || join(homedir(), '.docker'),
    workspace: {
      dir: process.env.GITHUB_WORKSPACE || process.cwd(),
      git: realExec,
      defaultPlatform: process.env.DOCKER_DEFAULT_PLATFORM || hostPlatform(process.platform, process.arch),
    },
    ...(inputs.provenanceKey
      ? {
          provenance: ecrProvenance({
            keyArn: inputs.provenanceKey,
            repository: inputs.repository,
            registryId: inputs.registryId,
            ecr,
            context,
            aws,
            keys: kmsEvidenceKeys(aws),
            workflowRef: () => jobWorkflowRef(process.env, fetchWithDeadline(DEADLINES.githubMs)),
          }),
        }
      : {}),
  };
}

async function chooseBuilder(inputs: Inputs, deps: Deps): Promise<'buildx' | 'docker'> {
  if (inputs.builder !== 'auto') return inputs.builder;
  const probe = await deps.exec('docker', ['buildx', 'version'], { silent: true, allowFailure: true });
  return probe.exitCode === 0 ? 'buildx' : 'docker';
}

/** A docker client config of our own, so the ECR password never lands in the user's config. */
function privateDockerConfig(deps: Deps): string {
  const dir = deps.makeTempDir();
  for (const shared of ['buildx', 'cli-plugins']) {
    const src = join(deps.dockerConfigDir, shared);
    if (existsSync(src)) symlinkSync(src, join(dir, shared));
  }
  return dir;
}

async function buildAndPush(inputs: Inputs, deps: Deps, source: Source, registry: string, imageRef: string, aws: AwsCallOptions): Promise<string> {
  const { io } = deps;
  const auth = await awsCall('ecr:GetAuthorizationToken', inputs.repository, () =>
    deps.ecr.call('GetAuthorizationToken', inputs.registryId ? { registryIds: [inputs.registryId] } : {}),
    aws,
  );
  const data = auth.authorizationData?.[0];
  if (!data?.authorizationToken) throw new Error('ECR returned no authorization token');
  io.setSecret(data.authorizationToken);
  const decoded = Buffer.from(data.authorizationToken, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const username = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  io.setSecret(password);

  const configDir = privateDockerConfig(deps);
  const removeConfig = () => rmSync(configDir, { recursive: true, force: true });
  // A cancelled job (SIGINT/SIGTERM) still removes the password; exec's children are stopped.
  const unregister = deps.onCancel(removeConfig);
  const env = { DOCKER_CONFIG: configDir };
  try {
    await deps.exec('docker', loginArgs(registry, username), { input: password, env, silent: true });
    io.info(`Logged in to ${registry}`);
    const builder = await chooseBuilder(inputs, deps);
    const plan: BuildPlan = {
      dockerfile: inputs.dockerfile,
      context: inputs.context,
      imageRef,
      buildArgs: inputs.buildArgs,
      labels: [
        ...ociLabels({ ...deps.context, sha: source.commit }, deps.now()),
        ...(source.key ? [[CONTENT_KEY_LABEL, source.key] as [string, string]] : []),
        ...inputs.labels,
      ],
      target: inputs.target,
      platforms: inputs.platforms,
      cacheRef: inputs.cacheRef,
      provenance: inputs.provenance,
      sbom: inputs.sbom,
    };
    if (builder === 'buildx') {
      const metadataFile = join(configDir, 'metadata.json');
      await io.group(`docker buildx build ${imageRef}`, () => deps.exec('docker', buildxArgs(plan, metadataFile), { env }));
      const digest = parseBuildxMetadata(readFileSync(metadataFile, 'utf8'));
      if (!digest) throw new Error('docker buildx wrote no image digest to its metadata file');
      return digest;
    }
    await io.group(`docker build ${imageRef}`, () => deps.exec('docker', classicBuildArgs(plan), { env }));
    const pushed = await io.group(`docker push ${imageRef}`, () => deps.exec('docker', pushArgs(imageRef), { env }));
    const digest = parsePushDigest(pushed.stdout);
    if (!digest) throw new Error(`docker push printed no digest for ${imageRef}`);
    return digest;
  } finally {
    unregister();
    removeConfig();
  }
}

/**
 * The image's tags this run knows of, SHA tag first: the requested ones (all on the image now)
 * and the content-key tag when the lookup found it on this image or it was free (this run put it
 * there). Tags others put on the image (promote-gate's evidence tags, say) are not looked up.
 */
export function imageTags(requested: string[], existing: Map<string, string>, digest: string, key: string | undefined): string[] {
  const keyHere = key !== undefined && (existing.get(key) ?? digest) === digest;
  return [...new Set([...requested, ...(keyHere ? [key] : [])])];
}

export async function run(inputs: Inputs, deps: Deps): Promise<Outputs> {
  const { io } = deps;
  const started = deps.now();
  const aws: AwsCallOptions = { sleep: deps.sleep, onRetry: (m) => io.warning(m) };
  const source = await identifySource(inputs, deps);
  const tags = computeTags({ ...deps.context, sha: source.commit }, inputs, started);
  const shaTag = tags[0]!;
  const ref = { repositoryName: inputs.repository, registryId: inputs.registryId };
  const lookup = source.key ? [...tags, source.key] : tags;

  const state = await io.group(`ECR repository ${inputs.repository}`, () => readRepoState(inputs, deps, lookup, aws, true));
  const found = state.repository;
  const repository = found ?? (await createRepository(inputs, deps, aws));
  const settings = found ? await reconcileRepository(inputs, deps, { ...state, repository: found }, aws) : 'created';
  const policy = await keepPullPolicy(inputs, deps, aws);
  const repositoryUri = repository.repositoryUri!;
  const registry = repositoryUri.slice(0, repositoryUri.indexOf('/'));

  let reused = inputs.skipExisting ? findReusable(state.existing, shaTag, source.key) : undefined;
  let keyTaken = false;
  let provenanceRow = 'not checked or written: input provenance-kms-key is empty';
  if (reused && deps.provenance) {
    // A tag proves nothing (ecr:PutImage can put one on any image): the signed statement decides.
    const verdict = await deps.provenance.verify({ digest: reused.digest, commit: source.commit, contentKey: reused.keyed ? source.key : undefined });
    if (!verdict.ok && reused.from === shaTag) {
      throw new UserError(
        `Not reused: ${verdict.detail}; tag ${shaTag} names that image and is immutable, so this commit cannot be built either: nothing was built or pushed (push a new commit, or have an administrator remove the tag after finding out how it got there)`,
      );
    }
    if (!verdict.ok) {
      io.warning(`Not reused: ${verdict.detail}; building instead (content key ${source.key} stays on that image and is not this build's)`);
      reused = undefined;
      keyTaken = true;
    } else {
      io.info(`Provenance checked: ${verdict.detail}`);
      provenanceRow = verdict.detail;
    }
  } else if (reused) {
    io.warning(`${reused.digest} reused without a provenance check: input provenance-kms-key is empty`);
  }
  let digest = reused?.digest;
  const skipped = digest !== undefined;
  // Skipped: digest is the SHA tag's own, so only other tags can conflict. Building: digest is
  // unknown yet, so any requested tag that exists (the SHA tag too, with skip-existing false) does.
  // Exclusion filters decide per tag: a moving `main` excluded from immutability passes here.
  const blocked = conflicts(state, repository, tags, digest);
  if (blocked.length > 0) {
    throw new UserError(
      `Tag${blocked.length > 1 ? 's' : ''} ${blocked.join(', ')} already exist${blocked.length > 1 ? '' : 's'} in ${inputs.repository} on another image and ${blocked.length > 1 ? 'are' : 'is'} immutable there; nothing was built or pushed`,
    );
  }

  // An image of other content under this commit's tag gets neither the key tag nor the key output.
  let key = (reused && !reused.keyed) || keyTaken ? undefined : source.key;
  const added: string[] = [];
  if (reused && !reused.keyed && source.key) io.warning(`Content key not used: ${reused.why}`);
  else if (skipped) {
    io.info(`${repositoryUri}@${digest} reused, build skipped: ${reused!.why}`);
  } else {
    // Pushed under a staging tag; the SHA tag comes only once the provenance is stored (staging.ts).
    const staging = stagingTag(deps.context, source.commit, (deps.nonce ?? randomNonce)());
    const built = await buildAndPush(inputs, deps, source, registry, `${repositoryUri}:${staging}`, aws);
    const staged: Staged = { ecr: deps.ecr, ref, aws, io, digest: built, staging };
    try {
      if (deps.provenance) {
        const stored = await io.group('Build provenance', () => deps.provenance!.write({ digest: built, commit: source.commit, contentKey: source.key ?? '', time: deps.now() }));
        provenanceRow = storedLine(built, deps.provenance.keyArn, stored);
        io.info(provenanceRow);
      } else {
        io.warning(`No build provenance written for ${built}: input provenance-kms-key is empty (deploy-setup sets PROVENANCE_KMS_KEY)`);
      }
      const manifest = await getManifest(deps.ecr, ref, built, aws);
      state.manifests.set(built, manifest);
      const sha = await putShaTag(staged, shaTag, manifest);
      digest = sha.digest;
      if (sha.ours) {
        added.push(shaTag);
        io.info(`Tagged ${built} as ${shaTag}`);
      } else {
        const winner = await useWinner(io, deps.provenance, { repositoryUri, shaTag, built, theirs: sha.digest, commit: source.commit, key });
        key = winner.key;
        provenanceRow = winner.row ?? provenanceRow;
      }
    } finally {
      await removeStagingTag(staged);
    }
  }
  const finalDigest = digest!;

  await io.group('Tags', async () => {
    const toAdd = tags.filter((tag) => state.existing.get(tag) !== finalDigest && !(tag === shaTag && !skipped));
    // The manifest is read once (or comes from the lookup), then each tag is one PutImage.
    let manifest = state.manifests.get(finalDigest);
    for (const tag of toAdd) {
      manifest ??= await getManifest(deps.ecr, ref, finalDigest, aws);
      if ((await tagExistingImage(deps.ecr, ref, finalDigest, tag, aws, manifest)) === 'created') added.push(tag);
      io.info(`Tagged ${finalDigest} as ${tag}`);
    }
    if (key) await tagContentKey(deps.ecr, ref, finalDigest, key, state.existing, aws, io);
  });

  const imageRef = `${repositoryUri}@${finalDigest}`;
  const seconds = ((deps.now().getTime() - started.getTime()) / 1000).toFixed(1);
  await io.summary(
    `### build-push-ecr: ${skipped ? 'image already in ECR, build skipped' : 'image built and pushed'}\n\n` +
      table(
        ['', ''],
        [
          ['Repository', repositoryUri],
          ['Repository settings', settings],
          ['Repository policy', policy],
          ['Commit', source.commit],
          ['Content key', key ?? `none: ${source.noKey ?? 'the commit tag names an image of other content'}`],
          ['Tags', tags.join(', ')],
          ['Digest', `\`${finalDigest}\``],
          ['Image', `\`${imageRef}\``],
          ['Build', reused ? `skipped: ${reused.why}` : 'built and pushed'],
          ['Provenance', provenanceRow],
          ['Tags added', added.length > 0 ? added.join(', ') : 'none'],
          ['Duration', `${seconds} s`],
        ],
      ),
  );
  return {
    registry,
    'repository-uri': repositoryUri,
    tag: shaTag,
    tags: imageTags(tags, state.existing, finalDigest, key).join(','),
    digest: finalDigest,
    'image-ref': imageRef,
    skipped,
    commit: source.commit,
    'content-key': key ?? '',
    'reused-from': reused?.from ?? '',
  };
}
