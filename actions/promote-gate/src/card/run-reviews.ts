/**
 * The card's `run-reviews` input: GitHub's review history of this run
 * (`GET /repos/{owner}/{repo}/actions/runs/{run_id}/approvals`, an array of
 * `{environments, state, user, comment}`), read by a job whose token has actions: read and
 * handed in, because the card job's own token does not (docs/release-card.md, "Who approved").
 * Part of the inputs (read before the card's logic is loaded): no client here.
 */
import type { Approval } from '../approvals';

/** Most reviews `run-reviews` may hold (a run has one per environment and reviewer). */
const MAX_REVIEWS = 200;

/**
 * The `run-reviews` input: GitHub's review history of a run (JSON), kept to what the card reads
 * (state, environment names, the reviewer's login). Undefined when empty; throws a one-line reason.
 */
export function parseRunReviews(text: string): Approval[] | undefined {
  if (text.trim() === '') return undefined;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new Error('must be a JSON array (the review history of the run)');
  }
  if (!Array.isArray(data) || data.length > MAX_REVIEWS) throw new Error(`must be a JSON array of at most ${MAX_REVIEWS} reviews`);
  return data.map((r: unknown, n) => {
    const x = (r ?? {}) as { state?: unknown; environments?: unknown; user?: { login?: unknown } | null };
    const envs = Array.isArray(x.environments) ? x.environments.map((e) => (e as { name?: unknown } | null)?.name) : undefined;
    const login = x.user?.login;
    if (typeof x.state !== 'string' || !envs || !envs.every((e) => typeof e === 'string') || (login !== undefined && typeof login !== 'string')) {
      throw new Error(`review ${n + 1} must have a state, environments with names and a user login`);
    }
    return { state: x.state, environments: (envs as string[]).map((name) => ({ name })), user: typeof login === 'string' ? { login } : null };
  });
}

