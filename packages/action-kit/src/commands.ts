/**
 * The runner's workflow commands and file commands, written as GitHub documents them
 * ("Workflow commands for GitHub Actions"): `::name key=value,...::data` on stdout with data and
 * properties escaped as the runner unescapes them, and GITHUB_OUTPUT / GITHUB_ENV entries in the
 * delimiter form (`name<<ghadelimiter_<uuid>` ... `ghadelimiter_<uuid>`), which no value can
 * break out of.
 *
 * Why not @actions/core: its entry module loads its OIDC client, whose HTTP client loads undici
 * (0.9 MB of source), on every step, for a token no action here asks for. That load was most of
 * what a bad input or build-push-ecr's skip path cost (issue 25). What is used of it is these
 * few formats, kept byte-for-byte as @actions/core 3 writes them (tests/commands.test.ts).
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync } from 'node:fs';
import { EOL } from 'node:os';

export interface CommandProperties {
  title?: string;
  file?: string;
  startLine?: number;
}

const escapeData = (s: string): string => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (s: string): string => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

/** One workflow command line, its data and properties escaped. */
export function commandLine(name: string, message: string, props: CommandProperties = {}): string {
  const pairs = Object.entries({ title: props.title, file: props.file, line: props.startLine })
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${escapeProperty(String(v))}`);
  return `::${name}${pairs.length ? ` ${pairs.join(',')}` : ''}::${escapeData(message)}`;
}

export function issueCommand(name: string, message: string, props?: CommandProperties): void {
  process.stdout.write(commandLine(name, message, props) + EOL);
}

/** `name<<delimiter`, value, delimiter: the file-command form for any value, newlines included. */
export function keyValueEntry(name: string, value: string, uuid: () => string = randomUUID): string {
  const delimiter = `ghadelimiter_${uuid()}`;
  if (name.includes(delimiter)) throw new Error(`Unexpected input: name should not contain the delimiter "${delimiter}"`);
  if (value.includes(delimiter)) throw new Error(`Unexpected input: value should not contain the delimiter "${delimiter}"`);
  return `${name}<<${delimiter}${EOL}${value}${EOL}${delimiter}`;
}

function appendTo(variable: 'GITHUB_OUTPUT' | 'GITHUB_ENV' | 'GITHUB_STEP_SUMMARY', text: string): boolean {
  const file = process.env[variable];
  if (!file) return false;
  if (!existsSync(file)) throw new Error(`Unable to find the file at ${variable}: ${file}`);
  appendFileSync(file, text, { encoding: 'utf8' });
  return true;
}

/** A step output; nothing outside a runner (the old `::set-output` command is disabled there). */
export function setOutput(name: string, value: string): void {
  appendTo('GITHUB_OUTPUT', keyValueEntry(name, value) + EOL);
}

/** A variable for this process and the job's later steps. */
export function setEnv(name: string, value: string): void {
  process.env[name] = value;
  if (!appendTo('GITHUB_ENV', keyValueEntry(name, value) + EOL)) throw new Error(`GITHUB_ENV is not set: cannot export ${name}`);
}

/** Appends markdown to the job summary; nothing outside a runner. */
export function appendSummary(markdown: string): void {
  appendTo('GITHUB_STEP_SUMMARY', markdown + EOL);
}
