// Kubernetes API stand-in: an API server that real helm 3/4 and kubectl accept, with controllers and a kubelet
// running pods as Docker containers or in a fast fake runtime. Test and local-demo infrastructure only.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import YAML from 'yaml';
import { Api } from './api';
import { Controllers } from './controllers';
import { type AwsCredentials, verifyEksToken } from './eks-token';
import { Recorder } from './events';
import { Kubelet, type KubeletTiming } from './kubelet';
import { byKind } from './resources';
import type { RegistryConfig, Runtime } from './runtime';
import { DockerRuntime } from './runtime-docker';
import { ServiceProxy } from './service-proxy';
import { type FakeOptions, FakeRuntime } from './runtime-fake';
import { serve } from './server';
import { ApiError, type KObj, Store } from './store';
import { generateTls } from './tls';

export { createEksToken, verifyEksToken, decodeEksToken, EKS_TOKEN_PREFIX } from './eks-token';
export type { AwsCredentials, VerifyOptions, VerifyResult } from './eks-token';
export { FAKE_ANNOTATION_PREFIX } from './runtime-fake';
export type { FakeBehaviour, FakeOptions } from './runtime-fake';
export { STANDIN_LABEL } from './runtime-docker';
export type { KObj } from './store';

export interface AuthOptions {
  /** none: anyone; bearer: one of `tokens`; eks: EKS tokens (k8s-aws-v1.<presigned STS URL>) for `clusterName`. */
  mode: 'none' | 'bearer' | 'eks';
  tokens?: string[];
  clusterName?: string;
  region?: string;
  /** eks: recompute the SigV4 signature with these keys (tokens of other access keys are rejected). */
  credentials?: AwsCredentials | AwsCredentials[];
  /** eks: caller identity per access key id (what STS GetCallerIdentity would answer). */
  arnForAccessKey?: Record<string, string>;
  /** eks: ARNs with an access entry; a valid token of any other caller gets 401 Unauthorized, as on EKS. */
  allowedArns?: string[];
  /** eks: ARNs whose access entry only allows reading (like AmazonEKSViewPolicy): writes get 403 Forbidden. */
  readOnlyArns?: string[];
  skewSeconds?: number;
}

export interface KubeStandinOptions {
  /** 0 (default) = random free port. */
  port?: number;
  host?: string;
  /** HTTPS with a CA generated at start (kubeconfig carries certificate-authority-data). */
  tls?: boolean;
  runtime: 'fake' | 'docker';
  /** Registry the images come from: checked over HTTP API v2 by the fake runtime, pulled by docker. */
  registry?: RegistryConfig;
  auth?: AuthOptions;
  /** Where to write the kubeconfig (default: a temp file). */
  kubeconfigPath?: string;
  /** Token written into the kubeconfig's user (bearer / eks mode). */
  kubeconfigToken?: string;
  fake?: FakeOptions;
  /** Back-off of image pulls and container restarts (default 1 s doubling to 10 s; Kubernetes uses 10 s to 300 s). */
  timing?: Partial<KubeletTiming>;
  /** Log every request to stderr. Also STANDIN_KUBE_DEBUG=1. */
  debug?: boolean;
}

export interface KubeStandin {
  id: string;
  url: string;
  kubeconfigPath: string;
  /** PEM of the generated CA (tls only) and its base64 as in kubeconfig. */
  caCert?: string;
  caData?: string;
  store: Store;
  api: Api;
  runtime: Runtime;
  /** Convenience reads for assertions. */
  get(kind: string, namespace: string | undefined, name: string): KObj | undefined;
  list(kind: string, namespace?: string): KObj[];
  /** Every request served so far, as `METHOD /path?query`, in order. */
  requests: string[];
  /** Compacts the event history (see Store.compact): older watches and continue tokens get 410 Gone. */
  compact(): void;
  /** Polls until `pred` returns a truthy value. */
  waitFor<T>(pred: () => T | undefined | false, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization ?? '';
  const m = h.match(/^Bearer\s+(.+)$/i);
  return m?.[1]?.trim();
}

export function authenticator(auth: AuthOptions | undefined): ((req: IncomingMessage) => ApiError | undefined) | undefined {
  if (!auth || auth.mode === 'none') return undefined;
  const unauthorized = () => new ApiError(401, 'Unauthorized', 'Unauthorized');
  return (req) => {
    const token = bearer(req);
    if (!token) return unauthorized();
    if (auth.mode === 'bearer') return (auth.tokens ?? []).includes(token) ? undefined : unauthorized();
    const r = verifyEksToken(token, { clusterName: auth.clusterName ?? 'standin', credentials: auth.credentials, skewSeconds: auth.skewSeconds });
    if (!r.ok) {
      if (process.env.STANDIN_KUBE_DEBUG) process.stderr.write(`[kube-standin] EKS token rejected: ${r.reason}\n`);
      return unauthorized();
    }
    if (auth.region && r.region !== auth.region) return unauthorized();
    const arn = auth.arnForAccessKey?.[r.accessKeyId];
    if (auth.allowedArns && (!arn || !auth.allowedArns.includes(arn))) return unauthorized();
    if (arn && auth.readOnlyArns?.includes(arn) && !['GET', 'HEAD'].includes(req.method ?? 'GET')) {
      const verb = ({ POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' } as Record<string, string>)[req.method ?? ''] ?? 'update';
      const parts = new URL(req.url ?? '/', 'http://x').pathname.split('/').filter(Boolean);
      const nsIdx = parts.indexOf('namespaces');
      const ns = nsIdx >= 0 && parts.length > nsIdx + 2 ? parts[nsIdx + 1] : undefined;
      const group = parts[0] === 'apis' ? parts[1] : '';
      const resource = ns ? parts[nsIdx + 2] : parts[parts[0] === 'apis' ? 3 : 2];
      return new ApiError(403, 'Forbidden', `${resource}${group ? '.' + group : ''} is forbidden: User "${arn}" cannot ${verb} resource "${resource}" in API group "${group}"${ns ? ` in the namespace "${ns}"` : ' at the cluster scope'}`, { kind: resource });
    }
    return undefined;
  };
}

export async function startKubeStandin(opts: KubeStandinOptions): Promise<KubeStandin> {
  const id = randomBytes(4).toString('hex');
  const store = new Store();
  const api = new Api(store);
  for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) api.create(byKind('Namespace'), { metadata: { name: ns } });
  const rec = new Recorder(api);
  const runtime: Runtime = opts.runtime === 'docker' ? new DockerRuntime(id, opts.registry) : new FakeRuntime(opts.registry, opts.fake);
  const kubelet = new Kubelet(api, rec, runtime, { backoffInitialMs: 1000, backoffMaxMs: 10_000, ...(opts.timing ?? {}) });
  const serviceProxy = opts.runtime === 'docker' ? new ServiceProxy(store) : undefined;
  kubelet.serviceProxy = serviceProxy;
  const controllers = new Controllers(api, rec);
  const tls = opts.tls ? await generateTls() : undefined;
  const debug = opts.debug ?? !!process.env.STANDIN_KUBE_DEBUG;
  const requests: string[] = [];
  const { server, url } = await serve(api, { logs: (ns, pod, o) => kubelet.logs(ns, pod, o), onRequest: (m, u) => void requests.push(`${m} ${u}`), authenticate: authenticator(opts.auth), debug }, { port: opts.port ?? 0, host: opts.host, tls: tls && { key: tls.key, cert: tls.cert } });
  controllers.start();
  kubelet.start();

  const kubeconfigPath = opts.kubeconfigPath ?? join(tmpdir(), `kube-standin-${id}`, 'kubeconfig');
  mkdirSync(dirname(kubeconfigPath), { recursive: true });
  const caData = tls ? Buffer.from(tls.caCert).toString('base64') : undefined;
  const clusterName = opts.auth?.clusterName ?? 'standin';
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: clusterName, cluster: { server: url, ...(caData ? { 'certificate-authority-data': caData } : {}) } }],
    // A user always carries a credential, as real kubeconfigs do: over https, kubectl prompts for a username when it has none.
    users: [{ name: 'standin-user', user: { token: opts.kubeconfigToken ?? 'standin' } }],
    contexts: [{ name: clusterName, context: { cluster: clusterName, user: 'standin-user', namespace: 'default' } }],
    'current-context': clusterName,
    preferences: {},
  };
  writeFileSync(kubeconfigPath, YAML.stringify(kubeconfig), { mode: 0o600 });

  let stopped = false;
  return {
    id,
    url,
    kubeconfigPath,
    caCert: tls?.caCert,
    caData,
    store,
    api,
    runtime,
    get: (kind, ns, name) => store.get(byKind(kind), ns, name),
    list: (kind, ns) => store.list(byKind(kind), ns),
    requests,
    compact: () => store.compact(),
    async waitFor(pred, timeoutMs = 30_000) {
      const t0 = Date.now();
      for (;;) {
        const v = pred();
        if (v) return v;
        if (Date.now() - t0 > timeoutMs) throw new Error(`waitFor: timed out after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      controllers.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await kubelet.stop();
      await runtime.stopAll();
      serviceProxy?.stop();
    },
  };
}
