/** run() reusing images by content key: real git checkouts, ECR through aws-sdk-client-mock. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, test } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { sdkEcrApi } from '@deploy-actions/aws';
import {
  BatchGetImageCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  ECRServiceException,
  GetAuthorizationTokenCommand,
  PutImageCommand,
} from '@aws-sdk/client-ecr';
import { Inputs, exec as realExec, githubContext, runContextFrom, mapInputs, recordingIO, type Exec } from '@deploy-actions/action-kit';
import { getInputs } from '../src/inputs';
import { run, type Deps } from '../src/run';
import type { BuiltImage, Provenance } from '../src/provenance';
import { gitRepo, type GitRepo } from '../../../test/harness/git';

const ecrMock = mockClient(ECRClient);
const uri = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/api';
const qaDigest = `sha256:${'a'.repeat(64)}`;
const builtDigest = `sha256:${'b'.repeat(64)}`;
const manifest = { imageManifest: '{}', imageManifestMediaType: 'application/vnd.docker.distribution.manifest.v2+json' };

/** Provenance as the signed statements would answer: every image verifies unless `unproven` names it. */
function provenanceOf(unproven: ReadonlySet<string>) {
  const written: BuiltImage[] = [];
  const provenance: Provenance = {
    keyArn: 'arn:aws:kms:eu-west-1:111111111111:key/0000',
    verify: async (c) =>
      unproven.has(c.digest)
        ? { ok: false, detail: `${c.digest} has no build provenance (neither the referrers API nor tag ${c.digest.replace(':', '-')} lists one): nothing shows build.yml built it` }
        : { ok: true, facts: {} as never, detail: `provenance of ${c.digest} verified` },
    write: async (b) => {
      written.push(b);
      return { artifact: `sha256:${'f'.repeat(64)}`, via: 'tag' };
    },
  };
  return { provenance, written };
}

function setup(repo: GitRepo, withInputs: Record<string, string> = {}, unproven: ReadonlySet<string> = new Set()) {
  const prov = provenanceOf(unproven);
  const inputs = getInputs(new Inputs(mapInputs({ repository: 'team/api', ...withInputs })), { GITHUB_WORKSPACE: repo.dir, AWS_REGION: 'eu-west-1' });
  const docker: string[][] = [];
  const exec: Exec = async (_file, args) => {
    docker.push([...args]);
    if (args[0] === 'buildx') return { exitCode: 1, stdout: '', stderr: '' };
    if (args[0] === 'push') return { exitCode: 0, stdout: `x: digest: ${builtDigest} size: 1\n`, stderr: '' };
    return { exitCode: 0, stdout: '', stderr: '' };
  };
  const deps: Deps = {
    io: recordingIO(),
    ecr: sdkEcrApi(new ECRClient({ region: 'eu-west-1' })),
    exec,
    sleep: async () => undefined,
    now: () => new Date('2026-11-21T10:00:00Z'),
    context: githubContext(runContextFrom({ GITHUB_SHA: repo.git('rev-parse', 'HEAD'), GITHUB_REF: 'refs/heads/main' })),
    makeTempDir: () => mkdtempSync(join(tmpdir(), 'cfg-')),
    onCancel: () => () => undefined,
    dockerConfigDir: '/nonexistent',
    workspace: { dir: repo.dir, git: realExec, defaultPlatform: 'linux/amd64' },
    provenance: prov.provenance,
  };
  return { inputs, deps, docker, io: deps.io as ReturnType<typeof recordingIO>, written: prov.written };
}

type ImageFound = { imageId: { imageTag?: string; imageDigest?: string }; imageManifest?: string; imageManifestMediaType?: string };

/** ECR holding `tags` (tag -> digest) in an IMMUTABLE repository. */
function ecrHolding(tags: Record<string, string>) {
  ecrMock.on(DescribeRepositoriesCommand).resolves({ repositories: [{ repositoryUri: uri, imageTagMutability: 'IMMUTABLE' }] });
  ecrMock.on(BatchGetImageCommand).callsFake((input: { imageIds: Array<{ imageTag?: string; imageDigest?: string }> }) => ({
    images: input.imageIds.flatMap((id): ImageFound[] =>
      id.imageDigest
        ? [{ imageId: { imageDigest: id.imageDigest }, ...manifest }]
        : tags[id.imageTag!]
          ? [{ imageId: { imageTag: id.imageTag, imageDigest: tags[id.imageTag!] } }]
          : [],
    ),
  }));
  ecrMock.on(PutImageCommand).resolves({});
  ecrMock.on(GetAuthorizationTokenCommand).resolves({
    authorizationData: [{ authorizationToken: Buffer.from('AWS:pw').toString('base64') }],
  });
}

const putTags = () => ecrMock.commandCalls(PutImageCommand).map((c) => [c.args[0].input.imageTag, c.args[0].input.imageDigest]);

const service = { Dockerfile: 'FROM scratch\nCOPY app /app\n', app: 'v1\n' };

beforeEach(() => ecrMock.reset());

describe('reuse by content key', () => {
  test('a merge commit with the tree QA built: nothing built, its SHA tag copied onto the QA image, one read round trip', async () => {
    const repo = gitRepo(service);
    const developBuild = setup(repo);
    ecrHolding({});
    const first = await run(developBuild.inputs, developBuild.deps);
    const key = first['content-key'] as string;
    expect(key).toMatch(/^tree-[0-9a-f]{40}$/);
    ecrMock.reset();

    repo.git('checkout', '-q', '-b', 'main');
    const merge = repo.commit({}, 'Merge pull request #1 from acme/develop');
    const s = setup(repo);
    ecrHolding({ [key]: qaDigest });
    const out = await run(s.inputs, s.deps);
    expect(out).toMatchObject({ skipped: true, digest: qaDigest, tag: merge.slice(0, 7), commit: merge, 'content-key': key, 'reused-from': key });
    expect(s.docker).toEqual([]);
    expect(putTags()).toEqual([[merge.slice(0, 7), qaDigest]]);
    // The read phase is still DescribeRepositories + one BatchGetImage asking for every tag at once.
    const reads = ecrMock.commandCalls(BatchGetImageCommand).map((c) => c.args[0].input.imageIds);
    expect(reads[0]).toEqual([{ imageTag: merge.slice(0, 7) }, { imageTag: key }]);
    expect(ecrMock.commandCalls(GetAuthorizationTokenCommand)).toHaveLength(0);
    expect(s.io.lines).toContain(`${uri}@${qaDigest} reused, build skipped: an image with content key ${key} exists (same tree, Dockerfile, target, platforms and build args)`);
    expect(s.io.summaries[0]).toContain(`| Content key | ${key} |`);
  });

  test('a new tree: built with the commit revision and key labels, then tagged with the key', async () => {
    const repo = gitRepo(service);
    const s = setup(repo, { 'build-args': 'VERSION=1' });
    ecrHolding({});
    const out = await run(s.inputs, s.deps);
    const head = repo.git('rev-parse', 'HEAD');
    expect(out).toMatchObject({ skipped: false, digest: builtDigest, 'reused-from': '' });
    const build = s.docker.find((a) => a[0] === 'build')!;
    expect(build).toContain(`org.opencontainers.image.revision=${head}`);
    expect(build).toContain(`dev.deploy-actions.content-key=${out['content-key']}`);
    // The SHA tag first (once the provenance is stored), the key last.
    expect(putTags()).toEqual([
      [head.slice(0, 7), builtDigest],
      [out['content-key'], builtDigest],
    ]);
  });

  test('the SHA tag wins over the key (a re-run keeps its own image)', async () => {
    const repo = gitRepo(service);
    const sha7 = repo.git('rev-parse', 'HEAD').slice(0, 7);
    ecrHolding({});
    const first = setup(repo);
    const key = (await run(first.inputs, first.deps))['content-key'] as string;
    ecrMock.reset();
    ecrHolding({ [sha7]: builtDigest, [key]: builtDigest });
    const s = setup(repo);
    const out = await run(s.inputs, s.deps);
    expect(out).toMatchObject({ digest: builtDigest, 'reused-from': sha7, 'content-key': key });
    expect(putTags()).toEqual([]);
    expect(s.io.warnings).toEqual([]);
  });

  test.each([
    ['the key names another image', (key: string) => ({ [key]: qaDigest })],
    ['no image has the key (build args changed for this commit)', () => ({})],
  ])('the commit tag names an image of other content (%s): reused by its tag, never given the key, no key output', async (_, others) => {
    const repo = gitRepo(service);
    const sha7 = repo.git('rev-parse', 'HEAD').slice(0, 7);
    const s = setup(repo, { 'build-args': 'VERSION=2' });
    ecrHolding({});
    const key = (await run(s.inputs, setup(repo).deps))['content-key'] as string;
    ecrMock.reset();
    ecrHolding({ [sha7]: builtDigest, ...others(key) });
    const out = await run(s.inputs, s.deps);
    expect(out).toMatchObject({ skipped: true, digest: builtDigest, 'reused-from': sha7, 'content-key': '' });
    expect(putTags()).toEqual([]);
    expect(s.io.warnings).toHaveLength(1);
    expect(s.io.warnings[0]).toMatch(new RegExp(`^Content key not used: commit tag ${sha7} already exists, on an image that is not this content's .*commit again to build this content$`));
    expect(s.docker).toEqual([]);
  });

  test('skip-existing false: built again, the key tag stays on the first image', async () => {
    const repo = gitRepo(service);
    ecrHolding({});
    const first = setup(repo);
    const key = (await run(first.inputs, first.deps))['content-key'] as string;
    ecrMock.reset();
    repo.commit({}, 'another commit, same tree');
    const s = setup(repo, { 'skip-existing': 'false' });
    ecrHolding({ [key]: qaDigest });
    const out = await run(s.inputs, s.deps);
    expect(out).toMatchObject({ skipped: false, digest: builtDigest, 'content-key': key });
    expect(s.docker.map((a) => a[0])).toContain('build');
    expect(putTags()).toEqual([[repo.git('rev-parse', 'HEAD').slice(0, 7), builtDigest]]);
  });

  test('another run tagged another image with the key meanwhile: a warning, the build stands', async () => {
    const repo = gitRepo(service);
    const s = setup(repo);
    ecrHolding({});
    // The key's PutImage loses; the SHA tag's is this run's.
    ecrMock.on(PutImageCommand).callsFake((input: { imageTag?: string }) => {
      if (input.imageTag?.startsWith('tree-')) throw new ECRServiceException({ name: 'ImageTagAlreadyExistsException', $fault: 'client', $metadata: {}, message: 'exists' });
      return {};
    });
    ecrMock.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: qaDigest }] });
    const out = await run(s.inputs, s.deps);
    expect(out.digest).toBe(builtDigest);
    expect(s.io.warnings).toEqual([`Another run tagged ${qaDigest} with content key ${out['content-key']} first; this image keeps its commit tag only`]);
  });
});

describe('build provenance decides reuse (issue 20)', () => {
  test('a new build: its provenance is written for the commit and the content key', async () => {
    const repo = gitRepo(service);
    const s = setup(repo);
    ecrHolding({});
    const out = await run(s.inputs, s.deps);
    expect(s.written).toEqual([{ digest: builtDigest, commit: repo.git('rev-parse', 'HEAD'), contentKey: out['content-key'], time: new Date('2026-11-21T10:00:00Z') }]);
    expect(s.io.lines.some((l) => l.startsWith(`Provenance of ${builtDigest} signed with arn:aws:kms:`))).toBe(true);
  });

  test('an image planted under the content key: not reused (one warning naming why), built instead, the key not given out', async () => {
    const repo = gitRepo(service);
    ecrHolding({});
    const key = (await run(setup(repo).inputs, setup(repo).deps))['content-key'];
    ecrMock.reset();
    const s = setup(repo, {}, new Set([qaDigest]));
    ecrHolding({ [String(key)]: qaDigest });
    const out = await run(s.inputs, s.deps);
    expect(s.io.warnings).toEqual([
      `Not reused: ${qaDigest} has no build provenance (neither the referrers API nor tag ${qaDigest.replace(':', '-')} lists one): nothing shows build.yml built it; building instead (content key ${key} stays on that image and is not this build's)`,
    ]);
    expect(out).toMatchObject({ digest: builtDigest, skipped: false, 'content-key': '' });
    expect(s.docker.some((a) => a[0] === 'build')).toBe(true);
  });

  test("an image planted under this commit's SHA tag: refused in one line, nothing built, pushed or tagged", async () => {
    const repo = gitRepo(service);
    const s = setup(repo, {}, new Set([qaDigest]));
    const sha7 = repo.git('rev-parse', 'HEAD').slice(0, 7);
    ecrHolding({ [sha7]: qaDigest });
    await expect(run(s.inputs, s.deps)).rejects.toThrow(
      new RegExp(`^Not reused: ${qaDigest} has no build provenance .*; tag ${sha7} names that image and is immutable, so this commit cannot be built either: nothing was built or pushed`),
    );
    expect(s.docker.filter((a) => a[0] === 'build' || a[0] === 'push')).toEqual([]);
    expect(putTags()).toEqual([]);
    expect(s.written).toEqual([]);
  });

  test('without provenance-kms-key: reuse says it is unchecked, a build says no provenance was written', async () => {
    const repo = gitRepo(service);
    const s = setup(repo);
    delete s.deps.provenance;
    ecrHolding({});
    await run(s.inputs, s.deps);
    expect(s.io.warnings).toEqual([`No build provenance written for ${builtDigest}: input provenance-kms-key is empty (deploy-setup sets PROVENANCE_KMS_KEY)`]);
  });
});
