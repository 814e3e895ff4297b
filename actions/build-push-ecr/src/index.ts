import { runAction } from '@deploy-actions/action-kit';
import { getInputs } from './inputs';

void runAction(getInputs, () => import('./run'));
