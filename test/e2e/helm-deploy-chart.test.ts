/**
 * The argv builders of helm-deploy-eks against real helm 3 and helm 4 and the sample
 * chart: lint and template for every environment's values, with the image pinned by digest.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, test } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { helmLintArgs, helmTemplateArgs, parseHelmMajor, valuesLayers, type ChartValues } from '@deploy-actions/chart';
import { parseManifests, renderedContainers } from '../../actions/helm-deploy-eks/src/manifests';
import { judgeRender } from '../../actions/helm-deploy-eks/src/render-check';
import { repoRoot } from '../harness/runner';
import { ensureKubeTools, type KubeTools } from '../tools/kube-binaries';

const run = promisify(execFile);
const CHART = join(repoRoot, 'test/fixtures/sample-service/chart');
const DIGEST = `sha256:${'c'.repeat(64)}`;
const environments = readdirSync(CHART)
  .map((f) => /^values-(.+)\.ya?ml$/.exec(f)?.[1])
  .filter((e): e is string => !!e)
  .sort();

let tools: KubeTools;
beforeAll(async () => {
  tools = await ensureKubeTools();
}, 300_000);

describe.each(['helm3', 'helm4'] as const)('%s', (which) => {
  test('major version detection', async () => {
    const { stdout } = await run(tools[which], ['version', '--template', '{{.Version}}']);
    expect(parseHelmMajor(stdout)).toBe(which === 'helm3' ? 3 : 4);
  });

  test('there are environments to check', () => expect(environments.length).toBeGreaterThanOrEqual(3));

  test.each([...environments, ''])('environment %s lints and renders with the pinned image', async (env) => {
    const values: ChartValues = {
      chart: CHART,
      namespace: 'shop',
      valuesFiles: valuesLayers(CHART, env, [], existsSync),
      setStrings: [
        ['image.repository', '127.0.0.1:5000/sample-service'],
        ['image.digest', DIGEST],
        ['podAnnotations.deploy-actions/commit', '0123456789abcdef0123456789abcdef01234567'],
      ],
    };
    if (env) expect(values.valuesFiles).toEqual([join(CHART, `values-${env}.yaml`)]);
    const lint = await run(tools[which], helmLintArgs(values));
    expect(lint.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    const { stdout } = await run(tools[which], helmTemplateArgs('web', values));
    const docs = parseAllDocuments(stdout).map((d) => d.toJSON()).filter(Boolean);
    const deployment = docs.find((d) => d.kind === 'Deployment');
    expect(deployment).toBeDefined();
    const container = deployment.spec.template.spec.containers[0];
    expect(container.image).toBe(`127.0.0.1:5000/sample-service@${DIGEST}`);
    expect(deployment.spec.template.metadata.annotations['deploy-actions/commit']).toBe('0123456789abcdef0123456789abcdef01234567');
    // Hooks and tests are rendered too, so that the render check sees their images.
    expect(docs.filter((d) => d.metadata?.annotations?.['helm.sh/hook']).map((d) => d.kind)).toContain('Pod');
    const verdict = judgeRender(renderedContainers(parseManifests(stdout)), { repository: '127.0.0.1:5000/sample-service', digest: DIGEST });
    expect(verdict.ok).toBe(true);
  });

  test('a broken chart fails lint', async () => {
    const values: ChartValues = { chart: CHART, namespace: 'shop', valuesFiles: [], setStrings: [['replicaCount', 'many']] };
    const lint = await run(tools[which], [...helmLintArgs(values), '--strict']).catch((e) => e as { code: number; stdout: string });
    expect((lint as { code?: number }).code).not.toBe(0);
  });
});
