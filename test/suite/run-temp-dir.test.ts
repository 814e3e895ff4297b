import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, test } from 'vitest';
import { runFiles } from '../executor/testing';
import { repoRoot, runActionBundle } from '../harness/runner';
import { openRunTempDir } from './run-temp-dir';

const made: string[] = [];
const scratch = (name: string): string => {
  const dir = mkdtempSync(join(tmpdir(), name));
  made.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('one temp directory per run', () => {
  test('the suite runs in one: this file sees TMPDIR set by the global set-up of vitest.config.ts', () => {
    expect(basename(tmpdir())).toMatch(/^da-test-\d+-/);
  });

  test('TMPDIR names it while the run lasts; closing removes it whole and restores TMPDIR', () => {
    const base = scratch('da-clean-');
    const before = process.env.TMPDIR;
    const run = openRunTempDir(base);
    try {
      expect(process.env.TMPDIR).toBe(run.dir);
      expect(tmpdir()).toBe(run.dir);
      expect(run.dir.startsWith(join(base, `da-test-${process.pid}-`))).toBe(true);
      const runner = mkdtempSync(join(tmpdir(), 'da-runner-'));
      mkdirSync(join(runner, '_work', 'deep'), { recursive: true });
      writeFileSync(join(runner, '_work', 'deep', 'file'), 'x');
    } finally {
      run.close();
    }
    expect(process.env.TMPDIR).toBe(before);
    expect(readdirSync(base)).toEqual([]);
  });

  test('a run killed before its teardown: the next run removes its directory, not a live run’s', () => {
    const base = scratch('da-clean-');
    // Above Linux's largest pid_max (2^22): no such process.
    const gone = join(base, 'da-test-4194305-abcdef');
    const live = join(base, `da-test-${process.pid}-ghijkl`);
    const other = join(base, 'da-runner-mnopqr');
    for (const dir of [gone, live, other]) mkdirSync(join(dir, 'sub'), { recursive: true });
    const run = openRunTempDir(base);
    run.close();
    expect(readdirSync(base).sort()).toEqual(['da-runner-mnopqr', `da-test-${process.pid}-ghijkl`]);
  });

  test('a whole vitest run leaves the temp directory as it found it, whatever its tests and their processes left', async () => {
    const base = scratch('da-clean-');
    const outside = scratch('da-clean-report-');
    const report = join(outside, 'paths');
    writeFileSync(report, '');
    const vitest = join(repoRoot, 'node_modules/vitest/vitest.mjs');
    await promisify(execFile)(
      process.execPath,
      [vitest, 'run', '--root', repoRoot, '--config', 'test/suite/fixtures/temp-dirs/vitest.config.ts'],
      { cwd: repoRoot, env: { ...process.env, TMPDIR: base, TEMP_DIRS_CACHE: join(outside, 'cache'), TEMP_DIRS_REPORT: report } },
    );
    const left = readFileSync(report, 'utf8').split('\n').filter(Boolean);
    // The fixture's test and the process it spawned each made a dir inside the run's directory...
    expect(left).toHaveLength(2);
    for (const path of left) expect(path.startsWith(join(base, 'da-test-'))).toBe(true);
    // ...and nothing of it is left.
    for (const path of left) expect(existsSync(path)).toBe(false);
    expect(readdirSync(base)).toEqual([]);
  });
});

describe('one Node compile cache per run', () => {
  // A probe action: its output `dir` is the compile cache directory Node itself says it uses
  // (module.getCompileCacheDir(): undefined when the cache is off), not merely the variable.
  const probe = {
    'probe/action.yml': 'name: probe\ndescription: d\noutputs:\n  dir: { description: d }\nruns:\n  using: node24\n  main: index.mjs\n',
    'probe/index.mjs': "import { appendFileSync } from 'node:fs';\nimport { getCompileCacheDir } from 'node:module';\nappendFileSync(process.env.GITHUB_OUTPUT, `dir=${getCompileCacheDir() ?? 'off'}\\n`);\n",
  };
  const nodeSays = `node --input-type=module -e "import { appendFileSync } from 'node:fs'; import { getCompileCacheDir } from 'node:module'; appendFileSync(process.env.GITHUB_OUTPUT, 'dir=' + (getCompileCacheDir() ?? 'off') + '\\n')"`;
  const runCache = (): string => join(tmpdir(), 'node-compile-cache');
  // Node's directory for this Node version inside the cache named by NODE_COMPILE_CACHE.
  const inside = (cache: string) => expect.stringMatching(new RegExp(`^${cache.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/v\\d+\\.`));

  test('this file sees NODE_COMPILE_CACHE inside the run directory; openRunTempDir sets it and closing restores it', () => {
    expect(process.env.NODE_COMPILE_CACHE).toBe(runCache());
    const before = process.env.NODE_COMPILE_CACHE;
    const run = openRunTempDir(scratch('da-clean-'));
    try {
      expect(process.env.NODE_COMPILE_CACHE).toBe(join(run.dir, 'node-compile-cache'));
      expect(run.compileCache).toBe(process.env.NODE_COMPILE_CACHE);
    } finally {
      run.close();
    }
    expect(process.env.NODE_COMPILE_CACHE).toBe(before);
  });

  test('a bundle the harness runs (its env built from scratch) compiles through the run\'s cache, which fills', async () => {
    const root = scratch('da-probe-');
    for (const [path, text] of Object.entries(probe)) {
      mkdirSync(join(root, 'probe'), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    const r = await runActionBundle({ action: 'probe', root });
    expect(r.stderr).toBe('');
    expect(r.outputs.dir).toEqual(inside(runCache()));
    // Node keeps its entries under a directory per Node version.
    expect(readdirSync(runCache()).length).toBeGreaterThan(0);
    // A caller's NODE_COMPILE_CACHE wins (a bench's cold/warm variants name their own).
    const own = join(root, 'own-cache');
    expect((await runActionBundle({ action: 'probe', root, env: { NODE_COMPILE_CACHE: own } })).outputs.dir).toEqual(inside(own));
  });

  test("a workflow's steps under the executor (a uses: action, node in a run: step) use it too", async () => {
    const r = await runFiles({
      '.github/workflows/main.yml': `on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - id: uses\n        uses: ./probe\n      - id: run\n        run: ${JSON.stringify(nodeSays)}\n`,
      ...probe,
    });
    expect(r.conclusion).toBe('success');
    const [uses, run] = r.jobs[0]!.steps;
    expect(uses!.outputs.dir).toEqual(inside(runCache()));
    expect(run!.outputs.dir).toEqual(inside(runCache()));
  });
});
