import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { EXAMPLE_DIR } from '../../src/setup/example';
import { checkTemplate } from './cfn-check';

const templates = readdirSync(EXAMPLE_DIR).filter((f) => f.endsWith('.template.json'));

test.each(templates)('%s is valid against the CloudFormation resource specification', async (file) => {
  const t = JSON.parse(readFileSync(join(EXAMPLE_DIR, file), 'utf8'));
  expect(await checkTemplate(t)).toEqual([]);
}, 60_000);

test('the checker finds what CloudFormation would refuse', async () => {
  const t = JSON.parse(readFileSync(join(EXAMPLE_DIR, 'production.template.json'), 'utf8'));
  t.Resources.SampleServiceProductionAccessEntry.Properties.AccessPolicies[0].AccessScope.Type = 'namespaces';
  t.Resources.SampleServiceProductionEvidenceKey.Properties.KeySpecs = 'ECC_NIST_P256';
  delete t.Resources.SampleServiceProductionAccessEntry.Properties.ClusterName;
  t.Resources.SampleServiceProductionDeployRoleEvidencePolicy.Properties.RoleName = { Ref: 'NoSuchRole' };
  t.Outputs.SampleServiceProductionDeployRoleArn.Value = { 'Fn::GetAtt': ['SampleServiceProductionDeployRole', 'Nope'] };
  t.Resources.Extra = { Type: 'AWS::IAM::Rolle', Properties: {} };
  expect(await checkTemplate(t)).toEqual([
    'Resources.Extra: unknown resource type AWS::IAM::Rolle',
    "Resources.SampleServiceProductionEvidenceKey.Properties: unknown property 'KeySpecs'",
    "Resources.SampleServiceProductionDeployRoleEvidencePolicy.Properties.RoleName: Ref to unknown 'NoSuchRole'",
    "Resources.SampleServiceProductionAccessEntry.Properties.AccessPolicies[0].AccessScope.Type: 'namespaces' is not one of namespace, cluster",
    "Resources.SampleServiceProductionAccessEntry.Properties: missing required property 'ClusterName'",
    "Outputs.SampleServiceProductionDeployRoleArn.Value: AWS::IAM::Role has no attribute 'Nope'",
  ]);
}, 60_000);
