/** What the bake judges, as pure functions of what it observed. */
import type { Pod } from '../pods';

export interface Alarm {
  name: string;
  state: string;
  reason: string;
}

/** CloudWatch's free text (a state reason can span lines) made one line: the breach is the step's one failure line. */
const flat = (text: string) => text.replace(/\s+/g, ' ').trim();

/** The first alarm in ALARM. */
export function alarmBreach(alarms: readonly Alarm[]): string | undefined {
  const a = alarms.find((x) => x.state === 'ALARM');
  return a ? `CloudWatch alarm '${flat(a.name)}' is ALARM (${flat(a.reason)})` : undefined;
}

/** How many of the smoke URL's latest answers the error ratio is computed over. */
export const HTTP_WINDOW = 20;
/** Fewer answers than this are never judged. */
export const HTTP_MIN_SAMPLES = 5;

/** A sliding window of the smoke URL's answers: true = error (no answer, or HTTP >= 400). */
export function httpBreach(window: readonly boolean[], maxRatio: number, url: string): string | undefined {
  const last = window.slice(-HTTP_WINDOW);
  if (last.length < HTTP_MIN_SAMPLES) return undefined;
  const errors = last.filter(Boolean).length;
  const ratio = errors / last.length;
  return ratio > maxRatio ? `HTTP error ratio of ${url} is ${ratio.toFixed(2)} (${errors} of the last ${last.length} requests), above ${maxRatio}` : undefined;
}

/**
 * The pods that serve: finished pods (helm test and hook pods, phase Succeeded or Failed) match
 * the release's selector too, but are never ready again and restart no more.
 */
export function servingPods(pods: readonly Pod[]): Pod[] {
  return pods.filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
}

const restarts = (p: Pod) => (p.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
const ready = (p: Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

export interface PodWatch {
  /** Restarts per pod when the bake started (pods born later start at 0). */
  baseline: Map<string, number>;
  /** When each pod was first seen not ready. */
  unreadySince: Map<string, number>;
}

export function podWatch(pods: readonly Pod[]): PodWatch {
  return { baseline: new Map(pods.map((p) => [p.metadata.name, restarts(p)])), unreadySince: new Map() };
}

/** A pod of the release restarted more than allowed, or stayed unready too long. */
export function podBreach(w: PodWatch, pods: readonly Pod[], now: number, maxRestarts: number, unreadyMs: number): string | undefined {
  for (const p of pods) {
    if (p.metadata.deletionTimestamp) continue;
    const name = p.metadata.name;
    const more = restarts(p) - (w.baseline.get(name) ?? 0);
    if (more > maxRestarts) return `pod ${name} restarted ${more} time(s) during the bake (allowed ${maxRestarts})`;
    if (ready(p)) w.unreadySince.delete(name);
    else if (!w.unreadySince.has(name)) w.unreadySince.set(name, now);
    else if (now - w.unreadySince.get(name)! > unreadyMs) return `pod ${name} has not been ready for ${Math.round((now - w.unreadySince.get(name)!) / 1000)} s`;
  }
  return undefined;
}
