import { spawn } from 'node:child_process';
import { liveChildren } from './cancel';
import { LogLines } from './log';

export interface ExecOptions {
  cwd?: string;
  /** Extra environment, merged over process.env. */
  env?: Record<string, string | undefined>;
  /** Written to the child's stdin, then stdin is closed. The way secrets reach a child. */
  input?: string;
  /**
   * Do not echo the child's output to the log. When echoed, stdout and stderr both go to our
   * stdout through LogLines (fenced where they could hold a workflow command).
   */
  silent?: boolean;
  /** Resolve with the exit code instead of throwing on a non-zero one. */
  allowFailure?: boolean;
  /**
   * Stop the child (SIGTERM, SIGKILL 5 s later) when it has not finished after this many ms; it
   * then ends with `timedOut` set and exit code 124, as coreutils' timeout(1) reports it.
   */
  deadlineMs?: number;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Stopped at its deadline (ExecOptions.deadlineMs). */
  timedOut?: boolean;
}

/** Runs a program with an argv array (never a shell string). */
export type Exec = (file: string, args: readonly string[], opts?: ExecOptions) => Promise<ExecResult>;

export class ExecError extends Error {
  override name = 'ExecError';
  constructor(
    readonly file: string,
    readonly args: readonly string[],
    readonly result: ExecResult,
  ) {
    const tail = (result.stderr || result.stdout).trim().split('\n').slice(-5).join('\n');
    super(`${file} ${args[0] ?? ''} failed with exit code ${result.exitCode}${tail ? `: ${tail}` : ''}`);
  }
}

export const exec: Exec = (file, args, opts = {}) =>
  new Promise((resolve, reject) => {
    const child = spawn(file, [...args], {
      cwd: opts.cwd,
      env: opts.env ? { ...process.env, ...opts.env } : process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    liveChildren.add(child);
    let timedOut = false;
    let killer: NodeJS.Timeout | undefined;
    const deadline = opts.deadlineMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGTERM');
          killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        }, opts.deadlineMs)
      : undefined;
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const echoOut = opts.silent ? undefined : new LogLines();
    const echoErr = opts.silent ? undefined : new LogLines();
    child.stdout.on('data', (d: Buffer) => {
      out.push(d);
      echoOut?.push(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      err.push(d);
      echoErr?.push(d);
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(deadline);
      clearTimeout(killer);
      liveChildren.delete(child);
      reject(e.code === 'ENOENT' ? new Error(`${file} was not found on PATH`) : e);
    });
    child.on('close', (code) => {
      clearTimeout(deadline);
      clearTimeout(killer);
      liveChildren.delete(child);
      echoOut?.end();
      echoErr?.end();
      const result: ExecResult = {
        exitCode: timedOut ? 124 : (code ?? 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ...(timedOut ? { timedOut } : {}),
      };
      if (result.exitCode !== 0 && !opts.allowFailure) reject(new ExecError(file, args, result));
      else resolve(result);
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
