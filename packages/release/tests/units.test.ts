import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { releaseAssets } from '../src/assets';
import { changelogSection, ownReferences, parseLsRemote, parseUses, pinOwnReferences, planVersion, resolveRef, resolveUses } from '../src';

describe('planVersion', () => {
  test.each([
    // requested, existing tags, tag, major tag, latest, prerelease
    ['1.0.0', [], 'v1.0.0', 'v1', true, false],
    ['1.1.0', ['v1', 'v1.0.0'], 'v1.1.0', 'v1', true, false],
    ['1.0.1', ['v1.0.0', 'v1', 'not-a-release'], 'v1.0.1', 'v1', true, false],
    ['2.0.0', ['v1.3.0', 'v1'], 'v2.0.0', 'v2', true, false],
    ['1.4.1', ['v1.4.0', 'v2.0.0', 'v1', 'v2'], 'v1.4.1', 'v1', false, false],
    ['2.0.0-rc.1', ['v1.3.0'], 'v2.0.0-rc.1', 'v2', false, true],
  ] as const)('%s after %j', (requested, tags, tag, majorTag, latest, prerelease) => {
    expect(planVersion(requested, tags)).toMatchObject({ tag, majorTag, latest, prerelease });
  });

  test.each([
    ['v1.0.0', [], "Input 'version' must be a semantic version X.Y.Z"],
    ['1.0', [], "Input 'version' must be a semantic version"],
    ['latest', [], "Input 'version' must be a semantic version"],
    ['1.0.0+build.5', [], "Input 'version' must be a semantic version"],
    ['1.0.0', ['v1.0.0'], "Input 'version' is already released (tag v1.0.0 exists)"],
    ['1.0.0', ['v1.1.0'], "Input 'version' must be greater than the latest 1.x release 1.1.0"],
    ['1.2.0-rc.1', ['v1.2.0'], "Input 'version' must be greater than the latest 1.x release 1.2.0"],
    ['1.0.0', ['v2.0.0'], "Input 'version' must be greater than the latest release 2.0.0"],
  ] as const)('refuses %s after %j', (requested, tags, message) => {
    expect(() => planVersion(requested, tags)).toThrow(message);
  });
});

describe('changelogSection', () => {
  const text = [
    '# Changelog',
    '## [Unreleased]',
    '- next',
    '## [1.1.0] - 2026-12-01',
    '### Added',
    '- a thing',
    '',
    '## [1.0.0] - 2026-11-01',
    '- first',
    '## [0.9.0]',
    '',
    '[1.1.0]: https://github.com/org/deploy-actions/compare/v1.0.0...v1.1.0',
  ].join('\n');
  test.each([
    ['1.1.0', '### Added\n- a thing'],
    ['1.0.0', '- first'],
  ])('%s', (version, body) => expect(changelogSection(text, version)).toBe(body));
  test.each([
    ['1.2.0', 'CHANGELOG.md has no section for 1.2.0'],
    ['0.9.0', "CHANGELOG.md's section for 0.9.0 is empty"],
    ['1.1', 'CHANGELOG.md has no section for 1.1'],
  ])('refuses %s', (version, message) => expect(() => changelogSection(text, version)).toThrow(message));
});

describe('parseUses and resolveUses', () => {
  const site = { workflowRepository: 'org/deploy-actions', workflowSha: 'a'.repeat(40), runRepository: 'acme/svc', runSha: 'b'.repeat(40) };
  test.each([
    ['org/deploy-actions/.github/workflows/deploy.yml@v1.2.0', { repository: 'org/deploy-actions', path: '.github/workflows/deploy.yml', ref: 'v1.2.0' }],
    ['org/deploy-actions/promote-gate@v1', { repository: 'org/deploy-actions', path: 'promote-gate', ref: 'v1' }],
    ['actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8', { repository: 'actions/checkout', path: '', ref: '08c6903cd8c0fde910a37f88322edcfb5dd907a8' }],
    ['./.github/workflows/build.yml', { repository: 'acme/svc', path: '.github/workflows/build.yml', ref: 'b'.repeat(40) }],
    ['$/.github/workflows/build.yml', { repository: 'org/deploy-actions', path: '.github/workflows/build.yml', ref: 'a'.repeat(40) }],
    ['docker://busybox@sha256:' + 'c'.repeat(64), undefined],
  ])('%s', (uses, resolved) => expect(resolveUses(uses, site)).toEqual(resolved));
  test.each(['org/deploy-actions', 'deploy-actions@v1', 'org/deploy-actions@', ''])('refuses %j', (uses) =>
    expect(() => parseUses(uses)).toThrow('is not owner/repo'),
  );
});

describe('resolveRef', () => {
  const refs = parseLsRemote(
    [
      `${'1'.repeat(40)}\trefs/heads/main`,
      `${'2'.repeat(40)}\trefs/heads/v1`,
      `${'3'.repeat(40)}\trefs/tags/v1`,
      `${'4'.repeat(40)}\trefs/tags/v1.0.0`,
      `${'5'.repeat(40)}\trefs/tags/v1.0.0^{}`,
    ].join('\n'),
  );
  test.each([
    ['main', '1'.repeat(40)],
    ['v1', '3'.repeat(40)], // a tag wins over a branch of the same name
    ['v1.0.0', '5'.repeat(40)], // annotated: the commit, not the tag object
    ['f'.repeat(40), 'f'.repeat(40)],
    ['v2', undefined],
  ])('%s', (ref, sha) => expect(resolveRef(refs, ref)).toBe(sha));
});

describe('pinOwnReferences', () => {
  const text = [
    '# callers use org/deploy-actions/.github/workflows/build.yml@v1',
    'jobs:',
    '  build:',
    '    uses: org/deploy-actions/.github/workflows/build.yml@v1',
    '  deploy:',
    '    uses: "Org/Deploy-Actions/.github/workflows/deploy.yml@main" # quoted, other case',
    '    steps:',
    '      - uses: org/deploy-actions/promote-gate@v1',
    '      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0',
    '      - uses: org/deploy-actions-fork/promote-gate@v1',
    "        with: { note: 'uses: org/deploy-actions/x@v1' }",
  ].join('\n');

  test('rewrites every uses: line into the repository, nothing else', () => {
    const out = pinOwnReferences(text, 'org/deploy-actions', 'v1.2.0');
    expect(out.changed).toBe(3);
    expect(out.text.split('\n')).toEqual([
      '# callers use org/deploy-actions/.github/workflows/build.yml@v1',
      'jobs:',
      '  build:',
      '    uses: org/deploy-actions/.github/workflows/build.yml@v1.2.0',
      '  deploy:',
      '    uses: "Org/Deploy-Actions/.github/workflows/deploy.yml@v1.2.0" # quoted, other case',
      '    steps:',
      '      - uses: org/deploy-actions/promote-gate@v1.2.0',
      '      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0',
      '      - uses: org/deploy-actions-fork/promote-gate@v1',
      "        with: { note: 'uses: org/deploy-actions/x@v1' }",
    ]);
    expect(ownReferences(out.text, 'org/deploy-actions').map((r) => r.ref)).toEqual(['v1.2.0', 'v1.2.0', 'v1.2.0']);
  });

  test('GitHub Enterprise Server: $/ lines become the repository at the tag', () => {
    const self = ['jobs:', '  build:', '    uses: $/.github/workflows/build.yml', '    steps:', "      - uses: '$/promote-gate' # quoted", '      - uses: $/'].join('\n');
    expect(pinOwnReferences(self, 'org/deploy-actions', 'v1.2.0')).toEqual({
      text: ['jobs:', '  build:', '    uses: org/deploy-actions/.github/workflows/build.yml@v1.2.0', '    steps:', "      - uses: 'org/deploy-actions/promote-gate@v1.2.0' # quoted", '      - uses: org/deploy-actions@v1.2.0'].join('\n'),
      changed: 3,
    });
  });

  test('a second rewrite to the same tag changes nothing', () => {
    const once = pinOwnReferences(text, 'org/deploy-actions', 'v1.2.0').text;
    expect(pinOwnReferences(once, 'org/deploy-actions', 'v1.2.0')).toEqual({ text: once, changed: 0 });
  });
});

describe('releaseAssets', () => {
  const tree = (files: Record<string, string>) => {
    const root = mkdtempSync(join(tmpdir(), 'release-assets-'));
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    return root;
  };
  const sha = (text: string) => createHash('sha256').update(text).digest('hex');

  test('the deploy-setup single file is attached as deploy-setup.mjs, with its SHA256SUMS line', () => {
    const assets = releaseAssets(tree({ 'actions/probe/dist/index.js': 'probe', 'packages/environments/dist/deploy-setup.mjs': '#!/usr/bin/env node\nsetup' }));
    expect(assets.map((a) => a.name)).toEqual(['SHA256SUMS', 'deploy-setup.mjs']);
    expect(assets[0]!.data.toString()).toBe(`${sha('probe')}  actions/probe/dist/index.js\n${sha('#!/usr/bin/env node\nsetup')}  packages/environments/dist/deploy-setup.mjs\n`);
    expect(assets[1]!.data.toString()).toBe('#!/usr/bin/env node\nsetup');
  });

  test('with its manifest and license list beside it, both are attached under its name', () => {
    const assets = releaseAssets(
      tree({
        'actions/probe/dist/index.js': 'probe',
        'packages/environments/dist/deploy-setup.mjs': 'setup',
        'packages/environments/dist/deploy-setup.packages.json': '{}',
        'packages/environments/dist/deploy-setup.licenses.txt': 'yaml\nISC\n',
      }),
    );
    expect(assets.map((a) => a.name)).toEqual(['SHA256SUMS', 'deploy-setup.mjs', 'deploy-setup.packages.json', 'deploy-setup.licenses.txt']);
    expect(assets[3]!.data.toString()).toBe('yaml\nISC\n');
  });

  test('a tree without it attaches the actions alone', () => {
    expect(releaseAssets(tree({ 'actions/probe/dist/index.js': 'probe' })).map((a) => a.name)).toEqual(['SHA256SUMS']);
  });
});
