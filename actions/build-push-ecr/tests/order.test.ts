/**
 * The order of writes (src/staging.ts): no permanent tag before the image's provenance is stored,
 * the SHA tag race between two runs of one commit, and what becomes of the staging tag.
 */
import { beforeEach, describe, expect, test } from 'vitest';
import { BatchDeleteImageCommand, BatchGetImageCommand, DescribeImagesCommand, DescribeRepositoriesCommand, ECRServiceException, GetAuthorizationTokenCommand, GetLifecyclePolicyCommand, PutImageCommand } from '@aws-sdk/client-ecr';
import { UserError } from '@deploy-actions/action-kit';
import type { BuildFacts } from '@deploy-actions/aws/provenance';
import { run } from '../src/run';
import { stagingTag } from '../src/staging';
import type { Provenance, ReuseClaim } from '../src/provenance';
import { STAGING, deps, digest, ecrMock, inputs, manifestOf, password, uri } from './fixtures';

const theirs = `sha256:${'f'.repeat(64)}`;
const keyArn = 'arn:aws:kms:eu-west-1:111111111111:key/0e3d1bde-1111-4222-8333-444455556666';
const commit = '0123456789abcdef0123456789abcdef01234567';

/** Every ECR write and provenance step, in the order they happened. */
let events: string[];

function provenance(opts: { write?: () => Promise<void>; verify?: (c: ReuseClaim) => boolean } = {}): Provenance & { claims: ReuseClaim[] } {
  const claims: ReuseClaim[] = [];
  return {
    keyArn,
    claims,
    async write(b) {
      await opts.write?.();
      events.push(`provenance ${b.digest}`);
      return { artifact: `sha256:${'a'.repeat(64)}`, via: 'referrers' };
    },
    async verify(c) {
      claims.push(c);
      if (opts.verify && !opts.verify(c)) return { ok: false, detail: `${c.digest} has no build provenance signed with ${keyArn}` };
      return { ok: true, facts: { contentKey: '', commit: c.commit } as BuildFacts, detail: `provenance of ${c.digest} verified: built by build.yml` };
    },
  };
}

beforeEach(() => {
  events = [];
  ecrMock.reset();
  ecrMock.on(GetAuthorizationTokenCommand).resolves({
    authorizationData: [{ authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'), proxyEndpoint: `https://${uri.split('/')[0]}` }],
  });
  ecrMock.on(DescribeRepositoriesCommand).resolves({ repositories: [{ repositoryUri: uri, imageTagMutability: 'IMMUTABLE', imageScanningConfiguration: { scanOnPush: true } }] });
  ecrMock.on(GetLifecyclePolicyCommand).resolves({ lifecyclePolicyText: '{}' });
  ecrMock.on(BatchGetImageCommand).resolves({ images: [] });
  manifestOf();
  ecrMock.on(PutImageCommand).callsFake((input: { imageTag?: string }) => {
    events.push(`tag ${input.imageTag}`);
    return {};
  });
  ecrMock.on(BatchDeleteImageCommand).callsFake((input: { imageIds: Array<{ imageTag?: string }> }) => {
    events.push(`untag ${input.imageIds[0]!.imageTag}`);
    return { imageIds: input.imageIds, failures: [] };
  });
});

const staged = (d: ReturnType<typeof deps>) => d.calls.find((c) => c.args[0] === 'push')!.args[1]!.slice(uri.length + 1);

describe('order of writes', () => {
  test('provenance is stored before any permanent tag; then the SHA tag, the staging tag goes (the SHA tag keeps the image), then the other tags', async () => {
    const d = { ...deps({ buildx: false }), provenance: provenance() };
    const out = await run({ ...inputs, extraTags: ['rc'] }, d);
    const tag = staged(d);
    expect(tag).toMatch(STAGING);
    expect(events).toEqual([`provenance ${digest}`, 'tag 0123456', `untag ${tag}`, 'tag rc']);
    expect(out).toMatchObject({ digest, tag: '0123456', tags: '0123456,rc', skipped: false });
    expect(d.io.summaries[0]).toContain('| Tags added | 0123456, rc |');
  });

  test.each([
    ['silent', new UserError('kms:Sign to https://kms.eu-west-1.amazonaws.com: no answer within 15 s (2 attempts, 30.0 s in all)')],
    ['denied', new UserError('AccessDenied: the AWS identity may not call kms:Sign on the provenance key')],
  ])('KMS %s while the provenance is written: the step fails with that line, no tag is put, the staging tag (and so the image) goes', async (_name, fault) => {
    const d = { ...deps({ buildx: false }), provenance: provenance({ write: () => Promise.reject(fault) }) };
    await expect(run(inputs, d)).rejects.toThrow(fault.message);
    expect(events).toEqual([`untag ${staged(d)}`]);
    expect(ecrMock.commandCalls(PutImageCommand)).toHaveLength(0);
  });

  test('a concurrent run tagged the commit first and its provenance verifies: its image is used, one line says so, ours loses its staging tag', async () => {
    ecrMock.on(PutImageCommand, { imageTag: '0123456' }).rejects(new ECRServiceException({ name: 'ImageTagAlreadyExistsException', $fault: 'client', $metadata: {}, message: 'The image tag already exists and cannot be overwritten because the repository is immutable.' }));
    ecrMock.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: theirs, imageTags: ['0123456'] }] });
    manifestOf(theirs);
    const p = provenance();
    const d = { ...deps({ buildx: false }), provenance: p };
    const out = await run({ ...inputs, extraTags: ['rc'] }, d);
    expect(out).toMatchObject({ digest: theirs, 'image-ref': `${uri}@${theirs}`, skipped: false });
    expect(p.claims).toEqual([{ digest: theirs, commit }]);
    expect(d.io.warnings.filter((w) => w.includes('Another run'))).toEqual([
      `Another run of this commit tagged ${uri}:0123456 first (${theirs}); using that image: provenance of ${theirs} verified: built by build.yml`,
    ]);
    // Ours: provenance written, no permanent tag, staging tag removed; the extra tag goes to theirs.
    expect(events).toEqual([`provenance ${digest}`, `untag ${staged(d)}`, 'tag rc']);
    expect(ecrMock.commandCalls(PutImageCommand).find((c) => c.args[0].input.imageTag === 'rc')!.args[0].input.imageDigest).toBe(theirs);
  });

  test('a concurrent run tagged the commit first with an image whose provenance does not verify: refused in one line, nothing tagged', async () => {
    ecrMock.on(PutImageCommand, { imageTag: '0123456' }).rejects(new ECRServiceException({ name: 'ImageTagAlreadyExistsException', $fault: 'client', $metadata: {}, message: 'exists' }));
    ecrMock.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: theirs, imageTags: ['0123456'] }] });
    const d = { ...deps({ buildx: false }), provenance: provenance({ verify: (c) => c.digest !== theirs }) };
    const running = run({ ...inputs, extraTags: ['rc'] }, d);
    await expect(running).rejects.toThrow(
      `Another run of this commit tagged ${uri}:0123456 first (${theirs}) and it is not used: ${theirs} has no build provenance signed with ${keyArn}; this run's image ${digest} got no tag and is removed`,
    );
    expect(events).toEqual([`provenance ${digest}`, `untag ${staged(d)}`]);
  });

  test('without a provenance key the loser uses the winner with a warning saying it was not checked', async () => {
    ecrMock.on(PutImageCommand, { imageTag: '0123456' }).rejects(new ECRServiceException({ name: 'ImageTagAlreadyExistsException', $fault: 'client', $metadata: {}, message: 'exists' }));
    ecrMock.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: theirs, imageTags: ['0123456'] }] });
    const d = deps({ buildx: false });
    await expect(run(inputs, d)).resolves.toMatchObject({ digest: theirs });
    expect(d.io.warnings).toContain(`Another run of this commit tagged ${uri}:0123456 first (${theirs}); using that image without a provenance check: input provenance-kms-key is empty`);
  });

  test('a SHA tag PutImage that fails for another reason fails the step; the staging tag still goes', async () => {
    ecrMock.on(PutImageCommand, { imageTag: '0123456' }).rejects(new ECRServiceException({ name: 'LayersNotFoundException', $fault: 'client', $metadata: {}, message: 'layers missing' }));
    ecrMock.on(DescribeImagesCommand).rejects(new ECRServiceException({ name: 'ImageNotFoundException', $fault: 'client', $metadata: {}, message: 'none' }));
    const d = { ...deps({ buildx: false }), provenance: provenance() };
    await expect(run(inputs, d)).rejects.toThrow('layers missing');
    expect(events).toEqual([`provenance ${digest}`, `untag ${staged(d)}`]);
  });

  test('the staging tag cannot be removed (older stack without ecr:BatchDeleteImage): a warning naming it, the build succeeds', async () => {
    ecrMock.on(BatchDeleteImageCommand).rejects(new ECRServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: {}, message: 'not authorized to perform: ecr:BatchDeleteImage' }));
    const d = deps({ buildx: false });
    await expect(run(inputs, d)).resolves.toMatchObject({ digest, tags: '0123456' });
    const tag = staged(d);
    expect(d.io.warnings).toContainEqual(expect.stringMatching(new RegExp(`^Staging tag ${tag} is left on ${digest} in team/api .*imageTag=${tag}\\): AccessDenied: the AWS identity may not call ecr:BatchDeleteImage`)));
  });

  test('a staging tag ECR reports as already gone is not a warning', async () => {
    ecrMock.on(BatchDeleteImageCommand).resolves({ imageIds: [], failures: [{ imageId: { imageTag: 'x' }, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' }] });
    const d = deps({ buildx: false });
    await run(inputs, d);
    expect(d.io.warnings.filter((w) => w.startsWith('Staging tag'))).toEqual([]);
  });

  test('buildx pushes the staging tag too', async () => {
    const d = deps({ buildx: true });
    await run(inputs, d);
    const build = d.calls.find((c) => c.args[0] === 'buildx' && c.args[1] === 'build')!;
    const tag = build.args[build.args.indexOf('--tag') + 1]!.slice(uri.length + 1);
    expect(tag).toMatch(STAGING);
    expect(events).toEqual(['tag 0123456', `untag ${tag}`]);
  });
});

describe('stagingTag', () => {
  test.each([
    [{ runId: '7350012345', runAttempt: '2' }, 'staging-0123456-7350012345-2-1a2b3c4d'],
    [{ runId: '', runAttempt: '' }, 'staging-0123456-local-1-1a2b3c4d'],
    [{ runId: '../x', runAttempt: '1\n' }, 'staging-0123456-local-1-1a2b3c4d'],
  ])('%j -> %s', (ctx, tag) => {
    expect(stagingTag(ctx, commit, '1a2b3c4d')).toBe(tag);
  });
});
