/**
 * The table of image layouts in docs/helm-deploy-eks.md, as it stands there: each row's inputs,
 * read by helm-deploy-eks's own input parsing, against real `helm template` (helm 3 and 4) of
 * its small chart in test/fixtures/image-layouts/, through the action's render phase. Each
 * renders exactly the pinned reference; with the default keys instead, every other layout is
 * refused before any cluster request, and the one line names that row's keys.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { exec, Inputs as Raw, mapInputs, realPathFs, recordingIO } from '@deploy-actions/action-kit';
import type { Deps } from '../../actions/helm-deploy-eks/src/context';
import { keysText, normalizeImage, normalText } from '@deploy-actions/chart';
import { getInputs, imageKeysOf, type Inputs } from '../../actions/helm-deploy-eks/src/inputs';
import { renderedContainers } from '../../actions/helm-deploy-eks/src/manifests';
import { chartValues, renderChart } from '../../actions/helm-deploy-eks/src/render';
import { repoRoot } from '../harness/runner';
import { ensureKubeTools, type KubeTools } from '../tools/kube-binaries';

const FIXTURES = 'test/fixtures/image-layouts';
const D = `sha256:${'c0'.repeat(32)}`;

interface Row {
  layout: string;
  chart: string;
  inputs: Record<string, string>;
}

/** The rows of the table under "## Image layouts": fixture chart name and `input: value` pairs. */
function layoutTable(): Row[] {
  const doc = readFileSync(join(repoRoot, 'docs/helm-deploy-eks.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Image layouts'), doc.indexOf('\n## ', doc.indexOf('## Image layouts') + 1));
  return section
    .split('\n')
    .filter((l) => /^\| .* \| `[a-z-]+` \| .* \|$/.test(l))
    .map((l) => {
      const [layout, chart, inputs] = l.split(' | ').map((c) => c.replace(/^\| |\|$/g, '').trim());
      const pairs = [...inputs!.matchAll(/`([a-z-]+): ([^`]+)`/g)].map((m) => [m[1]!, m[2]!]);
      return { layout: layout!, chart: chart!.replace(/`/g, ''), inputs: Object.fromEntries(pairs) };
    });
}

const rows = layoutTable();

const images = [
  ['an ECR image', '123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/orders'],
  ['a local registry with a port', '127.0.0.1:5000/payments/ledger'],
  ['an official Docker Hub image', 'busybox'],
] as const;

let tools: KubeTools;
beforeAll(async () => {
  tools = await ensureKubeTools();
}, 300_000);

function read(row: Row, repository: string, keys: Record<string, string>): Inputs {
  const raw = { release: 'orders', namespace: 'shop', 'cluster-name': 'c', 'aws-region': 'eu-west-1', chart: join(FIXTURES, row.chart), image: `${repository}@${D}`, ...keys };
  return getInputs(new Raw(mapInputs(raw)), { workspace: repoRoot, exists: existsSync, ...realPathFs, envRegion: 'eu-west-1' });
}

function deps(): Deps {
  const readFile = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8') : undefined);
  return { io: recordingIO(), exec, exists: existsSync, readFile, github: { sha: '0123456789abcdef0123456789abcdef01234567' } } as unknown as Deps;
}

test('the docs table lists every fixture chart once', () => {
  expect(rows.map((r) => r.chart).sort()).toEqual(['nested-keys', 'repository-digest', 'split-registry', 'whole-reference']);
});

describe.each(['helm3', 'helm4'] as const)('%s', (which) => {
  const helm = () => (which === 'helm3' ? tools.helm3 : tools.newest.helm4);

  describe.each(rows.map((r) => [r.chart, r] as const))('%s', (_, row) => {
    test.each(images)('its inputs render exactly the pinned reference of %s', async (_, repository) => {
      const inputs = read(row, repository, row.inputs);
      const d = deps();
      const rendered = await renderChart(inputs, d, helm(), chartValues(inputs, d));
      const want = normalText(normalizeImage(`${repository}@${D}`)!);
      const got = renderedContainers(rendered.objects).map((c) => normalText(normalizeImage(c.image)!));
      expect(got.length).toBeGreaterThan(0);
      expect(new Set(got)).toEqual(new Set([want]));
    });

    test.skipIf(Object.keys(row.inputs).length === 0)('the default keys are refused before the cluster, naming its keys', async () => {
      const inputs = read(row, images[0][1], {});
      const d = deps();
      const err = await renderChart(inputs, d, helm(), chartValues(inputs, d)).then(
        () => undefined,
        (e: Error) => e,
      );
      if (process.env.SHOW_LINES) console.log(err?.message);
      expect(err?.message).toMatch(/^The chart /);
      expect(err?.message.split('\n')).toHaveLength(1);
      expect(err?.message).toContain('values keys set: image-repository-key: image.repository, image-digest-key: image.digest');
      const keys = keysText(imageKeysOf(read(row, images[0][1], row.inputs)));
      expect(err?.message).toContain(`these keys render it: ${keys}`);
    });
  });
});
