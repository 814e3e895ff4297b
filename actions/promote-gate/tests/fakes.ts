import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import {
  BatchGetImageCommand,
  DescribeImagesCommand,
  ECRClient,
  PutImageCommand,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { UserError } from '@deploy-actions/action-kit';
import { tooMany, type CreateDeployment, type CreateStatus, type Deployment, type DeploymentsApi, type DeploymentStatus } from '../src/github';

export const SHA = '0123456789abcdef0123456789abcdef01234567';
export const OTHER_SHA = 'fedcba9876543210fedcba9876543210fedcba98';
export const DIGEST = `sha256:${'a'.repeat(64)}`;
export const OTHER_DIGEST = `sha256:${'b'.repeat(64)}`;

function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });
}

/** An in-memory ECR repository behind aws-sdk-client-mock: tags -> digests, digests -> manifests. */
export function fakeEcr(repositoryName = 'team/sample-service') {
  const images = new Map<string, string>(); // digest -> manifest
  const tags = new Map<string, string>(); // tag -> digest
  const client = new ECRClient({ region: 'eu-west-1', maxAttempts: 1 });
  const mock = mockClient(client);
  mock.on(DescribeImagesCommand).callsFake((input) => {
    if (input.repositoryName !== repositoryName) throw awsError('RepositoryNotFoundException', 'no repo');
    const tag = input.imageIds?.[0]?.imageTag;
    const byDigest = input.imageIds?.[0]?.imageDigest;
    const digest = tag ? tags.get(tag) : byDigest && images.has(byDigest) ? byDigest : undefined;
    if (!digest) throw awsError('ImageNotFoundException', `The image with imageId {${tag ?? byDigest}} does not exist`);
    return {
      imageDetails: [
        {
          repositoryName,
          imageDigest: digest,
          imageTags: [...tags].filter(([, d]) => d === digest).map(([t]) => t),
        },
      ],
    };
  });
  mock.on(BatchGetImageCommand).callsFake((input) => {
    const digest = input.imageIds?.[0]?.imageDigest ?? '';
    const manifest = images.get(digest);
    return manifest
      ? {
          images: [
            {
              repositoryName,
              imageId: { imageDigest: digest },
              imageManifest: manifest,
              imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
            },
          ],
          failures: [],
        }
      : { images: [], failures: [{ imageId: { imageDigest: digest }, failureCode: 'ImageNotFound' }] };
  });
  mock.on(PutImageCommand).callsFake((input) => {
    const digest = input.imageDigest!;
    if (!images.has(digest)) throw awsError('ImageDigestDoesNotMatchException', 'unknown manifest');
    const current = tags.get(input.imageTag!);
    if (current === digest) throw awsError('ImageAlreadyExistsException', 'already exists');
    if (current) throw awsError('ImageTagAlreadyExistsException', 'tag is immutable');
    tags.set(input.imageTag!, digest);
    return { image: { repositoryName, imageId: { imageDigest: digest, imageTag: input.imageTag } } };
  });
  return {
    client,
    mock,
    tags,
    addImage(digest: string, ...imageTags: string[]) {
      images.set(digest, JSON.stringify({ schemaVersion: 2, digest }));
      for (const t of imageTags) tags.set(t, digest);
    },
    puts: () => mock.commandCalls(PutImageCommand).map((c) => c.args[0].input),
  };
}

/** An in-memory deployments API with GitHub's ordering and auto-inactive behaviour (see the GitHub stand-in). */
/** `clock`: GitHub's time for created_at (default: one second per write from 2026-01-01). */
export function fakeGithub(clock?: () => number) {
  let id = 0;
  let tick = 0;
  const deployments: Deployment[] = [];
  const statuses = new Map<number, DeploymentStatus[]>();
  const stamp = () => new Date(clock ? clock() : Date.UTC(2026, 0, 1) + ++tick * 1000).toISOString();
  const tasks = new Map<number, string>();
  const api: DeploymentsApi & { calls: string[]; pages: number } = {
    calls: [],
    pages: 0,
    async list({ environment, task, sha, max = Infinity, maxPages = 20, until, complete }) {
      api.calls.push(`list ${environment ?? task} ${sha ?? '*'}`);
      const all = deployments
        .filter((d) => (environment === undefined || d.environment === environment) && (task === undefined || tasks.get(d.id) === task) && (sha === undefined || d.sha === sha))
        .reverse();
      // Pages of 100, as GitHub's list: `until` after each page, `complete` refuses a cut read.
      const out: Deployment[] = [];
      for (let page = 0; out.length < max && page * 100 < all.length; page++) {
        if (page >= maxPages) {
          if (complete) throw new UserError(tooMany({ environment, task, sha }, out.length));
          break;
        }
        out.push(...all.slice(page * 100, page * 100 + 100));
        api.pages++;
        if (until?.(out)) break;
      }
      return out.slice(0, max);
    },
    async statuses(deploymentId) {
      api.calls.push(`statuses ${deploymentId}`);
      return [...(statuses.get(deploymentId) ?? [])].reverse();
    },
    async create(body: CreateDeployment) {
      api.calls.push(`create ${body.environment}`);
      const d: Deployment = {
        id: ++id,
        sha: body.ref,
        ref: body.ref,
        environment: body.environment,
        payload: body.payload,
        description: body.description,
        created_at: stamp(),
        production_environment: body.production_environment,
        transient_environment: body.transient_environment,
      };
      deployments.push(d);
      tasks.set(d.id, body.task ?? 'deploy');
      return d;
    },
    async createStatus(deploymentId, body: CreateStatus) {
      api.calls.push(`status ${deploymentId} ${body.state}`);
      const { auto_inactive, ...fields } = body;
      const s: DeploymentStatus = { id: ++id, created_at: stamp(), ...fields };
      statuses.set(deploymentId, [...(statuses.get(deploymentId) ?? []), s]);
      const d = deployments.find((x) => x.id === deploymentId);
      if (d && body.state === 'success' && auto_inactive !== false) {
        // GitHub: other successful, non-transient, non-production deployments of the environment go inactive.
        for (const other of deployments) {
          if (other === d || other.environment !== d.environment || other.transient_environment || other.production_environment) continue;
          if (statuses.get(other.id)?.at(-1)?.state !== 'success') continue;
          statuses.set(other.id, [...statuses.get(other.id)!, { id: ++id, state: 'inactive', created_at: stamp() }]);
        }
      }
      return s;
    },
  };
  return {
    api,
    deployments,
    states: (deploymentId: number) => (statuses.get(deploymentId) ?? []).map((x) => x.state),
    /** Seeds a deployment with a sequence of statuses (oldest first). */
    seed(environment: string, sha: string, digest: string, states: string[], repository = 'team/sample-service') {
      const d: Deployment = {
        id: ++id,
        sha,
        ref: sha,
        environment,
        payload: { digest, repository },
        created_at: stamp(),
      };
      deployments.push(d);
      statuses.set(
        d.id,
        states.map((state) => ({ id: ++id, state, created_at: stamp() })),
      );
      return d;
    },
  };
}

/** The defaults action.yml gives (as the runner would), expressions left out. */
export function actionDefaults(): Record<string, string> {
  const meta = parseYaml(readFileSync(new URL('../../../promote-gate/action.yml', import.meta.url), 'utf8')) as {
    inputs: Record<string, { default?: string }>;
  };
  return Object.fromEntries(
    Object.entries(meta.inputs)
      .filter(([, v]) => v.default !== undefined && !String(v.default).includes('${{'))
      .map(([k, v]) => [k, String(v.default)]),
  );
}
