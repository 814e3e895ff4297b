import { describe, expect, test } from 'vitest';
import { HELM3_SECURITY_SUPPORT_ENDS, helmSupport } from '../src/helm-support';
import { DEFAULT_HELM_VERSIONS } from '../src/inputs';

describe('helmSupport', () => {
  test.each([
    // version, day, warnings that must appear (substrings), notes
    ['v4.3.0', '2026-12-07', [], []],
    ['v4.2.4', '2026-12-07', [], []],
    ['v4.2.3', '2026-12-07', ['GO-2026-5158', 'fixed in 4.2.4'], []],
    ['v4.1.3', '2026-12-07', ['GHSA-vmx8-mqv2-9gmg', 'GO-2026-5158'], []],
    ['v3.22.0', '2026-12-07', [], ['security fixes only until 2027-02-10']],
    ['v3.18.0', '2026-12-07', ['GHSA-557j-xg8c-q2mm', 'CVE-2025-55198', 'fixed in 3.18.5'], ['2027-02-10']],
    ['v3.22.0', '2027-02-11', ['no security fixes since 2027-02-10', 'helm-version: 4'], []],
  ] as const)('%s on %s', (version, day, warnings, notes) => {
    const s = helmSupport(version, day);
    for (const w of warnings) expect(s.warnings.join('\n')).toContain(w);
    if (warnings.length === 0) expect(s.warnings).toEqual([]);
    for (const n of notes) expect(s.notes.join('\n')).toContain(n);
    if (notes.length === 0) expect(s.notes).toEqual([]);
  });

  test('advisories are one warning naming each, so one annotation per run', () => {
    const s = helmSupport('v4.1.0', '2026-12-07');
    expect(s.warnings).toHaveLength(1);
    expect(s.warnings[0]).toMatch(/^helm v4\.1\.0 has known security advisories \(GHSA-vmx8-mqv2-9gmg .*; GO-2026-5158: .*, fixed in 4\.2\.4\); set helm-version to 4 for the newest patched release$/);
  });

  test('the defaults carry no known advisory', () => {
    expect(helmSupport(DEFAULT_HELM_VERSIONS[4], '2026-12-07').warnings).toEqual([]);
    expect(helmSupport(DEFAULT_HELM_VERSIONS[3], HELM3_SECURITY_SUPPORT_ENDS).warnings).toEqual([]);
  });

  test('versions it cannot read and other majors say nothing', () => {
    expect(helmSupport('devel', '2026-12-07')).toEqual({ warnings: [], notes: [] });
    expect(helmSupport('v2.17.0', '2026-12-07')).toEqual({ warnings: [], notes: [] });
  });
});
