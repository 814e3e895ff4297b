/**
 * Runs a bundled action the way the GitHub Actions runner does: inputs as INPUT_*
 * (from `with`, then action.yml defaults), the file commands (GITHUB_OUTPUT, GITHUB_ENV,
 * GITHUB_STEP_SUMMARY, GITHUB_STATE, GITHUB_PATH), RUNNER_TEMP, RUNNER_TOOL_CACHE, the
 * GITHUB_* context variables and an event payload file, and the stdout workflow
 * commands (::error::, ::warning::, ::add-mask::, ::group::, ::debug::).
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { spawnLight, type LightChild } from './spawn-light';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface RunOptions {
  /** Top-level folder of the action, e.g. 'build-push-ecr'. */
  action: string;
  /** Repository root holding the action's folder; default this repository. */
  root?: string;
  with?: Record<string, string | number | boolean>;
  /** Extra environment (AWS_*, endpoints...). Wins over the defaults made here. */
  env?: Record<string, string | undefined>;
  eventName?: string;
  event?: unknown;
  /** GITHUB_WORKSPACE and the step's working directory. */
  workspace?: string;
  /** Node binary; the runner uses node24 (DEPLOY_ACTIONS_TEST_NODE may point at one). */
  node?: string;
  /** Extra argv after the bundle path (the exec credential plugin mode uses this). */
  args?: string[];
  /** Kill the action after this many ms. */
  timeoutMs?: number;
  /** Reuse a runner directory (tool cache and temp survive between steps of one job). */
  runnerDir?: string;
  /** Called with the action's process once started (a test cancels the job by signalling it). */
  onStart?: (child: LightChild) => void;
}

export interface Annotation {
  level: 'error' | 'warning' | 'notice' | 'debug';
  message: string;
  props: Record<string, string>;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** stdout then stderr with workflow commands removed and masked values replaced by ***, as the log shows it. */
  log: string;
  /** The workflow commands the runner would act on, from stdout and stderr. */
  commands: WorkflowCommand[];
  outputs: Record<string, string>;
  env: Record<string, string>;
  state: Record<string, string>;
  path: string[];
  summary: string;
  annotations: Annotation[];
  masks: string[];
  groups: string[];
  durationMs: number;
  runnerDir: string;
  /** The process was killed at `timeoutMs`. */
  timedOut: boolean;
}

export interface ActionMetadata {
  name: string;
  inputs: Record<string, { description?: string; required?: boolean; default?: string }>;
  outputs: Record<string, { description?: string }>;
  runs: { using: string; main: string; post?: string };
  branding?: { icon?: string; color?: string };
}

export function readActionMetadata(action: string, root = repoRoot): ActionMetadata {
  return parseYaml(readFileSync(join(root, action, 'action.yml'), 'utf8')) as ActionMetadata;
}

/** Parses a GITHUB_OUTPUT-style file: `name=value` lines and `name<<DELIM` heredocs. */
export function parseFileCommand(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delim] = heredoc;
      const body: string[] = [];
      for (i++; i < lines.length && lines[i] !== delim; i++) body.push(lines[i]!);
      out[name!] = body.join('\n');
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

function unescapeData(s: string): string {
  return s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
}
function unescapeProp(s: string): string {
  return unescapeData(s).replace(/%3A/g, ':').replace(/%2C/g, ',');
}

/** A workflow command the runner would act on. */
export interface WorkflowCommand {
  name: string;
  props: Record<string, string>;
  data: string;
  /** The output line it was read from. */
  line: string;
}

interface Parsed {
  log: string;
  annotations: Annotation[];
  masks: string[];
  groups: string[];
  /** Every command the runner would act on, stop-commands and their resume tokens included. */
  commands: WorkflowCommand[];
}

/** The commands the runner registers (ActionCommandManager), compared case-insensitively. */
const RUNNER_COMMANDS = [
  'set-env', 'set-output', 'save-state', 'add-mask', 'add-path', 'add-matcher', 'remove-matcher',
  'debug', 'warning', 'error', 'notice', 'group', 'endgroup', 'echo', 'stop-commands',
];

/**
 * The runner's two command syntaxes (ActionCommand.TryParseV2 and TryParse): `::name props::data`
 * at the start of the line after blanks, or `##[name props]data` anywhere in the line.
 */
function parseCommandLine(line: string, registered: ReadonlySet<string>): WorkflowCommand | undefined {
  const v2 = line.trimStart();
  if (v2.startsWith('::')) {
    const end = v2.indexOf('::', 2);
    if (end >= 0) {
      const info = v2.slice(2, end);
      const space = info.indexOf(' ');
      const name = space < 0 ? info : info.slice(0, space);
      if (registered.has(name.toLowerCase())) {
        const props: Record<string, string> = {};
        if (space > 0) {
          for (const kv of info.slice(space + 1).trim().split(',')) {
            const eq = kv.indexOf('=');
            if (eq > 0 && eq < kv.length - 1) props[kv.slice(0, eq)] = unescapeProp(kv.slice(eq + 1));
          }
        }
        return { name: name.toLowerCase(), props, data: unescapeData(v2.slice(end + 2)), line };
      }
    }
  }
  const v1 = line.indexOf('##[');
  if (v1 >= 0) {
    const rb = line.indexOf(']', v1);
    if (rb >= 0) {
      const info = line.slice(v1 + 3, rb);
      const space = info.indexOf(' ');
      const name = space < 0 ? info : info.slice(0, space);
      if (registered.has(name.toLowerCase())) return { name: name.toLowerCase(), props: {}, data: unescapeData(line.slice(rb + 1)), line };
    }
  }
  return undefined;
}

/**
 * Reads a step's output the way the runner does (OutputManager + ActionCommandManager): lines
 * split at LF, CR or CRLF; `::stop-commands::TOKEN` prints every line verbatim until `::TOKEN::`.
 * Pass stdout and stderr one after the other to model one step (the runner shares one command
 * state between them).
 */
export function parseWorkflowCommands(...streams: string[]): Parsed {
  const annotations: Annotation[] = [];
  const masks: string[] = [];
  const groups: string[] = [];
  const commands: WorkflowCommand[] = [];
  const logLines: string[] = [];
  const registered = new Set(RUNNER_COMMANDS);
  let stopToken: string | undefined;
  for (const stream of streams) {
    const lines = stream.split(/\r\n|\r|\n/);
    if (lines[lines.length - 1] === '') lines.pop();
    for (const line of lines) {
      const cmd = parseCommandLine(line, registered);
      if (stopToken !== undefined) {
        if (cmd && cmd.name === stopToken.toLowerCase()) {
          commands.push(cmd);
          registered.delete(stopToken.toLowerCase());
          stopToken = undefined;
        } else logLines.push(line);
        continue;
      }
      if (!cmd) {
        logLines.push(line);
        continue;
      }
      commands.push(cmd);
      const { name, data, props } = cmd;
      if (name === 'stop-commands' && data !== '') {
        stopToken = data;
        registered.add(data.toLowerCase());
      } else if (name === 'add-mask') masks.push(data);
      else if (name === 'group') groups.push(data);
      else if (name === 'error' || name === 'warning' || name === 'notice' || name === 'debug') {
        annotations.push({ level: name, message: data, props });
        if (name !== 'debug') logLines.push(`${name === 'error' ? 'Error' : name === 'warning' ? 'Warning' : 'Notice'}: ${data}`);
      }
    }
  }
  let log = logLines.join('\n');
  for (const secret of masks) if (secret) log = log.split(secret).join('***');
  return { log, annotations, masks, groups, commands };
}

export function newRunnerDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'da-runner-'));
  for (const d of ['temp', 'tool-cache', 'files', 'workspace', 'home']) mkdirSync(join(dir, d), { recursive: true });
  return dir;
}

export async function runActionBundle(opts: RunOptions): Promise<RunResult> {
  const meta = readActionMetadata(opts.action, opts.root);
  if (!/^node\d+$/.test(meta.runs.using)) throw new Error(`${opts.action}: runs.using ${meta.runs.using} is not a node runtime`);
  const main = resolve(opts.root ?? repoRoot, opts.action, meta.runs.main);
  if (!existsSync(main)) throw new Error(`${opts.action}: bundle ${main} does not exist (run pnpm build)`);

  const runnerDir = opts.runnerDir ?? newRunnerDir();
  const stamp = `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const files = {
    GITHUB_OUTPUT: join(runnerDir, 'files', `output-${stamp}`),
    GITHUB_ENV: join(runnerDir, 'files', `env-${stamp}`),
    GITHUB_STATE: join(runnerDir, 'files', `state-${stamp}`),
    GITHUB_PATH: join(runnerDir, 'files', `path-${stamp}`),
    GITHUB_STEP_SUMMARY: join(runnerDir, 'files', `summary-${stamp}`),
  };
  for (const f of Object.values(files)) writeFileSync(f, '');
  const eventPath = join(runnerDir, 'files', `event-${stamp}.json`);
  writeFileSync(eventPath, JSON.stringify(opts.event ?? {}));
  const workspace = opts.workspace ?? join(runnerDir, 'workspace');

  const inputEnv: Record<string, string> = {};
  for (const [name, spec] of Object.entries(meta.inputs ?? {})) {
    // A given input wins; only a default that is used is evaluated.
    if (spec.default !== undefined && opts.with?.[name] === undefined) inputEnv[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = runnerDefault(String(spec.default), opts.env ?? {});
  }
  for (const [name, value] of Object.entries(opts.with ?? {})) {
    if (!(name in (meta.inputs ?? {}))) throw new Error(`${opts.action}: unexpected input '${name}' (not in action.yml)`);
    inputEnv[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = String(value);
  }

  const baseEnv: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: join(runnerDir, 'home'),
    LANG: 'C.UTF-8',
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_NAME: 'deploy-actions-harness',
    RUNNER_TEMP: join(runnerDir, 'temp'),
    RUNNER_TOOL_CACHE: join(runnerDir, 'tool-cache'),
    GITHUB_WORKSPACE: workspace,
    GITHUB_EVENT_NAME: opts.eventName ?? 'push',
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: 'acme/sample-service',
    GITHUB_REPOSITORY_OWNER: 'acme',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_REF_NAME: 'main',
    GITHUB_REF_TYPE: 'branch',
    GITHUB_RUN_ID: '1000',
    GITHUB_RUN_NUMBER: '42',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_ACTOR: 'octocat',
    GITHUB_WORKFLOW: 'deploy',
    GITHUB_JOB: 'deploy',
    GITHUB_ACTION: opts.action,
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: 'https://api.github.com',
    // The test run's Node compile cache (test/suite/run-temp-dir.ts), when there is one: every
    // run of a bundle after the first skips most of compiling it. Not a runner variable; a
    // caller's env (a bench's cold/warm variants) wins.
    NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE,
    ...files,
    ...inputEnv,
    ...opts.env,
  };
  const env = Object.fromEntries(Object.entries(baseEnv).filter(([, v]) => v !== undefined)) as Record<string, string>;

  const node = opts.node ?? process.env.DEPLOY_ACTIONS_TEST_NODE ?? process.execPath;
  const started = Date.now();
  let timedOut = false;
  const { exitCode, stdout, stderr } = await new Promise<{ exitCode: number; stdout: string; stderr: string }>(
    (resolvePromise, reject) => {
      // Started by the spawn helper, not forked from this (large) test worker: spawn-light.ts.
      const child = spawnLight(node, [main, ...(opts.args ?? [])], { cwd: workspace, env });
      opts.onStart?.(child);
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      const timer = opts.timeoutMs
        ? setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, opts.timeoutMs)
        : undefined;
      child.on('error', reject);
      child.on('close', (code) => {
        if (timer) clearTimeout(timer);
        resolvePromise({
          exitCode: code ?? 1,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
        });
      });
    },
  );
  const parsed = parseWorkflowCommands(stdout, stderr);
  const pathFile = readFileSync(files.GITHUB_PATH, 'utf8');
  return {
    exitCode,
    stdout,
    stderr,
    ...parsed,
    outputs: parseFileCommand(readFileSync(files.GITHUB_OUTPUT, 'utf8')),
    env: parseFileCommand(readFileSync(files.GITHUB_ENV, 'utf8')),
    state: parseFileCommand(readFileSync(files.GITHUB_STATE, 'utf8')),
    path: pathFile.split('\n').filter(Boolean),
    summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
    durationMs: Date.now() - started,
    runnerDir,
    timedOut,
  };
}

/** The error annotations' messages, for assertions. */
export function errorsOf(r: RunResult): string[] {
  return r.annotations.filter((a) => a.level === 'error').map((a) => a.message);
}

/**
 * An action.yml default as the runner hands it over: the runner evaluates `${{ github.token }}`
 * (the job's token; here GITHUB_TOKEN from `env`, or nothing); any other expression is not
 * modelled and throws rather than reaching the action as text.
 */
export function runnerDefault(value: string, env: Record<string, string | undefined>): string {
  if (!value.includes('${{')) return value;
  if (/^\$\{\{\s*github\.token\s*\}\}$/.test(value)) return env.GITHUB_TOKEN ?? '';
  throw new Error(`action.yml default ${JSON.stringify(value)}: only \${{ github.token }} is evaluated by this harness`);
}
