/**
 * Which promote-gate mode reads which input. An input the chosen mode does not read is refused
 * (one line naming it and the modes that read it) before any mode's own checks: a user who put
 * an input in the wrong mode must not believe it applies. The runner passes action.yml's
 * default for every input not given, so a value equal to the default counts as not given; the
 * defaults below are checked against action.yml by the tests.
 *
 * Part of the entry (read before any mode's logic is loaded): a table and one loop, nothing else.
 */
import { InputError, type Inputs as Raw } from '@deploy-actions/action-kit';

export const MODES = ['record', 'verify', 'status', 'last-validated', 'fail', 'card'] as const;
export type AnyMode = (typeof MODES)[number];

/** Inputs read by some modes only, with the action.yml default of those that have one. Every other input is read by every mode. */
export const MODE_INPUTS: Readonly<Record<string, { modes: readonly AnyMode[]; default?: string }>> = {
  repository: { modes: ['record', 'verify', 'status', 'last-validated', 'fail'] },
  digest: { modes: ['record', 'verify', 'last-validated', 'fail'] },
  'registry-id': { modes: ['record', 'verify', 'card'] },
  'aws-region': { modes: ['record', 'verify', 'card'] },
  sha: { modes: ['record', 'verify', 'fail', 'card'] },
  'environments-file': { modes: ['record', 'verify', 'fail', 'card'], default: '.github/environments.yml' },
  environment: { modes: ['record', 'last-validated', 'fail', 'card'] },
  'require-environment': { modes: ['verify', 'card'] },
  'target-environment': { modes: ['verify'], default: 'production' },
  'allowed-refs': { modes: ['verify'] },
  environments: { modes: ['status', 'card'], default: 'qa,preprod,production' },
  required: { modes: ['last-validated'], default: 'true' },
  evidence: { modes: ['record', 'verify'], default: 'github,ecr' },
  'tag-template': { modes: ['record', 'verify'], default: '{environment}-{sha7}' },
  'commit-tag-template': { modes: ['record', 'verify'], default: '{sha7}' },
  'environment-url': { modes: ['record'] },
  description: { modes: ['record', 'fail'] },
  'production-environment': { modes: ['record'] },
  'transient-environment': { modes: ['record'], default: 'true' },
  'content-key': { modes: ['record', 'verify'] },
  'provenance-kms-key': { modes: ['record', 'verify'] },
  hotfix: { modes: ['record', 'card'], default: 'false' },
  'refusal-hint': { modes: ['verify'] },
  'weaken-promotion-gate': { modes: ['verify'], default: 'false' },
  'card-sha256': { modes: ['record'] },
  card: { modes: ['record'] },
  release: { modes: ['card'] },
  chart: { modes: ['card'], default: 'chart' },
  namespace: { modes: ['card'], default: 'default' },
  'values-files': { modes: ['card'] },
  set: { modes: ['card'] },
  'set-string': { modes: ['card'] },
  'image-repository-key': { modes: ['card'], default: 'image.repository' },
  'image-digest-key': { modes: ['card'], default: 'image.digest' },
  'image-registry-key': { modes: ['card'] },
  'image-tag-key': { modes: ['card'] },
  'image-reference-key': { modes: ['card'] },
  'bake-duration': { modes: ['card'] },
  'bake-alarms': { modes: ['card'] },
  'bake-alarm-prefix': { modes: ['card'] },
  helm: { modes: ['card'] },
};

const named = (modes: readonly string[]) => (modes.length === 1 ? `mode ${modes[0]}` : `modes ${modes.slice(0, -1).join(', ')} and ${modes[modes.length - 1]}`);

/** The mode asked for; refuses an unknown mode, and any input that mode does not read. */
export function checkModeInputs(i: Raw): AnyMode {
  const asked = i.string('mode');
  if (asked === '') throw new InputError('mode', `is required: one of ${MODES.join(', ')}`);
  const mode = MODES.find((m) => m === asked.toLowerCase());
  if (!mode) throw new InputError('mode', `must be one of ${MODES.join(', ')}`, asked);
  for (const [name, { modes, default: fallback = '' }] of Object.entries(MODE_INPUTS)) {
    const value = i.string(name);
    if (value === '' || value === fallback || modes.includes(mode)) continue;
    throw new InputError(name, `is read only in ${named(modes)}, not in mode ${mode}: remove it`, value);
  }
  return mode;
}
