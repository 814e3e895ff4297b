/**
 * One call of the fault table (faults.test.ts), in a process of its own so that each row has its
 * own environment (AWS_ENDPOINT_URL_<SERVICE> is read by the SDK from the process environment).
 * It makes the call the action makes, with the action's own client factory, for the rows whose
 * step would need a whole recorded release before the call (KMS Sign in record; the Kubernetes
 * API client's list, which the deploy makes after helm) or deployed stacks and a GitHub
 * repository (deploy-setup's read of the stack outputs), and prints the one
 * line it ends in: `node --import tsx fault-call.ts <row> <endpoint URL>`; exit 1 with the line on
 * stderr, or exit 0 when the call (unexpectedly) succeeded.
 */
import { cliErrorLine } from '@deploy-actions/action-kit';
import { KubeClient } from '../../packages/kube/src/index';
import { kmsEvidenceKeys } from '@deploy-actions/aws/kms';
import { cloudFormationOutputs } from '../../packages/environments/src/setup/stack-outputs';

const [row, url] = process.argv.slice(2) as [string, string];
const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

const calls: Record<string, () => Promise<unknown>> = {
  'kms-sign': () => kmsEvidenceKeys().sign(KEY, Buffer.from('statement')),
  // deploy-setup github/doctor reading a deployed stack's outputs.
  'stack-outputs': () => cloudFormationOutputs(new Map())({ stackName: 'deploy-actions-build', account: '111111111111', region: 'eu-west-1' } as never),
  kube: () => new KubeClient({ server: url, insecure: false, credentials: { kind: 'none' }, namespace: 'default' }).list('/api/v1/namespaces/default/pods'),
};

const call = calls[row];
if (!call) throw new Error(`fault-call: no row ${row}`);
call().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${cliErrorLine(err)}\n`);
    process.exit(1);
  },
);
