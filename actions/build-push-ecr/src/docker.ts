/** Pure argv builders for docker. No shell strings anywhere. */

export interface BuildPlan {
  dockerfile: string;
  context: string;
  /** The one tag docker pushes (this run's staging tag, staging.ts); the SHA tag and the others are added in ECR afterwards. */
  imageRef: string;
  buildArgs: Array<[string, string]>;
  labels: Array<[string, string]>;
  target?: string;
  platforms: string[];
  cacheRef?: string;
  provenance: boolean;
  sbom: boolean;
}

export function loginArgs(registry: string, username: string): string[] {
  return ['login', registry, '--username', username, '--password-stdin'];
}

function commonBuildArgs(plan: BuildPlan): string[] {
  const args = ['--file', plan.dockerfile, '--tag', plan.imageRef];
  for (const [k, v] of plan.labels) args.push('--label', `${k}=${v}`);
  for (const [k, v] of plan.buildArgs) args.push('--build-arg', `${k}=${v}`);
  if (plan.target) args.push('--target', plan.target);
  return args;
}

/** The classic builder: `docker build`, then `docker push` of the one tag. */
export function classicBuildArgs(plan: BuildPlan): string[] {
  return ['build', ...commonBuildArgs(plan), plan.context];
}

export function pushArgs(imageRef: string): string[] {
  return ['push', imageRef];
}

/**
 * buildx builds and pushes in one go. Attestations are off by default: ECR would keep
 * them as untagged attestation indexes. The registry cache uses the image-manifest form
 * ECR accepts.
 */
export function buildxArgs(plan: BuildPlan, metadataFile: string): string[] {
  const args = ['buildx', 'build', ...commonBuildArgs(plan)];
  if (plan.platforms.length > 0) args.push('--platform', plan.platforms.join(','));
  args.push(`--provenance=${plan.provenance}`, `--sbom=${plan.sbom}`);
  if (plan.cacheRef) {
    args.push('--cache-from', `type=registry,ref=${plan.cacheRef}`);
    args.push('--cache-to', `type=registry,ref=${plan.cacheRef},mode=max,image-manifest=true,oci-mediatypes=true`);
  }
  args.push('--metadata-file', metadataFile, '--push', plan.context);
  return args;
}

/** The manifest digest from `docker push` output ("<tag>: digest: sha256:... size: N"). */
export function parsePushDigest(output: string): string | undefined {
  return /digest: (sha256:[a-f0-9]{64})/.exec(output)?.[1];
}

/** The digest from a buildx --metadata-file. */
export function parseBuildxMetadata(json: string): string | undefined {
  const meta = JSON.parse(json) as Record<string, unknown>;
  const d = meta['containerimage.digest'];
  return typeof d === 'string' && /^sha256:[a-f0-9]{64}$/.test(d) ? d : undefined;
}

export function ociLabels(ctx: { sha: string; serverUrl: string; repository: string }, created: Date): Array<[string, string]> {
  const labels: Array<[string, string]> = [
    ['org.opencontainers.image.revision', ctx.sha],
    ['org.opencontainers.image.created', created.toISOString()],
  ];
  if (ctx.repository) labels.push(['org.opencontainers.image.source', `${ctx.serverUrl}/${ctx.repository}`]);
  return labels;
}
