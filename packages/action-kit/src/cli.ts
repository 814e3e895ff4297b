/**
 * The output path of the commands (deploy-environments, deploy-setup, pnpm status): the same
 * neutralising as the actions' log (log.ts), because they run in workflows too (`--check` on a
 * schedule). A line that could hold a workflow command is fenced; an error is one line whatever
 * it carries (control characters written as escapes), and never a stack trace.
 */
import { pathToFileURL } from 'node:url';
import { UserError, errorMessage } from './errors';
import { logSafe } from './log';

export interface CliIO {
  out(line: string): void;
  err(line: string): void;
}

/** `text` on one line: CR, LF and other control characters written as escapes. */
export function oneLine(text: string): string {
  return text.replace(/[\0-\x1f\x7f]/g, (c) => JSON.stringify(c).slice(1, -1));
}

/**
 * `io` with every line neutralised: `out` text is fenced when it could hold a workflow command
 * (its lines stay as they are), `err` text is made one line first. Both write one string.
 */
export function neutralIO(io: CliIO): CliIO {
  const safe = (text: string) => logSafe(text).replace(/\n$/, '');
  return { out: (line) => io.out(safe(line)), err: (line) => io.err(safe(oneLine(line))) };
}

/** The one line a command prints for any error it ends with. */
export function cliErrorLine(err: unknown): string {
  return `error: ${oneLine(errorMessage(err))}`;
}

/** GITHUB_API_URL (default https://api.github.com), without trailing slashes; refused unless an http(s) URL. */
export function githubApiUrlOf(env: NodeJS.ProcessEnv): string {
  const value = env.GITHUB_API_URL || 'https://api.github.com';
  let ok = /^https?:\/\/[^\s/?#]+(\/\S*)?$/.test(value);
  try {
    new URL(value);
  } catch {
    ok = false;
  }
  if (!ok) throw new UserError(`GITHUB_API_URL must be an http(s) URL such as https://api.github.com (got '${oneLine(value)}')`);
  return value.replace(/\/+$/, '');
}

/** GITHUB_TOKEN (or GH_TOKEN); `missing` says what to set when neither is. Never shown when refused. */
export function githubTokenOf(env: NodeJS.ProcessEnv, missing: string): string {
  const token = env.GITHUB_TOKEN || env.GH_TOKEN || '';
  if (!token) throw new UserError(missing);
  if (/[\0-\x20\x7f]/.test(token)) throw new UserError('GITHUB_TOKEN must be a token without spaces or control characters (the value is not shown)');
  return token;
}

/** The process's own io: console lines (main neutralises them, neutralIO). */
export const consoleIO: CliIO = { out: (l) => console.log(l), err: (l) => console.error(l) };

/**
 * Runs `main` when `moduleUrl` is the script node was started with: its exit code becomes the
 * process's; anything thrown or rejected, even outside `main`'s own catch, is one error line.
 */
export function runCli(moduleUrl: string, main: (argv: readonly string[], env: NodeJS.ProcessEnv, io: CliIO) => Promise<number>): void {
  if (!process.argv[1] || moduleUrl !== pathToFileURL(process.argv[1]).href) return;
  const fail = (err: unknown) => {
    neutralIO(consoleIO).err(cliErrorLine(err));
    process.exitCode = 1;
  };
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  main(process.argv.slice(2), process.env, consoleIO).then((code) => {
    process.exitCode = code;
  }, fail);
}
