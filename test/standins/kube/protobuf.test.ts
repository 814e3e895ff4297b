import { describe, expect, it } from 'vitest';
import { decodeK8sProtobuf, encEnvelope, encField, encMapEntry } from './protobuf';

describe('k8s protobuf decoding', () => {
  it('decodes a Secret the way helm sends release records', () => {
    const meta = Buffer.concat([
      encField(1, 'sh.helm.release.v1.svc.v1'),
      encField(3, 'app'),
      encField(6, '42'),
      encMapEntry(11, 'owner', 'helm'),
      encMapEntry(11, 'status', 'deployed'),
      encMapEntry(12, 'note', 'x'),
    ]);
    const secret = Buffer.concat([encField(1, meta), encMapEntry(2, 'release', Buffer.from('H4sIAAAA')), encField(3, 'helm.sh/release.v1')]);
    const obj = decodeK8sProtobuf(encEnvelope('v1', 'Secret', secret)) as any;
    expect(obj).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'sh.helm.release.v1.svc.v1', namespace: 'app', resourceVersion: '42', labels: { owner: 'helm', status: 'deployed' }, annotations: { note: 'x' } },
      data: { release: Buffer.from('H4sIAAAA').toString('base64') },
      type: 'helm.sh/release.v1',
    });
  });
  it('decodes DeleteOptions and rejects other kinds and bad magic', () => {
    const del = Buffer.concat([encField(1, 30), encField(4, 'Background')]);
    expect(decodeK8sProtobuf(encEnvelope('v1', 'DeleteOptions', del))).toMatchObject({ gracePeriodSeconds: 30, propagationPolicy: 'Background' });
    expect(() => decodeK8sProtobuf(encEnvelope('v1', 'Pod', Buffer.alloc(0)))).toThrow(/not supported/);
    expect(() => decodeK8sProtobuf(Buffer.from('{}'))).toThrow(/magic/);
  });
});
