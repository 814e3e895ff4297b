/** The chart before any cluster: values layered, lint, client-side render, and the render check. */
import { UserError } from '@deploy-actions/action-kit';
import type { Deps } from './context';
import { helmLintArgs, helmTemplateArgs, imageText, imageValues, valuesLayers, type ChartValues, type ImageKeys } from '@deploy-actions/chart';
import { imageKeysOf, type Inputs } from './inputs';
import { parseManifests, renderedContainers, type K8sObject, type RenderedContainer } from './manifests';
import { imageKeyCandidates, judgeRender, renderFailureLine } from './render-check';

export function imageRef(i: Inputs): string {
  return i.image ? imageText(i.image) : '';
}

/** The chart's values: environment file and extra files, then the user's pairs, then the pinned image and annotations. */
export function chartValues(inputs: Inputs, deps: Deps, keys: ImageKeys = imageKeysOf(inputs)): ChartValues {
  const values: ChartValues = {
    chart: inputs.chart,
    namespace: inputs.namespace,
    valuesFiles: valuesLayers(inputs.chart, inputs.environment, inputs.valuesFiles, deps.exists),
    set: inputs.set,
    setStrings: [...inputs.setString, ...(inputs.image ? imageValues(inputs.image, keys) : [])],
  };
  const sha = deps.github.sha;
  if (inputs.podAnnotationsKey && sha) values.setStrings.push([`${inputs.podAnnotationsKey}.deploy-actions/commit`, sha]);
  if (inputs.podAnnotationsKey && inputs.image) values.setStrings.push([`${inputs.podAnnotationsKey}.deploy-actions/image-digest`, inputs.image.digest]);
  return values;
}

export interface Rendered {
  /** helm template's output, hooks and tests included. */
  text: string;
  objects: K8sObject[];
  /** The workload containers that run the pinned digest. */
  pinned: RenderedContainer[];
}

async function template(inputs: Inputs, deps: Deps, helm: string, values: ChartValues): Promise<string> {
  const tpl = await deps.exec(helm, helmTemplateArgs(inputs.release, values), { silent: true, allowFailure: true });
  if (tpl.exitCode !== 0) throw new UserError(`helm template failed: ${tpl.stderr.trim().split('\n').slice(-3).join(' ')}`);
  return tpl.stdout;
}

/** Keys from values.yaml that render the pinned digest where the given ones did not (each tried with helm template). */
async function fittingKeys(inputs: Inputs, deps: Deps, helm: string, used: ImageKeys): Promise<ImageKeys[]> {
  const valuesYaml = deps.readFile(`${inputs.chart}/values.yaml`);
  if (valuesYaml === undefined || !inputs.image) return [];
  const fits: ImageKeys[] = [];
  for (const keys of imageKeyCandidates(valuesYaml, used).slice(0, 4)) {
    const text = await template(inputs, deps, helm, chartValues(inputs, deps, keys)).catch(() => '');
    if (judgeRender(renderedContainers(parseManifests(text)), inputs.image).ok) fits.push(keys);
  }
  return fits;
}

/** Lints and renders the chart; fails when the workloads would not run the pinned image. */
export async function renderChart(inputs: Inputs, deps: Deps, helm: string, values: ChartValues): Promise<Rendered> {
  const { io } = deps;
  io.info(`values files, lowest precedence first: ${['values.yaml (chart)', ...values.valuesFiles].join(', ')}`);
  if (inputs.environment && valuesLayers(inputs.chart, inputs.environment, [], deps.exists).length === 0) {
    io.info(`The chart has no values file for ${inputs.environment}: values.yaml only (allow-missing-values-file is true)`);
  }
  const lint = await deps.exec(helm, helmLintArgs(values), { silent: true, allowFailure: true });
  io.info(lint.stdout.trim());
  if (lint.exitCode !== 0) {
    const errs = (lint.stdout + lint.stderr).split('\n').filter((l) => /\[ERROR\]|Error:/.test(l)).join('; ');
    throw new UserError(`helm lint failed for ${inputs.chart}: ${errs || 'see the log'}`);
  }
  const text = await template(inputs, deps, helm, values);
  const objects = parseManifests(text);
  const containers = renderedContainers(objects);
  io.info(`rendered ${objects.length} resources, ${containers.length} containers: ${[...new Set(containers.map((c) => c.image))].join(', ')}`);
  const verdict = judgeRender(containers, inputs.image);
  if (!verdict.ok) {
    const used = imageKeysOf(inputs);
    throw new UserError(renderFailureLine(verdict, inputs.image, used, verdict.kind === 'malformed' && !inputs.image ? [] : await fittingKeys(inputs, deps, helm, used)));
  }
  return { text, objects, pinned: verdict.pinned };
}
