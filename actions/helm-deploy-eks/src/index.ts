import { runAction } from '@deploy-actions/action-kit';
import { getInputs } from './inputs';
import { realDeps, run } from './run';
import { tokenMain } from './token-main';

if (process.argv[2] === 'eks-token') void tokenMain(process.argv.slice(3));
else void runAction((i) => getInputs(i), run, realDeps);
