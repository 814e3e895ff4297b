/**
 * `timeout-minutes` as the runner applies it: the job's is one budget for all its steps (default
 * 360); a step's own is for that step alone and cannot outlast what is left of the job's. A step
 * over its own limit fails ("The action '<name>' has timed out after N minutes.", then
 * continue-on-error applies); a job over its limit is cancelled: the running step is cancelled
 * ("The operation was canceled."), later steps do not run, and the job reports "The job has
 * exceeded the maximum execution time of 45m0s" (a Go duration), concluding `cancelled`.
 */

/** The limit for the next step: the step's own, or what is left of the job's, whichever ends first. */
export function stepLimit(jobDeadline: number, now: number, stepMinutes: number | undefined, minuteMs: number): { ms: number; byJob: boolean } {
  const left = Math.max(1, jobDeadline - now);
  if (stepMinutes === undefined) return { ms: left, byJob: true };
  const own = stepMinutes * minuteMs;
  return own < left ? { ms: own, byJob: false } : { ms: left, byJob: true };
}

/** A duration as Go prints it (the runner's annotation): 45m0s, 1h0m0s, 1m30s, 30s. */
export function goDuration(minutes: number): string {
  const total = Math.round(minutes * 60);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

export const jobTimeoutMessage = (minutes: number) => `The job has exceeded the maximum execution time of ${goDuration(minutes)}`;
export const stepTimeoutMessage = (name: string, minutes: number) => `The action '${name}' has timed out after ${minutes} minutes.`;
export const CANCELED = 'The operation was canceled.';
