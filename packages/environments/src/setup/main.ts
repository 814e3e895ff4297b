#!/usr/bin/env node
/** deploy-setup's entry point (also the release's single-file bundle): everything printed goes through logText. */
import { logText } from '@deploy-actions/action-kit';
import { setupMain } from './cli';

void setupMain(process.argv.slice(2), process.env, {
  out: (l) => logText(l),
  err: (l) => logText(l, (t) => void process.stderr.write(t)),
}).then((code) => {
  process.exitCode = code;
});
