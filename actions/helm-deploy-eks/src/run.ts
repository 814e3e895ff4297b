import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { chmod, readFile } from 'node:fs/promises';
import * as tc from '@actions/tool-cache';
import {
  codeBlock,
  errorMessage,
  exportVariable,
  LogLines,
  exec as realExec,
  githubContext,
  realSleep,
  retry,
  table,
  UserError,
  type ActionIO,
  type Exec,
  type ExecResult,
  type GitHubContext,
  type Outputs,
  type Sleep,
} from '@deploy-actions/action-kit';
import { unifiedDiff } from './diff';
import { accessEntryMessage, awsDeps, isClusterAccessError, type AwsDeps, type ClusterInfo } from './eks';
import {
  helmGetManifestArgs,
  helmHistoryArgs,
  helmLintArgs,
  helmRollbackArgs,
  helmStatusArgs,
  helmTemplateArgs,
  helmTestArgs,
  helmUninstallArgs,
  helmUpgradeArgs,
  helmVersionArgs,
  lastGoodRevision,
  parseHelmMajor,
  planRecovery,
  valuesLayers,
  type ChartValues,
  type HelmMajor,
  type HelmRevision,
  type ReleaseRef,
} from './helm-args';
import type { Inputs } from './inputs';
import { diagnose, diagnosisMarkdown, listPods, listWorkloads, oneLine, type Diagnosis, type Kubectl } from './kube';
import { buildKubeconfig, renderKubeconfig } from './kubeconfig';
import { classifyPods, podsOfDeploy, type PodFailure, type PodView } from './pods';
import { helmDownload, installTool, kubectlDownload, kubectlVersionFor, runnerArch, type Download } from './tools';

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
  installTool(d: Download): Promise<string>;
  writePrivate(path: string, text: string): void;
  appendEnv(name: string, value: string): void;
  exists(path: string): boolean;
  fetch: typeof fetch;
  nodePath: string;
  bundlePath: string;
  /** How often the watcher polls pods. */
  pollMs: number;
  /** How long helm gets to stop after SIGTERM. */
  killGraceMs: number;
}

interface Ctx {
  inputs: Inputs;
  deps: Deps;
  helm: string;
  major: HelmMajor;
  helmVersion: string;
  kubeEnv: Record<string, string>;
  kubectl: Kubectl;
  ref: ReleaseRef;
  callerArn: string;
  timings: Array<[string, number]>;
}

const STATUS_OK = 'deployed';

function helmEnv(kubeEnv: Record<string, string>): Record<string, string> {
  return kubeEnv;
}

async function helmRun(c: Ctx, args: string[], opts: { silent?: boolean; allowFailure?: boolean } = {}): Promise<ExecResult> {
  const r = await c.deps.exec(c.helm, args, { env: helmEnv(c.kubeEnv), silent: opts.silent ?? true, allowFailure: true });
  if (r.exitCode !== 0) {
    if (isClusterAccessError(r.stderr)) throw accessError(c, r.stderr);
    if (!opts.allowFailure) {
      const tail = r.stderr.trim().split('\n').slice(-5).join(' ');
      throw new UserError(`helm ${args[0]} failed: ${tail || `exit code ${r.exitCode}`}`);
    }
  }
  return r;
}

function accessError(c: Ctx, stderr: string): UserError {
  const detail = (/Error: (.+)/.exec(stderr)?.[1] ?? stderr.trim().split('\n').pop() ?? '').slice(0, 200);
  if (!c.inputs.clusterName) {
    return new UserError(`The cluster refused the credentials of the given kubeconfig (${detail}): check its user and RBAC`);
  }
  return new UserError(accessEntryMessage(c.inputs.clusterName, c.inputs.region, c.inputs.namespace, c.callerArn, detail));
}

async function timed<T>(c: Pick<Ctx, 'deps' | 'timings'>, name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = c.deps.now();
  try {
    return await c.deps.io.group(name, fn);
  } finally {
    c.timings.push([name, (c.deps.now() - t0) / 1000]);
  }
}

async function history(c: Ctx): Promise<HelmRevision[]> {
  const r = await helmRun(c, helmHistoryArgs(c.ref), { allowFailure: true });
  if (r.exitCode !== 0) {
    if (/not found/i.test(r.stderr)) return [];
    throw new UserError(`helm history failed: ${r.stderr.trim().split('\n').pop()}`);
  }
  try {
    const parsed = JSON.parse(r.stdout) as HelmRevision[];
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    throw new UserError(`helm history printed no JSON: ${r.stdout.slice(0, 200)}`);
  }
}

function latest(h: HelmRevision[]): HelmRevision | undefined {
  return h.reduce<HelmRevision | undefined>((a, b) => (!a || b.revision > a.revision ? b : a), undefined);
}

/** Puts the release back to `to` (or removes it when there is nothing to go back to). */
async function restore(c: Ctx, to: number | undefined, why: string): Promise<string> {
  if (to === undefined) {
    await helmRun(c, helmUninstallArgs(c.ref, c.inputs.timeout), { silent: false });
    return `uninstalled ${c.ref.release} (${why}; it had no earlier good revision)`;
  }
  await helmRun(c, helmRollbackArgs(c.ref, to, c.inputs.timeout, c.major, c.inputs.historyMax), { silent: false });
  return `rolled back ${c.ref.release} to revision ${to} (${why})`;
}

async function recoverStuck(c: Ctx, h: HelmRevision[]): Promise<HelmRevision[]> {
  const plan = planRecovery(h);
  if (plan.kind === 'none') return h;
  const what = await restore(c, plan.kind === 'rollback' ? plan.to : undefined, `revision ${plan.stuckRevision} was left ${plan.status}`);
  c.deps.io.warning(`Release ${c.ref.release} was stuck in ${plan.status} (revision ${plan.stuckRevision}), probably by a cancelled run: ${what} before upgrading`);
  return history(c);
}

interface WatchResult {
  helm: ExecResult;
  diagnosis?: Diagnosis;
  failedAt?: number;
  pods: PodView[];
}

/** Runs helm upgrade while watching the release's new pods; stops helm at the first unrecoverable pod state. */
async function upgradeWatched(c: Ctx, args: string[], startedAt: number): Promise<WatchResult> {
  const { deps, inputs } = c;
  // Pods that exist before helm starts are the previous revision's; only new ones are judged.
  const before = inputs.failFast ? await listPods(deps.exec, c.kubectl, inputs.podSelector) : undefined;
  const existing = new Set((before ?? []).map((p) => p.metadata.name));
  const proc = deps.start(c.helm, args, helmEnv(c.kubeEnv));
  let finished = false;
  const done = proc.done.finally(() => {
    finished = true;
  });
  let lastViews: PodView[] = [];
  let lastStates = '';
  const thresholds = { crashLoopRestarts: inputs.crashLoopRestarts, readinessTimeoutMs: inputs.readinessTimeoutSeconds * 1000 };
  while (!finished && inputs.failFast) {
    await deps.within(done, deps.pollMs);
    if (finished) break;
    const pods = await listPods(deps.exec, c.kubectl, inputs.podSelector);
    if (!pods || finished) continue;
    const ours = before ? pods.filter((p) => !existing.has(p.metadata.name)) : podsOfDeploy(pods, startedAt);
    const cls = classifyPods(ours, thresholds, deps.now());
    lastViews = cls.pods;
    const states = cls.pods.map((p) => `${p.pod} ${p.phase}${p.ready ? ' ready' : ''}${p.detail ? ` ${p.detail}` : ''}`).join('; ');
    if (states !== lastStates && states !== '') deps.io.info(`pods: ${states}`);
    lastStates = states;
    if (cls.failure) {
      const failedAt = deps.now();
      deps.io.info(`Unrecoverable: ${oneLine(cls.failure)}; stopping helm`);
      // Gather the evidence first: the rollback may delete the failing pod.
      const diagnosis = await diagnose(deps.exec, c.kubectl, cls.failure, cls.pods, inputs.logLines);
      proc.kill('SIGTERM');
      if ((await deps.within(done, deps.killGraceMs)) === 'timeout') {
        deps.io.warning(`helm did not stop within ${deps.killGraceMs / 1000} s of SIGTERM; killing it`);
        proc.kill('SIGKILL');
      }
      const helm = await done;
      return { helm, diagnosis, failedAt, pods: cls.pods };
    }
  }
  return { helm: await done, pods: lastViews };
}

/** After a failed upgrade: make sure the release is back on `previous` (or gone after a first install). */
async function ensureRestored(c: Ctx, previous: number | undefined, startRevision: number): Promise<string> {
  const h = await history(c);
  const last = latest(h);
  if (!last || last.revision <= startRevision) {
    return previous === undefined && !last ? 'nothing was installed' : `release still at revision ${previous ?? last?.revision}`;
  }
  if (last.status === STATUS_OK && /^Rollback to/i.test(last.description ?? '')) {
    return `helm rolled back to revision ${/Rollback to (\d+)/i.exec(last.description ?? '')?.[1] ?? previous}`;
  }
  const to = previous ?? lastGoodRevision(h, last.revision);
  return restore(c, to, `revision ${last.revision} failed`);
}

function imageSetStrings(i: Inputs): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (i.image) {
    out.push([i.imageRepositoryKey, i.image.repository]);
    out.push([i.imageDigestKey, i.image.digest]);
    if (i.imageTagKey && i.image.tag) out.push([i.imageTagKey, i.image.tag]);
  }
  return out;
}

function imageRef(i: Inputs): string {
  return i.image ? `${i.image.repository}${i.image.tag ? `:${i.image.tag}` : ''}@${i.image.digest}` : '';
}

function supportsLabels(major: HelmMajor, version: string): boolean {
  if (major === 4) return true;
  const minor = Number(/^v?3\.(\d+)/.exec(version)?.[1] ?? 0);
  return minor >= 13;
}

async function resolveTools(inputs: Inputs, deps: Deps): Promise<{ helm: string; version: string; major: HelmMajor }> {
  const arch = runnerArch();
  const helm = inputs.toolsFromPath ? 'helm' : await deps.installTool(helmDownload(inputs.helmBaseUrl, inputs.helmVersion, arch));
  const r = await deps.exec(helm, helmVersionArgs(), { silent: true, allowFailure: true });
  if (r.exitCode !== 0) throw new UserError(`${helm} version failed: ${r.stderr.trim() || r.stdout.trim()}`);
  const version = r.stdout.trim();
  let major: HelmMajor;
  try {
    major = parseHelmMajor(version);
  } catch (err) {
    throw new UserError(errorMessage(err));
  }
  deps.io.info(`helm ${version} (${helm})`);
  return { helm, version, major };
}

async function clusterAccess(inputs: Inputs, deps: Deps): Promise<{ kubeconfig: string; cluster?: ClusterInfo; callerArn: string }> {
  if (inputs.kubeconfig) {
    deps.io.info(`Using the kubeconfig ${inputs.kubeconfig}`);
    return { kubeconfig: inputs.kubeconfig, callerArn: '' };
  }
  const aws = deps.aws!;
  let callerArn = '';
  try {
    callerArn = await aws.callerArn();
    deps.io.info(`AWS identity: ${callerArn}`);
  } catch (err) {
    deps.io.warning(`Could not read the AWS identity (sts:GetCallerIdentity): ${errorMessage(err)}`);
  }
  const cluster = await aws.describeCluster(inputs.clusterName);
  if (!['ACTIVE', 'UPDATING'].includes(cluster.status)) {
    throw new UserError(`EKS cluster '${inputs.clusterName}' is ${cluster.status}, not ACTIVE`);
  }
  deps.io.info(`EKS cluster ${cluster.name}: Kubernetes ${cluster.version}, ${cluster.endpoint}`);
  const dir = `${deps.env.RUNNER_TEMP ?? '/tmp'}/helm-deploy-eks`;
  const path = `${dir}/kubeconfig-${inputs.clusterName}.yaml`;
  const config = buildKubeconfig({
    clusterName: inputs.clusterName,
    region: inputs.region,
    server: cluster.endpoint,
    caData: cluster.caData,
    nodePath: deps.nodePath,
    bundlePath: deps.bundlePath,
    env: { ...deps.env, AWS_REGION: inputs.region },
  });
  deps.writePrivate(path, renderKubeconfig(config));
  deps.io.info(`Wrote ${path} (mode 0600; the user is an exec credential plugin minting EKS tokens)`);
  return { kubeconfig: path, cluster, callerArn };
}

async function smokeCheck(c: Ctx): Promise<string> {
  const { inputs, deps } = c;
  let attempts = 0;
  return retry(
    async () => {
      attempts++;
      let res: Response;
      try {
        res = await deps.fetch(inputs.smokeUrl, { signal: AbortSignal.timeout(10_000), redirect: 'manual' });
      } catch (err) {
        throw new Error(`${inputs.smokeUrl}: ${errorMessage((err as { cause?: unknown }).cause ?? err)}`);
      }
      if (res.status >= 400) throw new Error(`${inputs.smokeUrl} answered HTTP ${res.status}`);
      await res.body?.cancel();
      return `HTTP ${res.status} after ${attempts} attempt(s)`;
    },
    {
      attempts: inputs.smokeAttempts,
      baseMs: 1000,
      maxMs: 10_000,
      retryable: () => true,
      sleep: deps.sleep,
      onRetry: (err, n, delay) => deps.io.info(`smoke check attempt ${n} failed (${errorMessage(err)}); again in ${delay} ms`),
    },
  );
}

export async function run(inputs: Inputs, deps: Deps): Promise<Outputs> {
  const { io } = deps;
  const startedAll = deps.now();
  const timings: Array<[string, number]> = [];
  const tctx = { deps, timings };
  const gh = deps.github;

  const tools = await timed(tctx, 'Install helm', () => resolveTools(inputs, deps));

  const values: ChartValues = {
    chart: inputs.chart,
    namespace: inputs.namespace,
    valuesFiles: valuesLayers(inputs.chart, inputs.environment, inputs.valuesFiles, deps.exists),
    setStrings: [...inputs.set, ...imageSetStrings(inputs)],
  };
  if (inputs.podAnnotationsKey && gh.sha) values.setStrings.push([`${inputs.podAnnotationsKey}.deploy-actions/commit`, gh.sha]);
  if (inputs.podAnnotationsKey && inputs.image) values.setStrings.push([`${inputs.podAnnotationsKey}.deploy-actions/image-digest`, inputs.image.digest]);

  const rendered = await timed(tctx, 'Lint and render the chart', async () => {
    if (inputs.environment && valuesLayers(inputs.chart, inputs.environment, [], deps.exists).length === 0) {
      io.warning(`The chart has no values-${inputs.environment}.yaml: deploying ${inputs.environment} with values.yaml${inputs.valuesFiles.length ? ' and values-files' : ''} only`);
    }
    io.info(`values files, lowest precedence first: ${['values.yaml (chart)', ...values.valuesFiles].join(', ')}`);
    const bare = { exec: deps.exec };
    const lint = await bare.exec(tools.helm, helmLintArgs(values), { silent: true, allowFailure: true });
    io.info(lint.stdout.trim());
    if (lint.exitCode !== 0) {
      const errs = (lint.stdout + lint.stderr).split('\n').filter((l) => /\[ERROR\]|Error:/.test(l)).join('; ');
      throw new UserError(`helm lint failed for ${inputs.chart}: ${errs || 'see the log'}`);
    }
    const tpl = await bare.exec(tools.helm, helmTemplateArgs(inputs.release, values), { silent: true, allowFailure: true });
    if (tpl.exitCode !== 0) {
      throw new UserError(`helm template failed: ${tpl.stderr.trim().split('\n').slice(-3).join(' ')}`);
    }
    io.info(`rendered ${(tpl.stdout.match(/^kind: /gm) ?? []).length} resources`);
    return tpl.stdout;
  });

  const access = await timed(tctx, 'Cluster access', () => clusterAccess(inputs, deps));
  const kubeEnv: Record<string, string> = { KUBECONFIG: access.kubeconfig };
  if (inputs.clusterName) kubeEnv.AWS_REGION = inputs.region;
  if (inputs.exportKubeconfig) deps.appendEnv('KUBECONFIG', access.kubeconfig);

  const kubectlPath = await timed(tctx, 'Install kubectl', async () => {
    if (inputs.toolsFromPath) return 'kubectl';
    const version = kubectlVersionFor(inputs.kubectlVersion, access.cluster?.version);
    return deps.installTool(kubectlDownload(inputs.kubectlBaseUrl, version, runnerArch()));
  });

  const c: Ctx = {
    inputs,
    deps,
    helm: tools.helm,
    major: tools.major,
    helmVersion: tools.version,
    kubeEnv,
    kubectl: { path: kubectlPath, env: kubeEnv, context: inputs.kubeContext, namespace: inputs.namespace, onError: (m) => io.debug(m) },
    ref: { release: inputs.release, namespace: inputs.namespace, kubeContext: inputs.kubeContext },
    callerArn: access.callerArn,
    timings,
  };

  const base: Outputs = {
    release: inputs.release,
    namespace: inputs.namespace,
    kubeconfig: access.kubeconfig,
    'image-ref': imageRef(inputs),
  };

  let h = await timed(tctx, 'Release state', async () => {
    const got = await history(c);
    const last = latest(got);
    io.info(last ? `${inputs.release}: revision ${last.revision} ${last.status}` : `${inputs.release} is not installed in ${inputs.namespace}: first install`);
    return inputs.dryRun ? got : recoverStuck(c, got);
  });
  const previous = lastGoodRevision(h);
  const startRevision = latest(h)?.revision ?? 0;
  /** Outputs of a failed deploy: where the release stands after the restore (never masks the failure). */
  const failureOutputs = async (): Promise<Outputs> => {
    const now = await history(c).then(latest, () => undefined);
    return { ...base, revision: now?.revision ?? '', status: now?.status ?? 'uninstalled', 'previous-revision': previous ?? '' };
  };

  if (inputs.dryRun) {
    return timed(tctx, 'Dry run: diff against the live release', async () => {
      const live = previous === undefined ? '' : (await helmRun(c, helmGetManifestArgs(c.ref))).stdout;
      const diff = unifiedDiff(live, rendered, `live/${inputs.release}${previous ? `@${previous}` : ''}`, `new/${inputs.release}`);
      io.info(diff === '' ? 'No changes.' : diff);
      await io.summary(
        `## helm-deploy-eks (dry run): ${inputs.release} in ${inputs.namespace}\n\n` +
          (diff === '' ? 'No changes against the live release.\n' : `${diff.split('\n').filter((l) => /^[+-][^+-]/.test(l)).length} changed lines against ${previous ? `revision ${previous}` : 'nothing (first install)'}:\n\n${codeBlock(diff, 'diff')}`),
      );
      return { ...base, revision: previous ?? 0, 'previous-revision': previous ?? '', status: 'dry-run', changed: diff !== '' };
    });
  }

  const description = [`commit ${gh.sha.slice(0, 12)}`, inputs.image ? `image ${inputs.image.digest}` : '', gh.runUrl ? `run ${gh.runUrl}` : '']
    .filter(Boolean)
    .join(' ');
  const labels: Array<[string, string]> = [];
  if (supportsLabels(c.major, c.helmVersion)) {
    if (/^[0-9a-f]{40}$/.test(gh.sha)) labels.push(['deploy-actions/commit', gh.sha]);
    if (/^\d+$/.test(gh.runId)) labels.push(['deploy-actions/run-id', gh.runId]);
  }
  const args = helmUpgradeArgs(
    {
      ...values,
      release: inputs.release,
      createNamespace: inputs.createNamespace,
      timeout: inputs.timeout,
      historyMax: inputs.historyMax,
      rollbackOnFailure: inputs.rollbackOnFailure,
      force: inputs.force,
      description,
      labels,
      kubeContext: inputs.kubeContext,
    },
    c.major,
  );

  const deployStart = deps.now();
  const watched = await timed(tctx, `Deploy ${inputs.release} (helm ${c.major})`, async () => {
    io.info(`helm ${args.join(' ')}`);
    return upgradeWatched(c, args, deployStart);
  });

  if (watched.helm.exitCode !== 0 || watched.diagnosis) {
    const stderr = watched.helm.stderr;
    if (!watched.diagnosis && isClusterAccessError(stderr)) throw accessError(c, stderr);
    const restored = await timed(tctx, 'Restore the previous release', () =>
      inputs.rollbackOnFailure || watched.diagnosis ? ensureRestored(c, previous, startRevision) : Promise.resolve('left as failed (rollback-on-failure is false)'),
    );
    const seconds = ((deps.now() - deployStart) / 1000).toFixed(1);
    let line: string;
    if (watched.diagnosis) {
      const f: PodFailure = watched.diagnosis.failure;
      line = `Deploy of ${inputs.release} failed after ${seconds} s: ${oneLine(f)}; ${restored}`;
    } else {
      const tail = stderr.trim().split('\n').filter(Boolean).slice(-2).join(' ');
      line = `helm upgrade of ${inputs.release} failed after ${seconds} s: ${tail || `exit code ${watched.helm.exitCode}`}; ${restored}`;
    }
    io.error(line, { title: 'helm-deploy-eks' });
    await io.summary(
      `## helm-deploy-eks: ${inputs.release} failed\n\n${line}\n\n` +
        (watched.diagnosis ? diagnosisMarkdown(watched.diagnosis) : stderr.trim() ? codeBlock(stderr.trim().split('\n').slice(-20).join('\n')) : '') +
        timingTable(timings, startedAll, deps.now()),
    );
    throw new UserError(line, await failureOutputs());
  }

  const status = await statusOf(c);
  io.info(`${inputs.release}: revision ${status.revision} ${status.status}`);

  const validation: string[] = [];
  try {
    if (inputs.helmTest) {
      await timed(tctx, 'helm test', async () => {
        const r = await helmRun(c, helmTestArgs(c.ref, inputs.timeout), { allowFailure: true, silent: false });
        if (r.exitCode !== 0) throw new UserError(`helm test failed: ${r.stderr.trim().split('\n').slice(-2).join(' ')}`);
        validation.push('helm test passed');
      });
    }
    if (inputs.smokeUrl) {
      await timed(tctx, 'Smoke check', async () => {
        try {
          validation.push(`smoke check ${inputs.smokeUrl}: ${await smokeCheck(c)}`);
        } catch (err) {
          throw new UserError(`smoke check failed: ${errorMessage(err)}`);
        }
      });
    }
  } catch (err) {
    const restored = inputs.rollbackOnFailure
      ? await timed(tctx, 'Restore the previous release', () => restore(c, previous, `revision ${status.revision} failed validation`))
      : 'left in place (rollback-on-failure is false)';
    const line = `${errorMessage(err)}; ${restored}`;
    io.error(line, { title: 'helm-deploy-eks' });
    await io.summary(`## helm-deploy-eks: ${inputs.release} failed validation\n\n${line}\n\n${timingTable(timings, startedAll, deps.now())}`);
    throw new UserError(line, await failureOutputs());
  }

  const workloads = await listWorkloads(deps.exec, c.kubectl, inputs.podSelector);
  await io.summary(
    `## helm-deploy-eks: ${inputs.release} revision ${status.revision} ${status.status}\n\n` +
      table(
        ['Deploy', 'Value'],
        [
          ['Environment', inputs.environment || '-'],
          ['Cluster', inputs.clusterName || inputs.kubeconfig],
          ['Namespace', inputs.namespace],
          ['Release', `${inputs.release} revision ${status.revision} (previous ${previous ?? 'none'})`],
          ['Image', imageRef(inputs) || '(chart default)'],
          ['Commit', gh.sha],
          ['Helm', c.helmVersion],
          ...(validation.length > 0 ? [['Validation', validation.join('; ')]] : []),
        ],
      ) +
      (workloads.length > 0 ? `\n**Resources**\n\n${table(['Kind', 'Name', 'Ready', 'Up to date'], workloads.map((w) => [w.kind, w.name, w.ready, w.upToDate ? 'yes' : 'no']))}` : '') +
      timingTable(timings, startedAll, deps.now()),
  );
  return { ...base, revision: status.revision, status: status.status, 'previous-revision': previous ?? '' };
}

async function statusOf(c: Ctx): Promise<{ revision: number; status: string }> {
  const r = await helmRun(c, helmStatusArgs(c.ref));
  const s = JSON.parse(r.stdout) as { version?: number; info?: { status?: string } };
  return { revision: s.version ?? 0, status: s.info?.status ?? 'unknown' };
}

function timingTable(timings: Array<[string, number]>, start: number, end: number): string {
  return `\n**Timing**\n\n${table(['Phase', 'Seconds'], [...timings.map(([n, s]) => [n, s.toFixed(1)]), ['Total', ((end - start) / 1000).toFixed(1)]])}`;
}

// ---------------------------------------------------------------- real dependencies

function startProcess(file: string, args: readonly string[], env: Record<string, string>): Proc {
  const child = spawn(file, [...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const [echoOut, echoErr] = [new LogLines(), new LogLines()];
  child.stdout.on('data', (d: Buffer) => {
    out.push(d);
    echoOut.push(d);
  });
  child.stderr.on('data', (d: Buffer) => {
    err.push(d);
    echoErr.push(d);
  });
  const done = new Promise<ExecResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      echoOut.end();
      echoErr.end();
      resolve({
        exitCode: code ?? (signal ? 128 + 15 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
  return { done, kill: (s) => void child.kill(s) };
}

export function realDeps(io: ActionIO, inputs: Inputs): Deps {
  const env = process.env;
  return {
    io,
    exec: realExec,
    start: startProcess,
    sleep: realSleep,
    within: (p, ms) => {
      let timer: NodeJS.Timeout | undefined;
      const t = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
      return Promise.race([p, t]).finally(() => clearTimeout(timer));
    },
    now: () => Date.now(),
    env,
    github: githubContext(env),
    aws: inputs.clusterName ? awsDeps(inputs.region, (m) => io.info(m)) : undefined,
    installTool: (d) =>
      installTool(d, runnerArch(), {
        tc,
        readFile: (p) => readFile(p, 'utf8'),
        chmod: (p, m) => chmod(p, m),
        log: (m) => io.info(m),
      }),
    writePrivate: (path, text) => {
      mkdirSync(path.slice(0, path.lastIndexOf('/')), { recursive: true, mode: 0o700 });
      writeFileSync(path, text, { mode: 0o600 });
      chmodSync(path, 0o600);
    },
    appendEnv: (name, value) => exportVariable(name, value),
    exists: (p) => existsSync(p),
    fetch: globalThis.fetch,
    nodePath: process.execPath,
    bundlePath: process.argv[1] ?? '',
    pollMs: 2000,
    killGraceMs: 30_000,
  };
}
