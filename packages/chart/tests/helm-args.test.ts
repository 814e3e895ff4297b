import { describe, expect, test } from 'vitest';
import {
  escapeSetValue,
  escapeTypedSetValue,
  helmRollbackArgs,
  helmTemplateArgs,
  helmUpgradeArgs,
  parseHelmMajor,
  planRecovery,
  valuesLayers,
  type HelmMajor,
  type UpgradePlan,
} from '../src/helm-args';

const plan: UpgradePlan = {
  release: 'web',
  chart: '/ws/chart',
  namespace: 'prod',
  createNamespace: false,
  valuesFiles: ['/ws/chart/values-prod.yaml', '/ws/extra.yaml'],
  setStrings: [['image.repository', 'reg/app'], ['image.digest', 'sha256:00']],
  timeout: '5m',
  historyMax: 10,
  rollbackOnFailure: true,
  force: false,
  description: 'commit abc',
  labels: [['deploy-actions/commit', 'abc']],
  kubeContext: '',
};

describe('helmUpgradeArgs', () => {
  test.each<[HelmMajor, Partial<UpgradePlan>, string[], string[]]>([
    [3, {}, ['--wait', '--atomic'], ['--wait=watcher', '--rollback-on-failure', '--force', '--force-replace']],
    [4, {}, ['--wait=watcher', '--rollback-on-failure'], ['--wait', '--atomic', '--force', '--force-replace']],
    [3, { force: true }, ['--force'], ['--force-replace']],
    [4, { force: true }, ['--force-replace'], ['--force']],
    [3, { rollbackOnFailure: false }, ['--wait'], ['--atomic', '--rollback-on-failure']],
    [4, { rollbackOnFailure: false }, ['--wait=watcher'], ['--atomic', '--rollback-on-failure']],
    [4, { createNamespace: true }, ['--create-namespace'], []],
    [3, { createNamespace: false }, [], ['--create-namespace']],
    [4, { kubeContext: 'kind-x' }, ['--kube-context'], []],
  ])('helm %i %o', (major, over, has, hasNot) => {
    const args = helmUpgradeArgs({ ...plan, ...over }, major);
    for (const a of has) expect(args).toContain(a);
    for (const a of hasNot) expect(args).not.toContain(a);
  });

  test('full argv for helm 4, values in order then set-strings', () => {
    expect(helmUpgradeArgs(plan, 4)).toEqual([
      'upgrade', 'web', '/ws/chart', '--install', '--namespace', 'prod',
      '--values', '/ws/chart/values-prod.yaml', '--values', '/ws/extra.yaml',
      '--set-string', 'image.repository=reg/app', '--set-string', 'image.digest=sha256:00',
      '--timeout', '5m', '--history-max', '10', '--wait=watcher', '--rollback-on-failure',
      '--description', 'commit abc', '--labels', 'deploy-actions/commit=abc',
    ]);
  });

  test('template renders hooks and tests (their images are checked) and never touches the cluster flags', () => {
    expect(helmTemplateArgs('web', plan)).toEqual([
      'template', 'web', '/ws/chart', '--namespace', 'prod',
      '--values', '/ws/chart/values-prod.yaml', '--values', '/ws/extra.yaml',
      '--set-string', 'image.repository=reg/app', '--set-string', 'image.digest=sha256:00',
    ]);
  });

  test.each<[HelmMajor, string]>([[3, '--wait'], [4, '--wait=watcher']])('rollback waits (helm %i)', (major, wait) => {
    expect(helmRollbackArgs({ release: 'web', namespace: 'prod', kubeContext: '' }, 3, '2m', major)).toEqual([
      'rollback', 'web', '3', '--namespace', 'prod', wait, '--timeout', '2m', '--history-max', '10',
    ]);
  });
});

describe('values layering', () => {
  const exists = (p: string) => ['/c/values-prod.yaml', '/c/values-qa.yml'].includes(p);
  test.each([
    ['prod', ['/x.yaml'], ['/c/values-prod.yaml', '/x.yaml']],
    ['qa', [], ['/c/values-qa.yml']],
    ['production', [], ['/c/values-prod.yaml']],
    ['Production', [], ['/c/values-prod.yaml']],
    ['QA', [], ['/c/values-qa.yml']],
    ['dev', ['/a.yaml', '/b.yaml'], ['/a.yaml', '/b.yaml']],
    ['', ['/b.yaml', '/a.yaml'], ['/b.yaml', '/a.yaml']],
  ])('environment %s', (env, extra, want) => expect(valuesLayers('/c', env, extra, exists)).toEqual(want));

  test('the file named exactly after the environment wins over its alias', () => {
    const both = (p: string) => ['/c/values-prod.yaml', '/c/values-production.yaml'].includes(p);
    expect(valuesLayers('/c', 'production', [], both)).toEqual(['/c/values-production.yaml']);
    expect(valuesLayers('/c', 'prod', [], both)).toEqual(['/c/values-prod.yaml']);
  });
});

describe('misc', () => {
  test.each([
    ['v4.1.4', 4],
    ['v3.18.0', 3],
    ['3.13.1', 3],
  ])('helm version %s -> %i', (text, major) => expect(parseHelmMajor(text)).toBe(major));
  test('helm 2 is refused', () => expect(() => parseHelmMajor('v2.17.0')).toThrow(/Helm 3 or 4/));
  test('set values escape commas', () => expect(escapeSetValue('a,b\\c')).toBe('a\\,b\\\\c'));
  test.each([
    ['false', 'false'],
    ['a,b', 'a\\,b'],
    ['{a,b}', '{a,b}'],
    ['null', 'null'],
  ])('typed set value %s -> %s', (value, want) => expect(escapeTypedSetValue(value)).toBe(want));
  test('typed --set pairs come before --set-string pairs (helm applies --set-string last)', () => {
    const args = helmTemplateArgs('web', { chart: '/c', namespace: 'n', valuesFiles: [], set: [['migrations.enabled', 'false']], setStrings: [['image.tag', '1.0']] });
    expect(args.slice(-4)).toEqual(['--set', 'migrations.enabled=false', '--set-string', 'image.tag=1.0']);
  });
});

describe('planRecovery', () => {
  test.each([
    [[], { kind: 'none' }],
    [[{ revision: 1, status: 'deployed' }], { kind: 'none' }],
    [[{ revision: 1, status: 'superseded' }, { revision: 2, status: 'failed' }], { kind: 'none' }],
    [[{ revision: 1, status: 'pending-install' }], { kind: 'uninstall', stuckRevision: 1, status: 'pending-install' }],
    [[{ revision: 1, status: 'failed' }], { kind: 'uninstall', stuckRevision: 1, status: 'failed' }],
    [
      [{ revision: 1, status: 'superseded' }, { revision: 2, status: 'deployed' }, { revision: 3, status: 'pending-upgrade' }],
      { kind: 'rollback', stuckRevision: 3, status: 'pending-upgrade', to: 2 },
    ],
    [
      [{ revision: 1, status: 'superseded' }, { revision: 2, status: 'failed' }, { revision: 3, status: 'pending-rollback' }],
      { kind: 'rollback', stuckRevision: 3, status: 'pending-rollback', to: 1 },
    ],
  ])('%o', (history, want) => expect(planRecovery(history)).toEqual(want));
});
