/**
 * Bad input: every case fails with one error line naming the input and what is accepted, and
 * nothing happened before it. Every action case runs through each action's getInputs (what
 * runAction calls before it builds any client) and through the committed bundle, several at a
 * time. A bundle step runs with a PATH holding only recording docker/helm/kubectl/aws shims,
 * every AWS and GitHub endpoint pointing at a stand-in that logs each request it receives (ECR,
 * STS, EKS, KMS, CloudWatch, GitHub; a kubeconfig at the Kubernetes stand-in), any HTTP proxy
 * (and so any download) at a listener that counts connections, and a snapshot of the workspace
 * and runner directories taken before and compared after: no program ran, no stand-in was asked
 * anything, no file was written. The commands (pnpm status, deploy-environments, deploy-setup)
 * run the same way in-process against the GitHub stand-in: exit 1, one line, nothing asked.
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
import { readInputs as helmInputs } from '../../actions/helm-deploy-eks/src/inputs';
import { readAnyInputs as gateInputs } from '../../actions/promote-gate/src/modes';
import { realPathFs } from '@deploy-actions/action-kit';
import { MODE_INPUTS, MODES } from '../../actions/promote-gate/src/mode-inputs';
import { main as statusMain } from '../../actions/promote-gate/src/cli';
import { main as environmentsMain } from '../../packages/environments/src/cli';
import { setupMain } from '../../packages/environments/src/setup/cli';
import { startRegistry, type Registry } from '../harness/registry';
import { IamStore } from '../standins/iam/index';
import { startEcrStandin, type EcrStandin } from '../standins/ecr/index';
import { startEksStandin, startStsStandin, type EksStandin, type StsStandinWithSessions } from '../standins/eks/index';
import { startKmsStandin, type KmsStandin } from '../standins/kms/index';
import { startCloudWatchStandin, type CloudWatchStandin } from '../standins/cloudwatch/index';
import { startGithubStandin, type GithubStandin } from '../standins/github/index';
import { startKubeStandin, type KubeStandin } from '../standins/kube/index';

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
let registry: Registry;
let ecr: EcrStandin;
let sts: StsStandinWithSessions;
let eks: EksStandin;
let kms: KmsStandin;
let cloudwatch: CloudWatchStandin;
let github: GithubStandin;
let kube: KubeStandin;

/** Valid inputs of each action; a case replaces one of them. */
const BASE: Record<string, Record<string, string>> = {
  'build-push-ecr': { repository: 'team/app', 'aws-region': 'eu-west-1', context: 'app' },
  'helm-deploy-eks': { release: 'web', 'cluster-name': 'prod', 'aws-region': 'eu-west-1', image: `${ECR}/team/app@${DIGEST}` },
  // Signed evidence: production takes nothing else (unless weaken-promotion-gate).
  'promote-gate': {
    mode: 'verify',
    'image-ref': `${ECR}/team/app@${DIGEST}`,
    'github-token': 'ghs_token',
    'evidence-keys': 'preprod=arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  },
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
  ['promote-gate', 'mode', 'promote', 'must be one of record, verify, status, last-validated, fail, card'],
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
  ['promote-gate', 'transient-environment', 'x', 'must be true or false'],
  ['promote-gate', 'commit-tag-template', '{environment}-{sha7}', 'must render to a different tag than tag-template'],
  ['promote-gate', 'commit-tag-template', '{sha7}:{sha}', 'must render to a valid image tag'],
];


/** Where each promote-gate mode's valid inputs differ from verify's (BASE). */
const MODE_BASE: Record<string, Record<string, string>> = {
  record: { mode: 'record', environment: 'preprod' },
  verify: { mode: 'verify' },
  status: { mode: 'status' },
  'last-validated': { mode: 'last-validated', environment: 'production' },
  fail: { mode: 'fail', environment: 'production' },
  card: { mode: 'card', environment: 'production', release: 'web' },
};
const inMode = (mode: string, input: string, value: string, expected: string, extra: Record<string, string> = {}): Case => ['promote-gate', input, value, expected, { ...MODE_BASE[mode], ...extra }];

/** Inputs the issue names, in every mode that does not read them; every other mode-specific input in one such mode. */
const NAMED = ['environment-url', 'description', 'required', 'environments', 'require-environment', 'allowed-refs', 'target-environment'];
const MODE_CASES: Case[] = Object.entries(MODE_INPUTS).flatMap(([input, { modes }]) => {
  const others = MODES.filter((m) => !modes.includes(m));
  return (NAMED.includes(input) ? others : others.slice(0, 1)).map((mode) => inMode(mode, input, 'given-zz', `is read only in mode${modes.length > 1 ? 's' : ''} ${modes[0]}`));
});

const KMS_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const MORE_CASES: Case[] = [
  // promote-gate: the card's own inputs are refused like every mode's (only what it cannot read
  // becomes a card saying so); then the other modes' own inputs.
  inMode('card', 'release', 'Web_App', 'must be a Helm release name'),
  inMode('card', 'release', '', 'is required'),
  inMode('card', 'environment', '', 'is required (the environment the card is for)'),
  inMode('card', 'environment', 'prod', "must be one of the pipeline's environments"),
  inMode('card', 'environment', 'production\n::warning::owned', "must be one of the pipeline's environments"),
  inMode('card', 'require-environment', 'staging', "must be one of the pipeline's environments"),
  inMode('card', 'environments', 'qa,pre prod', "must be one of the pipeline's environments"),
  inMode('card', 'namespace', 'Team_NS', 'must be a Kubernetes namespace name'),
  inMode('card', 'chart', '../other-chart', 'must be a path inside the repository'),
  inMode('card', 'values-files', '/etc/passwd', 'must be a path inside the repository'),
  inMode('card', 'bake-duration', '10 minutes', 'must be a Go duration like 10m'),
  inMode('card', 'sha', 'abc', 'must be a full 40-hex commit SHA'),
  inMode('card', 'image-ref', 'team/app:latest', 'must be [registry/]repository@sha256'),
  inMode('card', 'registry-id', '210987654321', "must match the image reference's registry host (account 123456789012)"),
  inMode('card', 'aws-region', 'us-east-1', "must match the image reference's registry host (region eu-west-1)"),
  inMode('card', 'github-token', '', 'is required for mode card'),
  inMode('card', 'github-token', 'ghs_a\nb', 'must be a token without spaces or control characters'),
  inMode('card', 'evidence-keys', '', 'must name the KMS key of production, preprod', { 'require-signed-evidence': 'true' }),
  inMode('card', 'hotfix', 'perhaps', 'must be true or false'),
  inMode('status', 'environments', 'qa,pre prod', 'must be an environment name'),
  inMode('status', 'environments', 'qa\n::warning::x', 'must be an environment name'),
  inMode('status', 'repository', `${ECR}/team/app`, 'not its URI: give team/app', { 'image-ref': '' }),
  inMode('status', 'repository', '', 'must be an ECR repository name', { 'image-ref': '' }),
  inMode('status', 'evidence-keys', '', 'must name the KMS key of qa, preprod, production', { 'require-signed-evidence': 'true' }),
  inMode('status', 'github-token', 'ghs_a\nb', 'must be a token without spaces or control characters'),
  inMode('last-validated', 'environment', '', 'is required'),
  inMode('last-validated', 'environment', 'pre prod', 'must be an environment name'),
  inMode('last-validated', 'required', 'maybe', 'must be true or false'),
  inMode('last-validated', 'digest', 'sha256:abc', 'must be sha256: followed by 64 hex characters'),
  inMode('last-validated', 'evidence-keys', 'production=alias/prod', 'must give production a KMS key ARN'),
  inMode('fail', 'environment', 'prod', "must be one of the pipeline's environments"),
  inMode('fail', 'sha', 'abc', 'must be a full 40-hex commit SHA'),
  inMode('fail', 'image-ref', 'team/app:latest', 'must be [registry/]repository@sha256'),
  inMode('fail', 'github-token', '', 'is required for mode fail'),
  // promote-gate: the image reference's host against registry-id / aws-region.
  ['promote-gate', 'registry-id', '210987654321', "must match the image reference's registry host (account 123456789012)"],
  ['promote-gate', 'aws-region', 'us-east-1', "must match the image reference's registry host (region eu-west-1)"],
  inMode('record', 'registry-id', '210987654321', "must match the image reference's registry host (account 123456789012)"),
  inMode('record', 'aws-region', 'eu-central-1', "must match the image reference's registry host (region eu-west-1)"),
  ['promote-gate', 'aws-region', 'eu-west-1', 'is read only with ECR evidence', { evidence: 'github' }],
  ['promote-gate', 'registry-id', '123456789012', 'is read only with ECR evidence', { evidence: 'github' }],
  // promote-gate: names and ARNs parsed at the boundary; secrets never shown.
  ['promote-gate', 'repository', `${ECR}/team/app`, 'not its URI: give team/app', { 'image-ref': '', digest: DIGEST }],
  ['promote-gate', 'repository', 'team/app:v1', 'not a reference with a tag or digest: give team/app', { 'image-ref': '', digest: DIGEST }],
  ['promote-gate', 'evidence-keys', `preprod=${KMS_ARN.replace('arn:aws:', 'arn:aws-moon:')}`, "'aws-moon' is none"],
  ['promote-gate', 'evidence-keys', `preprod=${KMS_ARN.replace('arn:aws:', 'arn:aws-cn:')}`, 'eu-west-1 is in aws, not aws-cn'],
  ['promote-gate', 'evidence-keys', `preprod=${KMS_ARN.replace('eu-west-1', 'cn-north-1')}`, 'cn-north-1 is in aws-cn, not aws'],
  ['promote-gate', 'evidence-keys', `preprod=${KMS_ARN.replace('eu-west-1', 'us-gov-west-1')}`, 'us-gov-west-1 is in aws-us-gov, not aws'],
  ['promote-gate', 'evidence-keys', 'preprod=alias/preprod', 'not an alias'],
  ['promote-gate', 'evidence-keys', `prod=${KMS_ARN}`, "must be one of the pipeline's environments"],
  ['promote-gate', 'evidence-keys', '', 'must name the KMS key of preprod', { 'require-signed-evidence': 'true' }],
  ['promote-gate', 'github-token', 'ghs_token\nX-Injected: 1', 'must be a token without spaces or control characters'],
  ['promote-gate', 'github-token', 'token ghs_abc', 'must be a token without spaces or control characters'],
  ['promote-gate', 'content-key', 'tree-xyz', "must be build-push-ecr's content-key output"],
  ['promote-gate', 'card-sha256', 'sha256:abc', 'is read only in mode record'],
  inMode('record', 'card-sha256', 'sha256:abc', "must be the card mode's card-sha256 output"),
  inMode('record', 'card', 'the card', 'needs card-sha256'),
  inMode('record', 'hotfix', 'perhaps', 'must be true or false'),
  // build-push-ecr: names and ARNs.
  ['build-push-ecr', 'repository', `${ECR}/team/app`, 'not its URI: give team/app'],
  ['build-push-ecr', 'repository', 'team/app:latest', 'not a reference with a tag or digest: give team/app'],
  ['build-push-ecr', 'pull-principals', 'arn:aws-moon:iam::123456789012:role/x', "'aws-moon' is none"],
  ['build-push-ecr', 'pull-principals', 'arn:aws-cn:iam::123456789012:role/x', "must hold ARNs of the aws-region's partition: eu-west-1 is in aws, not aws-cn"],
  ['build-push-ecr', 'read-principals', 'arn:aws-us-gov:iam::123456789012:role/deploy', 'eu-west-1 is in aws, not aws-us-gov'],
  ['build-push-ecr', 'record-principals', 'arn:aws:iam::123456789012:role/deploy', 'cn-north-1 is in aws-cn, not aws', { 'aws-region': 'cn-north-1' }],
  ['build-push-ecr', 'read-principals', 'arn:aws:sts::123456789012:assumed-role/x/y', 'must hold IAM role, user or account-root ARNs'],
  ['build-push-ecr', 'pull-accounts', '12345', 'must hold 12-digit AWS account ids'],
  // helm-deploy-eks: conflicts, durations, versions, kubeconfig.
  ['helm-deploy-eks', 'set', 'replicaCount=1\nreplicaCount=2', 'must give each key once'],
  ['helm-deploy-eks', 'set-string', 'replicaCount=1', 'must not give a key that set gives', { set: 'replicaCount=2' }],
  ['helm-deploy-eks', 'set', `image.digest=sha256:${'cd'.repeat(32)}`, 'must not set image.digest'],
  ['helm-deploy-eks', 'set', 'image=x', 'must not set image'],
  ['helm-deploy-eks', 'set-string', 'image.repository=evil/app', 'must not set image.repository'],
  ['helm-deploy-eks', 'set', 'web.image=x', 'must not set web.image', { 'image-repository-key': 'web.image.repository', 'image-digest-key': 'web.image.digest' }],
  ['helm-deploy-eks', 'image-tag', 'v2', "must equal the tag in image ('v1')", { image: `${ECR}/team/app:v1@${DIGEST}` }],
  ['helm-deploy-eks', 'aws-region', 'eu-west-1', 'is read only with cluster-name or bake alarms', { 'cluster-name': '', kubeconfig: 'kubeconfig.yaml' }],
  ['helm-deploy-eks', 'kubeconfig', 'empty.yaml', 'this file is empty', { 'cluster-name': '', 'aws-region': '' }],
  ['helm-deploy-eks', 'kubeconfig', 'kubeconfig.yaml', 'cannot be combined with cluster-name'],
  ['helm-deploy-eks', 'kubeconfig', 'nothing.yaml', 'must be a kubeconfig file that exists', { 'cluster-name': '', 'aws-region': '' }],
  ['helm-deploy-eks', 'cluster-name', '', 'is required (or give kubeconfig)'],
  ['helm-deploy-eks', 'bake-alarms', 'web-5xx', 'is read only with bake-duration'],
  ['helm-deploy-eks', 'bake-alarm-prefix', 'web-', 'is read only with bake-duration'],
  ['helm-deploy-eks', 'bake-interval', '10s', 'is read only with bake-duration'],
  ['helm-deploy-eks', 'bake-alarm-prefix', 'web-\r::error::x', 'without control characters', { 'bake-duration': '10m' }],
  ['helm-deploy-eks', 'bake-alarm-prefix', 'web-', 'cannot be combined with bake-alarms', { 'bake-duration': '10m', 'bake-alarms': 'a' }],
  ['helm-deploy-eks', 'bake-error-ratio', '1.5', 'must be a number from 0 to below 1', { 'bake-duration': '10m' }],
  ['helm-deploy-eks', 'bake-rollback-digest', 'sha256:1', 'must be sha256: followed by 64 hex characters', { 'bake-duration': '10m' }],
  ['helm-deploy-eks', 'helm-test', 'true', 'is not read with dry-run: true', { 'dry-run': 'true' }],
  ['helm-deploy-eks', 'smoke-url', 'https://web.example', 'is not read with dry-run: true', { 'dry-run': 'true' }],
  ['helm-deploy-eks', 'bake-duration', '10m', 'is not read with dry-run: true', { 'dry-run': 'true' }],
  ['helm-deploy-eks', 'timeout', '2562048h', "must be at most 2562047h (Go's largest duration)"],
  ['helm-deploy-eks', 'timeout', '99999999999999999999s', "must be at most 2562047h (Go's largest duration)"],
  ['helm-deploy-eks', 'readiness-timeout', '3000000h', "must be at most 2562047h (Go's largest duration)"],
  ['helm-deploy-eks', 'bake-duration', '3000000h', "must be at most 2562047h (Go's largest duration)"],
  ['helm-deploy-eks', 'bake-unready-timeout', '9999999h', "must be at most 2562047h (Go's largest duration)", { 'bake-duration': '10m' }],
  ['helm-deploy-eks', 'helm-version', '2.17.0', 'must be a helm 3 or helm 4 version'],
  ['helm-deploy-eks', 'helm-version', '5.0.0', 'must be a helm 3 or helm 4 version'],
  ['helm-deploy-eks', 'helm-version', '2', 'must be a version such as'],
  ['helm-deploy-eks', 'registry-id', '210987654321', "must be the account in the image's ECR host (123456789012)"],
  ['helm-deploy-eks', 'registry-id', '123', 'must be a 12-digit AWS account id'],
  ['helm-deploy-eks', 'image', `${ECR}/team/app:v1`, 'must be an image pinned by digest'],
  ['helm-deploy-eks', 'image-repository-key', 'image.repository', 'cannot be combined with image-reference-key', { 'image-reference-key': 'image.ref' }],
  // helm-deploy-eks: inputs the chosen way of working does not read.
  ['helm-deploy-eks', 'kube-context', 'other', 'is read only with kubeconfig'],
  ['helm-deploy-eks', 'helm-version', '3.18.0', 'is not read with tools-from-path: true', { 'tools-from-path': 'true' }],
  ['helm-deploy-eks', 'helm-base-url', 'https://mirror.example', 'is not read with tools-from-path: true', { 'tools-from-path': 'true' }],
  ['helm-deploy-eks', 'smoke-attempts', '3', 'is read only with smoke-url'],
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

/** How many requests each stand-in (and the proxy listener) has received so far. */
function requestCounts(): Record<string, number> {
  return {
    ecr: ecr.requests.length,
    sts: sts.requests.length,
    eks: eks.requests.length,
    kms: kms.requests.length,
    cloudwatch: cloudwatch.requests.length,
    github: github.state.requests.length,
    kube: kube.requests.length,
    'proxy/other': connections,
  };
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
  writeFileSync(join(workspace, 'empty.yaml'), '');
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

  const identity = { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret', arn: 'arn:aws:iam::123456789012:user/ci' };
  const iam = IamStore.of([identity]);
  registry = await startRegistry();
  ecr = await startEcrStandin({ registry, iam, accountId: '123456789012' });
  sts = await startStsStandin({ region: 'eu-west-1', iam });
  eks = await startEksStandin({ region: 'eu-west-1', iam });
  kms = await startKmsStandin({ iam });
  cloudwatch = await startCloudWatchStandin({ iam });
  github = await startGithubStandin({ tokens: {}, repositories: ['acme/app', 'acme/sample-service'] });
  kube = await startKubeStandin({ runtime: 'fake' });
  // The kubeconfig cases name the Kubernetes stand-in.
  writeFileSync(join(workspace, 'kubeconfig.yaml'), readFileSync(kube.kubeconfigPath, 'utf8'));
}, 120_000);

afterAll(async () => {
  await new Promise((resolve) => listener?.close(resolve));
  for (const s of [kube, github, cloudwatch, kms, eks, sts, ecr, registry]) await s?.stop();
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
      AWS_ENDPOINT_URL_ECR: ecr.url,
      AWS_ENDPOINT_URL_EKS: eks.url,
      AWS_ENDPOINT_URL_STS: sts.url,
      AWS_ENDPOINT_URL_KMS: kms.url,
      AWS_ENDPOINT_URL_CLOUDWATCH: cloudwatch.url,
      GITHUB_API_URL: github.url,
      KUBECONFIG: kube.kubeconfigPath,
      HTTP_PROXY: endpoint,
      HTTPS_PROXY: endpoint,
      https_proxy: endpoint,
      http_proxy: endpoint,
      NO_PROXY: '',
      no_proxy: '',
    },
    timeoutMs: 30_000,
  });
  const after = [...snapshot(workspace), ...snapshot(join(runnerDir, 'temp')), ...snapshot(join(runnerDir, 'tool-cache'))];
  return { r, changed: after.join('\n') !== before.join('\n') };
}

const record = { mode: 'record', environment: 'preprod' };
const ALL: Case[] = [...CASES, ...RECORD_CASES.map(([a, i, v, e]): Case => [a, i, v, e, record]), ...MODE_CASES, ...MORE_CASES];

/** getInputs of the action (helm-deploy-eks: readInputs, promote-gate: readAnyInputs, both async, as their entries call them), with the action.yml defaults under `with`, as the runner passes them. */
function readInputs(action: string, values: Record<string, string>): unknown {
  const defaults = Object.fromEntries(Object.entries(readActionMetadata(action).inputs).map(([k, v]) => [k, String(v.default ?? '')]));
  const raw = new Inputs(mapInputs({ ...defaults, ...values }));
  const env = { GITHUB_WORKSPACE: workspace, GITHUB_REPOSITORY: 'acme/app', GITHUB_REF: 'refs/heads/main', GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567' };
  if (action === 'build-push-ecr') return buildInputs(raw, env);
  if (action === 'helm-deploy-eks') return helmInputs(raw, { workspace, exists: existsSync, ...realPathFs, envRegion: '' });
  return gateInputs(raw, env, runContextFrom(env));
}

const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('bad input fails with one line naming the input, before any side effect', () => {
  test.each(ALL)('getInputs: %s %s=%j -> %s', async (action, input, value, expected, extra = {}) => {
    await expect((async () => readInputs(action, { ...BASE[action], ...extra, [input]: value }))()).rejects.toThrow(new RegExp(`^Input '${input}' [^\n]*${escaped(expected)}`));
  });

  test.concurrent.each(ALL)('bundle: %s %s=%j -> %s', async (action, input, value, expected, extra = {}) => {
    const startRequests = requestCounts();
    const { r, changed } = await runCase(action, input, value, extra);
    const errors = errorsOf(r);
    expect(r.exitCode, r.stdout + r.stderr).toBe(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(new RegExp(`^Input '${input}' `));
    expect(errors[0]).toContain(expected);
    expect(errors[0]).not.toContain('\n');
    expect(r.commands.map((c) => c.name).filter((n) => n !== 'error' && n !== 'add-mask')).toEqual([]);
    expect(readFileSync(calls, 'utf8')).toBe('');
    expect(requestCounts()).toEqual(startRequests);
    expect(changed).toBe(false);
    expect(r.env).toEqual({});
    expect(r.outputs).toEqual({});
  });
});

/** The lines a reader sees (stop-commands fences removed), and any line the runner would take as a command. */
function shown(text: string): { lines: string[]; commands: string[] } {
  const lines: string[] = [];
  const commands: string[] = [];
  let stop: string | undefined;
  for (const line of text.split(/\r\n|\r|\n/)) {
    const t = line.trimStart();
    if (stop === undefined && /^::stop-commands::/.test(t)) stop = t.slice('::stop-commands::'.length);
    else if (stop !== undefined && t === `::${stop}::`) stop = undefined;
    else {
      lines.push(line);
      if (stop === undefined && (t.startsWith('::') || t.includes('##['))) commands.push(t);
    }
  }
  return { lines, commands };
}

type CliCase = [command: 'status' | 'deploy-environments' | 'deploy-setup', argv: string[], env: Record<string, string>, expected: string];
const URI = `${ECR}/team/app`;
const STATUS = ['--repo', 'acme/app', '--repository', 'team/app'];
const ENVS = ['--repo', 'acme/app', '--file', 'envs.yml'];
const CLI_CASES: CliCase[] = [
  ['status', ['--repo', 'acme/app', '--repository', URI], {}, `--repository must be an ECR repository name like team/service (a repository name, not its URI: give team/app)`],
  ['status', ['--repo', 'acme/app', '--repository', 'team/app:v1'], {}, 'not a reference with a tag or digest: give team/app'],
  ['status', ['--repo', 'acme/app\n::warning::owned', '--repository', 'team/app'], {}, '--repo must be owner/name'],
  ['status', ['--repo', 'acme/app', '--repository', 'team/app\n::warning::owned'], {}, '--repository must be an ECR repository name'],
  ['status', [...STATUS, '--environments', 'qa,pre prod'], {}, '--environments must list environment names'],
  ['status', [...STATUS, '--environments', 'qa\n::warning title=x::owned'], {}, '--environments must list environment names'],
  ['status', [...STATUS, '--bogus'], {}, "unknown argument '--bogus' (see --help)"],
  ['status', ['--repo'], {}, '--repo needs a value'],
  ['status', STATUS, { GITHUB_TOKEN: '' }, 'set GITHUB_TOKEN'],
  ['status', STATUS, { GITHUB_TOKEN: 'ghs_secret\r\n::add-mask::x' }, 'GITHUB_TOKEN must be a token without spaces or control characters (the value is not shown)'],
  ['status', STATUS, { GITHUB_API_URL: 'api.github.com' }, 'GITHUB_API_URL must be an http(s) URL'],
  ['status', STATUS, { GITHUB_API_URL: 'http://exa mple' }, 'GITHUB_API_URL must be an http(s) URL'],
  ['status', STATUS, { GITHUB_API_URL: 'https://x\n::error::y' }, 'GITHUB_API_URL must be an http(s) URL'],
  ['deploy-environments', ['--repo', 'acme'], {}, '--repo must be owner/name'],
  ['deploy-environments', ['--repo', 'acme/app\n::warning::owned'], {}, '--repo must be owner/name'],
  ['deploy-environments', [...ENVS, '--bogus'], {}, "unknown argument '--bogus'"],
  ['deploy-environments', ['--repo', 'acme/app', '--file', 'missing.yml'], {}, 'cannot read the environments file'],
  ['deploy-environments', ['--repo', 'acme/app', '--file', 'envs-command.yml'], {}, 'not a valid environment name'],
  ['deploy-environments', ['--repo', 'acme/app', '--file', 'envs-broken.yml'], {}, 'envs-broken.yml'],
  ['deploy-environments', ENVS, { GITHUB_TOKEN: '' }, 'set GITHUB_TOKEN'],
  ['deploy-environments', ENVS, { GITHUB_TOKEN: 'ghs_secret\n::warning::x' }, 'GITHUB_TOKEN must be a token'],
  ['deploy-environments', ENVS, { GITHUB_API_URL: '::error::x' }, 'GITHUB_API_URL must be an http(s) URL'],
  ['deploy-environments', ENVS, { GITHUB_API_URL: 'ftp://mirror' }, 'GITHUB_API_URL must be an http(s) URL'],
  ['deploy-setup', ['deploy'], {}, "unknown command 'deploy' (expected generate, github or doctor)"],
  ['deploy-setup', ['generate', '--bogus'], {}, "unknown argument '--bogus'"],
  ['deploy-setup', ['generate', '--file', 'missing.yml'], {}, 'cannot read the environments file'],
  ['deploy-setup', ['generate', '--file', 'envs.yml', '--offline'], {}, "needs the 'aws' and 'services' sections"],
  ['deploy-setup', ['generate', '--repo-ids', 'acme/app=x/y'], {}, '--repo-ids must be owner/name=OWNER_ID/REPO_ID'],
  ['deploy-setup', ['generate', '--repo-ids', 'acme/app\n::warning::x=1/2'], {}, '--repo-ids must be owner/name=OWNER_ID/REPO_ID'],
  ['deploy-setup', ['generate', '--subject', 'acme/app=weird'], {}, '--subject must be owner/name=immutable, legacy or custom'],
  ['deploy-setup', ['github', '--profile', '12=prod'], {}, '--profile must be a 12-digit account id'],
  ['deploy-setup', ['github', '--file', 'setup.yml'], { GITHUB_TOKEN: '' }, 'set GITHUB_TOKEN'],
  ['deploy-setup', ['github', '--file', 'setup.yml'], { GITHUB_API_URL: 'not a url' }, 'GITHUB_API_URL must be an http(s) URL'],
  ['deploy-setup', ['github', '--file', 'setup.yml'], { GITHUB_TOKEN: 'ghs_x y' }, 'GITHUB_TOKEN must be a token'],
  ['deploy-setup', ['doctor', '--profile', 'prod'], {}, '--profile must be ACCOUNT=PROFILE'],
  ['deploy-setup', ['doctor', '--file', 'setup.yml', '--check'], {}, 'doctor reads only'],
  ['deploy-setup', ['doctor', '--file', 'setup.yml'], { GITHUB_TOKEN: '' }, 'set GITHUB_TOKEN'],
  ['deploy-setup', ['doctor', '--file', 'setup.yml'], { GITHUB_TOKEN: 'ghs_secret\n::warning::x' }, 'GITHUB_TOKEN must be a token'],
  // ARNs in the file (issue 23): parsed by action-kit's parseArn, the place in the file named.
  ...(['generate', 'github', 'doctor'] as const).flatMap((command): CliCase[] => [
    ['deploy-setup', [command, '--file', 'setup-arn-partition.yml'], {}, "setup-arn-partition.yml: aws.key_admin_role must hold ARNs of aws.region's partition: eu-west-1 is in aws, not aws-us-gov"],
    ['deploy-setup', [command, '--file', 'setup-arn-nopartition.yml'], {}, "setup-arn-nopartition.yml: aws.key_admin_role must hold ARNs of an AWS partition"],
    ['deploy-setup', [command, '--file', 'setup-arn-account.yml'], {}, 'setup-arn-account.yml: aws.key_admin_role: arn:aws:iam::999999999999:role/kms-admin is in account 999999999999, but environments.qa keeps its evidence keys in 222222222222'],
    ['deploy-setup', [command, '--file', 'setup-arn-command.yml'], {}, 'setup-arn-command.yml: aws.key_admin_role must be an IAM role name'],
    ['deploy-setup', [command, '--file', 'setup-region-partition.yml'], {}, 'setup-region-partition.yml: environments.production.region: cn-north-1 is in the partition aws-cn'],
  ]),
];

describe('the commands: one line for any error, nothing run as a workflow command, nothing asked', () => {
  beforeAll(() => {
    writeFileSync(join(workspace, 'envs.yml'), 'environments:\n  qa: {}\n  production: {}\n');
    writeFileSync(join(workspace, 'envs-command.yml'), 'environments:\n  "qa\\n::warning title=owned::x": {}\n');
    writeFileSync(join(workspace, 'envs-broken.yml'), 'environments: [\n');
    const setup = readFileSync(new URL('../../workflows/environments.yml', import.meta.url), 'utf8');
    writeFileSync(join(workspace, 'setup.yml'), setup);
    const admin = (value: string) => setup.replace(/key_admin_role: \S+/, `key_admin_role: ${JSON.stringify(value)}`);
    writeFileSync(join(workspace, 'setup-arn-partition.yml'), admin('arn:aws-us-gov:iam::222222222222:role/kms-admin'));
    writeFileSync(join(workspace, 'setup-arn-nopartition.yml'), admin('arn:aws-mars:iam::222222222222:role/kms-admin'));
    writeFileSync(join(workspace, 'setup-arn-account.yml'), admin('arn:aws:iam::999999999999:role/kms-admin'));
    writeFileSync(join(workspace, 'setup-arn-command.yml'), admin('kms-admin\n::warning::owned'));
    writeFileSync(join(workspace, 'setup-region-partition.yml'), setup.replace(/(  production:\n    account: '\d+'\n)/, '$1    region: cn-north-1\n'));
  });

  test.each(CLI_CASES)('%s %j %j -> %s', async (command, argv, extraEnv, expected) => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => void out.push(l), err: (l: string) => void err.push(l) };
    const env = { GITHUB_TOKEN: 'ghs_reader', GITHUB_API_URL: github.url, INIT_CWD: workspace, ...extraEnv };
    const startRequests = requestCounts();
    const code = command === 'status' ? await statusMain(argv, env, io) : command === 'deploy-environments' ? await environmentsMain(argv, env, io) : await setupMain(argv, env, io);
    expect(code).toBe(1);
    const printed = shown(err.join('\n'));
    expect(printed.lines).toHaveLength(1);
    expect(printed.lines[0]).toMatch(/^error: /);
    expect(printed.lines[0]).toContain(expected);
    expect(printed.lines[0]).not.toMatch(/\bat .*\.(ts|js):\d+/);
    expect(printed.commands).toEqual([]);
    expect(shown(out.join('\n')).commands).toEqual([]);
    for (const secret of ['ghs_secret', 'ghs_x y']) expect(err.join('\n')).not.toContain(secret);
    expect(requestCounts()).toEqual(startRequests);
  });
});

describe('the table', () => {
  test(`the table has at least 250 cases (${ALL.length} + ${CLI_CASES.length} of the commands), each through getInputs and the bundle`, () => {
    expect(ALL.length + CLI_CASES.length).toBeGreaterThanOrEqual(250);
    for (const action of Object.keys(BASE)) expect(() => readInputs(action, BASE[action]!)).not.toThrow();
    for (const mode of MODES) expect(() => readInputs('promote-gate', { ...BASE['promote-gate'], ...MODE_BASE[mode] }), mode).not.toThrow();
    expect(() => readInputs('helm-deploy-eks', { ...BASE['helm-deploy-eks'], 'cluster-name': '', 'aws-region': '', kubeconfig: 'kubeconfig.yaml' })).not.toThrow();
  });

});
