import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { InputError, UserError, type Outputs } from '../src/errors';
import { runAction } from '../src/run-action';

let outputFile: string;
let written: string[];
const saved = { ...process.env };

beforeEach(() => {
  const dir = mkdtempSync(join(tmpdir(), 'run-action-'));
  outputFile = join(dir, 'output');
  writeFileSync(outputFile, '');
  process.env.GITHUB_OUTPUT = outputFile;
  process.env.INPUT_NAME = 'world';
  written = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  process.exitCode = undefined;
});
afterEach(() => {
  vi.restoreAllMocks();
  process.env = { ...saved };
  process.exitCode = undefined;
});

const outputs = () => readFileSync(outputFile, 'utf8');
const commands = (name: string) => written.join('').split('\n').filter((l) => l.startsWith(`::${name}::`));

/** A loader of logic that runs `run` with no dependencies. */
const logic = (run: () => Promise<Outputs>) => async () => ({ run, realDeps: () => ({}) });

describe('runAction', () => {
  test('validated inputs reach run; its outputs are published', async () => {
    await runAction(
      (i) => ({ name: i.required('name') }),
      async () => ({ run: async (inputs) => ({ greeting: `hello ${inputs.name}`, ok: true }), realDeps: () => ({}) }),
    );
    expect(process.exitCode).toBeUndefined();
    expect(outputs()).toMatch(/greeting<<ghadelimiter_[\w-]+\nhello world\n/);
    expect(outputs()).toMatch(/ok<<ghadelimiter_[\w-]+\ntrue\n/);
  });

  test('bad input fails in one line naming the input, before the logic is loaded', async () => {
    const load = vi.fn(async () => ({ run: async () => ({}), realDeps: () => ({}) }));
    await runAction((i) => ({ n: i.int('name', 0) }), load);
    expect(load).not.toHaveBeenCalled();
    expect(process.exitCode).toBe(1);
    expect(commands('error')).toEqual(["::error::Input 'name' must be a whole number from 0 to 9007199254740991 (got 'world')"]);
    expect(commands('debug')).toEqual([]);
  });

  test('a UserError publishes the outputs it carries, then fails in one line without a stack', async () => {
    await runAction(
      () => ({}),
      logic(async () => {
        throw new UserError('Deploy of web failed: ImagePullBackOff; rolled back to revision 2', { status: 'deployed', revision: 4 });
      }),
    );
    expect(process.exitCode).toBe(1);
    expect(outputs()).toMatch(/status<<ghadelimiter_[\w-]+\ndeployed\n/);
    expect(outputs()).toMatch(/revision<<ghadelimiter_[\w-]+\n4\n/);
    expect(commands('error')).toEqual(['::error::Deploy of web failed: ImagePullBackOff; rolled back to revision 2']);
    expect(commands('debug')).toEqual([]);
  });

  test('an unexpected error fails with its message; the stack goes to the debug log only', async () => {
    await runAction(
      () => ({}),
      logic(async () => {
        throw new TypeError('cannot read properties of undefined');
      }),
    );
    expect(process.exitCode).toBe(1);
    expect(commands('error')).toEqual(['::error::cannot read properties of undefined']);
    expect(commands('debug')[0]).toMatch(/^::debug::TypeError: cannot read properties of undefined%0A\s+at /);
    expect(outputs()).toBe('');
  });

  test('the logic gets the validated inputs to choose by; a failure to load it fails the step in one line', async () => {
    const load = vi.fn(async (inputs: { name: string }) => {
      throw new Error(`cannot load the logic for ${inputs.name}`);
    });
    await runAction((i) => ({ name: i.required('name') }), load);
    expect(load).toHaveBeenCalledWith({ name: 'world' });
    expect(process.exitCode).toBe(1);
    expect(commands('error')).toEqual(['::error::cannot load the logic for world']);
  });

  test('a message with a newline or % stays one command', async () => {
    await runAction(
      () => ({}),
      logic(async () => {
        throw new UserError('100% failed\n::error::injected');
      }),
    );
    expect(commands('error')).toEqual(['::error::100%25 failed%0A::error::injected']);
  });

  test('InputError is a UserError', () => {
    expect(new InputError('x', 'is required')).toBeInstanceOf(UserError);
  });
});
