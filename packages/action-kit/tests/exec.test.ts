import { describe, expect, test } from 'vitest';
import { exec, ExecError } from '../src/exec';

describe('exec', () => {
  test('passes argv verbatim, with no shell interpretation', async () => {
    const r = await exec('printf', ['%s|', 'a b', '$(id)', '; rm -rf /'], { silent: true });
    expect(r.stdout).toBe('a b|$(id)|; rm -rf /|');
  });

  test('feeds input on stdin', async () => {
    const r = await exec('cat', [], { input: 's3cret', silent: true });
    expect(r.stdout).toBe('s3cret');
  });

  test('throws ExecError with the exit code and the output tail on failure', async () => {
    const err = await exec('sh', ['-c', 'echo boom >&2; exit 3'], { silent: true }).catch((e) => e);
    expect(err).toBeInstanceOf(ExecError);
    expect(err.result.exitCode).toBe(3);
    expect(err.message).toContain('exit code 3: boom');
  });

  test('allowFailure resolves with the exit code', async () => {
    await expect(exec('sh', ['-c', 'exit 4'], { silent: true, allowFailure: true })).resolves.toMatchObject({ exitCode: 4 });
  });

  test('a missing program is one clear error', async () => {
    await expect(exec('no-such-program-xyz', [], { silent: true })).rejects.toThrow('no-such-program-xyz was not found on PATH');
  });
});
