import * as core from '@actions/core';

export interface AnnotationProps {
  title?: string;
  file?: string;
  startLine?: number;
}

/** Everything an action's logic says to the runner. run() gets this instead of @actions/core. */
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
    info: (m) => core.info(m),
    debug: (m) => core.debug(m),
    warning: (m, p) => core.warning(m, p),
    error: (m, p) => core.error(m, p),
    group: (name, fn) => core.group(name, fn),
    setSecret: (v) => core.setSecret(v),
    summary: async (md) => {
      if (!process.env.GITHUB_STEP_SUMMARY) return;
      await core.summary.addRaw(md, true).write();
    },
  };
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
