/**
 * Build provenance against the real registry (Debian's docker-registry, no referrers API) behind
 * the ECR stand-in's front: the artifact and the sha256-<hex> tag are pushed with a
 * GetAuthorizationToken token, read back, written once (immutable tag) and judged.
 */
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CreateRepositoryCommand, ECRClient } from '@aws-sdk/client-ecr';
import { checkProvenance, ecrRegistry, encodeProvenance, fallbackTag, findProvenance, getManifest, pushProvenance, signEnvelope } from '@deploy-actions/aws/provenance';
import { startRegistry, type Registry } from '../../harness/registry';
import { pushImage } from '../../harness/oci-push';
import { IamStore } from '../iam/index';
import { startEcrStandin, type EcrStandin } from './index';

const BUILD = '111111111111';
let registry: Registry;
let ecr: EcrStandin;
const iam = new IamStore();

beforeAll(async () => {
  iam.addRole({ account: BUILD, name: 'build', policies: [{ Statement: [{ Effect: 'Allow', Action: ['ecr:*'], Resource: '*' }] }] });
  registry = await startRegistry();
  ecr = await startEcrStandin({ registry, iam, accountId: BUILD });
});
afterAll(async () => {
  await ecr?.stop();
  await registry?.stop();
});

test('no referrers API: pushed as an artifact plus the sha256-<hex> tag, found there, written once', async () => {
  const id = iam.issueCredentials(`arn:aws:iam::${BUILD}:role/build`, 'gha');
  const client = new ECRClient({ region: 'eu-west-1', endpoint: ecr.url, credentials: id, maxAttempts: 1 });
  await client.send(new CreateRepositoryCommand({ repositoryName: 'acme/prov', imageTagMutability: 'IMMUTABLE' }));
  const digest = await pushImage(registry, 'acme/prov', 'abc1234', 'provenance');
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keys = { sign: async (_k: string, m: Buffer) => sign('sha256', m, privateKey) };
  const facts = {
    digest,
    ecrRepository: 'acme/prov',
    contentKey: '',
    commit: 'abc1234'.padEnd(40, '0'),
    githubRepository: 'acme/prov',
    workflowRef: 'org/deploy-actions/.github/workflows/build.yml@refs/heads/main',
    runUrl: 'https://github.com/acme/prov/actions/runs/1/attempts/1',
    time: '2026-12-07T18:00:00Z',
  };
  const envelope = Buffer.from(JSON.stringify(await signEnvelope(keys, 'k', encodeProvenance(facts))));

  const reg = await ecrRegistry(client, BUILD);
  const stored = await pushProvenance(reg, 'acme/prov', digest, envelope, facts.time);
  expect(stored.via).toBe('tag');
  expect(JSON.parse((await getManifest(reg, 'acme/prov', fallbackTag(digest)))!.body.toString()).manifests[0].digest).toBe(stored.artifact);
  expect((await pushProvenance(reg, 'acme/prov', digest, envelope, facts.time)).via).toBe('tag-kept');
  const other = Buffer.from(JSON.stringify(await signEnvelope(keys, 'k', encodeProvenance({ ...facts, time: '2026-12-07T18:05:00Z' }))));
  await expect(pushProvenance(reg, 'acme/prov', digest, other, facts.time)).rejects.toThrow(/already lists other artifacts .* immutable/);

  const found = await findProvenance(reg, 'acme/prov', digest);
  expect(found).toMatchObject({ via: 'tag', envelopes: [{ artifact: stored.artifact }], skipped: [] });
  const ok = await checkProvenance(reg, (m, s) => verify('sha256', m, publicKey, s), { digest, ecrRepository: 'acme/prov', githubRepository: 'acme/prov', commit: facts.commit });
  expect(ok).toMatchObject({ ok: true });
});
