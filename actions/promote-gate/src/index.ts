import { runAction } from '@deploy-actions/action-kit';
import { readAnyInputs, loadMode } from './modes';

void runAction(readAnyInputs, loadMode);
