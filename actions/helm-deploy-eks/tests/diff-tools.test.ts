import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { unifiedDiff } from '../src/diff';
import { helmDownload, kubectlDownload, kubectlVersionFor, parseChecksumFile, sha256File } from '../src/tools';

describe('unifiedDiff', () => {
  test('equal texts give nothing', () => expect(unifiedDiff('a\nb\n', 'a\nb\n', 'x', 'y')).toBe(''));
  test('one changed line with context', () => {
    const a = ['1', '2', '3', '4', '5', '6', '7', '8', '9'].join('\n') + '\n';
    const b = a.replace('5', 'five');
    expect(unifiedDiff(a, b, 'live', 'new')).toBe(
      ['--- live', '+++ new', '@@ -2,7 +2,7 @@', ' 2', ' 3', ' 4', '-5', '+five', ' 6', ' 7', ' 8', ''].join('\n'),
    );
  });
  test('from nothing', () => {
    expect(unifiedDiff('', 'a\nb\n', 'live', 'new')).toBe(['--- live', '+++ new', '@@ -0,0 +1,2 @@', '+a', '+b', ''].join('\n'));
  });
  test('two distant hunks', () => {
    const a = Array.from({ length: 20 }, (_, i) => `l${i}`).join('\n');
    const b = a.replace('l2\n', 'L2\n').replace('l17', 'L17');
    const d = unifiedDiff(a, b, 'a', 'b');
    expect(d.match(/^@@/gm)).toHaveLength(2);
    expect(d).toContain('@@ -1,6 +1,6 @@');
    expect(d).toContain('@@ -15,6 +15,6 @@');
  });
});

describe('tool downloads', () => {
  test.each([
    [helmDownload('https://get.helm.sh', '4.1.4', 'amd64'), 'https://get.helm.sh/helm-v4.1.4-linux-amd64.tar.gz', 'https://get.helm.sh/helm-v4.1.4-linux-amd64.tar.gz.sha256sum'],
    [kubectlDownload('https://dl.k8s.io/release', '1.35.2', 'amd64'), 'https://dl.k8s.io/release/v1.35.2/bin/linux/amd64/kubectl', 'https://dl.k8s.io/release/v1.35.2/bin/linux/amd64/kubectl.sha256'],
    [kubectlDownload('http://mirror:8080/k8s', '1.33.5', 'arm64'), 'http://mirror:8080/k8s/v1.33.5/bin/linux/arm64/kubectl', 'http://mirror:8080/k8s/v1.33.5/bin/linux/arm64/kubectl.sha256'],
  ])('%o', (d, url, sum) => {
    expect(d.url).toBe(url);
    expect(d.checksumUrl).toBe(sum);
  });
  test.each([
    [`${'a'.repeat(64)}  helm-v4.1.4-linux-amd64.tar.gz\n`, 'a'.repeat(64)],
    [`${'B'.repeat(64)}`, 'b'.repeat(64)],
    ['<html>404</html>', undefined],
    [`${'a'.repeat(63)}`, undefined],
  ])('checksum file %s', (text, want) => expect(parseChecksumFile(text)).toBe(want));
  test.each([
    ['', '1.33', '1.33.5'],
    ['', '1.35', '1.35.2'],
    ['', '1.99', '1.36.3'],
    ['', '1.36', '1.36.3'],
    ['', undefined, '1.36.3'],
    ['1.30.1', '1.35', '1.30.1'],
  ])('kubectl version requested %s cluster %s', (req, cluster, want) => expect(kubectlVersionFor(req, cluster)).toBe(want));
  test('sha256File', async () => {
    const f = join(mkdtempSync(join(tmpdir(), 'sha-')), 'x');
    writeFileSync(f, 'abc');
    expect(await sha256File(f)).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
