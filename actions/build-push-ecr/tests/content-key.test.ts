import { describe, expect, test } from 'vitest';
import {
  bothReadsArgs,
  contentKey,
  hostPlatform,
  isContentKey,
  normaliseBuildArgs,
  parseRevParse,
  parseStatus,
  revParseArgs,
  splitBothReads,
  statusArgs,
  type KeyMaterial,
} from '../src/content-key';

const tree = '8748a00aa34eacc083824b8ae08ba912f315bf7f';
const blob = 'd84c9245d755076e09e4ea2e38acb09c06f8b60d';
const base: KeyMaterial = { tree, dockerfile: 'Dockerfile', dockerfileBlob: blob, platforms: ['linux/amd64'], buildArgs: [] };

describe('contentKey', () => {
  test('is stable across releases: this value is documented behaviour', () => {
    expect(contentKey(base)).toBe(GOLDEN);
    expect(isContentKey(contentKey(base))).toBe(true);
  });

  test.each<[string, Partial<KeyMaterial>]>([
    ['build args in another order', { buildArgs: [['B', '2'], ['A', '1']] }],
    ['a build arg given twice, the last value the same', { buildArgs: [['A', '0'], ['A', '1'], ['B', '2']] }],
  ])('same key: %s', (_name, change) => {
    const args: Array<[string, string]> = [['A', '1'], ['B', '2']];
    expect(contentKey({ ...base, ...change })).toBe(contentKey({ ...base, buildArgs: args }));
  });

  test('same key: platforms in another order or repeated', () => {
    expect(contentKey({ ...base, platforms: ['linux/arm64', 'linux/amd64', 'linux/arm64'] })).toBe(
      contentKey({ ...base, platforms: ['linux/amd64', 'linux/arm64'] }),
    );
  });

  test.each<[string, Partial<KeyMaterial>]>([
    ['another context tree', { tree: 'a'.repeat(40) }],
    ['another Dockerfile content', { dockerfileBlob: 'b'.repeat(40) }],
    ['another Dockerfile path', { dockerfile: 'build/Dockerfile' }],
    ['a target', { target: 'runtime' }],
    ['another platform', { platforms: ['linux/arm64'] }],
    ['an extra platform', { platforms: ['linux/amd64', 'linux/arm64'] }],
    ['a build arg', { buildArgs: [['VERSION', '1']] }],
    ['an empty build arg', { buildArgs: [['VERSION', '']] }],
    ['a build arg value that looks like a separator', { buildArgs: [['A', '1","B=2']] }],
  ])('another key: %s', (_name, change) => {
    expect(contentKey({ ...base, ...change })).not.toBe(contentKey(base));
  });
});

describe('normaliseBuildArgs', () => {
  test.each<[Array<[string, string]>, Array<[string, string]>]>([
    [[], []],
    [[['B', '1'], ['A', '2']], [['A', '2'], ['B', '1']]],
    [[['A', '1'], ['A', '2']], [['A', '2']]],
    [[['a', '1'], ['B', '2']], [['B', '2'], ['a', '1']]],
  ])('%j -> %j', (given, expected) => expect(normaliseBuildArgs(given)).toEqual(expected));
});

describe('hostPlatform', () => {
  test.each([
    ['linux', 'x64', 'linux/amd64'],
    ['linux', 'arm64', 'linux/arm64'],
    ['linux', 'arm', 'linux/arm/v7'],
    ['win32', 'x64', 'windows/amd64'],
    ['linux', 'loong64', 'linux/loong64'],
  ])('%s %s -> %s', (platform, arch, expected) => expect(hostPlatform(platform, arch)).toBe(expected));
});

describe('git command lines and their output', () => {
  test.each([
    ['Dockerfile', ['rev-parse', '--show-toplevel', 'HEAD', 'HEAD:./', 'HEAD:./Dockerfile']],
    ['../docker/app.Dockerfile', ['rev-parse', '--show-toplevel', 'HEAD', 'HEAD:./', 'HEAD:./../docker/app.Dockerfile']],
  ])('revParseArgs(%s)', (dockerfile, expected) => expect(revParseArgs(dockerfile)).toEqual(expected));

  test('statusArgs limits status to the paths and lists untracked files one by one', () => {
    expect(statusArgs(['/ws/svc', '/ws/svc/Dockerfile'])).toEqual([
      '--no-optional-locks', 'status', '--porcelain=v1', '-z', '--untracked-files=all', '--', '/ws/svc', '/ws/svc/Dockerfile',
    ]);
  });

  const c = 'ba217c8f098bc2a5ae328a6dde0274cb57adb0ee';
  test.each([
    ['everything', `/ws\n${c}\n${tree}\n${blob}\n`, { toplevel: '/ws', commit: c, tree, dockerfileBlob: blob }],
    ['a Dockerfile not in HEAD: git echoes the argument', `/ws\n${c}\n${tree}\nHEAD:./Dockerfile\n`, { toplevel: '/ws', commit: c }],
    ['a context not in HEAD', `/ws\n${c}\nHEAD:./\n`, { toplevel: '/ws', commit: c }],
    ['no commit yet', '/ws\nHEAD\n', { toplevel: '/ws' }],
    ['not a repository', '', {}],
    ['a Windows top level', `C:/ws\n${c}\n${tree}\n${blob}`, { toplevel: 'C:/ws', commit: c, tree, dockerfileBlob: blob }],
  ])('parseRevParse: %s', (_name, stdout, expected) => expect(parseRevParse(stdout)).toEqual(expected));

  test('bothReadsArgs: the paths are sh positional parameters, not script text', () => {
    const [flag, script, name, ...params] = bothReadsArgs('../docker/app.Dockerfile', ['/ws/svc', '/ws/docker/app.Dockerfile']);
    expect([flag, name, params]).toEqual(['-c', 'sh', ['../docker/app.Dockerfile', '/ws/svc', '/ws/docker/app.Dockerfile']]);
    expect(script).not.toContain('/ws');
    expect(script).toContain(`git ${statusArgs([]).join(' ')} "$@"`);
  });

  test.each([
    ['both ran', `/ws\n${c}\n\x000\x00?? svc/new\x00 M svc/a\x00\x000\x00`, 'w\x00', [[0, `/ws\n${c}\n`, 'w'], [0, '?? svc/new\x00 M svc/a\x00', '']]],
    ['clean status', `/ws\n\x000\x00\x000\x00`, '\x00', [[0, '/ws\n', ''], [0, '', '']]],
    ['rev-parse failed, status failed', `\x00128\x00\x00128\x00`, 'fatal: not a git repository\n\x00fatal: not a git repository\n', [[128, '', 'fatal: not a git repository\n'], [128, '', 'fatal: not a git repository\n']]],
    ['sh stopped after rev-parse', `/ws\n\x000\x00`, '\x00', undefined],
    ['no stderr frame', `/ws\n\x000\x00\x000\x00`, '', undefined],
    ['nothing', '', '', undefined],
  ])('splitBothReads: %s', (_name, stdout, stderr, expected) => {
    const split = splitBothReads(stdout, stderr);
    expect(split?.map((r) => [r.exitCode, r.stdout, r.stderr])).toEqual(expected);
  });

  test.each([
    ['clean', '', []],
    ['untracked and modified', '?? svc/new\0 M svc/app.js\0', ['svc/new', 'svc/app.js']],
    ['a rename carries its original path', 'R  svc/b\0svc/a\0?? svc/c\0', ['svc/b', 'svc/c']],
    ['a path with spaces and a newline', '?? svc/a b\nc\0', ['svc/a b\nc']],
  ])('parseStatus: %s', (_name, stdout, expected) => expect(parseStatus(stdout)).toEqual(expected));
});

// sha256 of ["deploy-actions/content-key/v1","8748a0...","Dockerfile","d84c92...","",["linux/amd64"],[]] (printf | sha256sum), 40 hex.
const GOLDEN = 'tree-9c1ac1c47d36e3853904d0514cee471de1287d89';
