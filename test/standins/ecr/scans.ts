/**
 * ECR's basic image scanning in the stand-in: `DescribeImageScanFindings` as the AWS JSON API
 * answers it (docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DescribeImageScanFindings.html):
 * `imageScanStatus` {status, description}, `imageScanFindings` {imageScanCompletedAt,
 * vulnerabilitySourceUpdatedAt, findingSeverityCounts, findings[{name, description, uri,
 * severity, attributes}]} once the scan is COMPLETE, pages of `maxResults` (1-1000, default 100)
 * with an opaque `nextToken`; `ScanNotFoundException` for an image that was never scanned,
 * `ImageNotFoundException` for an image that is not there.
 *
 * There is no scanner here: a test (or the pipeline world) says what a scan finds. `scanner` plays
 * scan on push: for a repository with scanOnPush, it is asked once per image when its findings
 * are first described (undefined: that image was not scanned); `setScan` records a scan outright
 * (any status, e.g. IN_PROGRESS or FAILED).
 */
import { AwsJsonError } from '../iam/request';

export type ScanStatus = 'IN_PROGRESS' | 'COMPLETE' | 'FAILED' | 'UNSUPPORTED_IMAGE' | 'ACTIVE' | 'PENDING' | 'SCAN_ELIGIBILITY_EXPIRED' | 'FINDINGS_UNAVAILABLE' | 'LIMIT_EXCEEDED';
export type Severity = 'INFORMATIONAL' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL' | 'UNDEFINED';

export interface ScanFinding {
  /** The CVE id. */
  name: string;
  severity: Severity;
  package?: string;
  version?: string;
}

export interface ScanRecord {
  status: ScanStatus;
  description?: string;
  findings: ScanFinding[];
  completedAt?: number;
}

/** What scan on push finds in an image, known by its digest and tags (undefined: not scanned). */
export type Scanner = (repository: string, image: { digest: string; tags: string[] }) => ScanFinding[] | undefined;

export class ImageScans {
  private readonly records = new Map<string, ScanRecord>();
  scanner: Scanner | undefined;

  set(repository: string, digest: string, scan: ScanRecord): void {
    this.records.set(`${repository}@${digest}`, { ...scan, completedAt: scan.completedAt ?? Date.now() / 1000 });
  }

  /** The scan of an image that exists: recorded, else scan on push's, else none. */
  private scanOf(repository: string, image: { digest: string; tags: string[] }, scanOnPush: boolean): ScanRecord | undefined {
    const key = `${repository}@${image.digest}`;
    if (!this.records.has(key) && scanOnPush && this.scanner) {
      const findings = this.scanner(repository, image);
      if (findings) this.set(repository, image.digest, { status: 'COMPLETE', description: 'The scan was completed successfully.', findings });
    }
    return this.records.get(key);
  }

  describe(
    r: { repositoryName: string; registryId: string; scanOnPush: boolean },
    image: { digest: string; tag?: string; tags: string[] } | undefined,
    input: { imageId?: { imageDigest?: string; imageTag?: string }; maxResults?: number; nextToken?: string },
  ) {
    const id = input.imageId ?? {};
    const idText = `{imageDigest:'${id.imageDigest ?? 'null'}', imageTag:'${id.imageTag ?? 'null'}'}`;
    if (!image) throw new AwsJsonError('ImageNotFoundException', `The image with imageId ${idText} does not exist within the repository with name '${r.repositoryName}' in the registry with id '${r.registryId}'`);
    const scan = this.scanOf(r.repositoryName, image, r.scanOnPush);
    if (!scan) throw new AwsJsonError('ScanNotFoundException', `Image scan does not exist for image with ${idText} in Amazon ECR repository with name '${r.repositoryName}' in the registry with id '${r.registryId}'`);
    const max = input.maxResults ?? 100;
    if (!Number.isInteger(max) || max < 1 || max > 1000) throw new AwsJsonError('InvalidParameterException', `Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value between 1 and 1000'`);
    const start = input.nextToken ? Number(Buffer.from(input.nextToken, 'base64').toString('utf8').replace(/^scan:/, '')) : 0;
    if (!Number.isInteger(start) || start < 0) throw new AwsJsonError('InvalidParameterException', 'Invalid parameter at \'nextToken\'');
    const base = {
      registryId: r.registryId,
      repositoryName: r.repositoryName,
      imageId: { imageDigest: image.digest, ...(image.tag ? { imageTag: image.tag } : {}) },
      imageScanStatus: { status: scan.status, ...(scan.description ? { description: scan.description } : {}) },
    };
    if (scan.status !== 'COMPLETE') return base;
    const counts: Partial<Record<Severity, number>> = {};
    for (const f of scan.findings) counts[f.severity] = (counts[f.severity] ?? 0) + 1;
    const page = scan.findings.slice(start, start + max);
    const end = start + page.length;
    return {
      ...base,
      imageScanFindings: {
        imageScanCompletedAt: scan.completedAt,
        vulnerabilitySourceUpdatedAt: scan.completedAt,
        findingSeverityCounts: counts,
        findings: page.map((f) => ({
          name: f.name,
          description: `${f.name} in ${f.package ?? 'a package'}`,
          uri: `https://security-tracker.debian.org/tracker/${f.name}`,
          severity: f.severity,
          attributes: [
            ...(f.package ? [{ key: 'package_name', value: f.package }] : []),
            ...(f.version ? [{ key: 'package_version', value: f.version }] : []),
          ],
        })),
      },
      ...(end < scan.findings.length ? { nextToken: Buffer.from(`scan:${end}`).toString('base64') } : {}),
    };
  }
}
