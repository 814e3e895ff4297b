import { describe, expect, test } from 'vitest';
import { chainMermaid } from '../src/card/chain';
import { commitRange, pullRequestOf, type Comparison } from '../src/card/commits';
import { cardHash } from '../src/card/hash';
import { compareImages, compareScans, findingsOf, parseManifest, pickPlatform, severityLine, type Finding } from '../src/card/image';
import { compareManifests, HIDDEN, limitDiff, parseRendered } from '../src/card/manifests';
import { age, fenced, plain } from '../src/card/markdown';
import { getCardInputs } from '../src/card/inputs';
import type { Release } from '../src/releases';
import { runningCard } from '../src/status';
import { helmRender } from '../src/card/sources';
import { join } from 'node:path';
import { Inputs as Raw, mapInputs, runContextFrom, type Exec } from '@deploy-actions/action-kit';
import { repoRoot } from '../../../test/harness/runner';

const deployment = (replicas: number, image: string, cpu = '100m') => `---
# Source: web/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: ${replicas}
  template:
    spec:
      containers:
        - name: web
          image: ${image}
          resources:
            requests:
              cpu: ${cpu}
`;
const secret = (password: string, extra = '') => `---
apiVersion: v1
kind: Secret
metadata:
  name: db
type: Opaque
data:
  password: ${password}
  user: YWRtaW4=${extra}
`;
const configMap = (name: string, value = 'a') => `---
apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
data:
  key: ${value}
`;

describe('manifest comparison', () => {
  test.each([
    ['nothing changes', deployment(2, 'r@sha256:aa'), deployment(2, 'r@sha256:aa'), { added: 0, changed: 0, removed: 0, unchanged: 1 }],
    ['first deploy: everything added', '', deployment(2, 'r@sha256:aa') + configMap('cfg'), { added: 2, changed: 0, removed: 0, unchanged: 0 }],
    ['an object removed', deployment(2, 'r@sha256:aa') + configMap('old'), deployment(2, 'r@sha256:aa'), { added: 0, changed: 0, removed: 1, unchanged: 1 }],
    ['replicas and image change', deployment(2, 'r@sha256:aa'), deployment(3, 'r@sha256:bb'), { added: 0, changed: 1, removed: 0, unchanged: 0 }],
    ['only the # Source comment moved', deployment(2, 'r@sha256:aa'), deployment(2, 'r@sha256:aa').replace('templates/deployment.yaml', 'templates/web.yaml'), { added: 0, changed: 0, removed: 0, unchanged: 1 }],
  ])('%s', (_name, before, after, counts) => {
    const c = compareManifests(parseRendered(before, 'default'), parseRendered(after, 'default'));
    expect({ added: c.added.length, changed: c.changed.length, removed: c.removed.length, unchanged: c.unchanged }).toEqual(counts);
  });

  test('replicas, image and resources are counted per workload container', () => {
    const c = compareManifests(parseRendered(deployment(2, 'r@sha256:aa'), 'default'), parseRendered(deployment(3, 'r@sha256:bb', '200m'), 'default'));
    expect(c.replicas).toEqual([{ id: 'Deployment/web', from: 2, to: 3 }]);
    expect(c.images).toEqual([{ id: 'Deployment/web', container: 'web', from: 'r@sha256:aa', to: 'r@sha256:bb' }]);
    expect(c.resources.map((r) => r.id)).toEqual(['Deployment/web']);
    expect(c.patches[0]!.patch).toMatch(/^--- a\/Deployment\/web\n\+\+\+ b\/Deployment\/web\n@@/);
    expect(c.patches[0]!.patch).toContain('-  replicas: 2\n+  replicas: 3');
  });

  test.each([
    ['a value changed', secret('c2VjcmV0MQ=='), secret('c2VjcmV0Mg=='), { changed: ['password'], added: [], removed: [] }],
    ['a key added', secret('c2VjcmV0MQ=='), secret('c2VjcmV0MQ==', '\n  token: dG9rZW4='), { changed: [], added: ['token'], removed: [] }],
    ['a key removed', secret('c2VjcmV0MQ==', '\n  token: dG9rZW4='), secret('c2VjcmV0MQ=='), { changed: [], added: [], removed: ['token'] }],
  ])('Secret, %s: keys only, never a value', (_name, before, after, keys) => {
    const c = compareManifests(parseRendered(before, 'default'), parseRendered(after, 'default'));
    expect(c.changed).toEqual(['Secret/db']);
    expect(c.secrets).toEqual([{ id: 'Secret/db', ...keys }]);
    const everything = JSON.stringify(c);
    for (const value of ['c2VjcmV0MQ==', 'c2VjcmV0Mg==', 'YWRtaW4=', 'dG9rZW4=']) expect(everything).not.toContain(value);
    // Only keys added or removed make a text change, and the text shows the placeholder.
    for (const p of c.patches) expect(p.patch).toContain(HIDDEN);
    expect(c.patches.length).toBe(keys.changed.length ? 0 : 1);
  });

  test('stringData values are hidden too, and a namespace other than the release is part of the id', () => {
    const text = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: other\nstringData:\n  api: hunter2\n`;
    const [o] = parseRendered(text, 'default');
    expect(o!.id).toBe('Secret/other/s');
    expect(o!.text).not.toContain('hunter2');
  });

  test.each([
    ['everything fits', 100_000, 0],
    ['cut at a line boundary, the rest counted', 300, 1],
  ])('limitDiff: %s', (_name, budget, cut) => {
    const objects = Array.from({ length: 5 }, (_, i) => configMap(`cm-${i}`)).join('');
    const changed = Array.from({ length: 5 }, (_, i) => configMap(`cm-${i}`, 'b')).join('');
    const c = compareManifests(parseRendered(objects, 'default'), parseRendered(changed, 'default'));
    const d = limitDiff(c.patches, budget);
    expect(Buffer.byteLength(d.text)).toBeLessThanOrEqual(budget);
    const total = c.patches.map((p) => p.patch.split('\n').length).reduce((a, b) => a + b, 0);
    expect(d.text.split('\n').length + d.omittedLines).toBe(total);
    expect(d.omittedObjects.length > 0).toBe(cut > 0);
  });
});

describe('commits', () => {
  const commit = (sha: string, message: string, login?: string) => ({ sha, commit: { message, author: { name: 'Git Name', date: '2026-12-01T00:00:00Z' } }, author: login ? { login } : null });
  const cmp = (status: Comparison['status'], commits: Comparison['commits'], ahead = commits.length, behind = 0): Comparison => ({ status, ahead_by: ahead, behind_by: behind, total_commits: commits.length, commits });

  test.each([
    ['Merge pull request #12 from acme/feature', 12],
    ['Fix the thing (#34)', 34],
    ['Fix the thing (#34)\n\nbody (#99)', 34],
    ['A plain commit', undefined],
    ['Mentions #5 in the middle', undefined],
  ])('pull request of %j', (message, pr) => expect(pullRequestOf(message)).toBe(pr));

  test.each([
    ['first deploy', undefined, undefined, 'first', 0],
    ['same commit', cmp('identical', []), undefined, 'same', 0],
    ['forward', cmp('ahead', [commit('a'.repeat(40), 'one', 'alice'), commit('b'.repeat(40), 'two (#2)')]), undefined, 'forward', 2],
    ['rollback', cmp('behind', [], 0, 3), cmp('ahead', [commit('c'.repeat(40), 'x'), commit('d'.repeat(40), 'y'), commit('e'.repeat(40), 'z')]), 'rollback', 3],
    ['diverged', cmp('diverged', [commit('f'.repeat(40), 'hotfix')], 1, 2), undefined, 'diverged', 1],
  ] as const)('%s', (_name, forward, backward, direction, total) => {
    const r = commitRange(forward as Comparison | undefined, backward as Comparison | undefined);
    expect(r.direction).toBe(direction);
    expect(r.total).toBe(total);
  });

  test('newest first, login before the git name, PR from the title', () => {
    const r = commitRange(cmp('ahead', [commit('a'.repeat(40), 'one', 'alice'), commit('b'.repeat(40), 'two (#2)')]));
    expect(r.commits.map((c) => [c.sha[0], c.author, c.pr])).toEqual([
      ['b', 'Git Name', 2],
      ['a', 'alice', undefined],
    ]);
  });
});

describe('image', () => {
  const manifest = (layers: Array<[string, number]>) => JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { size: 100, digest: 'sha256:c' }, layers: layers.map(([d, size]) => ({ digest: d, size })) });
  test('size is config plus layers; new and dropped layers by digest', () => {
    const a = parseManifest(manifest([['sha256:1', 1000], ['sha256:2', 500]]));
    const b = parseManifest(manifest([['sha256:1', 1000], ['sha256:3', 700]]));
    if (!('image' in a) || !('image' in b)) throw new Error('not images');
    expect(a.image.size).toBe(1600);
    expect(compareImages(a.image, b.image)).toMatchObject({ sizeDelta: 200, newLayers: 1, newBytes: 700, droppedLayers: 1 });
    expect(compareImages(undefined, b.image)).toMatchObject({ newLayers: 2, newBytes: 1700, droppedLayers: 0 });
  });
  test.each([
    [[{ digest: 'sha256:arm', platform: 'linux/arm64' }, { digest: 'sha256:amd', platform: 'linux/amd64' }], 'sha256:amd'],
    [[{ digest: 'sha256:att', platform: 'unknown/unknown' }, { digest: 'sha256:arm', platform: 'linux/arm64/v8' }], 'sha256:arm'],
    [[], undefined],
  ])('an index picks %j -> %s', (index, digest) => expect(pickPlatform(index)?.digest).toBe(digest));
  test('an index is read as one', () => {
    const p = parseManifest(JSON.stringify({ mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ digest: 'sha256:x', platform: { os: 'linux', architecture: 'amd64' } }] }));
    expect(p).toEqual({ index: [{ digest: 'sha256:x', platform: 'linux/amd64' }] });
  });

  const f = (id: string, severity: Finding['severity']): Finding => ({ id, severity });
  test.each([
    ['nothing running: every finding is new', undefined, [f('CVE-1', 'HIGH')], 'new 1 HIGH; fixed none'],
    ['one fixed, one new', [f('CVE-1', 'HIGH'), f('CVE-2', 'LOW')], [f('CVE-2', 'LOW'), f('CVE-3', 'CRITICAL')], 'new 1 CRITICAL; fixed 1 HIGH'],
    ['no findings at all', [], [], 'new none; fixed none'],
  ])('scans: %s', (_name, running, candidate, line) => {
    const c = compareScans(running, candidate);
    expect(`new ${severityLine(c.added)}; fixed ${severityLine(c.fixed)}`).toBe(line);
  });
  test('basic and enhanced findings', () => {
    expect(
      findingsOf({
        imageScanFindings: {
          findings: [
            { name: 'CVE-1', severity: 'HIGH' },
            { name: 'CVE-3', severity: 'LOW', attributes: [{ key: 'package_version', value: '1.2' }, { key: 'package_name', value: 'zlib' }] },
          ],
          enhancedFindings: [{ severity: 'critical', packageVulnerabilityDetails: { vulnerabilityId: 'CVE-2', vulnerablePackages: [{ name: 'openssl' }] } }],
        },
      }),
    ).toEqual([
      { id: 'CVE-1', severity: 'HIGH' },
      { id: 'CVE-3', severity: 'LOW', package: 'zlib' },
      { id: 'CVE-2', severity: 'CRITICAL', package: 'openssl' },
    ]);
  });
});

describe('text from outside', () => {
  test.each([
    ['line\n::error::x', 'line ::error::x'],
    ['<img src=x onerror=alert(1)>', '\\<img src=x onerror=alert(1)\\>'],
    ['[click](https://evil)', '\\[click\\](https://evil)'],
    ['a|b', 'a\\|b'],
    ['`code`', '\\`code\\`'],
  ])('plain(%j)', (raw, shown) => expect(plain(raw)).toBe(shown));
  test('a fence no line can close', () => {
    expect(fenced('a\n````\nb', 'diff')).toMatch(/^`{5}diff\n[\s\S]*\n`{5}$/);
  });
  test.each([
    ['2026-12-07T10:00:00Z', '2026-12-07T10:00:30Z', '30s'],
    ['2026-12-07T08:55:00Z', '2026-12-07T10:00:00Z', '1h 5m'],
    ['2026-12-01T10:00:00Z', '2026-12-07T14:00:00Z', '6d 4h'],
    ['not a time', '2026-12-07T14:00:00Z', '?'],
  ])('age %s -> %s = %s', (from, to, shown) => expect(age(from, new Date(to))).toBe(shown));
  test('the chain: labels cannot carry Mermaid syntax, the candidate points at its target', () => {
    const m = chainMermaid(
      [{ environment: 'qa', digest: `sha256:${'a'.repeat(64)}`, since: '2026-12-07T09:00:00Z' }, { environment: 'preprod"]; click e0 call x' }],
      { digest: `sha256:${'b'.repeat(64)}`, commit: 'c'.repeat(40), target: 'preprod"]; click e0 call x', pending: 'preprod reviewers' },
      new Date('2026-12-07T10:00:00Z'),
    );
    expect(m).toContain('e0["qa<br/>aaaaaaaaaaaa, 1h 0m"]');
    expect(m).not.toMatch(/"\];/);
    expect(m).toContain('c -. "awaits preprod reviewers" .-> e1');
  });
  test('the hash is of the exact bytes', () => {
    expect(cardHash('abc')).toBe('sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(cardHash('abc\n')).not.toBe(cardHash('abc'));
  });
});

describe('the chart render sets the image as helm-deploy-eks does (keys read from the same inputs)', () => {
  const HOST = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
  const workspace = join(repoRoot, 'test/fixtures/sample-service');
  const HEAD = 'c'.repeat(40);
  const digest = `sha256:${'d'.repeat(64)}`;
  const env = { GITHUB_REPOSITORY: 'acme/sample-service', GITHUB_SHA: HEAD, GITHUB_WORKSPACE: workspace, GITHUB_API_URL: 'http://api' };
  const cardInputs = (values: Record<string, string>) =>
    getCardInputs(new Raw(mapInputs({ 'image-ref': `${HOST}/team/app@${digest}`, environment: 'production', release: 'sample-service', 'github-token': 't', ...values })), runContextFrom(env), env);
  /** The --set-string pairs helm template is given for the candidate. */
  async function pairs(values: Record<string, string>): Promise<string[]> {
    const spec = cardInputs(values).chart;
    let args: string[] = [];
    const exec: Exec = async (cmd, a) => {
      if (cmd === 'git') return { exitCode: 0, stdout: `${HEAD}\n`, stderr: '' };
      args = [...a];
      return { exitCode: 0, stdout: '', stderr: '' };
    };
    await helmRender({ exec, helm: 'helm', workspace, spec }).render(HEAD, digest);
    return args.flatMap((x, n) => (args[n - 1] === '--set-string' ? [x] : []));
  }
  test.each([
    ['defaults', {}, [`image.repository=${HOST}/team/app`, `image.digest=${digest}`]],
    ['registry split off', { 'image-registry-key': 'image.registry' }, [`image.registry=${HOST}`, 'image.repository=team/app', `image.digest=${digest}`]],
    ['tag cleared', { 'image-tag-key': 'image.tag' }, [`image.repository=${HOST}/team/app`, `image.digest=${digest}`, 'image.tag=']],
    ['a tagged candidate keeps its tag', { 'image-tag-key': 'image.tag', 'image-ref': `${HOST}/team/app:v1.2@${digest}` }, [`image.repository=${HOST}/team/app`, `image.digest=${digest}`, 'image.tag=v1.2']],
    ['one whole reference', { 'image-reference-key': 'app.image' }, [`app.image=${HOST}/team/app@${digest}`]],
    ['keys under other names', { 'image-repository-key': 'container.image.repo', 'image-digest-key': 'container.image.ref' }, [`container.image.repo=${HOST}/team/app`, `container.image.ref=${digest}`]],
  ])('%s', async (_name, values, want) => expect(await pairs(values)).toEqual(want));

  test.each([
    ['a reference key with a repository key', { 'image-reference-key': 'app.image', 'image-repository-key': 'app.repo' }, /image-repository-key.*cannot be combined with image-reference-key/],
    ['keys inside each other', { 'image-repository-key': 'image', 'image-digest-key': 'image.digest' }, /must be a values key of its own/],
  ])('refused as helm-deploy-eks refuses them: %s', (_name, values, message) => expect(() => cardInputs(values)).toThrow(message));
});

describe('the card kept with what runs (pnpm status --card)', () => {
  const CARD = '## Release card: app to production\n\nseen';
  const release = (card: { text: string; signedSha256: string }, signed = true) =>
    ({ deploymentId: 7, environment: 'production', digest: `sha256:${'a'.repeat(64)}`, sha: 'b'.repeat(40), signed, card }) as unknown as Release;
  test.each([
    ['the approved card', release({ text: CARD, signedSha256: cardHash(CARD) }), /^card sha256:[0-9a-f]{64}: the card the reviewers approved/],
    ['another card than the signed hash names', release({ text: `${CARD}!`, signedSha256: cardHash(CARD) }), new RegExp(`^WARNING: this card hashes to sha256:[0-9a-f]{64}, not ${cardHash(CARD)}`)],
    ['a card beside a statement naming none', release({ text: CARD, signedSha256: '' }), /^WARNING: the signed statement names no card/],
    ['an unsigned record', release({ text: CARD, signedSha256: '' }, false), /UNSIGNED record, display only/],
  ])('%s', (_name, running, verdict) => {
    const lines = runningCard([{ environment: 'production', running }], 'Production');
    expect(lines.slice(0, 4)).toEqual([`production runs sha256:${'a'.repeat(64)} (commit bbbbbbb, deployment 7), release card:`, '', '## Release card: app to production', '']);
    expect(lines.at(-1)).toMatch(verdict);
  });
  test('no card kept', () => {
    expect(runningCard([{ environment: 'qa', running: release({ text: '', signedSha256: '' }) }], 'qa')).toEqual([`qa runs sha256:${'a'.repeat(64)} (commit bbbbbbb, deployment 7): no release card kept with its record`]);
  });
});
