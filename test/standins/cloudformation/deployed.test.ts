import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { GENERATED_DIR, loadDeployedSetup } from './deployed';

describe('workflows/aws/ as the test worlds load it', () => {
  const setup = loadDeployedSetup();

  test('every account gets its OIDC provider; every role its trust and identity policies, the RolePolicy resources attached', () => {
    expect(setup.providers.map((p) => p.arn)).toEqual(setup.stacks.map((s) => `arn:aws:iam::${s.account}:oidc-provider/token.actions.githubusercontent.com`));
    const qa = setup.roles.find((r) => r.name === 'gha-sample-service-qa')!;
    expect(qa.account).toBe('222222222222');
    expect(qa.trustPolicy.Statement).toBeDefined();
    // The inline policy and the separate AWS::IAM::RolePolicy with the evidence key statements.
    const actions = qa.policies.flatMap((p) => [p.Statement].flat()).flatMap((s) => [s.Action ?? []].flat());
    expect(actions).toEqual(expect.arrayContaining(['eks:DescribeCluster', 'kms:Sign']));
  });

  test("keys carry their key policy, account and tags; the stacks' outputs name the same ARNs", () => {
    const production = setup.keys.find((k) => k.environment === 'production')!;
    expect(production).toMatchObject({ account: '333333333333', repository: 'acme/sample-service', region: 'eu-west-1' });
    expect(setup.outputs.get('SampleServiceProductionEvidenceKeyArn')).toBe(production.arn);
    expect(JSON.stringify(production.policy)).toContain('arn:aws:iam::333333333333:role/gha-sample-service-production');
  });

  test('access entries name the cluster, the principal and the namespace scope', () => {
    expect(setup.accessEntries).toContainEqual({
      account: '333333333333',
      cluster: 'prod',
      principalArn: 'arn:aws:iam::333333333333:role/gha-sample-service-production',
      namespaces: ['sample-production'],
      policies: [{ policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy', scope: { type: 'namespace', namespaces: ['sample-production'] } }],
      type: 'STANDARD',
    });
  });

  test('a RolePolicy naming a role of another stack is refused (nothing loads wrong)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'da-deployed-'));
    cpSync(GENERATED_DIR, dir, { recursive: true });
    const file = join(dir, 'production.template.json');
    const t = JSON.parse(readFileSync(file, 'utf8'));
    const policy = Object.values(t.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>).find((r) => r.Type === 'AWS::IAM::RolePolicy')!;
    policy.Properties.RoleName = 'gha-sample-service-qa';
    writeFileSync(file, JSON.stringify(t));
    expect(() => loadDeployedSetup(dir)).toThrow(/RoleName gha-sample-service-qa is not a role of this stack/);
  });
});
