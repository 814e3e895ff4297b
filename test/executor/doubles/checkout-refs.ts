/**
 * How actions/checkout v5.0.0 turns its inputs into git commands (src/input-helper.ts,
 * ref-helper.ts, git-command-manager.ts), as pure functions:
 *   - `ref` empty in the workflow's own repository: the event's ref and sha (an unqualified
 *     ref becomes refs/heads/<ref>); a 40-hex `ref` is a commit; any other repository with no
 *     ref: its default branch;
 *   - the refspecs fetched (the commit under the ref's remote-tracking name when both are
 *     known, all branches and tags for fetch-depth 0);
 *   - what is checked out (a branch with `-B <branch> refs/remotes/origin/<branch>`, a pull
 *     request's refs/remotes/pull/<n>/merge, a tag, or the bare commit).
 */
export interface Target {
  /** Fully qualified ref, unqualified name, or '' (a commit only). */
  ref: string;
  commit: string;
}

export interface CheckoutInfo {
  ref: string;
  startPoint?: string;
}

const upper = (s: string) => s.toUpperCase();
const has = (ref: string, prefix: string) => upper(ref).startsWith(prefix);

/** input-helper: what the inputs and the event ask for. */
export function targetFor(refInput: string, isWorkflowRepository: boolean, event: { ref: string; sha: string }): Target {
  if (refInput && /^[0-9a-fA-F]{40}$/.test(refInput)) return { ref: '', commit: refInput };
  if (refInput) return { ref: refInput, commit: '' };
  if (!isWorkflowRepository) return { ref: '', commit: '' };
  const ref = event.ref && event.sha && !event.ref.startsWith('refs/') ? `refs/heads/${event.ref}` : event.ref;
  return { ref, commit: event.sha };
}

/** ref-helper getRefSpec: the refspecs of a shallow (fetch-depth > 0) fetch. */
export function refSpecs({ ref, commit }: Target): string[] {
  if (!ref && !commit) throw new Error('Args ref and commit cannot both be empty');
  const tail = (prefix: string) => ref.substring(prefix.length);
  if (commit) {
    if (has(ref, 'REFS/HEADS/')) return [`+${commit}:refs/remotes/origin/${tail('refs/heads/')}`];
    if (has(ref, 'REFS/PULL/')) return [`+${commit}:refs/remotes/pull/${tail('refs/pull/')}`];
    if (has(ref, 'REFS/TAGS/')) return [`+${commit}:${ref}`];
    return [commit];
  }
  if (!has(ref, 'REFS/')) return [`+refs/heads/${ref}*:refs/remotes/origin/${ref}*`, `+refs/tags/${ref}*:refs/tags/${ref}*`];
  if (has(ref, 'REFS/HEADS/')) return [`+${ref}:refs/remotes/origin/${tail('refs/heads/')}`];
  if (has(ref, 'REFS/PULL/')) return [`+${ref}:refs/remotes/pull/${tail('refs/pull/')}`];
  return [`+${ref}:${ref}`];
}

/** ref-helper getRefSpecForAllHistory: fetch-depth 0. */
export function refSpecsForAllHistory({ ref, commit }: Target): string[] {
  const specs = ['+refs/heads/*:refs/remotes/origin/*', '+refs/tags/*:refs/tags/*'];
  if (ref && has(ref, 'REFS/PULL/')) specs.push(`+${commit || ref}:refs/remotes/pull/${ref.substring('refs/pull/'.length)}`);
  return specs;
}

/** git-command-manager fetch: the arguments of `git fetch`. */
export function fetchArgs(refspecs: string[], opts: { fetchDepth: number; fetchTags: boolean; showProgress: boolean; shallowRepository: boolean }): string[] {
  const args = ['-c', 'protocol.version=2', 'fetch'];
  if (!refspecs.some((s) => s === '+refs/tags/*:refs/tags/*') && !opts.fetchTags) args.push('--no-tags');
  args.push('--prune', '--no-recurse-submodules');
  if (opts.showProgress) args.push('--progress');
  if (opts.fetchDepth > 0) args.push(`--depth=${opts.fetchDepth}`);
  else if (opts.shallowRepository) args.push('--unshallow');
  return [...args, 'origin', ...refspecs];
}

/**
 * ref-helper getCheckoutInfo. `branchExists`/`tagExists` answer for unqualified refs only
 * (after the fetch), so the function stays pure.
 */
export function checkoutInfo({ ref, commit }: Target, lookup: { remoteBranch: boolean; tag: boolean } = { remoteBranch: false, tag: false }): CheckoutInfo {
  if (!ref && !commit) throw new Error('Args ref and commit cannot both be empty');
  if (!ref) return { ref: commit };
  if (has(ref, 'REFS/HEADS/')) {
    const branch = ref.substring('refs/heads/'.length);
    return { ref: branch, startPoint: `refs/remotes/origin/${branch}` };
  }
  if (has(ref, 'REFS/PULL/')) return { ref: `refs/remotes/pull/${ref.substring('refs/pull/'.length)}` };
  if (has(ref, 'REFS/TAGS/')) return { ref };
  if (has(ref, 'REFS/')) return { ref: commit || ref };
  if (lookup.remoteBranch) return { ref, startPoint: `refs/remotes/origin/${ref}` };
  if (lookup.tag) return { ref: `refs/tags/${ref}` };
  throw new Error(`A branch or tag with the name '${ref}' could not be found`);
}

/** git-command-manager checkout: the arguments of `git checkout`. */
export function checkoutArgs(info: CheckoutInfo): string[] {
  return info.startPoint ? ['checkout', '--progress', '--force', '-B', info.ref, info.startPoint] : ['checkout', '--progress', '--force', info.ref];
}
