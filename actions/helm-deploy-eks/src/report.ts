/** The job summary: what was deployed, or why it failed, and how long each phase took. */
import { codeBlock, table } from '@deploy-actions/action-kit';
import type { Timings } from './context';
import { diagnosisMarkdown, type Diagnosis, type Workload } from './kube';

export function timingTable(timings: Timings, start: number, end: number): string {
  return `\n**Timing**\n\n${table(['Phase', 'Seconds'], [...timings.map(([n, s]) => [n, s.toFixed(1)]), ['Total', ((end - start) / 1000).toFixed(1)]])}`;
}

export function successSummary(title: string, rows: Array<[string, string]>, workloads: Workload[], timing: string): string {
  return (
    `## helm-deploy-eks: ${title}\n\n` +
    table(['Deploy', 'Value'], rows) +
    (workloads.length > 0 ? `\n**Resources**\n\n${table(['Kind', 'Name', 'Ready', 'Up to date'], workloads.map((w) => [w.kind, w.name, w.ready, w.upToDate ? 'yes' : 'no']))}` : '') +
    timing
  );
}

export function failureSummary(title: string, line: string, detail: { diagnosis?: Diagnosis; stderr?: string; detail?: string }, timing: string): string {
  const body = detail.diagnosis
    ? diagnosisMarkdown(detail.diagnosis)
    : detail.stderr?.trim()
      ? codeBlock(detail.stderr.trim().split('\n').slice(-20).join('\n'))
      : (detail.detail ?? '');
  return `## helm-deploy-eks: ${title}\n\n${line}\n\n${body}${timing}`;
}
