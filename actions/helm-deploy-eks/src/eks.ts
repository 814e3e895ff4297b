import aws4 from 'aws4';
import { DEADLINES, UserError } from '@deploy-actions/action-kit';
import { awsCall, awsJsonAnswer, awsErrorName, httpExchange, jobCredentials, sdkResolvers, serviceEndpoint, type Credentials, type SdkResolvers } from '@deploy-actions/aws';
import { callerArnViaSts, eksToken, stsEndpoint } from './token';

export interface ClusterInfo {
  name: string;
  arn: string;
  endpoint: string;
  caData: string;
  version: string;
  status: string;
}

export interface AwsDeps {
  describeCluster(name: string): Promise<ClusterInfo>;
  callerArn(cluster: string): Promise<string>;
  /** A bearer token for the cluster's API server, minted here and reused until a minute before it expires. */
  token(cluster: string): Promise<string>;
}

/** EKS as packages/aws's endpoint rules name it: `AWS_ENDPOINT_URL_EKS`, host `eks.<region>.amazonaws.com`. */
const EKS_ENDPOINT = { endpointId: 'EKS', host: 'eks' };

/**
 * The SDK's EKS client's resolvers (its default credential chain and endpoint rules), loaded only
 * off the plain path: credentials not in the environment (AWS_PROFILE, a web identity token file,
 * container or instance metadata), FIPS, dual-stack or other-partition endpoints.
 */
export function eksSdk(region: string): () => Promise<SdkResolvers> {
  let loaded: Promise<SdkResolvers> | undefined;
  return () =>
    (loaded ??= import('@aws-sdk/client-eks').then(({ EKSClient }) => sdkResolvers(new EKSClient({ region }))));
}

/** The job's AWS credentials, as the SDK's default chain finds them (jobCredentials: the environment first). */
export function eksCredentials(region: string, env: NodeJS.ProcessEnv = process.env): () => Promise<Credentials> {
  return jobCredentials(env, eksSdk(region));
}

/**
 * EKS DescribeCluster (REST-JSON: `GET /clusters/<name>`), signed by aws4 and sent over
 * node:http(s) under the AWS deadline: the one EKS call of the action, made without loading the
 * SDK's EKS client (about 0.7 MB of JavaScript with undici; issue 25). Errors are AWS's code and
 * message with `$endpoint`, as the SDK's were, so awsCall retries and words them alike.
 */
export async function describeClusterCall(name: string, region: string, credentials: Credentials, endpoint: URL): Promise<{ cluster?: Record<string, unknown> & { certificateAuthority?: { data?: string } } }> {
  const path = `${endpoint.pathname.replace(/\/+$/, '')}/clusters/${encodeURIComponent(name)}`;
  const signed = aws4.sign({ method: 'GET', host: endpoint.host, path, service: 'eks', region, headers: { Accept: 'application/json' } }, credentials);
  const headers = Object.fromEntries(Object.entries(signed.headers ?? {}).filter(([k]) => !/^host$/i.test(k)).map(([k, v]) => [k, String(v)]));
  const url = new URL(path, endpoint);
  return awsJsonAnswer(url, async () => {
    const { status, header, body } = await httpExchange(url, 'GET', headers, undefined, DEADLINES.awsMs);
    return { status, header, text: body.toString('utf8') };
  });
}

/**
 * Real calls with the job's credentials (the environment, else the SDK's default chain); endpoints
 * from AWS_ENDPOINT_URL_EKS / _STS as the SDK reads them. The caller's identity comes from the
 * request an EKS token presigns (see callerArnViaSts).
 */
export function awsDeps(region: string, onRetry: (m: string) => void, env: NodeJS.ProcessEnv = process.env): AwsDeps {
  const sdk = eksSdk(region);
  const credentials = jobCredentials(env, sdk);
  let endpoint: Promise<URL> | undefined;
  const tokens = new Map<string, { token: string; expiresAt: Date }>();
  return {
    async token(cluster) {
      const held = tokens.get(cluster);
      if (held && held.expiresAt.getTime() - 60_000 > Date.now()) return held.token;
      const minted = await eksToken({ cluster, region, credentials: await credentials(), stsEndpoint: stsEndpoint(region, env) });
      tokens.set(cluster, minted);
      return minted.token;
    },
    async describeCluster(name) {
      let res;
      try {
        const url = await (endpoint ??= serviceEndpoint(EKS_ENDPOINT, region, env, sdk));
        res = await awsCall('eks:DescribeCluster', name, async () => describeClusterCall(name, region, await credentials(), url), { onRetry });
      } catch (err) {
        if (awsErrorName(err) === 'ResourceNotFoundException') {
          throw new UserError(`EKS cluster '${name}' was not found in ${region}: check cluster-name and aws-region`);
        }
        throw err;
      }
      const c = res.cluster;
      const str = (v: unknown) => (typeof v === 'string' ? v : '');
      if (!str(c?.endpoint) || !c?.certificateAuthority?.data) {
        throw new UserError(`EKS cluster '${name}' has no endpoint or certificate authority yet (status ${str(c?.status) || 'unknown'})`);
      }
      return {
        name,
        arn: str(c.arn),
        endpoint: str(c.endpoint),
        caData: c.certificateAuthority.data,
        version: str(c.version),
        status: str(c.status),
      };
    },
    async callerArn(cluster) {
      return awsCall(
        'sts:GetCallerIdentity',
        '*',
        async () => callerArnViaSts({ cluster, region, credentials: await credentials(), stsEndpoint: stsEndpoint(region, env) }),
        { onRetry },
      );
    },
  };
}

/** The IAM principal an access entry names: an assumed-role session maps to its role. */
export function principalArn(callerArn: string): string {
  const m = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(callerArn);
  return m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : callerArn;
}

/** What a 401/403 from the cluster means for an EKS deploy, and the commands that fix it. */
export function accessEntryMessage(cluster: string, region: string, namespace: string, callerArn: string, detail: string): string {
  const principal = callerArn ? principalArn(callerArn) : '<the role this job assumes>';
  return (
    `The cluster refused ${callerArn || 'the AWS identity of this job'} (${detail}). ` +
    `Give it an EKS access entry: aws eks create-access-entry --cluster-name ${cluster} --region ${region} --principal-arn ${principal} ` +
    `&& aws eks associate-access-policy --cluster-name ${cluster} --region ${region} --principal-arn ${principal} ` +
    `--policy-arn arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy --access-scope type=namespace,namespaces=${namespace} ` +
    `(or map the role in the aws-auth ConfigMap)`
  );
}

const ACCESS_RE = /\b(Unauthorized|forbidden)\b|provide credentials|status code 40[13]|\b40[13]\b.*(Unauthorized|Forbidden)/i;

export function isClusterAccessError(text: string): boolean {
  return ACCESS_RE.test(text);
}
