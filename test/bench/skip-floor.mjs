// The floor of any skip path (run by bench/build-push-ecr.ts, never by the actions): what
// build-push-ecr's skip path cannot do without, with the smallest client that does it properly.
// Node starts, the two git reads of the content key run (rev-parse and status, together), and the
// three ECR reads (DescribeRepositories, BatchGetImage, GetLifecyclePolicy) go out together over
// fetch, each signed with SigV4 by @smithy/signature-v4 (credentials from the environment only),
// each under a deadline. Nothing is printed on success; a failure exits 1 with one line.
// Usage: node skip-floor.mjs <repository> <tag> (env: AWS_*, AWS_ENDPOINT_URL_ECR, GITHUB_WORKSPACE).
import { execFile } from 'node:child_process';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';

const [repositoryName, tag] = process.argv.slice(2);
const env = process.env;
const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
const endpoint = new URL(env.AWS_ENDPOINT_URL_ECR ?? `https://api.ecr.${region}.amazonaws.com`);
const signer = new SignatureV4({
  service: 'ecr',
  region,
  sha256: Hash.bind(null, 'sha256'),
  credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN },
});

async function call(operation, input) {
  const body = JSON.stringify(input);
  const request = {
    method: 'POST',
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    port: endpoint.port ? Number(endpoint.port) : undefined,
    path: endpoint.pathname,
    headers: { host: endpoint.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AmazonEC2ContainerRegistry_V20150921.${operation}` },
    body,
  };
  const signed = await signer.sign(request);
  const res = await fetch(endpoint, { method: 'POST', headers: signed.headers, body, signal: AbortSignal.timeout(30_000) });
  const answer = await res.json();
  if (!res.ok && !/NotFound/.test(answer.__type ?? '')) throw new Error(`${operation}: ${res.status} ${answer.__type ?? ''}`);
  return answer;
}

const git = (args) =>
  new Promise((resolve) => execFile('git', args, { cwd: env.GITHUB_WORKSPACE, timeout: 30_000 }, (err, stdout) => resolve(err ? '' : stdout)));

try {
  await Promise.all([git(['rev-parse', '--show-toplevel', 'HEAD']), git(['status', '--porcelain', '--', '.'])]);
  const [, images] = await Promise.all([
    call('DescribeRepositories', { repositoryNames: [repositoryName] }),
    call('BatchGetImage', { repositoryName, imageIds: [{ imageTag: tag }] }),
    call('GetLifecyclePolicy', { repositoryName }),
  ]);
  if (!images.images?.length) throw new Error(`no image tagged ${tag}`);
} catch (err) {
  console.error(err.message);
  process.exit(1);
}
