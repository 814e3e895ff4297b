/**
 * Concurrency groups of one repository, as GitHub keeps them (docs "Control the concurrency of
 * workflows and jobs"): at most one job or run holds a group; a newcomer waits `pending`; with the
 * default `queue: single` a newer pending entry cancels the older pending one, with `queue: max` up
 * to 100 wait in the order they started waiting (more are cancelled); `cancel-in-progress: true`
 * also cancels the holder (which keeps the group until it has stopped). Group names ignore case.
 * One `ConcurrencyGroups` is shared by the runs a test starts side by side (`concurrency` option).
 */

import { evaluateToken, isTruthy, toText, type Contexts } from './expressions';
import type { JobConcurrency } from './model';
import { WorkflowInvalid, type TemplateToken } from './parser';

export type Queue = 'single' | 'max';

export interface ConcurrencyRequest {
  group: string;
  cancelInProgress: boolean;
  queue: Queue;
  /** Who asks, for the record: 'deploy #2 / deploy'. */
  who: string;
  /** The run asking (its run id): a run never waits for a group it holds itself. */
  run: string;
  /** The job's name for the deadlock message ('top level workflow' is the other side). */
  job: string;
  /** Called when a newer entry with cancel-in-progress cancels this one while it holds the group. */
  onCancel: (message: string) => void;
}

export type Admission = { admitted: true; release: () => void; waited: boolean } | { admitted: false; message: string };

export interface ConcurrencyEvent {
  group: string;
  who: string;
  event: 'running' | 'pending' | 'cancelled' | 'released';
}

interface Entry {
  request: ConcurrencyRequest;
  admit: (a: Admission) => void;
}

/** The pending queue's bound with `queue: max`. */
export const MAX_PENDING = 100;

/** What GitHub prints on a job or run its group cancels (pending, or in progress). */
export const cancelledBy = (group: string) => `Canceling since a higher priority waiting request for '${group}' exists`;

/** What GitHub prints when a job asks for a group its own run holds (workflow level). */
export const deadlock = (group: string, job: string) => `Canceling since a deadlock for concurrency group '${group}' was detected between 'top level workflow' and '${job}'`;

export class ConcurrencyGroups {
  /** Everything that happened, in order. */
  readonly events: ConcurrencyEvent[] = [];
  private readonly groups = new Map<string, { holder?: Entry; pending: Entry[] }>();

  private note(request: ConcurrencyRequest, event: ConcurrencyEvent['event']): void {
    this.events.push({ group: request.group, who: request.who, event });
  }

  /** Resolves when the entry holds the group, or when it is cancelled while pending. */
  acquire(request: ConcurrencyRequest): Promise<Admission> {
    const key = request.group.toLowerCase();
    const state = this.groups.get(key) ?? { pending: [] };
    this.groups.set(key, state);
    return new Promise<Admission>((resolve) => {
      const entry: Entry = { request, admit: resolve };
      if (state.holder?.request.run === request.run) {
        // The run (or a workflow calling this job) holds the group: it would wait for itself.
        this.note(request, 'cancelled');
        resolve({ admitted: false, message: deadlock(request.group, request.job) });
        return;
      }
      if (!state.holder && state.pending.length === 0) {
        this.hold(state, entry, false);
        return;
      }
      const message = cancelledBy(request.group);
      if (request.queue === 'single') {
        for (const old of state.pending.splice(0)) {
          this.note(old.request, 'cancelled');
          old.admit({ admitted: false, message });
        }
      } else if (state.pending.length >= MAX_PENDING) {
        this.note(request, 'cancelled');
        resolve({ admitted: false, message });
        return;
      }
      if (request.cancelInProgress && state.holder) state.holder.request.onCancel(message);
      state.pending.push(entry);
      this.note(request, 'pending');
    });
  }

  private hold(state: { holder?: Entry; pending: Entry[] }, entry: Entry, waited: boolean): void {
    state.holder = entry;
    this.note(entry.request, 'running');
    let released = false;
    entry.admit({
      admitted: true,
      waited,
      release: () => {
        if (released) return;
        released = true;
        this.note(entry.request, 'released');
        state.holder = undefined;
        const next = state.pending.shift();
        if (next) this.hold(state, next, true);
      },
    });
  }
}

/**
 * A `concurrency:` value (a group name, or `{ group, cancel-in-progress, queue }`) evaluated in
 * its contexts (github, inputs, vars, needs, strategy, matrix). `queue: max` with
 * `cancel-in-progress: true` is refused, as the docs say GitHub refuses the workflow.
 */
export async function readConcurrency(token: TemplateToken | undefined, contexts: Contexts, where: string): Promise<JobConcurrency | undefined> {
  if (!token) return undefined;
  const value = await evaluateToken(token, contexts);
  const c = typeof value === 'object' && value !== null && !Array.isArray(value) ? value : { group: value };
  const queue = toText(c.queue ?? 'single');
  if (queue !== 'single' && queue !== 'max') throw new WorkflowInvalid(`The workflow is not valid. ${where}: concurrency queue must be single or max, got '${queue}'`);
  const concurrency: JobConcurrency = { group: toText(c.group ?? ''), cancelInProgress: isTruthy(c['cancel-in-progress'] ?? false), queue };
  if (concurrency.queue === 'max' && concurrency.cancelInProgress) {
    throw new WorkflowInvalid(`The workflow is not valid. ${where}: concurrency queue: max cannot be combined with cancel-in-progress: true`);
  }
  return concurrency;
}
