/**
 * Bad input: every case fails with one error line naming the input, and nothing happened before
 * it. Every case runs through each action's getInputs (what runAction calls before it builds any
 * client); the path and control-character cases, and a sample of the others, also run through the
 * committed bundles (about a second each here). A bundle step runs with a PATH holding only recording
 * docker/helm/kubectl/aws shims, every AWS and GitHub endpoint (and any HTTP proxy) pointing at a
 * listener that counts connections, and a snapshot of the workspace and runner directories taken
 * before and compared after: no program ran, no connection was made, no file was written.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { existsSync } from 'node:fs';
import { Inputs, mapInputs, runContextFrom } from '@deploy-actions/action-kit';
import { errorsOf, newRunnerDir, readActionMetadata, runActionBundle } from '../harness/runner';
import { getInputs as buildInputs } from '../../actions/build-push-ecr/src/inputs';
import { getInputs as helmInputs } from '../../actions/helm-deploy-eks/src/inputs';
import { getInputs as gateInputs } from '../../actions/promote-gate/src/inputs';
import { realPathFs } from '@deploy-actions/action-kit';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const ECR = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';

let root: string;
let workspace: string;
let outside: string;
let shims: string;
let calls: string;
let listener: Server;
let connections = 0;
let endpoint: string;

/** Valid inputs of each action; a case replaces one of them. */
const BASE: Record<string, Record<string, string>> = {
  'build-push-ecr': { repository: 'team/app', 'aws-region': 'eu-west-1', context: 'app' },
  'helm-deploy-eks': { release: 'web', 'cluster-name': 'prod', 'aws-region': 'eu-west-1', image: `${ECR}/team/app@${DIGEST}` },
  'promote-gate': { mode: 'verify', 'image-ref': `${ECR}/team/app@${DIGEST}`, 'github-token': 'ghs_token', 'weaken-promotion-gate': 'true' },
};

/** Paths that leave the workspace, or name nothing in it, for every path input. */
const ESCAPES: Array<[string, string]> = [
  ['/etc', 'must stay inside the workspace'],
  ['../outside', 'must stay inside the workspace'],
  ['link-out', 'must stay inside the workspace'],
  ['link-out/sub', 'must stay inside the workspace'],
  ['chart/../../outside', 'must stay inside the workspace'],
  ['no/such/thing', 'that exists in the workspace'],
  ['chart\t::error::x', 'without control characters'],
];
const PATH_INPUTS: Array<[string, string, string]> = [
  ['build-push-ecr', 'context', 'app'],
  ['build-push-ecr', 'dockerfile', 'app/Dockerfile'],
  ['helm-deploy-eks', 'chart', 'chart'],
  ['helm-deploy-eks', 'values-files', 'chart/values-extra.yaml'],
];

type Case = [action: string, input: string, value: string, expected: string, extra?: Record<string, string>];

const CASES: Case[] = [
  ...PATH_INPUTS.flatMap(([action, input]) => ESCAPES.map(([value, expected]): Case => [action, input, value, expected])),
  ['build-push-ecr', 'context', 'app\n::error::x', 'without control characters'],
  ['helm-deploy-eks', 'chart', 'chart\n::add-mask::x', 'without control characters'],
  ['build-push-ecr', 'dockerfile', 'app', 'must be a file'],
  ['build-push-ecr', 'context', 'app/Dockerfile', 'must be a directory'],
  ['build-push-ecr', 'dockerfile', 'link-in-to-outside-file', 'must stay inside the workspace'],
  ['helm-deploy-eks', 'chart', 'chart/values.yaml', 'must be a chart directory'],
  ['helm-deploy-eks', 'chart', 'app', 'must be a chart directory holding Chart.yaml'],
  ['helm-deploy-eks', 'values-files', 'chart/values.yaml\n../outside/values.yaml', 'must stay inside the workspace'],
  ['helm-deploy-eks', 'values-files', 'chart', 'must be a values file'],

  ['build-push-ecr', 'repository', '', 'is required'],
  ['build-push-ecr', 'repository', 'Team/App', 'must be an ECR repository name'],
  ['build-push-ecr', 'repository', 'a', 'must be an ECR repository name'],
  ['build-push-ecr', 'repository', 'team//app', 'must be an ECR repository name'],
  ['build-push-ecr', 'repository', 'team/app\n::error::x', 'must be an ECR repository name'],
  ['build-push-ecr', 'registry-id', '12345', 'must be a 12-digit AWS account id'],
  ['build-push-ecr', 'registry-id', '1234567890123', 'must be a 12-digit AWS account id'],
  ['build-push-ecr', 'aws-region', 'Europe', 'must be an AWS region'],
  ['build-push-ecr', 'aws-region', 'eu-west-1\n::add-mask::x', 'must be an AWS region'],
  ['build-push-ecr', 'platforms', 'linux', 'must be os/arch'],
  ['build-push-ecr', 'platforms', 'linux/amd64,windows', 'must be os/arch'],
  ['build-push-ecr', 'builder', 'kaniko', 'must be one of auto, buildx, docker'],
  ['build-push-ecr', 'extra-tags', '-bad', 'must hold image tags'],
  ['build-push-ecr', 'extra-tags', `${'t'.repeat(129)}`, 'must hold image tags'],
  ['build-push-ecr', 'extra-tags', 'ok,has space', 'must hold image tags'],
  ['build-push-ecr', 'cache-ref', 'UPPER/Case', 'must be an image reference'],
  ['build-push-ecr', 'build-args', '=value', 'must be KEY=VALUE lines'],
  ['build-push-ecr', 'build-args', 'no-equals-sign', 'must be KEY=VALUE lines'],
  ['build-push-ecr', 'labels', '1abc=x', 'must be KEY=VALUE lines'],
  ['build-push-ecr', 'tag-semver', 'maybe', 'must be true or false'],
  ['build-push-ecr', 'tag-branch', '2', 'must be true or false'],
  ['build-push-ecr', 'tag-run-number', 'yes please', 'must be true or false'],
  ['build-push-ecr', 'tag-timestamp', 'nope', 'must be true or false'],
  ['build-push-ecr', 'create-repository', 'sure', 'must be true or false'],
  ['build-push-ecr', 'image-tag-mutability', 'FROZEN', 'must be one of IMMUTABLE, MUTABLE'],
  ['build-push-ecr', 'scan-on-push', 'always', 'must be true or false'],
  ['build-push-ecr', 'untagged-expiry-days', '-1', 'must be a whole number from 0 to 3650'],
  ['build-push-ecr', 'untagged-expiry-days', '3651', 'must be a whole number from 0 to 3650'],
  ['build-push-ecr', 'untagged-expiry-days', '1.5', 'must be a whole number from 0 to 3650'],
  ['build-push-ecr', 'skip-existing', 'x', 'must be true or false'],
  ['build-push-ecr', 'provenance', 'x', 'must be true or false'],
  ['build-push-ecr', 'sbom', 'x', 'must be true or false'],

  ['helm-deploy-eks', 'release', '', 'is required'],
  ['helm-deploy-eks', 'release', 'Web', 'must be a lowercase RFC 1123 name'],
  ['helm-deploy-eks', 'release', 'a'.repeat(54), 'must be a lowercase RFC 1123 name'],
  ['helm-deploy-eks', 'release', 'web\n::error::x', 'must be a lowercase RFC 1123 name'],
  ['helm-deploy-eks', 'namespace', 'Prod', 'must be a lowercase RFC 1123 label'],
  ['helm-deploy-eks', 'namespace', 'a'.repeat(64), 'must be a lowercase RFC 1123 label'],
  ['helm-deploy-eks', 'environment', 'pre prod', 'must be'],
  ['helm-deploy-eks', 'image', 'team/app:latest', 'must be an image pinned by digest'],
  ['helm-deploy-eks', 'image', `team/app@sha256:${'z'.repeat(64)}`, 'must be an image pinned by digest'],
  ['helm-deploy-eks', 'image-digest', 'sha256:abc', 'must be sha256: followed by 64', { image: '', 'image-repository': `${ECR}/team/app` }],
  ['helm-deploy-eks', 'image-repository', `${ECR}/team/app:v1`, 'must be an image repository', { image: '', 'image-digest': DIGEST }],
  ['helm-deploy-eks', 'image-tag', 'bad tag', 'must be a Docker tag'],
  ['helm-deploy-eks', 'image-repository-key', 'image..repository', 'must be a dotted values key'],
  ['helm-deploy-eks', 'image-digest-key', 'image digest', 'must be a dotted values key'],
  ['helm-deploy-eks', 'pod-annotations-key', '.x', 'must be a dotted values key'],
  ['helm-deploy-eks', 'set', 'noequals', 'must be KEY=VALUE lines'],
  ['helm-deploy-eks', 'timeout', 'forever', 'must be a Go duration'],
  ['helm-deploy-eks', 'timeout', '0s', 'must be a Go duration'],
  ['helm-deploy-eks', 'readiness-timeout', '10', 'must be a Go duration'],
  ['helm-deploy-eks', 'history-max', '-3', 'must be a whole number from 0 to 1000'],
  ['helm-deploy-eks', 'history-max', 'ten', 'must be a whole number from 0 to 1000'],
  ['helm-deploy-eks', 'rollback-on-failure', 'maybe', 'must be true or false'],
  ['helm-deploy-eks', 'force', 'x', 'must be true or false'],
  ['helm-deploy-eks', 'create-namespace', 'x', 'must be true or false'],
  ['helm-deploy-eks', 'cluster-name', 'prod cluster', 'must be an EKS cluster name'],
  ['helm-deploy-eks', 'cluster-name', 'prod\n::error::x', 'must be an EKS cluster name'],
  ['helm-deploy-eks', 'aws-region', 'mars-1', 'must be an AWS region'],
  ['helm-deploy-eks', 'kube-context', 'ctx\n::error::injected', 'must not contain control characters'],
  ['helm-deploy-eks', 'kube-context', 'ctx\r::add-mask::x', 'must not contain control characters'],
  ['helm-deploy-eks', 'kubeconfig', 'kc\nFOO=bar', 'must not contain control characters'],
  ['helm-deploy-eks', 'export-kubeconfig', 'x', 'must be true or false'],
  ['helm-deploy-eks', 'helm-version', 'latest', 'must be a version such as'],
  ['helm-deploy-eks', 'helm-version', '4.1.4; rm -rf /', 'must be a version such as'],
  ['helm-deploy-eks', 'helm-base-url', 'ftp://mirror', 'must be an http(s) URL'],
  ['helm-deploy-eks', 'tools-from-path', 'x', 'must be true or false'],
  ['helm-deploy-eks', 'dry-run', 'x', 'must be true or false'],
  ['helm-deploy-eks', 'fail-fast', 'x', 'must be true or false'],
  ['helm-deploy-eks', 'crash-loop-restarts', '0', 'must be a whole number from 1 to 100'],
  ['helm-deploy-eks', 'crash-loop-restarts', '101', 'must be a whole number from 1 to 100'],
  ['helm-deploy-eks', 'pod-selector', 'app in (a;b)', 'must be an equality-based label selector'],
  ['helm-deploy-eks', 'log-lines', '1001', 'must be a whole number from 0 to 1000'],
  ['helm-deploy-eks', 'helm-test', 'x', 'must be true or false'],
  ['helm-deploy-eks', 'smoke-url', 'localhost:8080', 'must be an http(s) URL'],
  ['helm-deploy-eks', 'smoke-url', 'http://a b', 'must be an http(s) URL'],
  ['helm-deploy-eks', 'smoke-attempts', '0', 'must be a whole number from 1 to 100'],

  ['promote-gate', 'mode', '', 'is required'],
  ['promote-gate', 'mode', 'promote', 'must be one of record, verify'],
  ['promote-gate', 'image-ref', 'team/app:latest', 'must be [registry/]repository@sha256'],
  ['promote-gate', 'image-ref', `team/app@sha256:${'ab'.repeat(31)}`, 'must be [registry/]repository@sha256'],
  ['promote-gate', 'image-ref', `Team/App@${DIGEST}`, 'must be [registry/]repository@sha256'],
  ['promote-gate', 'digest', 'sha256:xyz', 'must be sha256: followed by 64 hex characters'],
  ['promote-gate', 'digest', `sha256:${'cd'.repeat(32)}`, 'must equal the digest in image-ref'],
  ['promote-gate', 'repository', 'other/app', 'must equal the repository in image-ref'],
  ['promote-gate', 'repository', 'UPPER', 'must be an ECR repository name'],
  ['promote-gate', 'registry-id', 'abc', 'must be a 12-digit AWS account ID'],
  ['promote-gate', 'evidence', 'github,s3', 'must list github and/or ecr'],
  ['promote-gate', 'aws-region', 'west', 'must be an AWS region'],
  ['promote-gate', 'sha', 'abc123', 'must be a full 40-hex commit SHA'],
  ['promote-gate', 'sha', `${'g'.repeat(40)}`, 'must be a full 40-hex commit SHA'],
  ['promote-gate', 'require-environment', 'pre prod', 'must be'],
  ['promote-gate', 'require-environment', 'preprod\n::error::x', 'must be'],
  ['promote-gate', 'target-environment', 'preprod', 'must differ from require-environment', { 'require-environment': 'Preprod' }],
  ['promote-gate', 'target-environment', 'prod', "must be one of the pipeline's environments"],
  ['promote-gate', 'target-environment', 'Prod', "must be one of the pipeline's environments"],
  ['promote-gate', 'target-environment', ' production', 'must not have surrounding whitespace'],
  ['promote-gate', 'target-environment', 'production\n', 'must not have surrounding whitespace'],
  ['promote-gate', 'require-environment', 'qa', 'must be preprod: the pipeline promotes preprod -> production'],
  ['promote-gate', 'allowed-refs', 'refs/**', 'must be exact refs'],
  ['promote-gate', 'allowed-refs', 'refs/heads/*', 'must be exact refs'],
  ['promote-gate', 'allowed-refs', 'refs/heads/main,refs/heads/develop', 'cannot widen the refs of production'],
  ['promote-gate', 'environments-file', '../outside/values.yaml', 'must stay inside the workspace'],
  ['promote-gate', 'environments-file', 'chart/values.yaml', 'is not a valid environments file'],
  ['promote-gate', 'target-environment', '-prod', 'must be'],
  ['promote-gate', 'allowed-refs', 'main', 'must be exact refs like refs/heads/main'],
  ['promote-gate', 'tag-template', '{branch}-{sha7}', 'may only use the placeholders'],
  ['promote-gate', 'tag-template', '{environment}/{sha7}', 'must render to a valid image tag'],
  ['promote-gate', 'github-token', '', 'is required for GitHub evidence'],
  ['promote-gate', 'transient-environment', 'x', 'must be true or false'],
];

/** Record-mode cases (promote-gate's `record` inputs). */
const RECORD_CASES: Case[] = [
  ['promote-gate', 'environment', '', 'is required'],
  ['promote-gate', 'environment', 'pre prod', 'must be'],
  ['promote-gate', 'environment', 'PROD', "must be one of the pipeline's environments"],
  ['promote-gate', 'environment', 'preprod ', 'must not have surrounding whitespace'],
  ['promote-gate', 'environment', 'qa\n::add-mask::x', 'must be'],
  ['promote-gate', 'environment-url', 'javascript:alert(1)', 'must be an http(s) URL'],
  ['promote-gate', 'description', 'd'.repeat(141), 'must be at most 140 characters'],
  ['promote-gate', 'production-environment', 'maybe', 'must be true or false'],
  ['promote-gate', 'commit-tag-template', '{environment}-{sha7}', 'must render to a different tag than tag-template'],
  ['promote-gate', 'commit-tag-template', '{sha7}:{sha}', 'must render to a valid image tag'],
];

function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p, { throwIfNoEntry: false });
      out.push(`${p} ${st?.size ?? 'dangling'} ${st?.mtimeMs ?? ''}`);
      if (st?.isDirectory() && !p.endsWith('link-out')) walk(p);
    }
  };
  walk(dir);
  return out;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'bad-inputs-'));
  workspace = join(root, 'workspace');
  outside = join(root, 'outside');
  shims = join(root, 'bin');
  calls = join(root, 'calls.log');
  for (const d of [workspace, outside, join(outside, 'sub'), shims, join(workspace, 'app'), join(workspace, 'chart')]) mkdirSync(d, { recursive: true });
  writeFileSync(join(outside, 'Dockerfile'), 'FROM scratch\n');
  writeFileSync(join(outside, 'values.yaml'), 'x: 1\n');
  writeFileSync(join(workspace, 'app', 'Dockerfile'), 'FROM scratch\n');
  writeFileSync(join(workspace, 'chart', 'Chart.yaml'), 'apiVersion: v2\nname: web\nversion: 1.0.0\n');
  writeFileSync(join(workspace, 'chart', 'values.yaml'), 'replicaCount: 1\n');
  writeFileSync(join(workspace, 'chart', 'values-extra.yaml'), 'replicaCount: 2\n');
  symlinkSync(outside, join(workspace, 'link-out'));
  symlinkSync(join(outside, 'Dockerfile'), join(workspace, 'link-in-to-outside-file'));
  writeFileSync(calls, '');
  for (const tool of ['docker', 'helm', 'kubectl', 'aws', 'git', 'curl']) {
    writeFileSync(join(shims, tool), `#!/bin/sh\necho "${tool} $*" >> '${calls}'\nexit 1\n`, { mode: 0o755 });
  }
  listener = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const address = listener.address();
  endpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  await new Promise((resolve) => listener?.close(resolve));
});

async function runCase(action: string, input: string, value: string, extra: Record<string, string> = {}) {
  const runnerDir = newRunnerDir();
  const before = [...snapshot(workspace), ...snapshot(join(runnerDir, 'temp')), ...snapshot(join(runnerDir, 'tool-cache'))];
  const r = await runActionBundle({
    action,
    workspace,
    runnerDir,
    with: { ...BASE[action], ...extra, [input]: value },
    env: {
      PATH: shims,
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ENDPOINT_URL: endpoint,
      AWS_ENDPOINT_URL_ECR: endpoint,
      AWS_ENDPOINT_URL_EKS: endpoint,
      AWS_ENDPOINT_URL_STS: endpoint,
      AWS_ENDPOINT_URL_KMS: endpoint,
      GITHUB_API_URL: endpoint,
      HTTP_PROXY: endpoint,
      HTTPS_PROXY: endpoint,
      https_proxy: endpoint,
      http_proxy: endpoint,
    },
    timeoutMs: 20_000,
  });
  const after = [...snapshot(workspace), ...snapshot(join(runnerDir, 'temp')), ...snapshot(join(runnerDir, 'tool-cache'))];
  return { r, changed: after.join('\n') !== before.join('\n') };
}

const record = { mode: 'record', environment: 'preprod' };
const ALL: Case[] = [...CASES, ...RECORD_CASES.map(([a, i, v, e]): Case => [a, i, v, e, record])];
/** Through the bundles: every path and control-character case, and every tenth of the rest. */
const BUNDLED = ALL.filter(([, input, value], n) => /context|dockerfile|chart|values-files|kube|environment/.test(input) || /[\0-\x1f]/.test(value) || n % 10 === 0);

/** getInputs of the action, with the action.yml defaults under `with`, as the runner passes them. */
function readInputs(action: string, values: Record<string, string>): unknown {
  const defaults = Object.fromEntries(Object.entries(readActionMetadata(action).inputs).map(([k, v]) => [k, String(v.default ?? '')]));
  const raw = new Inputs(mapInputs({ ...defaults, ...values }));
  const env = { GITHUB_WORKSPACE: workspace, GITHUB_REPOSITORY: 'acme/app', GITHUB_REF: 'refs/heads/main', GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567' };
  if (action === 'build-push-ecr') return buildInputs(raw, env);
  if (action === 'helm-deploy-eks') return helmInputs(raw, { workspace, exists: existsSync, ...realPathFs, envRegion: '' });
  return gateInputs(raw, env, runContextFrom(env));
}

describe('bad input fails with one line naming the input, before any side effect', () => {
  test(`the table has at least 120 cases (${ALL.length}; ${BUNDLED.length} through the bundles)`, () => {
    expect(ALL.length).toBeGreaterThanOrEqual(120);
    for (const action of Object.keys(BASE)) expect(() => readInputs(action, BASE[action]!)).not.toThrow();
  });

  test.each(ALL)('getInputs: %s %s=%j -> %s', (action, input, value, expected, extra = {}) => {
    expect(() => readInputs(action, { ...BASE[action], ...extra, [input]: value })).toThrow(new RegExp(`^Input '${input}' [^\n]*${expected.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  test.each(BUNDLED)('bundle: %s %s=%j -> %s', async (action, input, value, expected, extra = {}) => {
    const startConnections = connections;
    const { r, changed } = await runCase(action, input, value, extra);
    const errors = errorsOf(r);
    expect(r.exitCode, r.stdout + r.stderr).toBe(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(new RegExp(`^Input '${input}' `));
    expect(errors[0]).toContain(expected);
    expect(errors[0]).not.toContain('\n');
    expect(r.commands.map((c) => c.name).filter((n) => n !== 'error' && n !== 'add-mask')).toEqual([]);
    expect(readFileSync(calls, 'utf8')).toBe('');
    expect(connections).toBe(startConnections);
    expect(changed).toBe(false);
    expect(r.env).toEqual({});
    expect(r.outputs).toEqual({});
  });
});
