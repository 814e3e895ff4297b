/**
 * The provenance check's content-key fallback (source-proof.ts, `proveProvenance`), through
 * `run` in verify mode: develop's commit D built the image (its statement names D and the tree's
 * content key); main's merge commit M has the same tree, so build-push-ecr reused the image and
 * tagged it with M's build tag too. A redeploy or rollback by M's sha passes no content key: the
 * gate takes the key from the image's tags, and only when the image carries M's own build tag.
 * The statement sits beside the image as build-push-ecr leaves it where the registry has no
 * referrers API (the `sha256-<hex>` tag), served over HTTP; ECR's token and tags come from the fake.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, generateKeyPairSync, sign, verify } from 'node:crypto';
import { GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { Inputs as Raw, UserError, mapInputs, recordingIO, runContextFrom } from '@deploy-actions/action-kit';
import { OCI_INDEX, OCI_MANIFEST, IN_TOTO_PAYLOAD_TYPE, artifactManifest, encodeProvenance, fallbackTag, signEnvelope } from '@deploy-actions/aws/provenance';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { getInputs } from '../src/inputs';
import { run, type Deps } from '../src/run';
import { actionDefaults, DIGEST, OTHER_SHA, SHA, fakeEcr, fakeGithub } from './fakes';

const REPO = 'team/sample-service';
const GITHUB_REPO = 'acme/sample-service';
const KEY = `tree-${'1'.repeat(40)}`;
const OTHER_KEY = `tree-${'2'.repeat(40)}`;
const PROVENANCE_KEY = 'arn:aws:kms:eu-west-1:111111111111:key/0b5c1e2a-1111-4222-8333-444455556666';
// develop's commit D built the image; main's merge commit M (SHA) reused it.
const D = OTHER_SHA;
const M = SHA;

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const keys = {
  sign: async (_arn: string, m: Buffer) => sign('sha256', m, privateKey),
  verifier: async (arn: string) => (m: Buffer, s: Buffer) => arn === PROVENANCE_KEY && verify('sha256', m, publicKey, s),
};

/** The registry's manifests by `<repo>:<reference>`; GET only (no referrers API: 404). */
const manifests = new Map<string, { body: Buffer; type: string }>();
let server: Server;
let url = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    const m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(req.url ?? '');
    const found = req.method === 'GET' && m ? manifests.get(`${m[1]}:${decodeURIComponent(m[2]!)}`) : undefined;
    if (!found) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
    res.writeHead(200, { 'content-type': found.type, 'docker-content-digest': `sha256:${createHash('sha256').update(found.body).digest('hex')}` }).end(found.body);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

/** build-push-ecr's statement for `digest`, built from `commit` with `contentKey`, under the tag schema. */
async function provenance(commit: string, contentKey: string): Promise<void> {
  const time = '2026-12-07T18:00:00.000Z';
  const statement = encodeProvenance({
    digest: DIGEST,
    ecrRepository: REPO,
    contentKey,
    commit,
    githubRepository: GITHUB_REPO,
    workflowRef: 'org/deploy-actions/.github/workflows/build.yml@refs/tags/v1',
    runUrl: `https://github.com/${GITHUB_REPO}/actions/runs/7/attempts/1`,
    time,
  });
  const envelope = Buffer.from(JSON.stringify(await signEnvelope(keys, PROVENANCE_KEY, statement)));
  const artifact = artifactManifest({ mediaType: OCI_MANIFEST, digest: DIGEST, size: 100 }, envelope, time);
  const artifactDigest = `sha256:${createHash('sha256').update(artifact).digest('hex')}`;
  manifests.set(`${REPO}:${artifactDigest}`, { body: artifact, type: OCI_MANIFEST });
  const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: artifactDigest, size: artifact.length, artifactType: IN_TOTO_PAYLOAD_TYPE }] };
  manifests.set(`${REPO}:${fallbackTag(DIGEST)}`, { body: Buffer.from(JSON.stringify(index)), type: OCI_INDEX });
}

let ecr: ReturnType<typeof fakeEcr>;
let io: ReturnType<typeof recordingIO>;

/** verify for QA (no evidence needed: the provenance is the check) by main's commit M, no content key. */
function verifyByM(values: Record<string, string> = {}) {
  const env = { GITHUB_SHA: M, GITHUB_REF: 'refs/heads/main', GITHUB_REPOSITORY: GITHUB_REPO, GITHUB_RUN_ID: '1000', AWS_REGION: 'eu-west-1' };
  const raw = { ...actionDefaults(), 'github-token': 'ghs_test', repository: REPO, digest: DIGEST, mode: 'verify', 'target-environment': 'qa', sha: M, 'provenance-kms-key': PROVENANCE_KEY, ...values };
  const inputs = getInputs(new Raw(mapInputs(raw)), env, runContextFrom(env));
  const deps: Deps = { io, github: fakeGithub().api, ecr: ecr.client, keys, aws: { sleep: async () => undefined } };
  return run(inputs, deps);
}
const provenanceRow = (evidence: unknown) => (JSON.parse(String(evidence)) as { checks: Array<{ source: string; ok: boolean; detail: string }> }).checks.find((c) => c.source === 'provenance');

beforeEach(() => {
  manifests.clear();
  io = recordingIO();
  ecr = fakeEcr(REPO);
  ecr.mock.on(GetAuthorizationTokenCommand).resolves({ authorizationData: [{ authorizationToken: Buffer.from('AWS:token').toString('base64'), proxyEndpoint: url }] });
});

describe('provenance content-key fallback: a develop-built image redeployed by main\'s commit', () => {
  test("accepted via its content key: the image carries M's build tag and the key's tag, the statement names D and that key", async () => {
    ecr.addImage(DIGEST, D.slice(0, 7), KEY, M.slice(0, 7));
    await provenance(D, KEY);
    const v = await verifyByM();
    expect(v.verified).toBe(true);
    expect(provenanceRow(v.evidence)).toEqual({
      source: 'provenance',
      ok: true,
      detail: `provenance of ${DIGEST} verified: built by org/deploy-actions/.github/workflows/build.yml@refs/tags/v1 from commit ${D.slice(0, 7)} (content key ${KEY}), run https://github.com/${GITHUB_REPO}/actions/runs/7/attempts/1`,
    });
    expect(io.errors).toEqual([]);
  });

  test('a statement for another content key is refused in one line, naming both', async () => {
    ecr.addImage(DIGEST, D.slice(0, 7), KEY, M.slice(0, 7));
    await provenance(D, OTHER_KEY);
    const err = await verifyByM().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(
      new RegExp(
        `^Promotion of ${REPO}@${DIGEST} to qa refused: ${DIGEST} has no valid build provenance: sha256:[0-9a-f]{12}: it was built from commit ${D.slice(0, 7)} \\(content key ${OTHER_KEY}\\), not commit ${M.slice(0, 7)} or content key ${KEY} \\(provenance-kms-key ${PROVENANCE_KEY}\\)$`,
      ),
    );
  });

  test("without M's build tag on the image the key is not taken from its tags: D's statement does not cover M", async () => {
    ecr.addImage(DIGEST, D.slice(0, 7), KEY);
    await provenance(D, KEY);
    const err = await verifyByM().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(new RegExp(`: it was built from commit ${D.slice(0, 7)} \\(content key ${KEY}\\), not commit ${M.slice(0, 7)} \\(provenance-kms-key `));
  });

  test('signed with another key: refused, although the facts match', async () => {
    ecr.addImage(DIGEST, D.slice(0, 7), KEY, M.slice(0, 7));
    await provenance(D, KEY);
    const err = await verifyByM({ 'provenance-kms-key': PROVENANCE_KEY.replace('0b5c1e2a', '9f9f9f9f') }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/has no valid build provenance: sha256:[0-9a-f]{12}: its signature does not verify with the provenance key/);
  });
});
