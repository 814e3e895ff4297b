/** The bake window's inputs (bake-*), validated with the others before anything runs. */
import { InputError, type Inputs as Raw } from '@deploy-actions/action-kit';
import { GO_MAX_DURATION_SECONDS, parseGoDuration } from '../inputs';

/** The bake inputs and their action.yml defaults: one given another value without bake-duration is refused. */
const BAKE_DEFAULTS: Record<string, string> = {
  'bake-interval': '5s',
  'bake-alarms': '',
  'bake-alarm-prefix': '',
  'bake-error-ratio': '0.1',
  'bake-max-restarts': '0',
  'bake-unready-timeout': '30s',
  'bake-rollback-digest': '',
};

export interface BakeInputs {
  /** 0: no bake. */
  durationMs: number;
  intervalMs: number;
  alarmNames: string[];
  alarmPrefix: string;
  /** Errors / requests above this over the last `HTTP_WINDOW` requests to the smoke URL breach. */
  errorRatio: number;
  /** Restarts of a pod of the new revision during the bake above this breach. */
  maxRestarts: number;
  /** A pod not ready for longer than this breaches. */
  unreadyMs: number;
  /** The last validated release of the environment (promote-gate last-validated): what a breach rolls back to. */
  rollbackDigest: string;
}

function ms(i: Raw, name: string, fallback: string, allowZero: boolean): number {
  const text = i.string(name, fallback);
  const s = parseGoDuration(text);
  if (s === undefined || s < 0 || (!allowZero && s === 0)) throw new InputError(name, 'must be a Go duration such as 5m, 30s or 1m30s', text);
  if (s > GO_MAX_DURATION_SECONDS) throw new InputError(name, "must be at most 2562047h (Go's largest duration)", text);
  return s * 1000;
}

export function bakeInputs(i: Raw): BakeInputs {
  const durationMs = ms(i, 'bake-duration', '0s', true);
  if (durationMs === 0) {
    const given = Object.keys(BAKE_DEFAULTS).find((name) => i.string(name, BAKE_DEFAULTS[name]) !== BAKE_DEFAULTS[name]);
    if (given) throw new InputError(given, 'is read only with bake-duration (set bake-duration, e.g. 10m, or remove it)', i.string(given));
  }
  for (const name of ['bake-alarms', 'bake-alarm-prefix']) {
    if (/[\0-\x09\x0b-\x1f\x7f]/.test(i.string(name))) throw new InputError(name, 'must be CloudWatch alarm names without control characters (CR, tab, NUL...)', i.string(name));
  }
  const alarmNames = i.list('bake-alarms');
  const alarmPrefix = i.string('bake-alarm-prefix');
  if (/\n/.test(alarmPrefix)) throw new InputError('bake-alarm-prefix', 'must be one alarm name prefix, on one line', alarmPrefix);
  if (alarmNames.length > 0 && alarmPrefix) throw new InputError('bake-alarm-prefix', 'cannot be combined with bake-alarms (CloudWatch takes names or a prefix)', alarmPrefix);
  for (const n of alarmNames) if (n.length > 255) throw new InputError('bake-alarms', 'must be alarm names of at most 255 characters', n);
  if (alarmNames.length > 100) throw new InputError('bake-alarms', 'may name at most 100 alarms');
  const ratioText = i.string('bake-error-ratio', '0.1');
  const errorRatio = Number(ratioText);
  if (!/^\d*\.?\d+$/.test(ratioText) || errorRatio >= 1) throw new InputError('bake-error-ratio', 'must be a number from 0 to below 1, e.g. 0.05', ratioText);
  const rollbackDigest = i.string('bake-rollback-digest').toLowerCase();
  if (rollbackDigest && !/^sha256:[0-9a-f]{64}$/.test(rollbackDigest)) throw new InputError('bake-rollback-digest', 'must be sha256: followed by 64 hex characters', rollbackDigest);
  return {
    durationMs,
    intervalMs: ms(i, 'bake-interval', '5s', false),
    alarmNames,
    alarmPrefix,
    errorRatio,
    maxRestarts: i.int('bake-max-restarts', 0, { min: 0, max: 1000 }),
    unreadyMs: ms(i, 'bake-unready-timeout', '30s', false),
    rollbackDigest,
  };
}
