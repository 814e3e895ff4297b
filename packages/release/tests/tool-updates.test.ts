import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { applyUpdates, checksumUrl, describeUpdates, newestPerLine, helmLine, kubectlLine, parseSha256, planUpdates, readPins, readSources, type Sources } from '../src/tool-updates';

const root = join(import.meta.dirname, '../../..');
const real = (): Sources => readSources(root);
const SHA = (c: string) => c.repeat(64);

describe('readPins reads what helm-deploy-eks pins today', () => {
  test('the helm defaults and the kubectl table of the sources', async () => {
    const pins = readPins(real());
    const { DEFAULT_HELM_VERSIONS } = await import('../../../actions/helm-deploy-eks/src/inputs');
    const { KUBECTL_FOR_MINOR, DEFAULT_KUBECTL_VERSION } = await import('../../../actions/helm-deploy-eks/src/tools');
    expect(pins).toEqual({ helm: { '4': DEFAULT_HELM_VERSIONS[4], '3': DEFAULT_HELM_VERSIONS[3] }, kubectl: KUBECTL_FOR_MINOR, defaultKubectl: DEFAULT_KUBECTL_VERSION });
  });

  test('a source in another form is one line naming the file and what to do', () => {
    expect(() => readPins({ ...real(), inputs: 'export const DEFAULT_HELM_VERSIONS = {};' })).toThrow(
      /^actions\/helm-deploy-eks\/src\/inputs\.ts: DEFAULT_HELM_VERSIONS not found in the form this script rewrites; update tool-updates\.ts with it$/,
    );
  });
});

describe('newestPerLine', () => {
  test.each([
    ['helm lines', ['v4.3.1', 'v4.3.0', 'v4.4.0-rc.1', 'v3.22.1', 'v3.21.4', 'v2.17.0', 'junk'], helmLine, ['4', '3'], { '4': '4.3.1', '3': '3.22.1' }],
    ['a pre-release is never chosen', ['v4.4.0-rc.1', 'v4.3.0'], helmLine, ['4'], { '4': '4.3.0' }],
    ['kubectl minors', ['v1.36.4', 'v1.36.10', 'v1.37.0', 'v1.35.9', 'v1.37.0-alpha.1'], kubectlLine, ['1.36', '1.35'], { '1.36': '1.36.10', '1.35': '1.35.9' }],
    ['no release of a line', ['v4.3.0'], helmLine, ['4', '3'], { '4': '4.3.0' }],
  ] as const)('%s', (_name, tags, line, lines, expected) => {
    expect(newestPerLine([...tags], line, [...lines])).toEqual(expected);
  });
});

describe('planUpdates', () => {
  const pins = { helm: { '4': '4.3.0', '3': '3.22.0' }, kubectl: { '1.36': '1.36.3', '1.35': '1.35.2' }, defaultKubectl: '1.36.3' };
  test.each([
    ['nothing newer', ['v4.3.0', 'v3.22.0'], ['v1.36.3'], []],
    ['a helm 4 patch', ['v4.3.1', 'v3.22.0'], [], [{ tool: 'helm', line: '4', from: '4.3.0', to: '4.3.1' }]],
    ['both helm lines and a kubectl minor', ['v4.3.2', 'v3.22.1'], ['v1.35.4', 'v1.34.9'], [
      { tool: 'helm', line: '3', from: '3.22.0', to: '3.22.1' },
      { tool: 'helm', line: '4', from: '4.3.0', to: '4.3.2' },
      { tool: 'kubectl', line: '1.35', from: '1.35.2', to: '1.35.4' },
    ]],
    ['never backwards (a withdrawn release)', ['v4.2.9'], ['v1.36.1'], []],
    ['a new minor is not a patch of a pinned line', ['v4.4.0'], ['v1.37.0'], [{ tool: 'helm', line: '4', from: '4.3.0', to: '4.4.0' }]],
  ] as const)('%s', (_name, helm, kube, expected) => {
    expect(planUpdates(pins, [...helm], [...kube])).toEqual(expected);
  });
});

test.each([
  [{ tool: 'helm', line: '4', from: '4.3.0', to: '4.3.1' }, 'https://get.helm.sh/helm-v4.3.1-linux-amd64.tar.gz.sha256sum'],
  [{ tool: 'kubectl', line: '1.36', from: '1.36.3', to: '1.36.4' }, 'https://dl.k8s.io/release/v1.36.4/bin/linux/amd64/kubectl.sha256'],
] as const)('checksumUrl %o', (u, expected) => {
  expect(checksumUrl(u, { helm: 'https://get.helm.sh', kubectl: 'https://dl.k8s.io/release' })).toBe(expected);
});

test.each([
  [`${SHA('a')}  helm-v4.3.1-linux-amd64.tar.gz\n`, SHA('a')],
  [SHA('B'), SHA('b')],
  ['<?xml version="1.0"?><Error>BlobNotFound</Error>', undefined],
  [`${SHA('a')}x`, undefined],
])('parseSha256 %#', (text, expected) => {
  expect(parseSha256(text)).toBe(expected);
});

describe('applyUpdates rewrites the real sources', () => {
  test('helm lines, a kubectl minor and the default kubectl; the result reads back as the new pins', () => {
    const src = real();
    const before = readPins(src);
    const updates = [
      { tool: 'helm', line: '4', from: before.helm['4']!, to: '4.9.1' },
      { tool: 'helm', line: '3', from: before.helm['3']!, to: '3.99.1' },
      { tool: 'kubectl', line: '1.36', from: before.kubectl['1.36']!, to: '1.36.99' },
    ] as const;
    const out = applyUpdates(src, [...updates], { 'helm 4.9.1': SHA('1'), 'helm 3.99.1': SHA('2'), 'kubectl 1.36.99': SHA('3') });
    const after = readPins(out);
    expect(after.helm).toEqual({ '4': '4.9.1', '3': '3.99.1' });
    expect(after.kubectl['1.36']).toBe('1.36.99');
    expect(after.kubectl['1.35']).toBe(before.kubectl['1.35']);
    expect(after.defaultKubectl).toBe(before.defaultKubectl === before.kubectl['1.36'] ? '1.36.99' : before.defaultKubectl);
    expect(out.tools).toContain(`'helm 4.9.1 linux-amd64': { archive: '${SHA('1')}' },`);
    expect(out.tools).toContain(`'kubectl 1.36.99 linux-amd64': { archive: '${SHA('3')}' },`);
    expect(out.action).toContain("default: '4.9.1'");
    expect(out.action).toContain('(4.9.1 / 3.99.1)');
    expect(out.action).not.toContain(`default: '${before.helm['4']}'`);
  });

  test('an update without its checksum is refused', () => {
    expect(() => applyUpdates(real(), [{ tool: 'helm', line: '4', from: '4.3.0', to: '4.3.1' }], {})).toThrow('no sha256 for helm 4.3.1');
  });
});

test('describeUpdates: a title naming the versions and a table with each pin and its source', () => {
  const u = [{ tool: 'helm', line: '4', from: '4.3.0', to: '4.3.1' }] as const;
  const d = describeUpdates([...u], { 'helm 4.3.1': SHA('c') }, { 'helm 4.3.1': 'https://get.helm.sh/x.sha256sum' });
  expect(d.title).toBe('helm-deploy-eks: helm 4.3.1');
  expect(d.body).toContain(`| helm | 4 | 4.3.0 | 4.3.1 | \`${SHA('c')}\` | https://get.helm.sh/x.sha256sum |`);
  expect(readFileSync(join(root, 'actions/helm-deploy-eks/src/helm-support.ts'), 'utf8')).toContain('HELM_ADVISORIES');
});
