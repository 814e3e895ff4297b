/**
 * `npm run main -- --service test/fixtures/orders-service --short`: a chart with its registry apart
 * (image.registry defaulting to docker.io) through build once, QA, preprod, production and the
 * redeploy.
 */
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { dockerAvailable } from '../harness/docker';
import { repoRoot } from '../harness/runner';
import { mainJob, whatRanWhere } from '../pipeline/main-job';

const hasDocker = await dockerAvailable();

test.skipIf(!hasDocker)('--service --short rehearses a chart with its registry apart (image.registry defaulting to docker.io): the pods run the pinned reference', async () => {
  const { code, out } = await mainJob('--service', join(repoRoot, 'test/fixtures/orders-service'), '--short');
  expect(code, out.slice(-6000)).toBe(0);
  expect(out).toContain('(its own deploy.yml, the starter redeploy.yml)');
  expect(out).toContain('Every outcome is as expected.');
  const rows = whatRanWhere(out);
  expect(rows.map((r) => `${r[0]!.split('.')[0]}:${r[2]}:${r[3]}`)).toEqual(['1:qa:success', '2:preprod:success', '2:production:success', '4:production:success']);
  // image.registry got the registry host and image.repository the path: not docker.io/<host>/...
  expect(out).toMatch(/^ {2}production pods run: 127\.0\.0\.1:\d+\/acme\/orders@sha256:[0-9a-f]{64}$/m);
  expect(out).toMatch(/^ {2}qa pods run: 127\.0\.0\.1:\d+\/acme\/orders@sha256:[0-9a-f]{64}$/m);
}, 900_000);
