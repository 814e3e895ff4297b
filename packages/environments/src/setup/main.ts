#!/usr/bin/env node
/** deploy-setup's entry point (also the release's single-file bundle): setupMain neutralises what it prints (action-kit's cli.ts). */
import { cliErrorLine, consoleIO, neutralIO } from '@deploy-actions/action-kit';
import { setupMain } from './cli';

setupMain(process.argv.slice(2), process.env, consoleIO).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    neutralIO(consoleIO).err(cliErrorLine(err));
    process.exitCode = 1;
  },
);
