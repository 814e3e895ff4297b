import { UserError, errorMessage, type Outputs } from './errors';

export type { Outputs };
import { envInputs, Inputs } from './inputs';
import { coreIO, type ActionIO } from './io';
import { issueCommand, setOutput } from './commands';

/** An action's logic and the real dependencies it runs with: the part of a bundle loaded after the inputs pass. */
export interface ActionLogic<I, D> {
  run: (inputs: I, deps: D) => Promise<Outputs>;
  realDeps: (io: ActionIO, inputs: I) => D;
}

/**
 * The one entry point of every action: read and validate inputs, then load the logic for them
 * (a dynamic import: ncc puts it in a chunk of its own, so a bad input costs node's start and
 * the entry alone), build the real dependencies, run it, publish its outputs. A UserError ends in
 * one line; anything else adds its stack trace to the debug log only.
 */
export async function runAction<I, D>(getInputs: (inputs: Inputs) => I | Promise<I>, load: (inputs: I) => Promise<ActionLogic<I, D>>): Promise<void> {
  const publish = (outputs: Outputs) => {
    for (const [name, value] of Object.entries(outputs)) setOutput(name, String(value));
  };
  try {
    const inputs = await getInputs(new Inputs(envInputs()));
    const { run, realDeps } = await load(inputs);
    publish(await run(inputs, realDeps(coreIO(), inputs)));
  } catch (err) {
    if (err instanceof UserError && err.outputs) publish(err.outputs);
    if (!(err instanceof UserError) && err instanceof Error && err.stack) issueCommand('debug', err.stack);
    process.exitCode = 1;
    issueCommand('error', errorMessage(err));
  }
}
