/** Tools and cluster access: helm (before the chart is rendered), the kubeconfig helm uses, and the API connection the action reads with. */
import { errorMessage, UserError } from '@deploy-actions/action-kit';
import type { Deps } from './context';
import type { ClusterInfo } from './eks';
import { helmVersionArgs, parseHelmMajor, type HelmMajor } from '@deploy-actions/chart';
import { helmSupport } from './helm-support';
import type { Inputs } from './inputs';
import { buildKubeconfig, renderKubeconfig } from './kubeconfig';
import { helmDownload, preinstalledHelm, runnerArch } from './tools';
import { KubeconfigError, parseKubeconfig, type Connection } from '@deploy-actions/kube';

export async function resolveHelm(inputs: Inputs, deps: Deps): Promise<{ helm: string; version: string; major: HelmMajor }> {
  const helm = inputs.toolsFromPath ? 'helm' : await pinnedHelm(inputs, deps);
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

/** The pinned helm: the hosted runner's own when it is that exact build, else downloaded (or from the tool cache). */
async function pinnedHelm(inputs: Inputs, deps: Deps): Promise<string> {
  const arch = runnerArch();
  if (deps.env.RUNNER_ENVIRONMENT === 'github-hosted') {
    const pre = preinstalledHelm(inputs.helmVersion, arch, deps.env, await deps.onPath('helm'));
    if (pre.note) deps.io.info(pre.note);
    if ('path' in pre) return pre.path;
  }
  return deps.installTool(helmDownload(inputs.helmBaseUrl, inputs.helmVersion, arch));
}

export interface Access {
  kubeconfig: string;
  /** How the action itself reaches the API server (no kubectl): the kubeconfig's, or the EKS endpoint with a token minted here. */
  connection: Connection;
  cluster?: ClusterInfo;
  callerArn: string;
}

/** The connection a given kubeconfig describes for the context (files it names read relative to it). */
export function kubeconfigConnection(path: string, context: string, deps: Pick<Deps, 'readFile'>): Connection {
  const read = (p: string) => {
    const text = deps.readFile(p);
    if (text === undefined) throw new Error(`cannot read ${p}`);
    return text;
  };
  const text = deps.readFile(path);
  if (text === undefined) throw new UserError(`The kubeconfig ${path} cannot be read`);
  try {
    return parseKubeconfig(text, { context, dir: path.slice(0, path.lastIndexOf('/')) || '.', readFile: read });
  } catch (err) {
    throw new UserError(`The kubeconfig ${path} ${err instanceof KubeconfigError ? err.message : errorMessage(err)}`);
  }
}

/** The given kubeconfig, or one written for the EKS cluster whose user is our exec credential plugin. */
export async function clusterAccess(inputs: Inputs, deps: Deps): Promise<Access> {
  if (inputs.kubeconfig) {
    deps.io.info(`Using the kubeconfig ${inputs.kubeconfig}`);
    return { kubeconfig: inputs.kubeconfig, connection: kubeconfigConnection(inputs.kubeconfig, inputs.kubeContext, deps), callerArn: '' };
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
  const connection: Connection = {
    server: cluster.endpoint.replace(/\/+$/, ''),
    ca: Buffer.from(cluster.caData, 'base64').toString('utf8'),
    insecure: false,
    credentials: { kind: 'provider', token: () => aws.token(inputs.clusterName) },
    namespace: '',
  };
  return { kubeconfig: path, connection, cluster, callerArn };
}
