import { InputError } from './errors';

/** Where raw input strings come from, untrimmed: the runner's INPUT_* variables, a map in tests. */
export type InputSource = (name: string) => string;

/** Reads inputs where the runner puts them (INPUT_<NAME>, spaces to underscores, upper case). */
export function envInputs(env: NodeJS.ProcessEnv = process.env): InputSource {
  return (name) => env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '';
}

export function mapInputs(values: Record<string, string | undefined>): InputSource {
  return (name) => values[name] ?? '';
}

/**
 * Typed, validating accessors over an InputSource, trimmed as @actions/core trims (except
 * `exact`). Every failure is an InputError naming the input.
 */
export class Inputs {
  private readonly source: InputSource;
  constructor(private readonly raw: InputSource) {
    this.source = (name) => raw(name).trim();
  }

  /** The value as given, surrounding whitespace included: for names that must be exact. */
  exact(name: string): string {
    return this.raw(name);
  }

  string(name: string, fallback = ''): string {
    const v = this.source(name);
    return v === '' ? fallback : v;
  }

  /** A secret (a token): refused with spaces or control characters inside, without showing it. */
  token(name: string): string {
    const v = this.source(name);
    if (/[\0-\x20\x7f]/.test(v)) throw new InputError(name, 'must be a token without spaces or control characters (the value is not shown)');
    return v;
  }

  required(name: string): string {
    const v = this.source(name);
    if (v === '') throw new InputError(name, 'is required');
    return v;
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.source(name);
    if (v === '') return fallback;
    if (/^(true|yes|on|1)$/i.test(v)) return true;
    if (/^(false|no|off|0)$/i.test(v)) return false;
    throw new InputError(name, 'must be true or false', v);
  }

  int(name: string, fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number {
    const v = this.source(name);
    if (v === '') return fallback;
    if (!/^-?\d+$/.test(v)) throw new InputError(name, `must be a whole number from ${min} to ${max}`, v);
    const n = Number(v);
    if (n < min || n > max) throw new InputError(name, `must be a whole number from ${min} to ${max}`, v);
    return n;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const v = this.source(name);
    if (v === '') return fallback;
    const hit = allowed.find((a) => a.toLowerCase() === v.toLowerCase());
    if (!hit) throw new InputError(name, `must be one of ${allowed.join(', ')}`, v);
    return hit;
  }

  /** A list given one item per line or comma separated; empty items dropped. */
  list(name: string): string[] {
    return splitList(this.source(name));
  }

  /** KEY=VALUE pairs, one per line. Values may contain '=' and commas. */
  keyValues(name: string): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    for (const raw of this.source(name).split(/\r?\n/)) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const eq = line.indexOf('=');
      const key = eq > 0 ? line.slice(0, eq).trim() : '';
      if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key)) {
        throw new InputError(name, 'must be KEY=VALUE lines with a key of letters, digits, _ . -', line);
      }
      out.push([key, line.slice(eq + 1)]);
    }
    return out;
  }
}

export function splitList(value: string): string[] {
  return value
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
