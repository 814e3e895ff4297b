/**
 * The authenticating front of an EKS cluster endpoint: an HTTPS server that accepts EKS
 * bearer tokens the way EKS does (aws-iam-authenticator): it decodes the presigned STS
 * GetCallerIdentity URL, requires the `x-k8s-aws-id` header to be signed, calls STS with
 * it (here: the STS stand-in, wherever the token's URL points) to learn the caller ARN,
 * checks the cluster's access entries, and proxies the request to the Kubernetes
 * stand-in behind it (which then runs with auth 'none'). Unknown principals get the
 * 401 Unauthorized EKS answers. An access entry whose access policies are all scoped to
 * namespaces (AccessScope type namespace, as deploy-setup generates them) admits requests in
 * those namespaces, the namespace objects themselves (get) and API discovery; anything else
 * (another namespace, a cluster-scoped resource, a list across namespaces) gets the 403
 * Forbidden Status Kubernetes' authorizer answers, naming the user, verb, resource and scope.
 *
 * Why a front door: the Kubernetes stand-in's own 'eks' auth mode recomputes signatures
 * locally and only accepts tokens presigned for sts.<region>.amazonaws.com, while the
 * action presigns against AWS_ENDPOINT_URL_STS when it is set (the SDK convention).
 */
import { request as httpsRequest, createServer } from 'node:https';
import { request as httpRequest } from 'node:http';
import { generateTls } from '../kube/tls';
import { closeServer, listenLocal } from '../../harness/net';
import type { AccessEntrySpec } from './index';

export interface FrontDoorOptions {
  /** https URL of the Kubernetes stand-in (auth 'none'). */
  upstreamUrl: string;
  /** PEM CA of the upstream's certificate. */
  upstreamCa?: string;
  clusterName: string;
  /** Base URL the tokens' presigned URLs must point at (the STS stand-in). */
  stsUrl: string;
  /**
   * Access entries (roles, users; assumed-role sessions match their role): an ARN alone has
   * cluster-wide access; an AccessEntrySpec whose policies are all namespace-scoped, only those namespaces.
   */
  accessEntries: Array<string | AccessEntrySpec>;
  port?: number;
}

export interface AuthDecision {
  at: number;
  arn?: string;
  ok: boolean;
  reason: string;
  /** The namespaces a namespace-scoped access entry limits the caller to. */
  namespaces?: string[];
  /** The 403 message when the request was outside them. */
  forbidden?: string;
}

export interface FrontDoor {
  url: string;
  caCert: string;
  /** base64 PEM, as DescribeCluster's certificateAuthority.data. */
  caData: string;
  accessEntries: Set<string>;
  decisions: AuthDecision[];
  stop(): Promise<void>;
}

function principalOf(arn: string): string {
  const m = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(arn);
  return m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : arn;
}

/** The namespaces an entry is limited to; undefined: cluster-wide (an ARN alone, or any cluster-scoped policy). */
function scopeOf(entry: string | AccessEntrySpec): string[] | undefined {
  if (typeof entry === 'string' || entry.policies.some((p) => p.scope.type !== 'namespace')) return undefined;
  return [...new Set(entry.policies.flatMap((p) => (p.scope.type === 'namespace' ? p.scope.namespaces : [])))];
}

const DISCOVERY = /^\/(?:api|apis|version|openapi\/.*|healthz|livez|readyz|api\/v1|apis\/[^/]+(?:\/[^/]+)?)\/?$/;

/**
 * Whether a namespace-limited user may make this request, and if not Kubernetes' Forbidden
 * message. Paths: /api/v1/namespaces/<ns>/<resource>... and /apis/<group>/<version>/namespaces/<ns>/...
 */
export function namespaceRefusal(method: string, rawUrl: string, user: string, namespaces: readonly string[]): string | undefined {
  const u = new URL(rawUrl, 'https://x');
  const path = u.pathname.replace(/\/+$/, '') || '/';
  if (method === 'GET' && DISCOVERY.test(path)) return undefined;
  const m = /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)(?:\/namespaces\/([^/]+))?(?:\/([^/]+))?(?:\/([^/]+))?/.exec(path);
  const group = m?.[1] ?? '';
  const namespace = m?.[2] !== undefined ? decodeURIComponent(m[2]) : undefined;
  // /api/v1/namespaces/<ns> is the namespace object itself (cluster-scoped, named <ns>).
  const resource = namespace !== undefined ? (m?.[3] ?? 'namespaces') : (m?.[3] ?? path);
  const named = namespace !== undefined ? m?.[3] === undefined || m?.[4] !== undefined : m?.[4] !== undefined;
  const verb =
    method === 'GET' ? (u.searchParams.get('watch') === 'true' || u.searchParams.get('watch') === '1' ? 'watch' : named ? 'get' : 'list') : ({ POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: named ? 'delete' : 'deletecollection' } as Record<string, string>)[method] ?? method.toLowerCase();
  if (namespace !== undefined && namespaces.includes(namespace) && (m?.[3] !== undefined || verb === 'get')) return undefined;
  const where = namespace !== undefined && m?.[3] !== undefined ? `in the namespace "${namespace}"` : 'at the cluster scope';
  const name = namespace !== undefined && m?.[3] === undefined ? ` "${namespace}"` : '';
  return `${resource}${name} is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "${group}" ${where}`;
}

function getJson(url: URL, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method: 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

export async function startEksFrontDoor(opts: FrontDoorOptions): Promise<FrontDoor> {
  const tls = await generateTls();
  const accessEntries = new Set(opts.accessEntries.map((e) => (typeof e === 'string' ? e : e.principalArn)));
  const scopes = new Map(opts.accessEntries.map((e) => [typeof e === 'string' ? e : e.principalArn, scopeOf(e)]));
  const decisions: AuthDecision[] = [];
  const cache = new Map<string, { until: number; arn: string }>();
  const sts = new URL(opts.stsUrl);

  async function authenticate(authorization: string | undefined): Promise<AuthDecision> {
    const at = Date.now();
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    if (!token?.startsWith('k8s-aws-v1.')) return { at, ok: false, reason: 'no EKS bearer token' };
    const cached = cache.get(token);
    let arn = cached && cached.until > at ? cached.arn : undefined;
    if (!arn) {
      let url: URL;
      try {
        url = new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString('utf8'));
      } catch {
        return { at, ok: false, reason: 'token does not hold a URL' };
      }
      if (url.origin !== sts.origin) return { at, ok: false, reason: `token presigned for ${url.origin}, not the STS endpoint ${sts.origin}` };
      if (url.searchParams.get('Action') !== 'GetCallerIdentity') return { at, ok: false, reason: 'not a GetCallerIdentity URL' };
      if (!(url.searchParams.get('X-Amz-SignedHeaders') ?? '').split(';').includes('x-k8s-aws-id')) {
        return { at, ok: false, reason: 'x-k8s-aws-id is not signed' };
      }
      const res = await getJson(url, { 'x-k8s-aws-id': opts.clusterName, accept: 'application/json' });
      if (res.status !== 200) return { at, ok: false, reason: `STS answered ${res.status}: ${res.body.slice(0, 200)}` };
      arn = (JSON.parse(res.body) as { GetCallerIdentityResponse: { GetCallerIdentityResult: { Arn: string } } }).GetCallerIdentityResponse.GetCallerIdentityResult.Arn;
      cache.set(token, { until: at + 30_000, arn });
    }
    if (!accessEntries.has(arn) && !accessEntries.has(principalOf(arn))) return { at, arn, ok: false, reason: 'no access entry' };
    const namespaces = scopes.get(arn) ?? scopes.get(principalOf(arn));
    return { at, arn, ok: true, reason: namespaces ? `access entry (namespaces ${namespaces.join(', ')})` : 'access entry', ...(namespaces ? { namespaces } : {}) };
  }

  const upstream = new URL(opts.upstreamUrl);
  const server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    authenticate(req.headers.authorization)
      .catch((err: Error) => ({ at: Date.now(), ok: false, reason: `authenticator error: ${err.message}` }) as AuthDecision)
      .then((d) => {
        decisions.push(d);
        const forbidden = d.ok && d.namespaces ? namespaceRefusal(req.method ?? 'GET', req.url ?? '/', d.arn!, d.namespaces) : undefined;
        if (forbidden) {
          d.forbidden = forbidden;
          res.writeHead(403, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: forbidden, reason: 'Forbidden', details: {}, code: 403 }));
          req.resume();
          return;
        }
        if (!d.ok) {
          res.writeHead(401, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 }));
          req.resume();
          return;
        }
        const headers = { ...req.headers };
        delete headers.authorization;
        headers.host = upstream.host;
        const up = httpsRequest(
          { protocol: upstream.protocol, hostname: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, ca: opts.upstreamCa, rejectUnauthorized: !!opts.upstreamCa },
          (upRes) => {
            res.writeHead(upRes.statusCode ?? 502, upRes.headers);
            upRes.pipe(res);
          },
        );
        up.on('error', (err) => {
          if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(`front door: upstream error ${err.message}`);
        });
        res.on('close', () => up.destroy());
        req.pipe(up);
      });
  });
  const port = await listenLocal(server, opts.port);
  return {
    url: `https://127.0.0.1:${port}`,
    caCert: tls.caCert,
    caData: Buffer.from(tls.caCert).toString('base64'),
    accessEntries,
    decisions,
    stop: () => closeServer(server),
  };
}
