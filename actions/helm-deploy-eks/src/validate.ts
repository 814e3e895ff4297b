/** Validation after the rollout: helm test and the smoke check. */
import { errorMessage, retry, UserError } from '@deploy-actions/action-kit';
import { helmRun, lastLines, timed, type Ctx } from './context';
import { helmTestArgs } from './helm-args';

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

/** Runs the validations asked for; returns what passed, throws a UserError at the first failure. */
export async function validate(c: Ctx): Promise<string[]> {
  const { inputs } = c;
  const passed: string[] = [];
  if (inputs.helmTest) {
    await timed(c, 'helm test', async () => {
      const r = await helmRun(c, helmTestArgs(c.ref, inputs.timeout), { allowFailure: true, silent: false });
      if (r.exitCode !== 0) throw new UserError(`helm test failed: ${lastLines(r.stderr, 2)}`);
      passed.push('helm test passed');
    });
  }
  if (inputs.smokeUrl) {
    await timed(c, 'Smoke check', async () => {
      try {
        passed.push(`smoke check ${inputs.smokeUrl}: ${await smokeCheck(c)}`);
      } catch (err) {
        throw new UserError(`smoke check failed: ${errorMessage(err)}`);
      }
    });
  }
  return passed;
}
