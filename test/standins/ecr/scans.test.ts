/**
 * DescribeImageScanFindings of the ECR stand-in through the real SDK client: a completed scan's
 * findings and counts in pages, a scan in progress, ScanNotFoundException (never scanned, scan on
 * push off), ImageNotFoundException, IAM; and the release card's own registry client over it
 * (findings, "not available" in one line, size and layers from the manifests).
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CreateRepositoryCommand, DescribeImageScanFindingsCommand, ECRClient, type ECRClient as Client } from '@aws-sdk/client-ecr';
import { ecrApi, type EcrLike } from '@deploy-actions/aws';
import { ecrRegistry } from '../../../actions/promote-gate/src/card/sources';
import { startRegistry, type Registry } from '../../harness/registry';
import { pushImage } from '../../harness/oci-push';
import { IamStore, type PolicyDocument } from '../iam/index';
import { startEcrStandin, type EcrStandin } from './index';
import type { ScanFinding } from './scans';

const BUILD = '111111111111';
const allow = (Action: string[]): PolicyDocument => ({ Statement: [{ Effect: 'Allow', Action, Resource: '*' }] });
let registry: Registry;
let ecr: EcrStandin;
let admin: Client;
let reader: Client;
let noScan: Client;
/** The same identities through packages/aws's JSON-protocol client, as promote-gate's card reaches ECR. */
let small: Record<'reader' | 'puller', EcrLike>;
const digests: Record<string, string> = {};
const findings: Record<string, ScanFinding[]> = {};

beforeAll(async () => {
  const iam = new IamStore();
  iam.addRole({ account: BUILD, name: 'build', policies: [allow(['ecr:*'])] });
  iam.addRole({ account: BUILD, name: 'reader', policies: [allow(['ecr:BatchGetImage', 'ecr:DescribeImageScanFindings'])] });
  iam.addRole({ account: BUILD, name: 'puller', policies: [allow(['ecr:BatchGetImage'])] });
  registry = await startRegistry();
  ecr = await startEcrStandin({ registry, iam, accountId: BUILD });
  const client = (role: string) => new ECRClient({ region: 'eu-west-1', endpoint: ecr.url, credentials: iam.issueCredentials(`arn:aws:iam::${BUILD}:role/${role}`, 'gha'), maxAttempts: 1 });
  admin = client('build');
  reader = client('reader');
  noScan = client('puller');
  const json = (role: string) => {
    const c = iam.issueCredentials(`arn:aws:iam::${BUILD}:role/${role}`, 'gha');
    return ecrApi('eu-west-1', { env: { AWS_ENDPOINT_URL_ECR: ecr.url, AWS_ACCESS_KEY_ID: c.accessKeyId, AWS_SECRET_ACCESS_KEY: c.secretAccessKey, AWS_SESSION_TOKEN: c.sessionToken } });
  };
  small = { reader: json('reader'), puller: json('puller') };
  await admin.send(new CreateRepositoryCommand({ repositoryName: 'svc', imageScanningConfiguration: { scanOnPush: true } }));
  await admin.send(new CreateRepositoryCommand({ repositoryName: 'unscanned', imageScanningConfiguration: { scanOnPush: false } }));
  for (const t of ['old', 'new', 'busy']) digests[t] = await pushImage(registry, 'svc', t, t);
  digests.plain = await pushImage(registry, 'unscanned', 'plain', 'plain');
  findings[digests.old!] = [
    { name: 'CVE-2026-0001', severity: 'HIGH', package: 'openssl', version: '3.0.1' },
    { name: 'CVE-2026-0002', severity: 'LOW', package: 'zlib' },
  ];
  findings[digests.new!] = [
    { name: 'CVE-2026-0002', severity: 'LOW', package: 'zlib' },
    ...Array.from({ length: 150 }, (_, i) => ({ name: `CVE-2026-1${String(i).padStart(3, '0')}`, severity: i === 0 ? ('CRITICAL' as const) : ('MEDIUM' as const) })),
  ];
  ecr.setScanner((repository, image) => (repository === 'svc' ? findings[image.digest] : undefined));
  ecr.setScan('svc', digests.busy!, { status: 'IN_PROGRESS', findings: [] });
});
afterAll(async () => {
  await ecr?.stop();
  await registry?.stop();
});

const describe = (repositoryName: string, imageId: { imageDigest?: string; imageTag?: string }, extra: { maxResults?: number; nextToken?: string } = {}, c = reader) =>
  c.send(new DescribeImageScanFindingsCommand({ repositoryName, imageId, ...extra }));
const errorOf = (p: Promise<unknown>) => p.then(() => 'no error', (e: Error) => `${e.name}: ${e.message}`);

test('a completed scan: status, counts by severity, findings with their package, pages of maxResults', async () => {
  const first = await describe('svc', { imageTag: 'new' });
  expect(first.imageScanStatus).toEqual({ status: 'COMPLETE', description: 'The scan was completed successfully.' });
  expect(first.imageId).toEqual({ imageDigest: digests.new, imageTag: 'new' });
  expect(first.imageScanFindings?.findingSeverityCounts).toEqual({ LOW: 1, CRITICAL: 1, MEDIUM: 149 });
  expect(first.imageScanFindings?.findings).toHaveLength(100);
  expect(first.imageScanFindings?.findings?.[0]).toMatchObject({ name: 'CVE-2026-0002', severity: 'LOW', attributes: [{ key: 'package_name', value: 'zlib' }] });
  expect(first.imageScanFindings?.imageScanCompletedAt).toBeInstanceOf(Date);
  const second = await describe('svc', { imageDigest: digests.new! }, { nextToken: first.nextToken! });
  expect(second.imageScanFindings?.findings).toHaveLength(51);
  expect(second.nextToken).toBeUndefined();
  expect((await describe('svc', { imageDigest: digests.new! }, { maxResults: 1000 })).imageScanFindings?.findings).toHaveLength(151);
});

test('in progress: a status and no findings; never scanned: ScanNotFoundException; no image: ImageNotFoundException', async () => {
  const busy = await describe('svc', { imageDigest: digests.busy! });
  expect(busy.imageScanStatus?.status).toBe('IN_PROGRESS');
  expect(busy.imageScanFindings).toBeUndefined();
  expect(await errorOf(describe('unscanned', { imageTag: 'plain' }))).toMatch(/^ScanNotFoundException: Image scan does not exist for image with \{imageDigest:'null', imageTag:'plain'\}/);
  expect(await errorOf(describe('svc', { imageDigest: `sha256:${'0'.repeat(64)}` }))).toMatch(/^ImageNotFoundException: /);
  expect(await errorOf(describe('svc', { imageTag: 'new' }, { maxResults: 0 }))).toMatch(/^InvalidParameterException: .*maxResults/);
  expect(await errorOf(describe('svc', { imageTag: 'new' }, {}, noScan))).toMatch(/^AccessDeniedException: .*ecr:DescribeImageScanFindings/);
});

test.each(['sdk', 'json'] as const)("the release card's registry client (%s transport): findings of both images, size and layers, and why a scan is not there", async (transport) => {
  const [reader_, noScan_]: [EcrLike, EcrLike] = transport === 'sdk' ? [reader, noScan] : [small.reader, small.puller];
  const api = ecrRegistry(reader_, { repositoryName: 'svc' });
  const now = await api.findings(digests.new!);
  expect(now).toHaveLength(151);
  expect(now.filter((f) => f.severity === 'CRITICAL')).toEqual([{ id: 'CVE-2026-1000', severity: 'CRITICAL' }]);
  expect(await api.findings(digests.old!)).toHaveLength(2);
  expect(await errorOf(api.findings(digests.busy!))).toMatch(/scan of sha256:\w{12} is IN_PROGRESS/);
  const img = await api.image(digests.new!);
  expect(img.layers).toHaveLength(1);
  expect(img.size).toBeGreaterThan(img.layers[0]!.size);
  expect(await errorOf(ecrRegistry(reader_, { repositoryName: 'unscanned' }).findings(digests.plain!))).toMatch(/no scan of sha256:\w{12} \(scan on push off, or not scanned yet\)/);
  expect(await errorOf(ecrRegistry(noScan_, { repositoryName: 'svc' }).findings(digests.new!))).toMatch(/the role may not call ecr:DescribeImageScanFindings/);
});
