import { describe, expect, test } from 'vitest';
import { buildxArgs, classicBuildArgs, loginArgs, ociLabels, parseBuildxMetadata, parsePushDigest, pushArgs, type BuildPlan } from '../src/docker';

const base: BuildPlan = {
  dockerfile: '/w/Dockerfile',
  context: '/w',
  imageRef: 'r.example/app:0123456',
  buildArgs: [['VERSION', '1.0']],
  labels: [['org.opencontainers.image.revision', 'abc']],
  platforms: [],
  provenance: false,
  sbom: false,
};
const digest = `sha256:${'f'.repeat(64)}`;

describe('docker argv', () => {
  test('login reads the password from stdin, never argv', () => {
    const args = loginArgs('r.example', 'AWS');
    expect(args).toEqual(['login', 'r.example', '--username', 'AWS', '--password-stdin']);
    expect(args).not.toContain('--password');
  });

  test.each<[string, Partial<BuildPlan>, string[]]>([
    ['plain', {}, ['build', '--file', '/w/Dockerfile', '--tag', 'r.example/app:0123456', '--label', 'org.opencontainers.image.revision=abc', '--build-arg', 'VERSION=1.0', '/w']],
    ['with target', { target: 'runtime', buildArgs: [], labels: [] }, ['build', '--file', '/w/Dockerfile', '--tag', 'r.example/app:0123456', '--target', 'runtime', '/w']],
  ])('classic build: %s', (_n, plan, expected) => {
    expect(classicBuildArgs({ ...base, ...plan })).toEqual(expected);
  });

  test('push one tag', () => expect(pushArgs('r.example/app:0123456')).toEqual(['push', 'r.example/app:0123456']));

  test.each<[string, Partial<BuildPlan>, string[]]>([
    ['attestations off by default', { buildArgs: [], labels: [] }, ['--provenance=false', '--sbom=false']],
    ['platforms joined', { platforms: ['linux/amd64', 'linux/arm64'] }, ['--platform', 'linux/amd64,linux/arm64']],
    [
      'ECR-compatible registry cache',
      { cacheRef: 'r.example/app-cache:main' },
      ['--cache-from', 'type=registry,ref=r.example/app-cache:main', '--cache-to', 'type=registry,ref=r.example/app-cache:main,mode=max,image-manifest=true,oci-mediatypes=true'],
    ],
    ['provenance on request', { provenance: true }, ['--provenance=true']],
  ])('buildx: %s', (_n, plan, expectedRun) => {
    const args = buildxArgs({ ...base, ...plan }, '/tmp/meta.json');
    expect(args.slice(0, 2)).toEqual(['buildx', 'build']);
    expect(args.slice(-4)).toEqual(['--metadata-file', '/tmp/meta.json', '--push', '/w']);
    const at = args.indexOf(expectedRun[0]!);
    expect(at).toBeGreaterThan(0);
    expect(args.slice(at, at + expectedRun.length)).toEqual(expectedRun);
  });

  test('buildx without cache has no cache flags', () => {
    expect(buildxArgs(base, '/m').join(' ')).not.toContain('cache');
  });
});

describe('digests', () => {
  test('from docker push output', () => {
    expect(parsePushDigest(`The push refers to repository [r/app]\n0123456: digest: ${digest} size: 527\n`)).toBe(digest);
    expect(parsePushDigest('no digest here')).toBeUndefined();
  });

  test('from the buildx metadata file', () => {
    expect(parseBuildxMetadata(JSON.stringify({ 'containerimage.digest': digest }))).toBe(digest);
    expect(parseBuildxMetadata(JSON.stringify({ 'containerimage.digest': 'sha256:short' }))).toBeUndefined();
  });

  test('OCI labels', () => {
    expect(ociLabels({ sha: 'abc', serverUrl: 'https://github.com', repository: 'acme/api' }, new Date('2026-01-01T00:00:00Z'))).toEqual([
      ['org.opencontainers.image.revision', 'abc'],
      ['org.opencontainers.image.created', '2026-01-01T00:00:00.000Z'],
      ['org.opencontainers.image.source', 'https://github.com/acme/api'],
    ]);
  });
});
