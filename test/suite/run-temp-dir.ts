/**
 * One temp directory per `vitest run` (a `globalSetup` of vitest.config.ts). Every harness,
 * stand-in, executor run and step makes its temp dirs with `mkdtemp(join(tmpdir(), ...))`, and
 * `os.tmpdir()` reads TMPDIR each time it is called: the set-up points TMPDIR at a fresh
 * `<tmp>/da-test-<pid>-XXXXXX` before any test file starts (vitest hands its workers the
 * environment of the moment they start, and they hand it to every process they spawn), and the
 * teardown removes that directory whole and restores TMPDIR. A run leaves the system temp
 * directory as it found it, however many runner dirs, workspaces and tool caches its files made
 * and did not remove (73 GB of them filled this machine's disk once).
 *
 * The same set-up gives the run one Node compile cache, NODE_COMPILE_CACHE=`<dir>/node-compile-cache`:
 * every node process of the run (vitest's workers, tsx, and the action bundles the harness and the
 * executor start: they pass it on to the environment they build) keeps V8's compiled code of the
 * modules it loads there, and the next process that loads the same file skips most of its compile
 * (a 1 MB bundle chunk is loaded a few hundred times per run). Removed with the directory. The
 * benchmarks run outside vitest and stay cold (scripts/bench.sh unsets it; a bench that wants a
 * cache names its own directory).
 *
 * A run killed before its teardown leaves its directory: the next run removes every
 * `da-test-<pid>-*` whose process is gone. The name stays short (about 27 characters under
 * /tmp): tsx puts a unix socket under TMPDIR, and a socket path has at most 107 bytes.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PREFIX = 'da-test-';

export interface RunTempDir {
  /** The directory TMPDIR names while the run lasts. */
  readonly dir: string;
  /** NODE_COMPILE_CACHE while the run lasts: `<dir>/node-compile-cache`. */
  readonly compileCache: string;
  /** Removes the directory and everything in it; TMPDIR and NODE_COMPILE_CACHE are what they were before. */
  close(): void;
}

export function openRunTempDir(base: string = tmpdir()): RunTempDir {
  removeAbandoned(base);
  const dir = mkdtempSync(join(base, `${PREFIX}${process.pid}-`));
  const compileCache = join(dir, 'node-compile-cache');
  const saved = { TMPDIR: process.env.TMPDIR, NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE };
  process.env.TMPDIR = dir;
  process.env.NODE_COMPILE_CACHE = compileCache;
  return {
    dir,
    compileCache,
    close() {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

/** Directories of earlier runs whose vitest process no longer exists (killed before teardown). */
function removeAbandoned(base: string): void {
  for (const name of readdirSync(base)) {
    const pid = new RegExp(`^${PREFIX}(\\d+)-`).exec(name)?.[1];
    if (pid !== undefined && !alive(Number(pid))) rmSync(join(base, name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export default function setup(): () => void {
  const run = openRunTempDir();
  return () => run.close();
}
