import { runAction } from '@deploy-actions/action-kit';
import { getInputs } from './inputs';
import { run, realDeps } from './run';

void runAction(getInputs, run, realDeps);
