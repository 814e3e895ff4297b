import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, test } from 'vitest';
import { repoRoot } from '../harness/runner';
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
