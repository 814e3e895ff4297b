/**
 * What every phase of a deploy shares: the dependencies the action runs on (replaced by
 * tests), the context built once the tools and the cluster are known, and helm invocation.
 */
import { DEADLINES, DeadlineError, UserError, type ActionIO, type Exec, type ExecResult, type GitHubContext, type NetworkFault, type Sleep } from '@deploy-actions/action-kit';
import { accessEntryMessage, isClusterAccessError, type AwsDeps } from './eks';
import type { HelmMajor, ReleaseRef } from '@deploy-actions/chart';
import type { Inputs } from './inputs';
import type { Kube } from './kube';
import type { Connection, KubeReader } from '@deploy-actions/kube';
import type { ReadPolicy } from './pull-access';
import type { Download, Found } from './tools';
import type { CloudWatch } from './bake/cloudwatch';

/** A running child process that can be stopped. */
export interface Proc {
  done: Promise<ExecResult>;
  kill(signal: NodeJS.Signals): void;
}

export interface Deps {
  io: ActionIO;
  exec: Exec;
  start(file: string, args: readonly string[], env: Record<string, string>): Proc;
  sleep: Sleep;
  /** Resolves with p, or with 'timeout' after ms; leaves no timer behind either way. */
  within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'>;
  now(): number;
  env: NodeJS.ProcessEnv;
  github: GitHubContext;
  aws?: AwsDeps;
  /** Reads an ECR repository policy (pull-access.ts); with an EKS cluster. */
  readPolicy?: ReadPolicy;
  /** The bake's alarms (when it watches any). */
  cloudwatch?: CloudWatch;
  installTool(d: Download): Promise<string>;
  /** The first executable of that name on PATH and its sha256, if any. */
  onPath(tool: string): Promise<Found | undefined>;
  writePrivate(path: string, text: string): void;
  appendEnv(name: string, value: string): void;
  exists(path: string): boolean;
  readFile(path: string): string | undefined;
  fetch: typeof fetch;
  /** The Kubernetes API client for a connection. */
  kubeClient(connection: Connection): KubeReader;
  nodePath: string;
  bundlePath: string;
  /** How often the watcher judges the pods it keeps by list+watch. */
  pollMs: number;
  /** How often a line says what helm still waits for. */
  heartbeatMs: number;
  /** How long helm gets to stop after SIGTERM. */
  killGraceMs: number;
}

export type Timings = Array<[string, number]>;

export interface Ctx {
  inputs: Inputs;
  deps: Deps;
  helm: string;
  major: HelmMajor;
  helmVersion: string;
  kubeEnv: Record<string, string>;
  /** The Kubernetes API the action reads pods, events, logs and workloads from. */
  kube: Kube;
  ref: ReleaseRef;
  callerArn: string;
  /** The cluster's API server URL (from DescribeCluster or the given kubeconfig), for messages. */
  apiServer: string;
  timings: Timings;
}

/**
 * How long one helm command that talks to the cluster may run. helm has no per-request deadline
 * toward the API server (client-go's only is the TLS handshake), so the process gets one: its own
 * --timeout when it waits, plus three Kubernetes request deadlines for the calls around the wait.
 */
export function helmDeadlineMs(args: readonly string[], timeoutSeconds: number): number {
  return (args.includes('--timeout') ? timeoutSeconds * 1000 : 0) + 3 * DEADLINES.kubeMs;
}

/** The fault line of a helm command stopped at its deadline (`waitedMs`: until it was stopped, when longer). */
export function clusterDeadline(c: Pick<Ctx, 'apiServer' | 'inputs'>, what: string, deadlineMs: number, waitedMs = deadlineMs): DeadlineError {
  const endpoint = `the cluster API server${c.apiServer ? ` (${c.apiServer})` : ''}`;
  return new DeadlineError('timeout', { endpoint, operation: `${what} ${c.inputs.release}`, waitedMs, attempts: 1, deadlineMs });
}

/**
 * Go's words for a network fault, as helm prints them (`Get "https://...": read tcp ...: read:
 * connection reset by peer`, `dial tcp ...: connect: connection refused`, `...: EOF`). A bare
 * `context deadline exceeded` is not one: helm says it when its own --timeout ends a wait.
 */
const GO_FAULTS: Array<[NetworkFault, RegExp]> = [
  ['reset', /connection reset by peer|broken pipe|"[a-z]+:\/\/[^"]+": (?:unexpected )?EOF\b|http2: server sent GOAWAY/],
  ['refused', /connect: connection refused/],
  ['unreachable', /no such host|network is unreachable|no route to host/],
  ['timeout', /i\/o timeout|TLS handshake timeout|Client\.Timeout exceeded|connect: connection timed out/],
];

/** A network fault helm (or another Go tool) reported on stderr: its kind, the URL it named, and its error line. */
export function goNetworkFault(stderr: string): { fault: NetworkFault; origin?: string; said: string } | undefined {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const at = lines.findIndex((l) => GO_FAULTS.some(([, re]) => re.test(l)));
  if (at < 0) return undefined;
  const line = lines[at]!;
  const fault = GO_FAULTS.find(([, re]) => re.test(line))![0];
  const url = /"(https?:\/\/[^"\s]+)"/.exec(line)?.[1];
  // helm's error is all of it from its `Error:` line on (one failed call per object can follow): kept whole, lines joined.
  const from = lines.slice(0, at + 1).findLastIndex((l) => l.startsWith('Error: '));
  const said = lines.slice(from < 0 ? at : from).join(' | ').replace(/^Error: /, '');
  return { fault, origin: url ? safeOrigin(url) : undefined, said };
}

/**
 * The one line of a helm command that met a network fault: the operation, the endpoint (the
 * cluster's API server, or the other host helm named, e.g. a chart repository), the time
 * waited, then helm's own error line whole.
 */
export function helmFault(c: Pick<Ctx, 'apiServer' | 'inputs'>, what: string, stderr: string, waitedMs: number): DeadlineError | undefined {
  const f = goNetworkFault(stderr);
  if (!f) return undefined;
  const server = c.apiServer ? safeOrigin(c.apiServer) : undefined;
  // Another host than the API server is named as helm named it (a chart repository, a registry).
  const endpoint = f.origin && server && f.origin !== server ? f.origin : `the cluster API server (${c.apiServer || f.origin || 'from the kubeconfig'})`;
  // helm's own wait is the deadline of a timeout it reports.
  return new DeadlineError(f.fault, { endpoint, operation: `${what} ${c.inputs.release}`, waitedMs, attempts: 1, deadlineMs: waitedMs, said: `helm: ${f.said}` });
}

/** The origin of `url` (scheme, host, port), undefined when it is not a URL. */
export function safeOrigin(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/** Runs one phase in a log group and records how long it took. */
export async function timed<T>(c: Pick<Ctx, 'deps' | 'timings'>, name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = c.deps.now();
  try {
    return await c.deps.io.group(name, fn);
  } finally {
    c.timings.push([name, (c.deps.now() - t0) / 1000]);
  }
}

/** The last non-empty lines of a tool's stderr, joined on one line. */
export function lastLines(text: string, n: number): string {
  return text.trim().split('\n').filter(Boolean).slice(-n).join(' ');
}

export async function helmRun(c: Ctx, args: string[], opts: { silent?: boolean; allowFailure?: boolean } = {}): Promise<ExecResult> {
  const deadlineMs = helmDeadlineMs(args, c.inputs.timeoutSeconds);
  const started = c.deps.now();
  const r = await c.deps.exec(c.helm, args, { env: c.kubeEnv, silent: opts.silent ?? true, allowFailure: true, deadlineMs });
  if (r.timedOut) throw clusterDeadline(c, `helm ${args[0]}`, deadlineMs);
  if (r.exitCode !== 0) {
    const fault = helmFault(c, `helm ${args[0]}`, r.stderr, c.deps.now() - started);
    if (fault) throw fault;
    if (isClusterAccessError(r.stderr)) throw accessError(c, r.stderr);
    if (!opts.allowFailure) throw new UserError(`helm ${args[0]} failed: ${lastLines(r.stderr, 5) || `exit code ${r.exitCode}`}`);
  }
  return r;
}

export function accessError(c: Ctx, stderr: string): UserError {
  const detail = (/Error: (.+)/.exec(stderr)?.[1] ?? stderr.trim().split('\n').pop() ?? '').slice(0, 200);
  if (!c.inputs.clusterName) {
    return new UserError(`The cluster refused the credentials of the given kubeconfig (${detail}): check its user and RBAC`);
  }
  return new UserError(accessEntryMessage(c.inputs.clusterName, c.inputs.region, c.inputs.namespace, c.callerArn, detail));
}
