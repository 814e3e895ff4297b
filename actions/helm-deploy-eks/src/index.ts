import { runAction } from '@deploy-actions/action-kit';
import { readInputs } from './inputs';

// The entry holds the input checks; the deploy and the kubeconfig's token plugin load on demand.
if (process.argv[2] === 'eks-token') void import('./token-main').then((m) => m.tokenMain(process.argv.slice(3)));
else void runAction((i) => readInputs(i), () => import('./run'));
