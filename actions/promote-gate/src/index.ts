import { runAction } from '@deploy-actions/action-kit';
import { getAnyInputs, loadMode } from './modes';

void runAction(getAnyInputs, loadMode);
