import { appendSummary, issueCommand, setEnv } from './commands';
import { logText } from './log';

export interface AnnotationProps {
  title?: string;
  file?: string;
  startLine?: number;
}

/**
 * Everything an action's logic says to the runner. run() gets this instead of @actions/core.
 * Every method takes text from outside as it is: info() fences it (log.ts), the others carry it
 * as escaped command data, so no value can write a workflow command of its own.
 */
export interface ActionIO {
  info(message: string): void;
  debug(message: string): void;
  warning(message: string, props?: AnnotationProps): void;
  /** An error annotation. The step's failure itself comes from the thrown error. */
  error(message: string, props?: AnnotationProps): void;
  group<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Masks a value in all later log output. Call before the value can reach any log. */
  setSecret(value: string): void;
  /** Appends markdown to the job summary. */
  summary(markdown: string): Promise<void>;
}

export function coreIO(): ActionIO {
  return {
    info: (m) => logText(m),
    debug: (m) => issueCommand('debug', m),
    warning: (m, p) => issueCommand('warning', m, p),
    error: (m, p) => issueCommand('error', m, p),
    group: async (name, fn) => {
      issueCommand('group', name);
      try {
        return await fn();
      } finally {
        issueCommand('endgroup', '');
      }
    },
    setSecret: (v) => issueCommand('add-mask', v),
    summary: async (md) => appendSummary(md),
  };
}

const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Sets a variable for the job's later steps. GITHUB_ENV is written in the delimiter form
 * (`NAME<<ghadelimiter_<random uuid>`, commands.ts), which a value with newlines cannot break
 * out of; the name must be a plain identifier.
 */
export function exportVariable(name: string, value: string): void {
  if (!ENV_NAME_RE.test(name)) throw new Error(`internal: '${name}' is not an environment variable name`);
  setEnv(name, value);
}

export interface RecordedIO extends ActionIO {
  lines: string[];
  warnings: string[];
  errors: string[];
  secrets: string[];
  summaries: string[];
  groups: string[];
}

/** An ActionIO that records everything, for unit tests. */
export function recordingIO(): RecordedIO {
  const io: RecordedIO = {
    lines: [],
    warnings: [],
    errors: [],
    secrets: [],
    summaries: [],
    groups: [],
    info: (m) => void io.lines.push(m),
    debug: () => undefined,
    warning: (m) => void io.warnings.push(m),
    error: (m) => void io.errors.push(m),
    group: async (name, fn) => {
      io.groups.push(name);
      return fn();
    },
    setSecret: (v) => void io.secrets.push(v),
    summary: async (md) => void io.summaries.push(md),
  };
  return io;
}
