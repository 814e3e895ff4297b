import { describe, expect, it } from 'vitest';
import { matchFieldSelector, matchLabelSelector, matchSelectorObject } from './selectors';

describe('label selectors', () => {
  const l = { app: 'web', tier: 'front', 'pod-template-hash': 'abc' };
  it('supports equality and set-based requirements', () => {
    expect(matchLabelSelector('app=web,tier==front', l)).toBe(true);
    expect(matchLabelSelector('app!=web', l)).toBe(false);
    expect(matchLabelSelector('app in (web, api),tier notin (back)', l)).toBe(true);
    expect(matchLabelSelector('app in (api)', l)).toBe(false);
    expect(matchLabelSelector('pod-template-hash', l)).toBe(true);
    expect(matchLabelSelector('!missing', l)).toBe(true);
    expect(matchLabelSelector('!app', l)).toBe(false);
    expect(matchLabelSelector('', l)).toBe(true);
    expect(matchLabelSelector('owner=helm', undefined)).toBe(false);
  });
  it('matches LabelSelector objects', () => {
    expect(matchSelectorObject({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['front'] }] }, l)).toBe(true);
    expect(matchSelectorObject({ matchExpressions: [{ key: 'x', operator: 'Exists' }] }, l)).toBe(false);
  });
});

describe('field selectors', () => {
  const ev = { metadata: { name: 'e1', namespace: 'ns' }, involvedObject: { name: 'pod-1', kind: 'Pod' }, reason: 'Failed' };
  it('compares dotted paths', () => {
    expect(matchFieldSelector('involvedObject.name=pod-1', ev)).toBe(true);
    expect(matchFieldSelector('involvedObject.name=pod-1,involvedObject.kind!=Pod', ev)).toBe(false);
    expect(matchFieldSelector('metadata.name==e1,metadata.namespace=ns', ev)).toBe(true);
    expect(matchFieldSelector('involvedObject.fieldPath=', ev)).toBe(true);
  });
});
