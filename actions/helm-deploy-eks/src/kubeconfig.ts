/**
 * A kubeconfig for an EKS cluster whose user is an exec credential plugin: this very
 * bundle, run by the same node binary in `eks-token` mode. helm (and any later step's
 * kubectl, with export-kubeconfig) calls it whenever the token nears expiry, so long waits
 * never outlive their credentials. No secret is written: AWS credentials reach the plugin
 * through the inherited environment. The action's own reads mint the same token in-process.
 */

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
