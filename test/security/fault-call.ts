/**
 * One call of the fault table (faults.test.ts), in a process of its own so that each row has its
 * own environment (AWS_ENDPOINT_URL_<SERVICE> is read by the SDK from the process environment).
 * It makes the call the action makes, with the action's own client factory, for the rows whose
 * step would need more before the call than the row's stand-ins give (the Kubernetes API
 * client's list, which the deploy makes after helm; deploy-setup's read of the stack outputs,
 * after the GitHub repository's ids), and prints the one
 * line it ends in: `node --import tsx fault-call.ts <row> <endpoint URL>`; exit 1 with the line on
 * stderr, or exit 0 when the call (unexpectedly) succeeded.
 */
import { cliErrorLine } from '@deploy-actions/action-kit';
import { KubeClient } from '../../packages/kube/src/index';
import { cloudFormationOutputs } from '../../packages/environments/src/setup/stack-outputs';

const [row, url] = process.argv.slice(2) as [string, string];

const calls: Record<string, () => Promise<unknown>> = {
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
