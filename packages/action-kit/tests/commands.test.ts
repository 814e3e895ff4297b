import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as core from '@actions/core';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { appendSummary, commandLine, issueCommand, keyValueEntry, setEnv, setOutput } from '../src/commands';

let written: string[];
const saved = { ...process.env };
let dir: string;
const file = (name: string) => {
  const f = join(dir, name);
  writeFileSync(f, '');
  return f;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'commands-'));
  written = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
  process.env = { ...saved };
});

/** What @actions/core writes for the same call, the reference these formats are kept to. */
function byCore(fn: () => void): string {
  written = [];
  fn();
  return written.join('');
}

const hostile = ['plain', '100% done', 'two\nlines', 'cr\rhere', '::error::injected', 'a:b,c', '%0A literal'];

describe('workflow commands, as @actions/core 3 writes them', () => {
  test.each(hostile)('error/warning/debug/add-mask/group of %j', (message) => {
    const ours = byCore(() => {
      issueCommand('error', message);
      issueCommand('warning', message, { title: message, file: 'a:b,c.yaml', startLine: 3 });
      issueCommand('debug', message);
      issueCommand('add-mask', message);
      issueCommand('group', message);
      issueCommand('endgroup', '');
    });
    const theirs = byCore(() => {
      core.error(message);
      core.warning(message, { title: message, file: 'a:b,c.yaml', startLine: 3 });
      core.debug(message);
      core.setSecret(message);
      core.startGroup(message);
      core.endGroup();
    });
    expect(ours).toBe(theirs);
    // Each command stays one line whatever the message holds.
    expect(ours.split('\n').filter(Boolean)).toHaveLength(6);
  });

  test('commandLine leaves out empty properties', () => {
    expect(commandLine('error', 'x', { title: '', file: undefined })).toBe('::error::x');
  });
});

describe('file commands', () => {
  const normalise = (s: string) => s.replace(/ghadelimiter_[0-9a-f-]{36}/g, 'ghadelimiter_ID');

  test.each(hostile)('an output and an environment variable holding %j: the delimiter form, as core writes it', (value) => {
    process.env.GITHUB_OUTPUT = file('output-ours');
    process.env.GITHUB_ENV = file('env-ours');
    setOutput('result', value);
    setEnv('MY_VAR', value);
    const ours = [readFileSync(process.env.GITHUB_OUTPUT, 'utf8'), readFileSync(process.env.GITHUB_ENV, 'utf8')];
    expect(process.env.MY_VAR).toBe(value);

    process.env.GITHUB_OUTPUT = file('output-core');
    process.env.GITHUB_ENV = file('env-core');
    core.setOutput('result', value);
    core.exportVariable('MY_VAR', value);
    const theirs = [readFileSync(process.env.GITHUB_OUTPUT, 'utf8'), readFileSync(process.env.GITHUB_ENV, 'utf8')];
    expect(ours.map(normalise)).toEqual(theirs.map(normalise));
  });

  test('a value that holds the delimiter is refused', () => {
    expect(() => keyValueEntry('x', 'a ghadelimiter_fixed b', () => 'fixed')).toThrow(/value should not contain the delimiter/);
  });

  test('outside a runner: outputs and the summary are dropped, an environment variable is an error', () => {
    delete process.env.GITHUB_OUTPUT;
    delete process.env.GITHUB_STEP_SUMMARY;
    delete process.env.GITHUB_ENV;
    expect(() => setOutput('a', 'b')).not.toThrow();
    expect(() => appendSummary('# x')).not.toThrow();
    expect(() => setEnv('A', 'b')).toThrow(/GITHUB_ENV is not set/);
    expect(written).toEqual([]);
  });

  test('the summary gets the markdown and a newline, appended', () => {
    process.env.GITHUB_STEP_SUMMARY = file('summary');
    appendSummary('# one');
    appendSummary('| a |');
    expect(readFileSync(process.env.GITHUB_STEP_SUMMARY, 'utf8')).toBe('# one\n| a |\n');
  });
});
