/** Tools and cluster access: helm (before the chart is rendered), the kubeconfig, kubectl matching the cluster. */
import { errorMessage, UserError } from '@deploy-actions/action-kit';
import type { Deps } from './context';
import type { ClusterInfo } from './eks';
import { helmVersionArgs, parseHelmMajor, type HelmMajor } from '@deploy-actions/chart';
import { helmSupport } from './helm-support';
import type { Inputs } from './inputs';
import { buildKubeconfig, renderKubeconfig } from './kubeconfig';
import { helmDownload, kubectlDownload, kubectlVersionFor, runnerArch } from './tools';

export async function resolveHelm(inputs: Inputs, deps: Deps): Promise<{ helm: string; version: string; major: HelmMajor }> {
  const helm = inputs.toolsFromPath ? 'helm' : await deps.installTool(helmDownload(inputs.helmBaseUrl, inputs.helmVersion, runnerArch()));
  const r = await deps.exec(helm, helmVersionArgs(), { silent: true, allowFailure: true });
  if (r.exitCode !== 0) throw new UserError(`${helm} version failed: ${r.stderr.trim() || r.stdout.trim()}`);
  const version = r.stdout.trim();
  let major: HelmMajor;
  try {
    major = parseHelmMajor(version);
  } catch (err) {
    throw new UserError(errorMessage(err));
  }
  deps.io.info(`helm ${version} (${helm})`);
  const support = helmSupport(version, new Date(deps.now()).toISOString().slice(0, 10));
  for (const note of support.notes) deps.io.info(note);
  for (const warning of support.warnings) deps.io.warning(warning);
  return { helm, version, major };
}

export async function resolveKubectl(inputs: Inputs, deps: Deps, cluster: ClusterInfo | undefined): Promise<string> {
  if (inputs.toolsFromPath) return 'kubectl';
  const version = kubectlVersionFor(inputs.kubectlVersion, cluster?.version);
  return deps.installTool(kubectlDownload(inputs.kubectlBaseUrl, version, runnerArch()));
}

export interface Access {
  kubeconfig: string;
  cluster?: ClusterInfo;
  callerArn: string;
}

/** The given kubeconfig, or one written for the EKS cluster whose user is our exec credential plugin. */
export async function clusterAccess(inputs: Inputs, deps: Deps): Promise<Access> {
  if (inputs.kubeconfig) {
    deps.io.info(`Using the kubeconfig ${inputs.kubeconfig}`);
    return { kubeconfig: inputs.kubeconfig, callerArn: '' };
  }
  const aws = deps.aws!;
  let callerArn = '';
  try {
    callerArn = await aws.callerArn(inputs.clusterName);
    deps.io.info(`AWS identity: ${callerArn}`);
  } catch (err) {
    deps.io.warning(`Could not read the AWS identity (sts:GetCallerIdentity): ${errorMessage(err)}`);
  }
  const cluster = await aws.describeCluster(inputs.clusterName);
  if (!['ACTIVE', 'UPDATING'].includes(cluster.status)) {
    throw new UserError(`EKS cluster '${inputs.clusterName}' is ${cluster.status}, not ACTIVE`);
  }
  deps.io.info(`EKS cluster ${cluster.name}: Kubernetes ${cluster.version}, ${cluster.endpoint}`);
  const dir = `${deps.env.RUNNER_TEMP ?? '/tmp'}/helm-deploy-eks`;
  const path = `${dir}/kubeconfig-${inputs.clusterName}.yaml`;
  const config = buildKubeconfig({
    clusterName: inputs.clusterName,
    region: inputs.region,
    server: cluster.endpoint,
    caData: cluster.caData,
    nodePath: deps.nodePath,
    bundlePath: deps.bundlePath,
    env: { ...deps.env, AWS_REGION: inputs.region },
  });
  deps.writePrivate(path, renderKubeconfig(config));
  deps.io.info(`Wrote ${path} (mode 0600; the user is an exec credential plugin minting EKS tokens)`);
  return { kubeconfig: path, cluster, callerArn };
}
