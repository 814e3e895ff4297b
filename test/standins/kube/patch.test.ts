import { describe, expect, it } from 'vitest';
import { applyThreeWay, jsonPatch, mergePatch, strategicMergePatch } from './patch';

const deploy = () => ({
  metadata: { name: 'd', labels: { a: '1', b: '2' }, finalizers: ['x'] },
  spec: {
    replicas: 2,
    template: {
      spec: {
        containers: [
          { name: 'app', image: 'i:1', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], ports: [{ containerPort: 8080, name: 'http' }] },
          { name: 'side', image: 's:1' },
        ],
        volumes: [{ name: 'v', emptyDir: {} }],
      },
    },
  },
});

describe('strategic merge patch', () => {
  it('merges lists by key and replaces scalars', () => {
    const out = strategicMergePatch(deploy(), { spec: { template: { spec: { containers: [{ name: 'app', image: 'i:2', env: [{ name: 'C', value: '3' }] }] } } } });
    const cs = out.spec.template.spec.containers;
    expect(cs.map((c: any) => c.name)).toEqual(['app', 'side']);
    expect(cs[0].image).toBe('i:2');
    expect(cs[0].env.map((e: any) => e.name)).toEqual(['A', 'B', 'C']);
    expect(cs[0].ports).toEqual([{ containerPort: 8080, name: 'http' }]);
  });
  it('deletes with null, $patch: delete and $deleteFromPrimitiveList', () => {
    const out = strategicMergePatch(deploy(), {
      metadata: { labels: { a: null }, '$deleteFromPrimitiveList/finalizers': ['x'] },
      spec: { template: { spec: { containers: [{ name: 'side', $patch: 'delete' }, { name: 'app', env: [{ name: 'A', $patch: 'delete' }] }] } } },
    });
    expect(out.metadata.labels).toEqual({ b: '2' });
    expect(out.metadata.finalizers).toEqual([]);
    expect(out.spec.template.spec.containers.map((c: any) => c.name)).toEqual(['app']);
    expect(out.spec.template.spec.containers[0].env).toEqual([{ name: 'B', value: '2' }]);
  });
  it('honours $setElementOrder, $retainKeys and $patch: replace', () => {
    const out = strategicMergePatch(deploy(), {
      spec: {
        template: { spec: { '$setElementOrder/containers': [{ name: 'side' }, { name: 'app' }], containers: [{ name: 'app', image: 'i:3' }] } },
        strategy: { $retainKeys: ['type'], type: 'Recreate' },
      },
    });
    expect(out.spec.template.spec.containers.map((c: any) => c.name)).toEqual(['side', 'app']);
    expect(out.spec.strategy).toEqual({ type: 'Recreate' });
    const rep = strategicMergePatch({ metadata: { labels: { a: '1' } } }, { metadata: { labels: { $patch: 'replace', z: '9' } } });
    expect(rep.metadata.labels).toEqual({ z: '9' });
  });
  it('merges Service ports by port and replaces lists without a merge key', () => {
    const svc = { spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443 }], externalIPs: ['1.1.1.1'] } };
    const out = strategicMergePatch(svc, { spec: { ports: [{ port: 80, targetPort: 9090 }], externalIPs: ['2.2.2.2'] } });
    expect(out.spec.ports).toEqual([{ port: 80, targetPort: 9090 }, { port: 443 }]);
    expect(out.spec.externalIPs).toEqual(['2.2.2.2']);
  });
});

describe('server-side apply (three-way)', () => {
  it('removes fields the manager stopped setting, keeps fields of others', () => {
    const live = { metadata: { labels: { mine: '1', theirs: '1' } }, data: { A: '1', B: '2' }, status: { x: 1 } };
    const last = { metadata: { labels: { mine: '1' } }, data: { A: '1', B: '2' } };
    const applied = { metadata: { labels: {} }, data: { A: '9' } };
    expect(applyThreeWay(live, last, applied)).toEqual({ metadata: { labels: { theirs: '1' } }, data: { A: '9' }, status: { x: 1 } });
  });
  it('merges keyed lists element-wise and drops elements it owned', () => {
    const live = { spec: { containers: [{ name: 'app', image: 'i:1', imagePullPolicy: 'IfNotPresent' }, { name: 'old', image: 'o' }, { name: 'injected', image: 'x' }] } };
    const last = { spec: { containers: [{ name: 'app', image: 'i:1' }, { name: 'old', image: 'o' }] } };
    const applied = { spec: { containers: [{ name: 'app', image: 'i:2' }] } };
    const out = applyThreeWay(live, last, applied);
    expect(out.spec.containers).toEqual([{ name: 'app', image: 'i:2', imagePullPolicy: 'IfNotPresent' }, { name: 'injected', image: 'x' }]);
  });
});

describe('json patch and merge patch', () => {
  it('applies RFC 6902 operations', () => {
    const out = jsonPatch({ a: [1, 2], b: { c: 1 } }, [
      { op: 'add', path: '/a/-', value: 3 },
      { op: 'replace', path: '/b/c', value: 2 },
      { op: 'remove', path: '/a/0' },
      { op: 'copy', from: '/b', path: '/d' },
      { op: 'test', path: '/d/c', value: 2 },
      { op: 'add', path: '/e~1f', value: true },
    ]);
    expect(out).toEqual({ a: [2, 3], b: { c: 2 }, d: { c: 2 }, 'e/f': true });
    expect(() => jsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }])).toThrow();
  });
  it('applies RFC 7386 merge patches', () => {
    expect(mergePatch({ a: 1, b: { c: 1, d: 2 }, l: [1] }, { a: null, b: { c: 3 }, l: [2] })).toEqual({ b: { c: 3, d: 2 }, l: [2] });
  });
});
