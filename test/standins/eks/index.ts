/**
 * EKS and STS stand-ins: real HTTP servers speaking the services' wire protocols, reached
 * by the real SDK clients through AWS_ENDPOINT_URL_EKS / AWS_ENDPOINT_URL_STS.
 *
 * - EKS is REST-JSON: `GET /clusters/<name>` -> `{cluster: {...}}`; the access entry reads
 *   `GET /clusters/<name>/access-entries` (ListAccessEntries, `maxResults`/`nextToken`),
 *   `GET .../access-entries/<principalArn>` (DescribeAccessEntry) and
 *   `GET .../access-entries/<principalArn>/access-policies` (ListAssociatedAccessPolicies);
 *   errors carry the `x-amzn-ErrorType` header and a `{message}` body.
 * - STS is the Query protocol: `POST /` with a form body `Action=GetCallerIdentity&Version=2011-06-15`
 *   -> XML GetCallerIdentityResponse. A presigned `GET /?Action=GetCallerIdentity&...` (what an
 *   EKS token wraps) is answered the same way (JSON when asked with Accept: application/json,
 *   as aws-iam-authenticator does).
 *
 * Every request's SigV4 signature is verified against the configured identities.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { decodeEksToken as decodeToken } from '../kube/eks-token';
import { closeServer, listenLocal, readBody } from '../../harness/net';
import { ALLOW_ALL, IamStore, accountOfArn, type Identity } from '../iam/index';
import { authenticateRequest, type RequestAuth } from '../iam/request';
import { assumeRoleWithWebIdentity, type IssuedSession, type Role, type WebIdentityFederation } from './web-identity';

export type { Identity } from '../iam/index';

/** An access policy associated with an access entry, and its scope. */
export interface AccessPolicySpec {
  /** arn:aws:eks::aws:cluster-access-policy/<name> */
  policyArn: string;
  scope: { type: 'cluster' } | { type: 'namespace'; namespaces: string[] };
}

/** An EKS access entry of a cluster (AWS::EKS::AccessEntry): who, and the access policies associated. */
export interface AccessEntrySpec {
  principalArn: string;
  type?: string;
  kubernetesGroups?: string[];
  policies: AccessPolicySpec[];
}

export interface ClusterSpec {
  name: string;
  /** Access entries (the API reads; the front door enforces them). */
  accessEntries?: AccessEntrySpec[];
  endpoint: string;
  /** base64 PEM of the cluster CA. */
  caData: string;
  /** The account that owns the cluster; callers of other accounts do not see it. Default: any caller's. */
  account?: string;
  version?: string;
  status?: string;
}

export interface RecordedRequest {
  service: 'eks' | 'sts';
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  verdict: Verdict;
}

interface Common {
  port?: number;
  region: string;
  /** The shared identity store (test/standins/iam); or `identities`, each allowed everything. */
  iam?: IamStore;
  identities?: Identity[];
}

function storeOf(opts: Common): IamStore {
  return opts.iam ?? IamStore.of(opts.identities ?? []);
}

export interface AwsStandin {
  url: string;
  requests: RecordedRequest[];
  stop(): Promise<void>;
}

export interface EksStandin extends AwsStandin {
  setCluster(spec: ClusterSpec): void;
  removeCluster(name: string): void;
  /** Caller ARNs denied eks:DescribeCluster (AccessDeniedException). */
  denyDescribe: Set<string>;
}

export type StsStandin = AwsStandin;

async function listen(server: Server, port = 0): Promise<string> {
  return `http://127.0.0.1:${await listenLocal(server, port)}`;
}

function accountOf(id: Identity): string {
  return id.account ?? accountOfArn(id.arn) ?? '000000000000';
}

function userIdOf(id: Identity): string {
  if (id.userId) return id.userId;
  const session = /assumed-role\/[^/]+\/(.+)$/.exec(id.arn)?.[1];
  return session ? `AROAEXAMPLE${id.accessKeyId.slice(-6)}:${session}` : `AIDAEXAMPLE${id.accessKeyId.slice(-6)}`;
}

type Verdict = RequestAuth;

function verify(iam: IamStore, method: string, url: string, headers: IncomingMessage['headers'], body: Buffer, presignedMaxAgeMs?: number): Verdict {
  return authenticateRequest(iam, { method, url, headers, body }, { presignedMaxAgeMs });
}

function identityFor(v: Verdict): Identity | undefined {
  return v.ok ? v.identity : undefined;
}

// ---------------------------------------------------------------- EKS

function eksError(res: ServerResponse, status: number, type: string, message: string, extra: Record<string, unknown> = {}): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazonaws.eks/`,
    'x-amzn-requestid': randomUUID(),
  });
  res.end(JSON.stringify({ message, ...extra }));
}

/** The ARN of an access entry (what IAM policies name for its reads): access-entry/<cluster>/<type>/<account>/<name>/<id>. */
function accessEntryArn(region: string, account: string, cluster: string, principalArn: string): string {
  const m = /^arn:aws[a-z-]*:iam::(\d{12}):(role|user)\/(?:.*\/)?([^/]+)$/.exec(principalArn);
  const [kind, owner, name] = m ? [m[2]!, m[1]!, m[3]!] : ['role', account, 'unknown'];
  return `arn:aws:eks:${region}:${account}:access-entry/${cluster}/${kind}/${owner}/${name}/${Buffer.from(principalArn).toString('hex').slice(-8)}`;
}

export async function startEksStandin(opts: Common & { clusters?: ClusterSpec[] }): Promise<EksStandin> {
  const clusters = new Map<string, ClusterSpec>((opts.clusters ?? []).map((c) => [c.name, c]));
  const iam = storeOf(opts);
  const requests: RecordedRequest[] = [];
  const denyDescribe = new Set<string>();
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const url = req.url ?? '/';
    const verdict = verify(iam, req.method ?? 'GET', url, req.headers, body);
    requests.push({ service: 'eks', method: req.method ?? '', url, headers: req.headers, body: body.toString('utf8'), verdict });
    if (!verdict.ok) {
      const type = { InvalidClientTokenId: 'UnrecognizedClientException', SignatureDoesNotMatch: 'InvalidSignatureException', ExpiredToken: 'ExpiredTokenException' }[verdict.code as string] ?? verdict.code;
      eksError(res, 403, type, verdict.message);
      return;
    }
    if (verdict.service !== 'eks' || verdict.region !== opts.region) {
      eksError(res, 403, 'InvalidSignatureException', `Credential should be scoped to a valid region and service eks in ${opts.region}`);
      return;
    }
    const u = new URL(url, 'http://x');
    // Path labels are percent-encoded whole (a principal ARN's '/' is %2F): split before decoding.
    const parts = u.pathname.split('/').slice(1).map(decodeURIComponent);
    if (req.method !== 'GET' || parts[0] !== 'clusters' || !parts[1] || parts.length > 5 || (parts.length > 2 && parts[2] !== 'access-entries') || (parts.length === 5 && parts[4] !== 'access-policies')) {
      eksError(res, 404, 'UnknownOperationException', `Unsupported operation ${req.method} ${url}`);
      return;
    }
    const name = parts[1];
    const caller = identityFor(verdict)!;
    const account = accountOf(caller);
    const clusterArn = `arn:aws:eks:${opts.region}:${account}:cluster/${name}`;
    const principal = parts[3];
    const operation = parts.length === 2 ? 'DescribeCluster' : parts.length === 3 ? 'ListAccessEntries' : parts.length === 4 ? 'DescribeAccessEntry' : 'ListAssociatedAccessPolicies';
    const target = principal === undefined ? clusterArn : accessEntryArn(opts.region, account, name, principal);
    const decision = await iam.authorize(caller, `eks:${operation}`, target);
    if ((operation === 'DescribeCluster' && denyDescribe.has(caller.arn)) || !decision.allowed) {
      eksError(res, 403, 'AccessDeniedException', decision.allowed ? `User: ${caller.arn} is not authorized to perform: eks:DescribeCluster on resource: ${clusterArn}` : decision.message);
      return;
    }
    const c = clusters.get(name);
    if (!c || (c.account !== undefined && c.account !== account)) {
      eksError(res, 404, 'ResourceNotFoundException', `No cluster found for name: ${name}.`, { clusterName: name });
      return;
    }
    if (operation !== 'DescribeCluster') {
      const entries = c.accessEntries ?? [];
      const ok = (payload: unknown) => {
        res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID() });
        res.end(JSON.stringify(payload));
      };
      if (operation === 'ListAccessEntries') {
        const max = Math.min(Number(u.searchParams.get('maxResults') ?? 100) || 100, 100);
        const from = Number(u.searchParams.get('nextToken') ?? 0) || 0;
        const page = entries.slice(from, from + max).map((e) => e.principalArn);
        ok({ accessEntries: page, ...(from + max < entries.length ? { nextToken: String(from + max) } : {}) });
        return;
      }
      const e = entries.find((x) => x.principalArn === principal);
      if (!e) {
        eksError(res, 404, 'ResourceNotFoundException', `The specified principalArn could not be found. You can view your available access entries with 'list-access-entries'.`, { clusterName: name });
        return;
      }
      if (operation === 'DescribeAccessEntry') {
        ok({
          accessEntry: {
            clusterName: name,
            principalArn: e.principalArn,
            kubernetesGroups: e.kubernetesGroups ?? [],
            accessEntryArn: accessEntryArn(opts.region, account, name, e.principalArn),
            createdAt: 1_767_225_600,
            modifiedAt: 1_767_225_600,
            tags: {},
            username: e.principalArn.replace(/^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/, 'arn:$1:sts::$2:assumed-role/$3/{{SessionName}}'),
            type: e.type ?? 'STANDARD',
          },
        });
        return;
      }
      ok({
        clusterName: name,
        principalArn: e.principalArn,
        associatedAccessPolicies: e.policies.map((p) => ({
          policyArn: p.policyArn,
          accessScope: p.scope.type === 'namespace' ? { type: 'namespace', namespaces: p.scope.namespaces } : { type: 'cluster', namespaces: [] },
          associatedAt: 1_767_225_600,
          modifiedAt: 1_767_225_600,
        })),
      });
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID() });
    res.end(
      JSON.stringify({
        cluster: {
          name: c.name,
          arn: `arn:aws:eks:${opts.region}:${account}:cluster/${c.name}`,
          createdAt: 1_767_225_600,
          version: c.version ?? '1.35',
          endpoint: c.endpoint,
          roleArn: `arn:aws:iam::${account}:role/eks-cluster-role`,
          resourcesVpcConfig: { subnetIds: [], securityGroupIds: [], endpointPublicAccess: true, endpointPrivateAccess: false },
          kubernetesNetworkConfig: { serviceIpv4Cidr: '10.100.0.0/16', ipFamily: 'ipv4' },
          logging: { clusterLogging: [] },
          identity: { oidc: { issuer: `https://oidc.eks.${opts.region}.amazonaws.com/id/EXAMPLE` } },
          status: c.status ?? 'ACTIVE',
          certificateAuthority: { data: c.caData },
          platformVersion: 'eks.1',
          tags: {},
          accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP' },
        },
      }),
    );
  });
  const url = await listen(server, opts.port);
  return {
    url,
    requests,
    denyDescribe,
    setCluster: (spec) => void clusters.set(spec.name, spec),
    removeCluster: (name) => void clusters.delete(name),
    stop: () => closeServer(server),
  };
}

// ---------------------------------------------------------------- STS

const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function stsError(res: ServerResponse, status: number, code: string, message: string, json: boolean): void {
  const requestId = randomUUID();
  if (json) {
    res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-requestid': requestId });
    res.end(JSON.stringify({ Error: { Code: code, Message: message, Type: 'Sender' }, RequestId: requestId }));
    return;
  }
  res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
  res.end(
    `<ErrorResponse xmlns="${STS_NS}">\n  <Error>\n    <Type>Sender</Type>\n    <Code>${code}</Code>\n    <Message>${xmlEscape(message)}</Message>\n  </Error>\n  <RequestId>${requestId}</RequestId>\n</ErrorResponse>\n`,
  );
}

export interface StsOptions extends Common {
  /** How long a presigned GetCallerIdentity stays valid; EKS honours tokens for 15 minutes. */
  presignedMaxAgeMs?: number;
  /**
   * OIDC providers for AssumeRoleWithWebIdentity (web-identity.ts), and roles to register in
   * the store with their trust policies; the store issues the sessions.
   */
  webIdentity?: Omit<WebIdentityFederation, 'iam'> & { roles?: Role[] };
}

export interface StsStandinWithSessions extends StsStandin {
  /** Every AssumeRoleWithWebIdentity answer, granted or refused. */
  webIdentityCalls: Array<{ roleArn: string; session?: IssuedSession; error?: { code: string; message: string } }>;
}

export async function startStsStandin(opts: StsOptions): Promise<StsStandinWithSessions> {
  const iam = storeOf(opts);
  for (const role of opts.webIdentity?.roles ?? []) {
    const name = role.arn.slice(role.arn.lastIndexOf('/') + 1);
    iam.addRole({ account: accountOfArn(role.arn)!, name, trustPolicy: role.trustPolicy, policies: role.policies ?? [ALLOW_ALL] });
  }
  const requests: RecordedRequest[] = [];
  const webIdentityCalls: StsStandinWithSessions['webIdentityCalls'] = [];
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const url = req.url ?? '/';
    const method = req.method ?? 'GET';
    const json = /application\/json/.test(String(req.headers.accept ?? ''));
    if (method === 'POST' && opts.webIdentity) {
      // Unsigned by design: the token is the credential.
      const form = new URLSearchParams(body.toString('utf8'));
      if (form.get('Action') === 'AssumeRoleWithWebIdentity') {
        const answer = await assumeRoleWithWebIdentity(form, { ...opts.webIdentity, iam });
        const roleArn = form.get('RoleArn') ?? '';
        if (!answer.ok) {
          webIdentityCalls.push({ roleArn, error: { code: answer.code, message: answer.message } });
          stsError(res, answer.status, answer.code, answer.message, json);
          return;
        }
        webIdentityCalls.push({ roleArn, session: answer.session });
        res.writeHead(200, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() });
        res.end(answer.xml);
        return;
      }
    }
    const presigned = new URL(url, 'http://x').searchParams.has('X-Amz-Signature');
    const verdict = verify(iam, method, url, req.headers, body, presigned ? (opts.presignedMaxAgeMs ?? 15 * 60_000) : undefined);
    requests.push({ service: 'sts', method, url, headers: req.headers, body: body.toString('utf8'), verdict });
    const params = new URLSearchParams(method === 'POST' ? body.toString('utf8') : new URL(url, 'http://x').search);
    if (method === 'GET') for (const [k, v] of new URL(url, 'http://x').searchParams) params.set(k, v);
    if (!verdict.ok) {
      stsError(res, 403, verdict.code, verdict.message, json);
      return;
    }
    if (verdict.service !== 'sts') {
      stsError(res, 403, 'SignatureDoesNotMatch', `Credential should be scoped to correct service: 'sts'.`, json);
      return;
    }
    if (params.get('Action') !== 'GetCallerIdentity' || params.get('Version') !== '2011-06-15') {
      stsError(res, 400, 'InvalidAction', `Could not find operation ${params.get('Action') ?? ''} for version ${params.get('Version') ?? ''}`, json);
      return;
    }
    const id = identityFor(verdict)!;
    const requestId = randomUUID();
    if (json) {
      res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': requestId });
      res.end(
        JSON.stringify({
          GetCallerIdentityResponse: {
            GetCallerIdentityResult: { Account: accountOf(id), Arn: id.arn, UserId: userIdOf(id) },
            ResponseMetadata: { RequestId: requestId },
          },
        }),
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
    res.end(
      `<GetCallerIdentityResponse xmlns="${STS_NS}">\n  <GetCallerIdentityResult>\n    <Arn>${xmlEscape(id.arn)}</Arn>\n    <UserId>${xmlEscape(userIdOf(id))}</UserId>\n    <Account>${accountOf(id)}</Account>\n  </GetCallerIdentityResult>\n  <ResponseMetadata>\n    <RequestId>${requestId}</RequestId>\n  </ResponseMetadata>\n</GetCallerIdentityResponse>\n`,
    );
  });
  const url = await listen(server, opts.port);
  return { url, requests, webIdentityCalls, stop: () => closeServer(server) };
}

/** Decodes an EKS bearer token back into its presigned URL (for assertions). */
export function decodeEksToken(token: string): URL {
  const url = decodeToken(token);
  if (!url) throw new Error('not an EKS token');
  return url;
}
