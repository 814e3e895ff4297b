/**
 * The environments file's names and promotion chain, parsed by @deploy-actions/environments
 * (YAML): loaded on demand by pipeline.ts loadPipelineParser, never in the entry.
 */
import { InputError } from '@deploy-actions/action-kit';
import { ConfigError, parseEnvironmentsConfig, type Promotion } from '@deploy-actions/environments/config';

export function parsePipelineFile(text: string, owner: string, file: string): { names: string[]; promotion: Promotion } {
  try {
    const cfg = parseEnvironmentsConfig(text, owner, file);
    return { names: cfg.environments.map((e) => e.name), promotion: cfg.promotion };
  } catch (err) {
    if (err instanceof ConfigError) throw new InputError('environments-file', `is not a valid environments file: ${err.message}`);
    throw err;
  }
}
