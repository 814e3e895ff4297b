/** The chart before any cluster: values layered, lint, client-side render. */
import { UserError } from '@deploy-actions/action-kit';
import type { Deps } from './context';
import { helmLintArgs, helmTemplateArgs, valuesLayers, type ChartValues } from './helm-args';
import type { Inputs } from './inputs';

function imageSetStrings(i: Inputs): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (i.image) {
    out.push([i.imageRepositoryKey, i.image.repository]);
    out.push([i.imageDigestKey, i.image.digest]);
    if (i.imageTagKey && i.image.tag) out.push([i.imageTagKey, i.image.tag]);
  }
  return out;
}

export function imageRef(i: Inputs): string {
  return i.image ? `${i.image.repository}${i.image.tag ? `:${i.image.tag}` : ''}@${i.image.digest}` : '';
}

/** The chart's values: environment file and extra files, then the user's pairs, then the pinned image and annotations. */
export function chartValues(inputs: Inputs, deps: Deps): ChartValues {
  const values: ChartValues = {
    chart: inputs.chart,
    namespace: inputs.namespace,
    valuesFiles: valuesLayers(inputs.chart, inputs.environment, inputs.valuesFiles, deps.exists),
    setStrings: [...inputs.set, ...imageSetStrings(inputs)],
  };
  const sha = deps.github.sha;
  if (inputs.podAnnotationsKey && sha) values.setStrings.push([`${inputs.podAnnotationsKey}.deploy-actions/commit`, sha]);
  if (inputs.podAnnotationsKey && inputs.image) values.setStrings.push([`${inputs.podAnnotationsKey}.deploy-actions/image-digest`, inputs.image.digest]);
  return values;
}

/** Lints and renders the chart (hooks and tests left out, to compare with `helm get manifest`); returns the manifests. */
export async function renderChart(inputs: Inputs, deps: Deps, helm: string, values: ChartValues): Promise<string> {
  const { io } = deps;
  if (inputs.environment && valuesLayers(inputs.chart, inputs.environment, [], deps.exists).length === 0) {
    io.warning(`The chart has no values-${inputs.environment}.yaml: deploying ${inputs.environment} with values.yaml${inputs.valuesFiles.length ? ' and values-files' : ''} only`);
  }
  io.info(`values files, lowest precedence first: ${['values.yaml (chart)', ...values.valuesFiles].join(', ')}`);
  const lint = await deps.exec(helm, helmLintArgs(values), { silent: true, allowFailure: true });
  io.info(lint.stdout.trim());
  if (lint.exitCode !== 0) {
    const errs = (lint.stdout + lint.stderr).split('\n').filter((l) => /\[ERROR\]|Error:/.test(l)).join('; ');
    throw new UserError(`helm lint failed for ${inputs.chart}: ${errs || 'see the log'}`);
  }
  const tpl = await deps.exec(helm, helmTemplateArgs(inputs.release, values), { silent: true, allowFailure: true });
  if (tpl.exitCode !== 0) {
    throw new UserError(`helm template failed: ${tpl.stderr.trim().split('\n').slice(-3).join(' ')}`);
  }
  io.info(`rendered ${(tpl.stdout.match(/^kind: /gm) ?? []).length} resources`);
  return tpl.stdout;
}
