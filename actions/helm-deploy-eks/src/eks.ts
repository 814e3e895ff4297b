import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { UserError } from '@deploy-actions/action-kit';
import { awsCall, awsClientConfig, awsErrorName, reportEndpoint } from '@deploy-actions/aws';
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

/**
 * Real calls with the SDK's default credential chain; endpoints from AWS_ENDPOINT_URL_EKS / _STS
 * as usual. The caller's identity comes from the request an EKS token presigns (see callerArnViaSts).
 */
export function awsDeps(region: string, onRetry: (m: string) => void, env: NodeJS.ProcessEnv = process.env): AwsDeps {
  const eks = reportEndpoint(new EKSClient(awsClientConfig(region)));
  const credentials = defaultProvider();
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
        res = await awsCall('eks:DescribeCluster', name, () => eks.send(new DescribeClusterCommand({ name })), { onRetry });
      } catch (err) {
        if (awsErrorName(err) === 'ResourceNotFoundException') {
          throw new UserError(`EKS cluster '${name}' was not found in ${region}: check cluster-name and aws-region`);
        }
        throw err;
      }
      const c = res.cluster;
      if (!c?.endpoint || !c.certificateAuthority?.data) {
        throw new UserError(`EKS cluster '${name}' has no endpoint or certificate authority yet (status ${c?.status ?? 'unknown'})`);
      }
      return {
        name,
        arn: c.arn ?? '',
        endpoint: c.endpoint,
        caData: c.certificateAuthority.data,
        version: c.version ?? '',
        status: c.status ?? '',
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
