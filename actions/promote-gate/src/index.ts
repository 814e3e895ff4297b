import { runAction } from '@deploy-actions/action-kit';
import { getAnyInputs, realAnyDeps, runAny } from './modes';

void runAction(getAnyInputs, runAny, realAnyDeps);
