/**
 * The promotion chain's shape and its default, apart from the environments file's parser
 * (config.ts, which loads YAML): promote-gate's input checks read the default in its entry, and
 * load the parser only when a file is there (issue 25: the bad-input path loads no YAML).
 */

/** The pipeline's promotion chain: environments after the first need evidence from the one before. */
export interface Promotion {
  chain: string[];
  /** Exact refs allowed to deploy to a promotion target. */
  refs: string[];
}

export const DEFAULT_PROMOTION: Promotion = { chain: ['preprod', 'production'], refs: ['refs/heads/main'] };

/** An exact branch or tag ref (no patterns): what promotion refs (and promote-gate's allowed-refs) accept. */
export const EXACT_REF_RE = /^refs\/(heads|tags)\/[A-Za-z0-9._\/-]+$/;
