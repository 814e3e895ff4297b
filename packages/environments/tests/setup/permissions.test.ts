/**
 * The policies grant what the actions' code calls: every AWS SDK command an action imports and
 * every awsCall('service:Action') it makes is in its role's policy, and every permission listed
 * is called somewhere (apart from the registry API docker push speaks, which is not in our code).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import {
  BUILD_LOGIN_ACTIONS,
  BUILD_REPOSITORY_ACTIONS,
  DEPLOY_ALARM_ACTIONS,
  DEPLOY_CLUSTER_ACTIONS,
  DEPLOY_REPOSITORY_ACTIONS,
  PROVENANCE_SIGN_ACTIONS,
  REGISTRY_LOGIN_ACTIONS,
  READER_REPOSITORY_ACTIONS,
  SIGN_ACTIONS,
  VERIFY_ACTIONS,
} from '../../src/setup/permissions';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
/** docker push / pull speak the registry API: these calls are made by the engine, not by our code. */
const REGISTRY_API = ['ecr:BatchCheckLayerAvailability', 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:GetDownloadUrlForLayer'];

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/**
 * The IAM actions a source tree calls: SDK commands it imports, awsCall labels it uses. Left out:
 * packages/aws ecr-sdk.ts, the SDK transport of EcrApi, whose table names every ECR operation the
 * actions may make (the calls themselves are the awsCall labels around `ecr.call(...)`).
 */
function calls(dir: string): Set<string> {
  const out = new Set<string>();
  for (const f of tsFiles(join(ROOT, dir)).filter((p) => !p.endsWith('/packages/aws/src/ecr-sdk.ts'))) {
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'@aws-sdk\/client-([a-z-]+)'/g)) {
      for (const name of m[1]!.split(',').map((s) => s.trim().replace(/^type\s+/, ''))) {
        if (name.endsWith('Command') && !m[1]!.includes(`type ${name}`)) out.add(`${m[2]}:${name.slice(0, -'Command'.length)}`);
      }
    }
    for (const m of text.matchAll(/awsCall\(\s*'([a-z0-9-]+:[A-Za-z]+)'/g)) out.add(m[1]!);
  }
  return out;
}

const build = new Set<string>([...BUILD_LOGIN_ACTIONS, ...BUILD_REPOSITORY_ACTIONS, ...PROVENANCE_SIGN_ACTIONS]);
const deploy = new Set<string>([...DEPLOY_CLUSTER_ACTIONS, ...DEPLOY_REPOSITORY_ACTIONS, ...DEPLOY_ALARM_ACTIONS, ...SIGN_ACTIONS, ...VERIFY_ACTIONS, ...REGISTRY_LOGIN_ACTIONS]);

test('build-push-ecr (and the ECR helpers it uses) calls nothing the build role lacks', () => {
  const used = new Set([...calls('actions/build-push-ecr/src'), ...calls('packages/aws/src')]);
  expect([...used].filter((a) => !build.has(a))).toEqual([]);
  // CreateRepository with tags is also authorized as ecr:TagResource (the creation marker).
  const create = readFileSync(join(ROOT, 'actions/build-push-ecr/src/repository.ts'), 'utf8');
  const at = create.indexOf("call('CreateRepository', {");
  expect(at).toBeGreaterThan(0);
  expect(create.slice(at, create.indexOf('aws,', at))).toContain('tags: [');
  used.add('ecr:TagResource');
  expect([...build].filter((a) => !used.has(a) && !REGISTRY_API.includes(a))).toEqual([]);
});

test('helm-deploy-eks and promote-gate call nothing the deploy role lacks, and the deploy role has nothing they do not call', () => {
  const used = new Set([...calls('actions/helm-deploy-eks/src'), ...calls('actions/promote-gate/src'), ...calls('packages/aws/src')]);
  // helm-deploy-eks presigns sts:GetCallerIdentity for the cluster token: it needs no permission.
  used.delete('sts:GetCallerIdentity');
  expect([...used].filter((a) => !deploy.has(a))).toEqual([]);
  expect([...deploy].filter((a) => !used.has(a))).toEqual([]);
  expect(used).toContain('kms:Sign');
  expect(used).toContain('cloudwatch:DescribeAlarms');
});

test("the evidence reader's reads are calls promote-gate makes", () => {
  const used = new Set([...calls('actions/promote-gate/src'), ...calls('packages/aws/src')]);
  expect([...READER_REPOSITORY_ACTIONS, ...VERIFY_ACTIONS].filter((a) => !used.has(a))).toEqual([]);
});
