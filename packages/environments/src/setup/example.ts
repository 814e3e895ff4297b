/**
 * The example set-up committed under workflows/aws/: generated from workflows/environments.yml
 * with fixed GitHub ids (offline), so CI can regenerate it and fail on drift. The test world's
 * GitHub stand-in and OIDC double issue these same ids for acme/sample-service.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseEnvironmentsConfig } from '../config';
import { renderFiles } from './files';
import { plan, type SetupConfig, type SetupPlan } from './template';
import type { RepoIdentity } from './subject';

export const EXAMPLE_FILE = fileURLToPath(new URL('../../../../workflows/environments.yml', import.meta.url));
export const EXAMPLE_DIR = fileURLToPath(new URL('../../../../workflows/aws', import.meta.url));

/** acme/sample-service: created after 2026-07-15, so its subjects carry ids. */
export const EXAMPLE_IDENTITIES: RepoIdentity[] = [{ repository: 'acme/sample-service', repositoryId: '1041000001', ownerId: '190000001', subject: { kind: 'immutable' } }];

/** The example file and the plan generated from it. */
export function exampleSetup(): { cfg: SetupConfig; plan: SetupPlan } {
  const cfg = parseEnvironmentsConfig(readFileSync(EXAMPLE_FILE, 'utf8'), 'acme', 'workflows/environments.yml') as SetupConfig;
  const ids = new Map(EXAMPLE_IDENTITIES.map((i) => [i.repository.toLowerCase(), i]));
  return { cfg, plan: plan(cfg, ids) };
}

export function exampleFiles(): Map<string, string> {
  return renderFiles(exampleSetup().plan, EXAMPLE_IDENTITIES, 'workflows/environments.yml');
}
