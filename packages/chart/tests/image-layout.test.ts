import { describe, expect, test } from 'vitest';
import { DEFAULT_KEYS, imageKeyList, imageValues, keysText, NO_KEYS, normalizeImage, normalText, type ImageKeys } from '../src/index';

const D = `sha256:${'ab'.repeat(32)}`;
const ECR = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';

describe('normalizeImage: Docker\'s defaulting rules', () => {
  test.each([
    ['busybox', 'docker.io/library/busybox'],
    [`busybox@${D}`, `docker.io/library/busybox@${D}`],
    ['library/busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['index.docker.io/library/busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['docker.io/bitnami/nginx:1.25', 'docker.io/bitnami/nginx:1.25'],
    ['bitnami/nginx:1.25', 'docker.io/bitnami/nginx:1.25'],
    [`${ECR}/team/orders:v1@${D}`, `${ECR}/team/orders@${D}`],
    // The render: an ECR URI under the docker.io default is a docker.io repository.
    [`docker.io/${ECR}/team/orders@${D}`, `docker.io/${ECR}/team/orders@${D}`],
    ['127.0.0.1:5000/sample-service:v1', '127.0.0.1:5000/sample-service:v1'],
    ['localhost/app', 'localhost/app'],
  ])('%s -> %s', (ref, want) => expect(normalText(normalizeImage(ref)!)).toBe(want));

  test.each(['', ':', 'repo:', '@' + D, 'Team/App', 'docker.io/127.0.0.1:5000/app', 'app@sha256:abc'])('%j is not a reference', (ref) =>
    expect(normalizeImage(ref)).toBeUndefined(),
  );
});

describe('imageValues: the --set-string pairs of each layout', () => {
  const image = { repository: `${ECR}/team/orders`, digest: D };
  const keys = (k: Partial<ImageKeys>): ImageKeys => ({ ...NO_KEYS, ...k });
  test.each<[string, ImageKeys, { tag?: string; repository?: string }, Array<[string, string]>]>([
    ['repository (host + path) and digest', DEFAULT_KEYS, {}, [['image.repository', `${ECR}/team/orders`], ['image.digest', D]]],
    [
      'registry, repository path, digest, tag cleared',
      keys({ registryKey: 'image.registry', repositoryKey: 'image.repository', digestKey: 'image.digest', tagKey: 'image.tag' }),
      {},
      [['image.registry', ECR], ['image.repository', 'team/orders'], ['image.digest', D], ['image.tag', '']],
    ],
    ['tag set when the image has one', keys({ repositoryKey: 'r', digestKey: 'd', tagKey: 't' }), { tag: 'v1' }, [['r', `${ECR}/team/orders`], ['d', D], ['t', 'v1']]],
    ['a Docker Hub image split: docker.io and library/', keys({ registryKey: 'g', repositoryKey: 'r', digestKey: 'd' }), { repository: 'busybox' }, [['g', 'docker.io'], ['r', 'library/busybox'], ['d', D]]],
    ['whole reference', keys({ referenceKey: 'image' }), { tag: 'v1' }, [['image', `${ECR}/team/orders:v1@${D}`]]],
  ])('%s', (_, k, over, want) => expect(imageValues({ ...image, ...over }, k)).toEqual(want));

  test('keys listed and named as inputs', () => {
    const k = keys({ registryKey: 'image.registry', repositoryKey: 'image.repository', digestKey: 'image.digest', tagKey: 'image.tag' });
    expect(imageKeyList(k)).toEqual(['image.registry', 'image.repository', 'image.digest', 'image.tag']);
    expect(keysText(k)).toBe('image-registry-key: image.registry, image-repository-key: image.repository, image-digest-key: image.digest, image-tag-key: image.tag');
  });
});
