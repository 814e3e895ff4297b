/**
 * One EKS cluster in front of a Kubernetes stand-in, for end-to-end tests: the STS and EKS
 * stand-ins (DescribeCluster answers with the front door's endpoint and CA) and the
 * front door that authenticates EKS tokens through STS and checks access entries.
 */
import { startEksStandin, startStsStandin, type AccessEntrySpec, type EksStandin, type Identity, type StsOptions, type StsStandinWithSessions } from './index';
import { startEksFrontDoor, type FrontDoor } from './front-door';
import { IamStore } from '../iam/index';

export interface EksWorld {
  sts: StsStandinWithSessions;
  eks: EksStandin;
  /** The first cluster's front door. */
  door: FrontDoor;
  doors: FrontDoor[];
  /** The first cluster's name. */
  clusterName: string;
  region: string;
  /** The helm-deploy-eks inputs naming a cluster of this world (the first by default) and its region. */
  clusterInputs(clusterName?: string): { 'cluster-name': string; 'aws-region': string };
  iam: IamStore;
  /** The AWS environment a job with this identity has (credentials, region, stand-in endpoints). */
  envFor(id: Identity): Record<string, string>;
  stop(): Promise<void>;
}

export async function startEksWorld(opts: {
  kube: { url: string; caCert?: string };
  /** The shared identity store; or `identities`, each allowed everything. */
  iam?: IamStore;
  identities?: Identity[];
  /** Principal ARNs with an access entry. */
  accessEntries?: string[];
  clusterName?: string;
  /** Several EKS clusters (each with its own front door) in front of the same Kubernetes stand-in. */
  clusterNames?: string[];
  /** Clusters with the account that owns each and its own access entries (instead of clusterNames / accessEntries); an AccessEntrySpec with namespace-scoped policies limits its principal to those namespaces. */
  clusters?: Array<{ name: string; account?: string; accessEntries: Array<string | AccessEntrySpec> }>;
  region?: string;
  version?: string;
  /** OIDC providers and roles: STS also answers AssumeRoleWithWebIdentity; issued sessions join `identities`. */
  webIdentity?: StsOptions['webIdentity'];
}): Promise<EksWorld> {
  const clusters: Array<{ name: string; account?: string; accessEntries: Array<string | AccessEntrySpec> }> =
    opts.clusters ?? (opts.clusterNames ?? [opts.clusterName ?? 'prod']).map((name) => ({ name, account: undefined, accessEntries: opts.accessEntries ?? [] }));
  const names = clusters.map((c) => c.name);
  const region = opts.region ?? 'eu-west-1';
  const iam = opts.iam ?? IamStore.of(opts.identities ?? []);
  const sts = await startStsStandin({ region, iam, identities: opts.identities, webIdentity: opts.webIdentity });
  const doors: FrontDoor[] = [];
  for (const c of clusters) {
    doors.push(await startEksFrontDoor({ upstreamUrl: opts.kube.url, upstreamCa: opts.kube.caCert, clusterName: c.name, stsUrl: sts.url, accessEntries: c.accessEntries }));
  }
  const eks = await startEksStandin({
    region,
    iam,
    clusters: clusters.map((c, i) => ({
      name: c.name,
      ...(c.account ? { account: c.account } : {}),
      endpoint: doors[i]!.url,
      caData: doors[i]!.caData,
      version: opts.version ?? '1.35',
      accessEntries: c.accessEntries.map((e) => (typeof e === 'string' ? { principalArn: e, policies: [{ policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy', scope: { type: 'cluster' as const } }] } : e)),
    })),
  });
  return {
    sts,
    eks,
    door: doors[0]!,
    doors,
    clusterName: names[0]!,
    region,
    iam,
    clusterInputs: (name = names[0]!) => ({ 'cluster-name': name, 'aws-region': region }),
    envFor: (id) => ({
      AWS_ACCESS_KEY_ID: id.accessKeyId,
      AWS_SECRET_ACCESS_KEY: id.secretAccessKey,
      ...(id.sessionToken ? { AWS_SESSION_TOKEN: id.sessionToken } : {}),
      AWS_REGION: region,
      AWS_ENDPOINT_URL_EKS: eks.url,
      AWS_ENDPOINT_URL_STS: sts.url,
      AWS_EC2_METADATA_DISABLED: 'true',
    }),
    stop: async () => {
      for (const door of doors) await door.stop();
      await eks.stop();
      await sts.stop();
    },
  };
}
