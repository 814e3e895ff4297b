/**
 * What was known about helm releases when this version of the action was cut: the advisories
 * that older patches of each line carry, and the end of Helm 3's security support. A caller
 * who pins such a helm (or brings one with tools-from-path) hears it in a warning annotation;
 * nothing is refused, since a team may hold a version back on purpose. A scheduled workflow
 * (.github/workflows/tool-updates.yml) proposes new patches as they are published.
 */
import type { HelmMajor } from '@deploy-actions/chart';

interface Advisory {
  id: string;
  /** The first version of the line that carries the fix. */
  fixedIn: string;
  what: string;
}

/** From GitHub's advisory database and helm's release notes. */
export const HELM_ADVISORIES: Readonly<Record<HelmMajor, readonly Advisory[]>> = {
  4: [
    { id: 'GHSA-vmx8-mqv2-9gmg (CVE-2026-35204)', fixedIn: '4.1.4', what: 'plugin metadata path traversal (file write outside the plugin directory)' },
    { id: 'GO-2026-5158', fixedIn: '4.2.4', what: 'vulnerable go.opentelemetry.io/otel dependency' },
  ],
  3: [
    { id: 'GHSA-557j-xg8c-q2mm (CVE-2025-53547)', fixedIn: '3.18.4', what: 'code execution through a symlinked Chart.lock on dependency update' },
    { id: 'CVE-2025-55198, CVE-2025-55199', fixedIn: '3.18.5', what: 'panic on malformed YAML and memory exhaustion on a crafted JSON schema' },
  ],
};

/** helm.sh blog "Helm 3 End of Life": security fixes end on this day; no Helm 3 release after it. */
export const HELM3_SECURITY_SUPPORT_ENDS = '2027-02-10';

function parse(version: string): [number, number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

function older(a: [number, number, number], b: [number, number, number]): boolean {
  for (let k = 0; k < 3; k++) if (a[k] !== b[k]) return a[k]! < b[k]!;
  return false;
}

export interface HelmSupport {
  /** Each one a warning annotation. */
  warnings: string[];
  /** Plain log lines. */
  notes: string[];
}

/** What to say about the helm that runs (`helm version` output such as v4.2.3), on day `today` (YYYY-MM-DD). */
export function helmSupport(version: string, today: string): HelmSupport {
  const v = parse(version);
  const out: HelmSupport = { warnings: [], notes: [] };
  if (!v || (v[0] !== 3 && v[0] !== 4)) return out;
  const major = v[0] as HelmMajor;
  const open = HELM_ADVISORIES[major].filter((a) => older(v, parse(a.fixedIn)!));
  if (open.length > 0) {
    const list = open.map((a) => `${a.id}: ${a.what}, fixed in ${a.fixedIn}`).join('; ');
    out.warnings.push(`helm ${version.replace(/^v?/, 'v')} has known security advisories (${list}); set helm-version to ${major} for the newest patched release`);
  }
  if (major === 3) {
    if (today > HELM3_SECURITY_SUPPORT_ENDS) {
      out.warnings.push(`helm ${version.replace(/^v?/, 'v')}: Helm 3 has had no security fixes since ${HELM3_SECURITY_SUPPORT_ENDS} (end of life); move to Helm 4 (helm-version: 4)`);
    } else {
      out.notes.push(`Helm 3 receives security fixes only until ${HELM3_SECURITY_SUPPORT_ENDS} (helm.sh, "Helm 3 End of Life"); Helm 4 is helm-version: 4`);
    }
  }
  return out;
}
