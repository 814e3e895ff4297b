import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import YAML from 'yaml';
import { repoRoot } from '../harness/runner';
import { editsOf, editStarter } from './service-repo';

const starter = (file: string) => readFileSync(join(repoRoot, 'workflows', file), 'utf8');
const ledgerDeploy = readFileSync(join(repoRoot, 'test/fixtures/ledger-service/.github/workflows/deploy.yml'), 'utf8');
const ordersDeploy = readFileSync(join(repoRoot, 'test/fixtures/orders-service/.github/workflows/deploy.yml'), 'utf8');

describe('the starters as a team edits them', () => {
  const edits = {
    ecrRepository: 'payments/ledger',
    release: 'ledger',
    chart: 'deploy/chart',
    imageRegistryKey: 'container.image.registry',
    imageRepositoryKey: 'container.image.repo',
    imageDigestKey: 'container.image.ref',
    imageTagKey: 'container.image.tag',
    imageReferenceKey: "''",
    imageRepository: '127.0.0.1:5000/payments/ledger',
    releaseCard: "${{ inputs.environment == 'production' }}",
  };

  test.each(['deploy.yml', 'redeploy.yml', 'rollback.yml'])('%s: every value marked EDIT is the team\'s', (file) => {
    const text = editStarter(starter(file), edits);
    expect(text).not.toMatch(/my-team|my-service|123456789012/);
    const edited = text.split('\n').filter((l) => /# EDIT/.test(l));
    expect(edited.length).toBeGreaterThan(2);
    for (const l of edited) expect(Object.values(edits).some((v) => l.includes(`: ${v} `))).toBe(true);
    expect(() => YAML.parse(text)).not.toThrow();
  });

  test('a team\'s own deploy.yml gives the values of its pipeline call', () => {
    expect(editsOf(ledgerDeploy)).toEqual({
      ecrRepository: 'payments/ledger',
      release: 'ledger',
      chart: 'chart',
      imageRepositoryKey: 'container.image.repo',
      imageDigestKey: 'container.image.ref',
    });
    // The split-registry chart's keys reach the starters the rehearsal fills in (redeploy, rollback).
    const orders = editsOf(ordersDeploy);
    expect(orders).toMatchObject({ imageRegistryKey: 'image.registry', imageRepositoryKey: 'image.repository', imageDigestKey: 'image.digest', imageTagKey: 'image.tag' });
    const call = (YAML.parse(editStarter(starter('rollback.yml'), { ...edits, ...orders })) as { jobs: { rollback: { with: Record<string, string> } } }).jobs.rollback.with;
    expect(call).toMatchObject({ 'image-registry-key': 'image.registry', 'image-tag-key': 'image.tag', 'image-reference-key': '' });
    expect(editsOf(starter('deploy.yml'))).toMatchObject({ ecrRepository: 'my-team/my-service', imageDigestKey: 'image.digest', imageRegistryKey: "''" });
  });

  test('a whole-reference key clears the starters\' repository and digest keys', () => {
    const own = 'jobs:\n  pipeline:\n    uses: org/deploy-actions/.github/workflows/pipeline.yml@v1\n    with:\n      repository: a/b\n      image-reference-key: app.image\n';
    const edits = editsOf(own);
    expect(edits).toMatchObject({ imageReferenceKey: 'app.image', imageRepositoryKey: "''", imageDigestKey: "''" });
    const text = editStarter(starter('redeploy.yml'), { ecrRepository: 'a/b', release: 'b', ...edits });
    const call = (YAML.parse(text) as { jobs: { redeploy: { with: Record<string, string> } } }).jobs.redeploy.with;
    expect(call).toMatchObject({ 'image-reference-key': 'app.image', 'image-repository-key': '', 'image-digest-key': '', 'image-registry-key': '' });
  });
});
