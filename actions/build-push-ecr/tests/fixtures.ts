/** What run.test.ts and order.test.ts share: the inputs, the deps around a mocked ECR client, the built image. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { sdkEcrApi } from '@deploy-actions/aws';
import { BatchGetImageCommand, ECRClient } from '@aws-sdk/client-ecr';
import { exec as realExec, githubContext, runContextFrom, recordingIO, type Exec, type ExecOptions } from '@deploy-actions/action-kit';
import type { Deps } from '../src/run';
import type { Inputs } from '../src/inputs';

export const ecrMock = mockClient(ECRClient);
/** Cleanups registered for a cancel and not unregistered yet. */
export const cancelCleanups = new Set<() => void>();
export const digest = `sha256:${'c'.repeat(64)}`;
export const uri = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/api';
export const password = 'eyJwYXlsb2FkIjoi-secret-password';

export const inputs: Inputs = {
  repository: 'team/api',
  region: 'eu-west-1',
  context: '/ws',
  dockerfile: '/ws/Dockerfile',
  buildArgs: [],
  labels: [],
  platforms: [],
  builder: 'auto',
  tagSemver: true,
  tagBranch: false,
  tagRunNumber: false,
  tagTimestamp: false,
  extraTags: [],
  createRepository: true,
  tagMutability: 'IMMUTABLE',
  tagMutabilityExclusionFilters: [],
  scanOnPush: true,
  untaggedExpiryDays: 14,
  skipExisting: true,
  pullPrincipals: [],
  readPrincipals: [],
  recordPrincipals: [],
  provenance: false,
  sbom: false,
};

export interface Call {
  args: readonly string[];
  opts?: ExecOptions;
}

export function deps(opts: { buildx: boolean }): Deps & { calls: Call[]; io: ReturnType<typeof recordingIO>; tempDirs: string[] } {
  const calls: Call[] = [];
  const tempDirs: string[] = [];
  const exec: Exec = async (_file, args, o) => {
    calls.push({ args, opts: o });
    if (args[0] === 'buildx' && args[1] === 'version') return { exitCode: opts.buildx ? 0 : 1, stdout: '', stderr: '' };
    if (args[0] === 'buildx') {
      const meta = args[args.indexOf('--metadata-file') + 1]!;
      writeFileSync(meta, JSON.stringify({ 'containerimage.digest': digest }));
    }
    if (args[0] === 'push') return { exitCode: 0, stdout: `0123456: digest: ${digest} size: 528\n`, stderr: '' };
    return { exitCode: 0, stdout: '', stderr: '' };
  };
  return {
    io: recordingIO(),
    ecr: sdkEcrApi(new ECRClient({ region: 'eu-west-1' })),
    exec,
    sleep: async () => undefined,
    now: () => new Date('2026-11-21T10:00:00Z'),
    context: githubContext(runContextFrom({ GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567', GITHUB_REF: 'refs/heads/main', GITHUB_REPOSITORY: 'acme/api' })),
    makeTempDir: () => {
      const d = mkdtempSync(join(tmpdir(), 'cfg-'));
      tempDirs.push(d);
      return d;
    },
    dockerConfigDir: '/nonexistent',
    onCancel: (cleanup) => {
      cancelCleanups.add(cleanup);
      return () => void cancelCleanups.delete(cleanup);
    },
    // '/ws' does not exist: no git checkout, so no content key (tests/reuse.test.ts has real ones).
    workspace: { dir: '/ws', git: realExec, defaultPlatform: 'linux/amd64' },
    calls,
    tempDirs,
  };
}

/** The built image's manifest, read by digest before its tags are put (set after a test's catch-all BatchGetImage). */
export const manifestOf = (d = digest) =>
  ecrMock.on(BatchGetImageCommand, { imageIds: [{ imageDigest: d }] }).resolves({
    images: [{ imageId: { imageDigest: d }, imageManifest: '{}', imageManifestMediaType: 'application/vnd.docker.distribution.manifest.v2+json' }],
  });
export const STAGING = /^staging-0123456-local-1-[0-9a-f]{8}$/;

