/**
 * Pure builders of helm argv arrays. Helm 3 and Helm 4 name the same behaviour
 * differently; every difference is decided here from the detected major version.
 */

export type HelmMajor = 3 | 4;

export interface ChartValues {
  chart: string;
  namespace: string;
  /** Values files in increasing precedence (the chart's values.yaml is helm's implicit base). */
  valuesFiles: string[];
  /** --set pairs (typed: true, 3, null, {a,b}) in increasing precedence. */
  set?: Array<[string, string]>;
  /** --set-string pairs in increasing precedence; helm applies them after every --set. */
  setStrings: Array<[string, string]>;
}

export interface UpgradePlan extends ChartValues {
  release: string;
  createNamespace: boolean;
  timeout: string;
  historyMax: number;
  rollbackOnFailure: boolean;
  force: boolean;
  description: string;
  /** Release labels (helm >= 3.13 --labels), stored on the release record. */
  labels: Array<[string, string]>;
  kubeContext: string;
}

/**
 * The usual short and long spellings of an environment's values file: a chart keeps
 * values-prod.yaml while the GitHub environment is called production, or the reverse.
 * The file named exactly after the environment wins.
 */
const ENVIRONMENT_ALIASES: Record<string, string[]> = { production: ['prod'], prod: ['production'] };

/** values-<environment>.yaml (or .yml, or the alias's) from the chart directory when present, then the extra files. */
export function valuesLayers(
  chart: string,
  environment: string,
  extra: readonly string[],
  exists: (path: string) => boolean,
): string[] {
  const layers: string[] = [];
  if (environment !== '') {
    // A GitHub environment is often spelled Production while the chart keeps values-production.yaml.
    const lower = environment.toLowerCase();
    const names = [...new Set([environment, lower, ...(ENVIRONMENT_ALIASES[lower] ?? [])])];
    const candidates = names.flatMap((n) => [`${chart}/values-${n}.yaml`, `${chart}/values-${n}.yml`]);
    const hit = candidates.find((c) => exists(c));
    if (hit) layers.push(hit);
  }
  return [...layers, ...extra];
}

/** Escapes a --set-string value for helm's strvals parser (',' separates pairs, '\' escapes). */
export function escapeSetValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/,/g, '\\,');
}

/**
 * Escapes a typed --set value: like a string, except a list in braces ({a,b}), whose commas
 * separate its items as helm documents.
 */
export function escapeTypedSetValue(value: string): string {
  return /^\{.*\}$/.test(value) ? value : escapeSetValue(value);
}

/** Escapes one path segment of a --set key (a '.' inside a segment is not a separator). */
export function escapeSetSegment(segment: string): string {
  return segment.replace(/\\/g, '\\\\').replace(/\./g, '\\.').replace(/,/g, '\\,').replace(/=/g, '\\=');
}

function valueArgs(v: ChartValues): string[] {
  const args: string[] = [];
  for (const f of v.valuesFiles) args.push('--values', f);
  for (const [k, val] of v.set ?? []) args.push('--set', `${k}=${escapeTypedSetValue(val)}`);
  for (const [k, val] of v.setStrings) args.push('--set-string', `${k}=${escapeSetValue(val)}`);
  return args;
}

function contextArgs(kubeContext: string): string[] {
  return kubeContext ? ['--kube-context', kubeContext] : [];
}

/** `helm version --template {{.Version}}` prints e.g. v4.1.4 or v3.18.0. */
export function parseHelmMajor(versionText: string): HelmMajor {
  const m = /^v?(\d+)\./.exec(versionText.trim());
  const major = m ? Number(m[1]) : NaN;
  if (major === 3 || major === 4) return major;
  throw new Error(`unsupported helm version '${versionText.trim()}' (Helm 3 or 4 is needed)`);
}

export function helmVersionArgs(): string[] {
  return ['version', '--template', '{{.Version}}'];
}

export function helmLintArgs(v: ChartValues): string[] {
  return ['lint', v.chart, '--namespace', v.namespace, ...valueArgs(v)];
}

/** Client-side render: no cluster access. Hooks and tests are rendered too (their images are checked). */
export function helmTemplateArgs(release: string, v: ChartValues): string[] {
  return ['template', release, v.chart, '--namespace', v.namespace, ...valueArgs(v)];
}

export function waitArgs(major: HelmMajor): string[] {
  return major === 4 ? ['--wait=watcher'] : ['--wait'];
}

export function helmUpgradeArgs(plan: UpgradePlan, major: HelmMajor): string[] {
  const args = ['upgrade', plan.release, plan.chart, '--install', '--namespace', plan.namespace];
  if (plan.createNamespace) args.push('--create-namespace');
  args.push(...valueArgs(plan));
  args.push('--timeout', plan.timeout, '--history-max', String(plan.historyMax));
  args.push(...waitArgs(major));
  if (plan.rollbackOnFailure) args.push(major === 4 ? '--rollback-on-failure' : '--atomic');
  if (plan.force) args.push(major === 4 ? '--force-replace' : '--force');
  if (plan.description) args.push('--description', plan.description);
  if (plan.labels.length > 0) args.push('--labels', plan.labels.map(([k, v]) => `${k}=${v}`).join(','));
  args.push(...contextArgs(plan.kubeContext));
  return args;
}

/**
 * The upgrade as the server would take it, without changing anything: templates run with
 * `lookup` reading the cluster (helm >= 3.13 --dry-run=server); the release comes back as
 * JSON whose `manifest` compares with `helm get manifest`.
 */
export function helmServerDryRunArgs(release: string, v: ChartValues, kubeContext: string): string[] {
  return ['upgrade', release, v.chart, '--install', '--namespace', v.namespace, ...valueArgs(v), '--dry-run=server', '--output', 'json', ...contextArgs(kubeContext)];
}

export interface ReleaseRef {
  release: string;
  namespace: string;
  kubeContext: string;
}

export function helmStatusArgs(r: ReleaseRef): string[] {
  return ['status', r.release, '--namespace', r.namespace, '--output', 'json', ...contextArgs(r.kubeContext)];
}

export function helmHistoryArgs(r: ReleaseRef, max = 20): string[] {
  return ['history', r.release, '--namespace', r.namespace, '--output', 'json', '--max', String(max), ...contextArgs(r.kubeContext)];
}

export function helmGetManifestArgs(r: ReleaseRef): string[] {
  return ['get', 'manifest', r.release, '--namespace', r.namespace, ...contextArgs(r.kubeContext)];
}

export function helmRollbackArgs(r: ReleaseRef, revision: number, timeout: string, major: HelmMajor, historyMax = 10): string[] {
  return [
    'rollback', r.release, String(revision), '--namespace', r.namespace,
    ...waitArgs(major), '--timeout', timeout, '--history-max', String(historyMax),
    ...contextArgs(r.kubeContext),
  ];
}

export function helmUninstallArgs(r: ReleaseRef, timeout: string): string[] {
  return ['uninstall', r.release, '--namespace', r.namespace, '--timeout', timeout, ...contextArgs(r.kubeContext)];
}

export function helmTestArgs(r: ReleaseRef, timeout: string): string[] {
  return ['test', r.release, '--namespace', r.namespace, '--logs', '--timeout', timeout, ...contextArgs(r.kubeContext)];
}

/** One entry of `helm history -o json`. */
export interface HelmRevision {
  revision: number;
  status: string;
  updated?: string;
  chart?: string;
  app_version?: string;
  description?: string;
}

export type Recovery =
  | { kind: 'none' }
  | { kind: 'rollback'; stuckRevision: number; status: string; to: number }
  | { kind: 'uninstall'; stuckRevision: number; status: string };

const PENDING = new Set(['pending-install', 'pending-upgrade', 'pending-rollback']);
const GOOD = ['deployed', 'superseded'];

/** The last revision that ran successfully before `below`, preferring 'deployed' over 'superseded'. */
export function lastGoodRevision(history: readonly HelmRevision[], below = Infinity): number | undefined {
  const earlier = history.filter((h) => h.revision < below);
  for (const status of GOOD) {
    const hits = earlier.filter((h) => h.status === status).map((h) => h.revision);
    if (hits.length > 0) return Math.max(...hits);
  }
  return undefined;
}

/**
 * What to do before upgrading, from the release history. A release left pending by a
 * cancelled run blocks every later upgrade ("another operation is in progress"): roll it
 * back to the last good revision, or uninstall it when it never ran successfully. A release
 * whose every revision failed cannot be upgraded either and is uninstalled.
 */
export function planRecovery(history: readonly HelmRevision[]): Recovery {
  if (history.length === 0) return { kind: 'none' };
  const latest = history.reduce((a, b) => (b.revision > a.revision ? b : a));
  if (PENDING.has(latest.status)) {
    const to = lastGoodRevision(history, latest.revision);
    return to === undefined
      ? { kind: 'uninstall', stuckRevision: latest.revision, status: latest.status }
      : { kind: 'rollback', stuckRevision: latest.revision, status: latest.status, to };
  }
  if (latest.status === 'failed' && lastGoodRevision(history) === undefined) {
    return { kind: 'uninstall', stuckRevision: latest.revision, status: latest.status };
  }
  return { kind: 'none' };
}
