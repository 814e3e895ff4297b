/** Validation after the rollout: the live digest check, helm test, the smoke check. */
import { codeBlock, DEADLINES, DeadlineError, errorMessage, networkFault, retry, UserError, type NetworkFault } from '@deploy-actions/action-kit';
import { helmRun, lastLines, safeOrigin, timed, type Ctx } from './context';
import { helmTestArgs } from '@deploy-actions/chart';
import { listPodsAndOwners, podLogs } from './kube';
import { expectsRunningPods, judgeLive, runningImages, type RunningImage } from './live';
import type { K8sObject } from './manifests';
import { hookOf } from './manifests';
import type { Workload } from './release-pods';
import { shortenCause } from './shorten';

/** A smoke request that met a network fault (no answer within its deadline, reset, refused). */
class SmokeFault extends Error {
  constructor(
    readonly fault: NetworkFault,
    message: string,
  ) {
    super(message);
  }
}

async function smokeCheck(c: Ctx): Promise<string> {
  const { inputs, deps } = c;
  let attempts = 0;
  const started = deps.now();
  return retry(
    async () => {
      attempts++;
      let res: Response;
      try {
        res = await deps.fetch(inputs.smokeUrl, { signal: AbortSignal.timeout(DEADLINES.probeMs), redirect: 'manual' });
      } catch (err) {
        const message = `${inputs.smokeUrl}: ${errorMessage((err as { cause?: unknown }).cause ?? err)}`;
        const fault = networkFault(err);
        throw fault ? new SmokeFault(fault, message) : new Error(message);
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
  ).catch((err: unknown) => {
    // The last attempt met a network fault: the deadline line (the URL's origin, the call, the time waited).
    if (!(err instanceof SmokeFault)) throw err;
    throw new DeadlineError(err.fault, { endpoint: safeOrigin(inputs.smokeUrl) ?? inputs.smokeUrl, operation: `smoke check GET ${inputs.smokeUrl}`, waitedMs: deps.now() - started, attempts, deadlineMs: DEADLINES.probeMs });
  });
}


/** A failed validation: the one line, and the output worth showing in the summary. */
export class ValidationError extends UserError {
  constructor(
    message: string,
    readonly detail = '',
  ) {
    super(message);
  }
}

/** The last lines of the test pods' output, for the annotation (one line) and the summary (as is). */
async function testOutput(c: Ctx, objects: readonly K8sObject[]): Promise<{ pod: string; tail: string } | undefined> {
  const pods = objects.filter((o) => o.kind === 'Pod' && (hookOf(o) ?? '').split(',').some((h) => h.trim() === 'test')).map((o) => o.metadata.name);
  for (const pod of pods) {
    const logs = (await podLogs(c.kube, pod, '', Math.max(c.inputs.logLines, 1), false)).trim();
    if (logs) return { pod, tail: logs };
  }
  return undefined;
}

export interface Validation {
  passed: string[];
  /** image@digest the release's pods run, each once. */
  running: string[];
}

/** Runs the validations asked for; returns what passed, throws a ValidationError at the first failure. */
export async function validate(c: Ctx, objects: readonly K8sObject[], workloads: readonly Workload[]): Promise<Validation> {
  const { inputs } = c;
  const out: Validation = { passed: [], running: [] };
  await timed(c, 'Live check: images the pods run', async () => {
    // Pods being replaced or a slow API server can leave one listing empty: look up to three times.
    let images: RunningImage[] = [];
    let listError = '';
    const kube = { ...c.kube, onError: (m: string) => ((listError = m), c.kube.onError?.(m)) };
    for (let attempt = 1; attempt <= 3 && images.length === 0; attempt++) {
      if (attempt > 1) await c.deps.sleep(2000 * (attempt - 1));
      listError = '';
      images = runningImages((await listPodsAndOwners(kube)) ?? [], workloads, inputs.podSelector);
    }
    if (listError && images.length === 0) throw new ValidationError(`Live check: could not list the pods of ${inputs.namespace}: ${listError}`);
    if (!inputs.image) {
      out.running = [...new Set(images.map((i) => i.image))];
      return;
    }
    if (images.length === 0 && !expectsRunningPods(objects)) {
      c.deps.io.info('Live check: the chart runs nothing continuously (CronJobs, Jobs, hooks or 0 replicas only); no pod to compare');
      return;
    }
    const verdict = judgeLive(images, inputs.image);
    out.running = verdict.running;
    c.deps.io.info(`running: ${verdict.running.join(', ') || 'nothing'}`);
    if (!verdict.ok) throw new ValidationError(verdict.line);
    out.passed.push('pods run the pinned digest');
  });
  if (inputs.helmTest) {
    await timed(c, 'helm test', async () => {
      // A cluster that cannot be reached fails the validation (and the release is restored) like a failing test.
      const r = await helmRun(c, helmTestArgs(c.ref, inputs.timeout), { allowFailure: true, silent: false }).catch((err: unknown) => {
        throw err instanceof DeadlineError ? new ValidationError(`helm test failed: ${err.message}`) : err;
      });
      if (r.exitCode !== 0) {
        const output = await testOutput(c, objects);
        const tail = output ? `; pod ${output.pod} printed: ${shortenCause(output.tail.split('\n').slice(-3).join(' | '), 200)}` : '';
        throw new ValidationError(`helm test failed: ${lastLines(r.stderr, 2)}${tail}`, output ? `**Last lines of the test pod ${output.pod}**\n\n${codeBlock(output.tail)}` : '');
      }
      out.passed.push('helm test passed');
    });
  }
  if (inputs.smokeUrl) {
    await timed(c, 'Smoke check', async () => {
      try {
        out.passed.push(`smoke check ${inputs.smokeUrl}: ${await smokeCheck(c)}`);
      } catch (err) {
        throw new ValidationError(err instanceof DeadlineError ? err.message : `smoke check failed: ${errorMessage(err)}`);
      }
    });
  }
  return out;
}
