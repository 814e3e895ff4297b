/**
 * The environments file as both commands read it (deploy-environments and deploy-setup): a
 * relative --file is resolved from where the user was (`INIT_CWD`: `pnpm --filter ... run` runs
 * in the package folder and says where it was started), else the working directory.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { UserError } from '@deploy-actions/action-kit';

export function readEnvironmentsText(file: string, env: NodeJS.ProcessEnv): { path: string; text: string } {
  const path = isAbsolute(file) ? file : resolve(env.INIT_CWD || process.cwd(), file);
  try {
    return { path, text: readFileSync(path, 'utf8') };
  } catch {
    throw new UserError(`cannot read the environments file ${path} (--file)`);
  }
}
