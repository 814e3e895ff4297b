/**
 * Workflow and action.yml files through GitHub's own parser (@actions/workflow-parser): schema
 * validation, `${{ }}` turned into expressions, implicit success() in `if:`. References resolve
 * the way GitHub resolves them: `<self>/<path>@<ref>` (org/deploy-actions/...@v1) to the working
 * tree of this repository (or a copy of it), `./<path>` to the caller's repository.
 *
 * The converted model drops some keys (step `with:`, `shell:`, `working-directory:`, job
 * `permissions:` and `defaults:`, `on.workflow_call.outputs` of the top file); they are read from
 * the parsed tokens with `field()`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { register } from 'node:module';
import { join } from 'node:path';
import type { ActionTemplate } from '@actions/workflow-parser/actions/action-template';
import type { MappingToken, TemplateToken } from '@actions/workflow-parser/templates/tokens/index';
import type { WorkflowTemplate } from '@actions/workflow-parser/model/workflow-template';

export type { MappingToken, TemplateToken, WorkflowTemplate, ActionTemplate };
export type { Job, ReusableWorkflowJob, Step, ActionStep, RunStep, WorkflowJob } from '@actions/workflow-parser/model/workflow-template';

// The parser's ESM imports its JSON schema without an import attribute; the hook serves it.
const hookFlag = Symbol.for('deploy-actions.workflow-parser-hook');
if (!(globalThis as Record<symbol, unknown>)[hookFlag]) {
  register(new URL('../workflows/json-module-hook.mjs', import.meta.url));
  (globalThis as Record<symbol, unknown>)[hookFlag] = true;
}
const wp = await import('@actions/workflow-parser');
const ap = await import('@actions/workflow-parser/actions/index');
export const { isBasicExpression, isBoolean, isLiteral, isMapping, isNumber, isSequence, isString } = wp;

/** Where references point. */
export interface Sources {
  /** owner/name this repository is published as: `uses: <self>/<path>@<ref>` resolves here. */
  self: string;
  /** Working tree that serves `<self>/...` references. */
  selfRoot: string;
  /**
   * When set, the working tree of `<self>` at a ref (tag, branch or SHA; undefined when the ref
   * does not exist): `<self>/...@v1.0.0` and `@v1` then read different releases, as on GitHub.
   * Without it every ref reads `selfRoot`.
   */
  selfAt?: (ref: string) => string | undefined;
  /** Files of `selfRoot` replaced by other text (repository-relative path -> text): mutation tests. */
  overrides?: Record<string, string>;
  /** The caller repository's working tree: `./...` references resolve here. */
  callerRoot: string;
  /** owner/name of the caller repository. */
  callerRepository: string;
  /** The ref the caller's own files are read at (github.sha), for job_workflow_ref. */
  callerRef: string;
}

/** The site of the lines of a loaded workflow. */
export function siteOf(workflow: LoadedWorkflow): UsesSite {
  return { repository: workflow.repository, ref: workflow.ref, tree: workflow.tree };
}

/** A workflow or action reference resolved to a file of a repository. */
export interface ResolvedFile {
  /** owner/name of the repository holding it. */
  repository: string;
  /** Path inside that repository. */
  path: string;
  /** The ref it is read at. */
  ref: string;
  text: string;
  /** The working tree it was read from. */
  root: string;
}

export class WorkflowInvalid extends Error {}

function readSource(sources: Sources, root: string, path: string, fromSelf: boolean): string | undefined {
  if (fromSelf && sources.overrides?.[path] !== undefined) return sources.overrides[path];
  const file = join(root, path);
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
}

/** The workflow file a `uses:` line sits in: its repository, the ref it was called at, its tree. */
export interface UsesSite {
  repository: string;
  ref: string;
  /** The working tree of that repository at the commit the workflow runs at. */
  tree: string;
}

/**
 * Resolves `owner/repo/path@ref`, `./path` or `$/path` as GitHub does; undefined when it is not
 * ours. `$/path` (changelog 2026-07-30, "Reference same-repository actions with self-repository
 * syntax") names the repository of the workflow file holding the line (`site`) at the commit
 * that workflow runs at: the same tree, never its ref resolved again, so a tag moved during the
 * run does not reach it. `$/` alone is the action at the repository's root. It takes no `@ref`
 * (the docs: "A `$/` reference must not include an `@{ref}` suffix") and needs no checkout.
 */
export function resolveReference(uses: string, sources: Sources, file: string, site?: UsesSite): ResolvedFile | undefined {
  if (uses.startsWith('$/')) {
    const path = uses.slice(2).replace(/\/$/, '');
    if (path.includes('@')) throw new WorkflowInvalid(`${uses}: a $/ reference must not include an @ref suffix (it runs the workflow's own commit)`);
    if (path.startsWith('/')) throw new WorkflowInvalid(`${uses}: $/ must be followed by a path inside the repository, not another slash`);
    if (!site) throw new WorkflowInvalid(`${uses}: a $/ reference needs the workflow it is written in`);
    const fromSelf = site.repository.toLowerCase() === sources.self.toLowerCase();
    const text = readSource(sources, site.tree, file === '' ? path : join(path, file), fromSelf);
    return text === undefined ? undefined : { repository: site.repository, path, ref: site.ref, text, root: site.tree };
  }
  if (uses.startsWith('./')) {
    const path = uses.slice(2).replace(/\/$/, '');
    const text = readSource(sources, sources.callerRoot, file === '' ? path : join(path, file), false);
    return text === undefined ? undefined : { repository: sources.callerRepository, path, ref: sources.callerRef, text, root: sources.callerRoot };
  }
  const m = /^([^/@]+\/[^/@]+)\/?([^@]*)@(.+)$/.exec(uses);
  if (!m || m[1]!.toLowerCase() !== sources.self.toLowerCase()) return undefined;
  const path = m[2]!;
  const root = sources.selfAt ? sources.selfAt(m[3]!) : sources.selfRoot;
  if (root === undefined) return undefined;
  const text = readSource(sources, root, file === '' ? path : join(path, file), true);
  return text === undefined ? undefined : { repository: sources.self, path, ref: m[3]!, text, root };
}

export interface LoadedWorkflow {
  /** Path inside its repository. */
  path: string;
  repository: string;
  ref: string;
  /** owner/repo/path@ref: job_workflow_ref of its jobs. */
  workflowRef: string;
  /** The working tree it was read from (the commit it runs at): where its `$/` references resolve. */
  tree: string;
  template: WorkflowTemplate;
  root: MappingToken;
}

/** Parses and converts one workflow file; schema errors fail as GitHub fails the run. */
export async function loadWorkflow(file: ResolvedFile): Promise<LoadedWorkflow> {
  const parsed = wp.parseWorkflow({ name: file.path, content: file.text }, new wp.NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors().map((e) => e.message);
  if (errors.length > 0 || !parsed.value) throw new WorkflowInvalid(`The workflow is not valid. ${errors.join('; ')}`);
  const template = await wp.convertWorkflowTemplate(parsed.context, parsed.value);
  if (template.errors?.length) throw new WorkflowInvalid(`The workflow is not valid. ${template.errors.map((e) => e.Message).join('; ')}`);
  return {
    path: file.path,
    repository: file.repository,
    ref: file.ref,
    workflowRef: `${file.repository}/${file.path}@${file.ref}`,
    tree: file.root,
    template,
    root: parsed.value as MappingToken,
  };
}

export interface LoadedAction {
  /** Top-level folder of the action in its repository (what the runner harness runs). */
  folder: string;
  /** The working tree holding it. */
  root: string;
  /** Where it resolved: repository, path, ref and the working tree of that commit. */
  resolved: { repository: string; path: string; ref: string; tree: string };
  template: ActionTemplate;
}

/** Parses one of this repository's action.yml files. */
export function loadAction(uses: string, sources: Sources, site?: UsesSite): LoadedAction | undefined {
  const resolved = resolveReference(uses, sources, 'action.yml', site);
  if (!resolved) return undefined;
  const parsed = ap.parseAction({ name: `${resolved.path}/action.yml`, content: resolved.text }, new wp.NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors().map((e) => e.message);
  if (errors.length > 0 || !parsed.value) throw new WorkflowInvalid(`${uses}: action.yml is not valid: ${errors.join('; ')}`);
  return { folder: resolved.path, root: resolved.root, resolved: { repository: resolved.repository, path: resolved.path, ref: resolved.ref, tree: resolved.root }, template: ap.convertActionTemplate(parsed.context, parsed.value) };
}

/** `key` of a mapping token (the keys the converted model drops). */
export function field(token: TemplateToken | undefined, ...keys: string[]): TemplateToken | undefined {
  let current = token;
  for (const key of keys) {
    if (!current || !isMapping(current)) return undefined;
    current = current.find(key);
  }
  return current;
}

/** The raw mapping of job `id` in a workflow. */
export function jobToken(workflow: LoadedWorkflow, id: string): MappingToken {
  return field(workflow.root, 'jobs', id) as MappingToken;
}

/** The raw mapping of step `index` of a job. */
export function stepToken(job: MappingToken, index: number): MappingToken {
  const steps = field(job, 'steps');
  if (!steps || !isSequence(steps)) throw new Error('job has no steps');
  return steps.get(index) as MappingToken;
}
