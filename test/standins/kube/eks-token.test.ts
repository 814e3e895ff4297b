import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { EKS_TOKEN_PREFIX, createEksToken, verifyEksToken } from './eks-token';

const creds = { accessKeyId: 'AKIAEXAMPLE123', secretAccessKey: 'secret/Key+example' };
const now = new Date('2026-03-01T12:00:00Z');

/** A token made the way the AWS SDK presigns (independent of our signer). */
async function smithyToken(cluster: string, region: string, date: Date): Promise<string> {
  const signer = new SignatureV4({ credentials: creds, region, service: 'sts', sha256: Hash.bind(null, 'sha256') });
  const req = await signer.presign(
    { method: 'GET', protocol: 'https:', hostname: `sts.${region}.amazonaws.com`, path: '/', query: { Action: 'GetCallerIdentity', Version: '2011-06-15' }, headers: { host: `sts.${region}.amazonaws.com`, 'x-k8s-aws-id': cluster } },
    { expiresIn: 60, signingDate: date },
  );
  const qs = Object.entries(req.query!).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&');
  return EKS_TOKEN_PREFIX + Buffer.from(`https://${req.hostname}${req.path}?${qs}`).toString('base64url');
}

describe('EKS tokens', () => {
  it('accepts tokens presigned by @smithy/signature-v4 and by createEksToken', async () => {
    const t1 = await smithyToken('prod-cluster', 'eu-west-1', now);
    expect(verifyEksToken(t1, { clusterName: 'prod-cluster', now, credentials: creds })).toMatchObject({ ok: true, accessKeyId: creds.accessKeyId, region: 'eu-west-1' });
    const t2 = createEksToken({ clusterName: 'prod-cluster', region: 'eu-west-1', credentials: creds, date: now });
    expect(verifyEksToken(t2, { clusterName: 'prod-cluster', now, credentials: creds }).ok).toBe(true);
    expect(t2).not.toMatch(/=$/);
  });
  it('rejects another cluster, a wrong key, expiry and malformed tokens', async () => {
    const t = await smithyToken('prod-cluster', 'eu-west-1', now);
    expect(verifyEksToken(t, { clusterName: 'other', now, credentials: creds })).toMatchObject({ ok: false, reason: expect.stringMatching(/signature/) });
    expect(verifyEksToken(t, { clusterName: 'prod-cluster', now, credentials: { ...creds, secretAccessKey: 'nope' } }).ok).toBe(false);
    expect(verifyEksToken(t, { clusterName: 'prod-cluster', now: new Date(now.getTime() + 60_000 + 301_000) })).toMatchObject({ ok: false, reason: expect.stringMatching(/expired/) });
    expect(verifyEksToken(t, { clusterName: 'prod-cluster', now: new Date(now.getTime() + 120_000) }).ok).toBe(true);
    expect(verifyEksToken('k8s-aws-v1.bm9wZQ', { clusterName: 'c', now }).ok).toBe(false);
    expect(verifyEksToken('Bearer x', { clusterName: 'c', now }).ok).toBe(false);
    const url = new URL(Buffer.from(t.slice(EKS_TOKEN_PREFIX.length), 'base64url').toString());
    url.searchParams.set('X-Amz-SignedHeaders', 'host');
    expect(verifyEksToken(EKS_TOKEN_PREFIX + Buffer.from(url.toString()).toString('base64url'), { clusterName: 'prod-cluster', now })).toMatchObject({ ok: false, reason: expect.stringMatching(/x-k8s-aws-id/) });
  });
});
