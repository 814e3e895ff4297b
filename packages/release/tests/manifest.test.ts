import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { CLI_BUNDLES, readChunks } from '../src/assets';
import { disallowed, parseNccLicenses } from '../src/licenses';
import { bundleManifest, licenseOf, manifestProblems, metafileModules, moduleFiles, packageDirOf, type BundleManifest } from '../src/manifest';

const NM = '/r/node_modules/.pnpm/x@1/node_modules';

describe('packageDirOf', () => {
  test.each([
    [`${NM}/yaml/dist/index.js`, `${NM}/yaml`],
    [`${NM}/@actions/core/lib/core.js`, `${NM}/@actions/core`],
    [`${NM}/a/node_modules/b/index.js`, `${NM}/a/node_modules/b`],
    ['/r/packages/action-kit/src/index.ts', undefined],
    [`${NM}/@scope`, undefined],
  ])('%s -> %s', (file, dir) => expect(packageDirOf(file)).toBe(dir));
});

describe('licenseOf', () => {
  test.each([
    [{ license: 'MIT' }, 'MIT'],
    [{ license: { type: 'ISC' } }, 'ISC'],
    [{ licenses: [{ type: 'MIT' }, { type: 'Apache-2.0' }] }, '(MIT OR Apache-2.0)'],
    [{ licenses: ['BSD-2-Clause'] }, 'BSD-2-Clause'],
    [{}, 'UNKNOWN'],
    [{ license: 7 }, 'UNKNOWN'],
  ])('%j -> %s', (pkg, want) => expect(licenseOf(pkg)).toBe(want));
});

describe('bundleManifest', () => {
  const modules = [
    { nameForCondition: '/r/src/index.ts', modules: [{ nameForCondition: `${NM}/yaml/dist/a.js` }, { nameForCondition: `${NM}/yaml/dist/b.js` }] },
    { nameForCondition: `${NM}/undici/index.js` },
    { nameForCondition: `${NM}/undici/node_modules/undici/index.js` },
    { nameForCondition: `${NM}/left-pad/index.js`, orphan: true },
  ];
  const pkgs: Record<string, object> = {
    [`${NM}/yaml`]: { name: 'yaml', version: '2.9.1', license: 'ISC' },
    [`${NM}/undici`]: { name: 'undici', version: '6.23.0', license: 'MIT' },
    [`${NM}/undici/node_modules/undici`]: { name: 'undici', version: '5.0.0', license: 'MIT' },
  };
  const chunks = { 'actions/x/dist/12.index.js': Buffer.from('chunk 12'), 'actions/x/dist/3.index.js': Buffer.from('chunk 3') };
  const m = bundleManifest('actions/x/dist/index.js', Buffer.from('bundle'), modules, (d) => pkgs[d]!, chunks);

  test('one entry per installed version, parts of concatenated modules included, orphans not counted twice', () => {
    expect(moduleFiles(modules)).not.toContain(`${NM}/left-pad/index.js`);
    expect(m.packages).toEqual([
      { name: 'undici', version: '5.0.0', license: 'MIT' },
      { name: 'undici', version: '6.23.0', license: 'MIT' },
      { name: 'yaml', version: '2.9.1', license: 'ISC' },
    ]);
    expect(m.sha256).toBe(createHash('sha256').update('bundle').digest('hex'));
    expect(m.chunks).toEqual({
      'actions/x/dist/12.index.js': createHash('sha256').update('chunk 12').digest('hex'),
      'actions/x/dist/3.index.js': createHash('sha256').update('chunk 3').digest('hex'),
    });
  });

  test.each([
    ['a changed chunk', { ...chunks, 'actions/x/dist/3.index.js': Buffer.from('other') }, /actions\/x\/dist\/3.index.js has sha256 .*the manifest says/],
    ['a chunk the manifest does not list', { ...chunks, 'actions/x/dist/7.index.js': Buffer.from('new') }, /actions\/x\/dist\/7.index.js is not in actions\/x\/dist\/index.js's manifest/],
    ['a listed chunk that is missing', { 'actions/x/dist/12.index.js': chunks['actions/x/dist/12.index.js'] }, /manifest lists actions\/x\/dist\/3.index.js, which is missing/],
  ])('manifestProblems: %s', (_, files, want) => {
    expect(manifestProblems(m, Buffer.from('bundle'), ['undici', 'yaml'], files).join('\n')).toMatch(want);
    expect(manifestProblems(m, Buffer.from('bundle'), ['undici', 'yaml'], chunks)).toEqual([]);
  });

  test.each([
    ['a changed bundle', Buffer.from('other'), ['undici', 'yaml'], /has sha256 .*the manifest says/],
    ['a package ncc lists and the manifest does not', Buffer.from('bundle'), ['undici', 'yaml', 'tunnel'], /licenses.txt lists tunnel, the manifest does not/],
    ['a package the manifest lists and ncc does not', Buffer.from('bundle'), ['yaml'], /the manifest lists undici, licenses.txt does not/],
  ])('manifestProblems: %s', (_, bytes, ncc, want) => {
    expect(manifestProblems(m, bytes, ncc).join('\n')).toMatch(want);
  });

  test('manifestProblems: our workspace packages in licenses.txt are not third-party', () => {
    expect(manifestProblems(m, Buffer.from('bundle'), ['undici', 'yaml', '@deploy-actions/action-kit'], chunks)).toEqual([]);
  });
});

describe('the committed bundles', () => {
  const root = join(import.meta.dirname, '../../..');
  test.each(['build-push-ecr', 'helm-deploy-eks', 'promote-gate'])('%s: dist/packages.json is its entry and every chunk, and agrees with licenses.txt', (action) => {
    const dist = join(root, 'actions', action, 'dist');
    const manifest = JSON.parse(readFileSync(join(dist, 'packages.json'), 'utf8')) as BundleManifest;
    const ncc = parseNccLicenses(readFileSync(join(dist, 'licenses.txt'), 'utf8')).map((e) => e.name);
    const chunks = readChunks(root, action);
    expect(Object.keys(chunks).length).toBeGreaterThan(0);
    expect(manifestProblems(manifest, readFileSync(join(dist, 'index.js')), ncc, chunks)).toEqual([]);
    // The AWS SDK sits in a chunk, not the entry: the packages listed are every chunk's.
    expect(manifest.packages).toEqual(expect.arrayContaining([expect.objectContaining({ name: expect.stringMatching(/^@aws-sdk\/client-/), version: expect.stringMatching(/^\d+\.\d+\.\d+/) })]));
  });
});

describe('the released single file (deploy-setup.mjs, esbuild)', () => {
  const root = join(import.meta.dirname, '../../..');
  test('metafileModules: the inputs with code in the output, made absolute; tree-shaken ones left out', () => {
    const meta = {
      outputs: {
        'dist/x.mjs': {
          inputs: {
            '../../node_modules/.pnpm/yaml@2/node_modules/yaml/dist/index.js': { bytesInOutput: 120 },
            '../../node_modules/.pnpm/gone@1/node_modules/gone/index.js': { bytesInOutput: 0 },
            'src/main.ts': { bytesInOutput: 40 },
          },
        },
      },
    };
    const modules = metafileModules(meta, (p) => join('/r/packages/environments', p));
    expect(moduleFiles(modules)).toEqual(['/r/node_modules/.pnpm/yaml@2/node_modules/yaml/dist/index.js', '/r/packages/environments/src/main.ts']);
  });

  test.each(CLI_BUNDLES.map((c) => [c.path, c] as const))('%s: its manifest is the committed file, agrees with its license list, every license allowed', (_, cli) => {
    const manifest = JSON.parse(readFileSync(join(root, cli.manifest), 'utf8')) as BundleManifest;
    const listed = parseNccLicenses(readFileSync(join(root, cli.licenses), 'utf8'));
    expect(manifestProblems(manifest, readFileSync(join(root, cli.path)), listed.map((e) => e.name))).toEqual([]);
    const { allowed } = JSON.parse(readFileSync(join(root, 'scripts/license-allowlist.json'), 'utf8')) as { allowed: string[] };
    expect(disallowed(manifest.packages, allowed)).toEqual([]);
    // The AWS SDK and Octokit are inside, each with a version and a license.
    expect(manifest.packages).toEqual(expect.arrayContaining([expect.objectContaining({ name: '@aws-sdk/client-cloudformation', license: 'Apache-2.0' }), expect.objectContaining({ name: '@actions/github', license: 'MIT' })]));
    // A changed file no longer matches its manifest (what CI's licence check reports).
    expect(manifestProblems(manifest, Buffer.from('other'), listed.map((e) => e.name)).join('\n')).toMatch(/has sha256 .*the manifest says/);
  });
});
