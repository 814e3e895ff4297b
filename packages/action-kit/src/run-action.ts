import * as core from '@actions/core';
import { UserError, errorMessage, type Outputs } from './errors';

export type { Outputs };
import { envInputs, Inputs } from './inputs';
import { coreIO, type ActionIO } from './io';

/**
 * The one entry point of every action: read and validate inputs, build the real
 * dependencies, run the logic, publish its outputs. A UserError ends in one line via
 * setFailed; anything else adds its stack trace to the debug log only.
 */
export async function runAction<I, D>(
  getInputs: (inputs: Inputs) => I,
  run: (inputs: I, deps: D) => Promise<Outputs>,
  makeDeps: (io: ActionIO, inputs: I) => D,
): Promise<void> {
  const publish = (outputs: Outputs) => {
    for (const [name, value] of Object.entries(outputs)) core.setOutput(name, String(value));
  };
  try {
    const inputs = getInputs(new Inputs(envInputs()));
    publish(await run(inputs, makeDeps(coreIO(), inputs)));
  } catch (err) {
    if (err instanceof UserError && err.outputs) publish(err.outputs);
    if (!(err instanceof UserError) && err instanceof Error && err.stack) core.debug(err.stack);
    core.setFailed(errorMessage(err));
  }
}
