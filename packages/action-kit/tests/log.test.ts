/**
 * Workflow-command injection through every way action-kit writes to the log: each hostile value
 * is written through a sink, the captured stdout and stderr are read the way the runner reads
 * them (test/harness/runner.ts parseWorkflowCommands), and the only commands found are the ones
 * our code meant to write. A secret masked afterwards must still be masked: a value that stopped
 * command processing would let it leak.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { parseFileCommand, parseWorkflowCommands, type WorkflowCommand } from '../../../test/harness/runner';
import { exec } from '../src/exec';
import { coreIO, exportVariable } from '../src/io';
import { LogLines, logSafe, mayHoldCommand } from '../src/log';

export const HOSTILE: Array<[string, string]> = [
  ['newline then ::error::', 'x\n::error::INJECTED'],
  ['escaped newline %0A', 'x%0A::error::INJECTED'],
  ['::add-mask::', '::add-mask::INJECTED'],
  ['::stop-commands::', '::stop-commands::INJECTED'],
  ['indented ::warning::', 'x\n   ::warning title=INJECTED::INJECTED'],
  ['old syntax ##[error] mid-line', 'x ##[error]INJECTED'],
  ['carriage return', 'x\r::error::INJECTED'],
  ['upper-case command', '\n::ERROR::INJECTED'],
  ['set-output and set-env', '\n::set-output name=INJECTED::x\n::set-env name=INJECTED::x'],
  ['everything at once', 'a\n::error::INJECTED\n%0A::add-mask::INJECTED\n::stop-commands::INJECTED\n::warning::INJECTED'],
];

const SENTINEL = 'sentinel-secret-9f8e7d';
const isFence = (c: WorkflowCommand) => c.name === 'stop-commands' || /^[0-9a-f]{32}$/.test(c.name);

let out: string[];
let err: string[];
beforeEach(() => {
  out = [];
  err = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (out.push(String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (err.push(String(chunk)), true));
});
afterEach(() => vi.restoreAllMocks());

/** The commands the runner acts on, after a sentinel secret is masked by our own code. */
function commandsAfter(): { commands: WorkflowCommand[]; masks: string[]; log: string } {
  coreIO().setSecret(SENTINEL);
  const parsed = parseWorkflowCommands(out.join(''), err.join(''));
  expect(parsed.masks).toContain(SENTINEL);
  for (const c of parsed.commands) expect(c.name).not.toMatch(/injected/i);
  for (const c of parsed.commands.filter((c) => c.name === 'stop-commands')) expect(c.data).toMatch(/^[0-9a-f]{32}$/);
  return { commands: parsed.commands.filter((c) => !isFence(c)), masks: parsed.masks, log: parsed.log };
}

describe.each(HOSTILE)('a value with %s', (_, value) => {
  test('io.info prints it verbatim and runs no command', () => {
    coreIO().info(`tool said: ${value}`);
    const { commands, log } = commandsAfter();
    expect(commands.map((c) => c.name)).toEqual(['add-mask']);
    expect(log).toContain(value.split(/\r\n|\r|\n/).at(-1));
  });

  test.each(['warning', 'error', 'debug'] as const)('io.%s is one annotation carrying it as data', (level) => {
    coreIO()[level](`tool said: ${value}`, { title: `title ${value}` });
    const { commands } = commandsAfter();
    expect(commands.map((c) => c.name)).toEqual([level, 'add-mask']);
    expect(commands[0]!.data).toBe(`tool said: ${value}`);
  });

  test('io.group names the group with it and runs no other command', async () => {
    await coreIO().group(`group ${value}`, async () => coreIO().info(value));
    const { commands } = commandsAfter();
    expect(commands.map((c) => c.name)).toEqual(['group', 'endgroup', 'add-mask']);
    expect(commands[0]!.data).toBe(`group ${value}`);
  });

  test('exec echoes a child writing it to stdout and stderr without running it', async () => {
    // Written in pieces, so a line is split across chunks of the pipe.
    const script = `const v = process.argv[1]; for (const s of [process.stdout, process.stderr]) { s.write(v.slice(0, 3)); s.write(v.slice(3) + '\\n' + v); }`;
    const r = await exec(process.execPath, ['-e', script, value]);
    expect(r.stdout).toBe(`${value}\n${value}`);
    const { commands } = commandsAfter();
    expect(commands.map((c) => c.name)).toEqual(['add-mask']);
  });

  test('exportVariable adds exactly one variable to GITHUB_ENV, holding it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kit-env-'));
    const file = join(dir, 'env');
    writeFileSync(file, '');
    vi.stubEnv('GITHUB_ENV', file);
    try {
      exportVariable('KUBECONFIG', value);
    } finally {
      vi.unstubAllEnvs();
    }
    expect(parseFileCommand(readFileSync(file, 'utf8'))).toEqual({ KUBECONFIG: value });
  });
});

describe('logSafe', () => {
  test.each([
    ['plain text', 'helm upgrade --install web ./chart', false],
    ['a :: anywhere', 'std::string', true],
    ['old syntax anywhere', 'see ##[x]', true],
  ])('%s: fenced %s', (_, text, fenced) => {
    expect(mayHoldCommand(text)).toBe(fenced);
    const safe = logSafe(text);
    expect(safe.startsWith('::stop-commands::')).toBe(fenced);
    expect(safe.endsWith('\n')).toBe(true);
  });

  test('every fence has its own token', () => {
    const tokens = new Set(Array.from({ length: 20 }, () => logSafe('::x::').split('\n')[0]));
    expect(tokens.size).toBe(20);
  });

  test('LogLines holds a split line back until it ends, and keeps multi-byte characters whole', () => {
    const written: string[] = [];
    const lines = new LogLines((t) => written.push(t));
    const euro = Buffer.from('€');
    lines.push(Buffer.concat([Buffer.from('a::'), euro.subarray(0, 1)]));
    expect(written).toEqual([]);
    lines.push(Buffer.concat([euro.subarray(1), Buffer.from('b\nc')]));
    lines.end();
    const parsed = parseWorkflowCommands(written.join(''));
    expect(parsed.log).toBe('a::€b\nc');
  });
});
