/**
 * A kubeconfig for an EKS cluster whose user is an exec credential plugin: this very
 * bundle, run by the same node binary in `eks-token` mode. kubectl and helm call it
 * whenever the token nears expiry, so long waits never outlive their credentials.
 * No secret is written: AWS credentials reach the plugin through the inherited environment.
 */
import { parse as parseYaml } from 'yaml';

/** Non-secret variables that steer the SDK's credential chain and endpoints; passed to the plugin when set. */
export const PLUGIN_ENV_VARS = [
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_PROFILE',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_ROLE_ARN',
  'AWS_ROLE_SESSION_NAME',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_STS_REGIONAL_ENDPOINTS',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_STS',
  'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS',
];

export interface KubeconfigSpec {
  clusterName: string;
  region: string;
  /** https://... from DescribeCluster. */
  server: string;
  /** Base64 PEM bundle from DescribeCluster certificateAuthority.data. */
  caData: string;
  nodePath: string;
  bundlePath: string;
  env: NodeJS.ProcessEnv;
}

export function buildKubeconfig(spec: KubeconfigSpec): Record<string, unknown> {
  const name = `eks_${spec.region}_${spec.clusterName}`;
  const env = PLUGIN_ENV_VARS.filter((k) => spec.env[k]).map((k) => ({ name: k, value: spec.env[k]! }));
  return {
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: [{ name, cluster: { server: spec.server, 'certificate-authority-data': spec.caData } }],
    users: [
      {
        name,
        user: {
          exec: {
            apiVersion: 'client.authentication.k8s.io/v1beta1',
            command: spec.nodePath,
            args: [spec.bundlePath, 'eks-token', '--cluster', spec.clusterName, '--region', spec.region],
            env: env.length > 0 ? env : null,
            interactiveMode: 'Never',
            provideClusterInfo: false,
          },
        },
      },
    ],
    contexts: [{ name, context: { cluster: name, user: name } }],
    'current-context': name,
  };
}

/** JSON is YAML: client-go reads it as a kubeconfig. */
export function renderKubeconfig(config: Record<string, unknown>): string {
  return JSON.stringify(config, null, 2) + '\n';
}

/**
 * The API server a given kubeconfig sends `context` (or its current-context) to, or why it
 * names none: what helm and kubectl would otherwise discover only by calling localhost:8080.
 */
export function kubeconfigServer(text: string, context: string): { server: string } | { problem: string } {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch {
    return { problem: 'is not YAML' };
  }
  if (!doc || typeof doc !== 'object') return { problem: 'is empty (no clusters, contexts or users)' };
  const k = doc as { 'current-context'?: unknown; contexts?: unknown; clusters?: unknown };
  const named = (list: unknown, name: unknown): Record<string, unknown> | undefined =>
    Array.isArray(list) ? (list.find((e) => e && typeof e === 'object' && e.name === name) as Record<string, unknown> | undefined) : undefined;
  const ctxName = context || k['current-context'];
  if (!ctxName) return { problem: 'has no current-context (set one, or give kube-context)' };
  const ctx = named(k.contexts, ctxName)?.context as { cluster?: unknown } | undefined;
  if (!ctx) return { problem: `has no context '${String(ctxName)}'` };
  const cluster = named(k.clusters, ctx.cluster)?.cluster as { server?: unknown } | undefined;
  const server = typeof cluster?.server === 'string' ? cluster.server : '';
  if (!/^https?:\/\/[^\s/]+/.test(server)) return { problem: `names no server URL for the cluster of context '${String(ctxName)}'` };
  return { server };
}
