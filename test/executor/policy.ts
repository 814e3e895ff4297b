/**
 * The organization or repository policy "Require actions to be pinned to a full-length commit
 * SHA" (Actions permissions; changelog 2025-08-15 "GitHub Actions policy now supports blocking
 * and SHA pinning actions"). A job whose steps use an action by tag or branch fails at set-up,
 * before any step, with GitHub's one line:
 *   The action actions/cache@v5 is not allowed in acme/svc because all actions must be pinned to a full-length commit SHA.
 *   The actions a@v1, b@v2, and c@v3 are not allowed in acme/svc because ...
 * It holds wherever the job's workflow lives (a called workflow's actions count for the caller's
 * repository). `./` and `$/` references name no ref (they run a commit of a repository already
 * running) and are allowed; `docker://` images are not actions of a repository.
 * Reusable workflow calls by tag are refused the same way here, before the run starts (this
 * executor's strict reading: the issue reports both refused; a SHA-pinned call passes either way).
 */
import { parseUses } from '@deploy-actions/release';

export interface Policy {
  /** "Require actions to be pinned to a full-length commit SHA". */
  requireShaPinning?: boolean;
}

/** The `uses:` values the policy refuses (remote references whose ref is not a 40-hex SHA). */
export function unpinned(uses: readonly string[]): string[] {
  return [
    ...new Set(
      uses.filter((u) => {
        if (u.startsWith('./') || u.startsWith('$/') || u.startsWith('docker://')) return false;
        try {
          const p = parseUses(u);
          return p.kind === 'remote' && !/^[0-9a-f]{40}$/.test(p.ref);
        } catch {
          return true;
        }
      }),
    ),
  ];
}

function list(items: readonly string[]): string {
  if (items.length <= 2) return items.join(' and ');
  return `${items.slice(0, -1).join(', ')}, and ${items[items.length - 1]}`;
}

/** GitHub's refusal, for actions or reusable workflows, in `repository` (the run's). */
export function pinningRefusal(refused: readonly string[], repository: string, kind: 'action' | 'workflow' = 'action'): string {
  const noun = kind === 'action' ? 'action' : 'reusable workflow';
  return `The ${noun}${refused.length > 1 ? 's' : ''} ${list(refused)} ${refused.length > 1 ? 'are' : 'is'} not allowed in ${repository} because all actions must be pinned to a full-length commit SHA.`;
}
