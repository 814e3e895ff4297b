/**
 * Paths an input names inside the workspace (a build context, a Dockerfile, a chart, values
 * files). Each is resolved against the workspace, symlinks included, and must end up inside it:
 * an absolute path elsewhere, a `..` escape or a symlink out of the checkout fails with one line
 * naming the input, before anything is read or run.
 */
import { realpathSync, statSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { InputError } from './errors';

/** The two file-system questions asked; tests may answer them from a map. */
export interface PathFs {
  /** The path with every symlink resolved; undefined when it does not exist. */
  realpath(path: string): string | undefined;
  isDirectory(path: string): boolean;
}

export const realPathFs: PathFs = {
  realpath: (p) => {
    try {
      return realpathSync(p);
    } catch {
      return undefined;
    }
  },
  isDirectory: (p) => {
    try {
      return statSync(p).isDirectory();
    } catch {
      return false;
    }
  },
};

export interface ConfineOptions {
  workspace: string;
  kind: 'file' | 'directory';
  /** What the path must be, in errors (default "a file" / "a directory"). */
  what?: string;
  fs?: PathFs;
}

/**
 * The real path of `value` (relative to the workspace, or absolute) when it exists, is of `kind`
 * and lies inside the workspace after symlinks are resolved; else an InputError naming `input`.
 */
export function confinedPath(input: string, value: string, opts: ConfineOptions): string {
  const fs = opts.fs ?? realPathFs;
  const what = opts.what ?? `a ${opts.kind}`;
  if (/[\0-\x1f\x7f]/.test(value)) throw new InputError(input, 'must be a path without control characters (newline, tab, NUL...)', value);
  const root = fs.realpath(opts.workspace) ?? resolve(opts.workspace);
  const real = fs.realpath(resolve(opts.workspace, value));
  if (real === undefined) throw new InputError(input, `must be ${what} that exists in the workspace`, value);
  if (real !== root && !real.startsWith(root.endsWith(sep) ? root : root + sep)) {
    throw new InputError(input, `must stay inside the workspace ${root} (symlinks resolved); it leads to ${real}`, value);
  }
  if (fs.isDirectory(real) !== (opts.kind === 'directory')) throw new InputError(input, `must be ${what}`, value);
  return real;
}
