/**
 * The image part of the release card, from registry metadata only (no pull): the size and layers
 * of each image from its manifest (ECR BatchGetImage), and ECR's scan findings of both images
 * (DescribeImageScanFindings), compared.
 */

export interface ImageFacts {
  /** Layers' compressed sizes plus the config blob: what a node pulls at most. */
  size: number;
  layers: Array<{ digest: string; size: number }>;
  /** The platform chosen from an index (multi-platform image), when it was one. */
  platform?: string;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);

export type ParsedManifest = { index: Array<{ digest: string; platform: string }> } | { image: ImageFacts };

/** An image manifest (its layers) or an index (its platform manifests), from the manifest's JSON text. */
export function parseManifest(text: string, mediaType = ''): ParsedManifest {
  const m = obj(JSON.parse(text));
  const type = typeof m.mediaType === 'string' ? m.mediaType : mediaType;
  if (INDEX_TYPES.has(type) || (Array.isArray(m.manifests) && !Array.isArray(m.layers))) {
    const index = (Array.isArray(m.manifests) ? m.manifests : []).map((x) => {
      const e = obj(x);
      const p = obj(e.platform);
      return { digest: String(e.digest ?? ''), platform: [p.os, p.architecture, p.variant].filter((v) => typeof v === 'string' && v).join('/') };
    });
    return { index };
  }
  const layers = (Array.isArray(m.layers) ? m.layers : []).map((x) => ({ digest: String(obj(x).digest ?? ''), size: Number(obj(x).size ?? 0) || 0 }));
  const config = Number(obj(m.config).size ?? 0) || 0;
  return { image: { size: config + layers.reduce((n, l) => n + l.size, 0), layers } };
}

/** The manifest a linux/amd64 (else linux/arm64, else the first) node would pull from an index. */
export function pickPlatform(index: ReadonlyArray<{ digest: string; platform: string }>): { digest: string; platform: string } | undefined {
  const real = index.filter((e) => e.platform && e.platform !== 'unknown/unknown');
  return real.find((e) => e.platform === 'linux/amd64') ?? real.find((e) => e.platform.startsWith('linux/arm64')) ?? real[0];
}

export interface ImageChange {
  from?: ImageFacts;
  to: ImageFacts;
  sizeDelta?: number;
  /** Layers of the candidate the running image does not have (what nodes download). */
  newLayers: number;
  newBytes: number;
  /** Layers of the running image the candidate no longer has. */
  droppedLayers: number;
}

export function compareImages(from: ImageFacts | undefined, to: ImageFacts): ImageChange {
  const had = new Set(from?.layers.map((l) => l.digest) ?? []);
  const has = new Set(to.layers.map((l) => l.digest));
  const fresh = to.layers.filter((l) => !had.has(l.digest));
  return {
    ...(from ? { from, sizeDelta: to.size - from.size } : {}),
    to,
    newLayers: fresh.length,
    newBytes: fresh.reduce((n, l) => n + l.size, 0),
    droppedLayers: from ? from.layers.filter((l) => !has.has(l.digest)).length : 0,
  };
}

export const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL', 'UNDEFINED'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface Finding {
  /** CVE id (basic scanning: `name`; enhanced: packageVulnerabilityDetails.vulnerabilityId). */
  id: string;
  severity: Severity;
  /** The package it is in, when known (basic: the `package_name` attribute; enhanced: the first vulnerable package). */
  package?: string;
}

/** A scan's findings, or why there are none to show. */
export type Scan = { findings: Finding[] } | { unavailable: string };

const severityOf = (v: unknown): Severity => {
  const s = String(v ?? '').toUpperCase();
  return (SEVERITIES as readonly string[]).includes(s) ? (s as Severity) : 'UNDEFINED';
};

/** Findings of one DescribeImageScanFindings page (basic and enhanced shapes). */
export function findingsOf(page: { imageScanFindings?: { findings?: unknown[]; enhancedFindings?: unknown[] } }): Finding[] {
  const f = page.imageScanFindings ?? {};
  const basic = (f.findings ?? []).map((x) => {
    const pkg = (Array.isArray(obj(x).attributes) ? (obj(x).attributes as unknown[]) : []).map(obj).find((a) => a.key === 'package_name')?.value;
    return { id: String(obj(x).name ?? '?'), severity: severityOf(obj(x).severity), ...(typeof pkg === 'string' && pkg ? { package: pkg } : {}) };
  });
  const enhanced = (f.enhancedFindings ?? []).map((x) => {
    const e = obj(x);
    const details = obj(e.packageVulnerabilityDetails);
    const pkg = obj((Array.isArray(details.vulnerablePackages) ? details.vulnerablePackages : [])[0]).name;
    return { id: String(details.vulnerabilityId ?? e.title ?? '?'), severity: severityOf(e.severity), ...(typeof pkg === 'string' ? { package: pkg } : {}) };
  });
  return [...basic, ...enhanced];
}

export interface ScanChange {
  /** Findings of the candidate the running image does not have; fixed: the reverse. */
  added: Record<Severity, number>;
  fixed: Record<Severity, number>;
  total: Record<Severity, number>;
  addedIds: Finding[];
}

const zero = (): Record<Severity, number> => Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
const keyOf = (f: Finding) => `${f.id}\0${f.package ?? ''}`;

/** New and fixed findings by severity; with nothing running, every finding of the candidate is new. */
export function compareScans(running: Finding[] | undefined, candidate: Finding[]): ScanChange {
  const before = new Set((running ?? []).map(keyOf));
  const after = new Set(candidate.map(keyOf));
  const out: ScanChange = { added: zero(), fixed: zero(), total: zero(), addedIds: [] };
  for (const f of candidate) {
    out.total[f.severity]++;
    if (!before.has(keyOf(f))) {
      out.added[f.severity]++;
      out.addedIds.push(f);
    }
  }
  for (const f of running ?? []) if (!after.has(keyOf(f))) out.fixed[f.severity]++;
  return out;
}

/** `2 CRITICAL, 1 HIGH` (severities with a count only), or `none`. */
export function severityLine(counts: Record<Severity, number>): string {
  const parts = SEVERITIES.filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}`);
  return parts.length ? parts.join(', ') : 'none';
}
