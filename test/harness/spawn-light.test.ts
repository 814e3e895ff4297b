import { mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { execFileLight, spawnLight, type LightChild } from './spawn-light';

/** Everything a caller sees of the child, in order. */
function ended(child: LightChild): Promise<{ events: string[]; stdout: string; stderr: string; code: number | null; signal: string | null }> {
  const events: string[] = [];
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.on('spawn', () => events.push('spawn'));
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => err.push(d));
  child.on('exit', () => events.push('exit'));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code: number | null, signal: string | null) => {
      events.push('close');
      resolve({ events, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), code, signal });
    });
  });
}

describe('spawnLight: a process started by the spawn helper, as spawn would start it', () => {
  test('argv, cwd and environment are the given ones; stdout, stderr and the exit code come back whole', async () => {
    const cwd = realpathSync(mkdtempSync(join(tmpdir(), 'da-spawn-')));
    // Output of several pipe reads (64 kB each), relayed whole and in order.
    const big = 'x'.repeat(100_000);
    const child = spawnLight('sh', ['-c', 'printf "%s\\n" "$1"; pwd; echo "X=$X HOME=${HOME-unset}"; echo err >&2; printf "%s" "$BIG"; printf "%s" "$BIG"; exit 3', 'sh', 'first arg'], {
      cwd,
      env: { PATH: process.env.PATH, X: 'y', BIG: big },
    });
    const r = await ended(child);
    expect(r).toEqual({ events: ['spawn', 'exit', 'close'], stdout: `first arg\n${cwd}\nX=y HOME=unset\n${big}${big}`, stderr: 'err\n', code: 3, signal: null });
    expect(child.pid).toBeGreaterThan(0);
  });

  test('the child is not forked from this process: its parent is the helper', async () => {
    const r = await ended(spawnLight('sh', ['-c', 'echo $PPID'], { env: { PATH: process.env.PATH } }));
    const parent = Number(r.stdout.trim());
    expect(parent).toBeGreaterThan(0);
    expect(parent).not.toBe(process.pid);
  });

  test('kill reaches the child: close reports the signal; kill after the end returns false', async () => {
    const child = spawnLight('sleep', ['30'], { env: { PATH: process.env.PATH } });
    await new Promise((resolve) => child.once('spawn', resolve));
    const r = ended(child);
    expect(child.kill('SIGTERM')).toBe(true);
    expect(await r).toMatchObject({ code: null, signal: 'SIGTERM' });
    expect(child.kill('SIGKILL')).toBe(false);
  });

  test('a program that does not exist: an error event with ENOENT, as spawn gives', async () => {
    await expect(ended(spawnLight('da-no-such-program', [], { env: { PATH: process.env.PATH } }))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  test('execFileLight: stdout on success; on failure an error carrying the exit code and stderr', async () => {
    expect(await execFileLight('sh', ['-c', 'echo ok'], {})).toEqual({ stdout: 'ok\n', stderr: '' });
    await expect(execFileLight('sh', ['-c', 'echo bad >&2; exit 5'], {})).rejects.toMatchObject({ code: 5, stderr: 'bad\n' });
  });
});
