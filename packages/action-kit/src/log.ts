/**
 * The one path by which text that did not come from our own code (inputs, tool output,
 * cluster objects, API payloads) reaches the runner's log.
 *
 * The runner reads workflow commands on a step's stdout and stderr: a line that starts, after
 * blanks, with `::name ...::`, or holds `##[name]` anywhere (its older syntax), and it splits
 * lines at CR as well as LF. Annotations, groups, masks and debug lines carry their text as
 * escaped command data (@actions/core escapes `%`, CR and LF as the runner unescapes them).
 * Plain log text has no escaping, so text that could hold a command is fenced instead:
 * `::stop-commands::<random token>` before it and `::<token>::` after it, in one write, so the
 * runner prints it verbatim and no line of it is a command. The token is 128 random bits, so
 * the fenced text cannot end the fence early.
 */
import { randomBytes } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';

export type Write = (text: string) => void;

/** Writes to this process's stdout, where every log line of ours goes (one stream keeps fences ordered). */
export const stdoutWrite: Write = (text) => void process.stdout.write(text);

/**
 * Whether the runner might read a workflow command in `text`. Over-approximated on purpose:
 * any `::` or `##[` at all, wherever it sits, so no trimming or line-splitting rule of the
 * runner can make a difference.
 */
export function mayHoldCommand(text: string): boolean {
  return text.includes('::') || text.includes('##[');
}

function stopToken(text: string): string {
  for (;;) {
    const token = randomBytes(16).toString('hex');
    if (!text.includes(token)) return token;
  }
}

/** `text` as it must be written to show verbatim in the log: newline-terminated, fenced when it could hold a command. */
export function logSafe(text: string): string {
  const body = text.endsWith('\n') ? text : `${text}\n`;
  if (!mayHoldCommand(text)) return body;
  const token = stopToken(text);
  return `::stop-commands::${token}\n${body}::${token}::\n`;
}

/** Logs one message (any number of lines) verbatim. What ActionIO.info uses. */
export function logText(text: string, write: Write = stdoutWrite): void {
  write(logSafe(text));
}

/**
 * Streams a child's output to the log a line at a time, so a fence never starts in the middle of
 * a line the runner has not finished reading. A line longer than `maxLine` bytes is cut.
 */
export class LogLines {
  private pending = '';
  private readonly decoder = new StringDecoder('utf8');

  constructor(
    private readonly write: Write = stdoutWrite,
    private readonly maxLine = 64 * 1024,
  ) {}

  push(chunk: Buffer | string): void {
    this.pending += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const cut = this.pending.lastIndexOf('\n');
    if (cut >= 0) {
      logText(this.pending.slice(0, cut), this.write);
      this.pending = this.pending.slice(cut + 1);
    } else if (this.pending.length > this.maxLine) {
      this.flush();
    }
  }

  /** Writes what is left of an unfinished last line. */
  end(): void {
    this.pending += this.decoder.end();
    this.flush();
  }

  private flush(): void {
    if (this.pending !== '') logText(this.pending, this.write);
    this.pending = '';
  }
}
