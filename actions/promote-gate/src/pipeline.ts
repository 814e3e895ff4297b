/**
 * Which environments the pipeline knows, and which of them are promotion targets: one notion of
 * an environment's name for record and verify. Names compare case-insensitively, as GitHub
 * compares them, and come back in the spelling of the configuration; a name with surrounding
 * whitespace, or one the pipeline does not know (`prod`, a typo), is refused rather than treated
 * as an unprotected environment. What needs evidence comes from the promotion chain of the
 * environments file (default: preprod then production), never from the spelling of a name.
 */
import { readFileSync } from 'node:fs';
import { InputError, confinedPath } from '@deploy-actions/action-kit';
import { DEFAULT_PROMOTION, type Promotion } from '@deploy-actions/environments/promotion';
import type { parsePipelineFile } from './pipeline-file';

export interface Pipeline {
  /** Known environment names, in their configured spelling. */
  names: string[];
  promotion: Promotion;
  /** Where it came from, for messages. */
  source: string;
}

export const DEFAULT_PIPELINE: Pipeline = {
  names: ['qa', 'preprod', 'production'],
  promotion: DEFAULT_PROMOTION,
  source: 'the built-in default (qa, preprod, production; preprod -> production from refs/heads/main)',
};

let parseFile: typeof parsePipelineFile | undefined;

/**
 * Loads the environments file's parser (YAML, in a chunk of its own): the entry awaits it before
 * reading the inputs when the file is there (modes.ts readAnyInputs), so a run without the file,
 * and a bad input, never load YAML. Whoever calls loadPipeline on a file that exists awaits it first.
 */
export async function loadPipelineParser(): Promise<void> {
  parseFile ??= (await import('./pipeline-file')).parsePipelineFile;
}

/**
 * The pipeline of the environments file `file` (relative to the workspace) when it exists, else
 * the built-in default. A file that exists but is invalid fails, naming the input.
 */
export function loadPipeline(file: string, workspace: string, owner: string): Pipeline {
  if (file === '') return DEFAULT_PIPELINE;
  let path: string;
  try {
    path = confinedPath('environments-file', file, { workspace, kind: 'file', what: 'an environments file' });
  } catch (err) {
    if (err instanceof InputError && /that exists/.test(err.message)) return DEFAULT_PIPELINE;
    throw err;
  }
  if (!parseFile) throw new Error(`internal: the environments file parser was not loaded before reading ${file} (await loadPipelineParser())`);
  return { ...parseFile(readFileSync(path, 'utf8'), owner, file), source: file };
}

/** The configured spelling of `value`, or an InputError naming `input`. */
export function environmentName(input: string, value: string, pipeline: Pipeline): string {
  if (value !== value.trim()) throw new InputError(input, 'must not have surrounding whitespace', value);
  const hit = pipeline.names.find((n) => n.toLowerCase() === value.toLowerCase());
  if (!hit) {
    throw new InputError(input, `must be one of the pipeline's environments (${pipeline.names.join(', ')}; from ${pipeline.source})`, value);
  }
  return hit;
}

/** The environment whose evidence `target` requires: the one before it in the chain. */
export function requiredBefore(target: string, pipeline: Pipeline): string | undefined {
  const at = pipeline.promotion.chain.findIndex((n) => n.toLowerCase() === target.toLowerCase());
  return at > 0 ? pipeline.promotion.chain[at - 1] : undefined;
}

/** The last environment of the chain: what GitHub is told is a production environment. */
export function isProductionEnvironment(env: string, pipeline: Pipeline): boolean {
  const chain = pipeline.promotion.chain;
  return chain.length > 0 && chain[chain.length - 1]!.toLowerCase() === env.toLowerCase();
}
