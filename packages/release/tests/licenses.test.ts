import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { disallowed, licenseFileName, licensesText, parseNccLicenses } from '../src/licenses';

const sample = [
  '@actions/core',
  'MIT',
  'The MIT License (MIT)',
  '',
  'Copyright 2019 GitHub',
  '',
  'MIT License',
  'Permission is hereby granted',
  '',
  'diff',
  'BSD-3-Clause',
  'Software License Agreement (BSD License)',
  '',
  'left-pad',
  '(MIT OR GPL-3.0)',
  'text',
  '',
  'copyleft',
  'GPL-3.0 AND MIT',
  '',
  'mystery',
  'UNKNOWN',
].join('\n');

describe('parseNccLicenses', () => {
  test('finds each package and its license line, not lines of license texts', () => {
    expect(parseNccLicenses(sample)).toEqual([
      { name: '@actions/core', license: 'MIT' },
      { name: 'diff', license: 'BSD-3-Clause' },
      { name: 'left-pad', license: '(MIT OR GPL-3.0)' },
      { name: 'copyleft', license: 'GPL-3.0 AND MIT' },
      { name: 'mystery', license: 'UNKNOWN' },
    ]);
  });

  test('the committed bundles list their packages', () => {
    const root = join(import.meta.dirname, '../../..');
    const entries = parseNccLicenses(readFileSync(join(root, 'actions/promote-gate/dist/licenses.txt'), 'utf8'));
    expect(entries.map((e) => e.name)).toEqual(expect.arrayContaining(['@octokit/core', '@aws-sdk/client-ecr']));
  });
});

describe('licensesText', () => {
  const written = licensesText([
    { name: 'yaml', license: 'ISC', text: 'Copyright Eemeli Aro\n\nPermission to use...\n' },
    { name: '@actions/github', license: 'MIT', text: 'The MIT License (MIT)\n' },
    { name: 'yaml', license: 'ISC', text: 'a second installed version' },
    { name: 'bowser', license: 'MIT', text: '' },
  ]);

  test('one entry per name, sorted, each read back by parseNccLicenses', () => {
    expect(parseNccLicenses(written)).toEqual([
      { name: '@actions/github', license: 'MIT' },
      { name: 'bowser', license: 'MIT' },
      { name: 'yaml', license: 'ISC' },
    ]);
    expect(written).toContain('yaml\nISC\nCopyright Eemeli Aro\n\nPermission to use...\n');
    expect(written).not.toContain('a second installed version');
  });

  test.each([
    [['index.js', 'LICENSE', 'package.json'], 'LICENSE'],
    [['LICENSE.md', 'README.md'], 'LICENSE.md'],
    [['licence.txt'], 'licence.txt'],
    [['COPYING'], 'COPYING'],
    [['README.md', 'license-checker.js'], undefined],
  ])('licenseFileName(%j) = %s', (names, want) => expect(licenseFileName(names)).toBe(want));
});

describe('disallowed', () => {
  const allowed = ['MIT', 'BSD-3-Clause'];
  test.each([
    ['MIT', false],
    ['(MIT OR GPL-3.0)', false],
    ['GPL-3.0 AND MIT', true],
    ['GPL-3.0', true],
    ['UNKNOWN', true],
    ['(BSD-3-Clause AND MIT)', false],
  ])('%s refused: %s', (license, refused) => {
    expect(disallowed([{ name: 'p', license }], allowed).length === 1).toBe(refused);
  });
});
