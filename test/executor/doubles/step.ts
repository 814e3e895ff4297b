/**
 * What every double does around its own logic, as the runner and @actions/core do around a
 * real action: inputs checked against the action's metadata (the runner warns
 * "Unexpected input(s) 'x', valid inputs are ['a', 'b']" and still runs the step), defaults
 * applied (`${{ github.<name> }}` defaults evaluated from the github context), required
 * inputs enforced ("Input required and not supplied: <name>"), and the step's result
 * collected: log lines (warnings and errors as the runner prints them), outputs, exported
 * environment and masks.
 */
import type { ActionDoubleContext, ActionDoubleResult } from './types';

/** The action.yml inputs: name -> default (undefined when it has none). */
export type ActionMetadata = Record<string, string | undefined>;

export class StepFailure extends Error {}

export class Step {
  readonly log: string[] = [];
  readonly outputs: Record<string, string> = {};
  readonly exportEnv: Record<string, string> = {};
  readonly path: string[] = [];
  readonly addMask: string[] = [];
  readonly inputs: Record<string, string>;

  constructor(
    private readonly ctx: ActionDoubleContext,
    metadata: ActionMetadata,
  ) {
    const unexpected = Object.keys(ctx.with).filter((k) => !(k in metadata));
    if (unexpected.length) {
      const valid = Object.keys(metadata).map((k) => `'${k}'`).join(', ');
      this.warning(`Unexpected input(s) ${unexpected.map((k) => `'${k}'`).join(', ')}, valid inputs are [${valid}]`);
    }
    this.inputs = {};
    for (const [name, byDefault] of Object.entries(metadata)) {
      this.inputs[name] = ctx.with[name] ?? (byDefault === undefined ? '' : this.evaluateDefault(byDefault));
    }
  }

  private evaluateDefault(text: string): string {
    return text.replace(/\$\{\{\s*github\.([A-Za-z_]+)\s*\}\}/g, (_, name: string) => String(this.ctx.github[name] ?? ''));
  }

  /** core.getInput: trimmed; a required one that is empty fails the step. */
  input(name: string, opts: { required?: boolean } = {}): string {
    const value = (this.inputs[name] ?? '').trim();
    if (opts.required && value === '') throw new StepFailure(`Input required and not supplied: ${name}`);
    return value;
  }

  info(line: string): void {
    this.log.push(line);
  }
  warning(line: string): void {
    this.log.push(`Warning: ${line}`);
  }
  setOutput(name: string, value: string): void {
    this.outputs[name] = value;
  }
  exportVariable(name: string, value: string): void {
    this.exportEnv[name] = value;
  }
  /** core.addPath, in the order added (as GITHUB_PATH lines: the last one ends up first on PATH). */
  addPath(dir: string): void {
    this.path.push(dir);
  }
  setSecret(value: string): void {
    if (value) this.addMask.push(value);
  }

  result(error?: unknown): ActionDoubleResult {
    const base = { outputs: this.outputs, exportEnv: this.exportEnv, path: this.path, addMask: this.addMask, log: this.log };
    if (error === undefined) return { outcome: 'success', ...base };
    const message = error instanceof Error ? error.message : String(error);
    this.log.push(`Error: ${message}`);
    return { outcome: 'failure', ...base, error: message.split('\n').join(' ') };
  }
}

/** Runs `body` as a step: its thrown error becomes the step's failure, as core.setFailed. */
export async function runStep(ctx: ActionDoubleContext, metadata: ActionMetadata, body: (step: Step) => Promise<void>): Promise<ActionDoubleResult> {
  const step = new Step(ctx, metadata);
  try {
    await body(step);
    return step.result();
  } catch (err) {
    return step.result(err);
  }
}
