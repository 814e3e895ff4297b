// Starts the Kubernetes stand-in from the command line. See test/README.md ("Kubernetes stand-in").
//   pnpm --filter @deploy-actions/test exec tsx standins/kube/cli.ts --port 6443 --runtime docker --kubeconfig /tmp/kubeconfig
import { parseArgs } from 'node:util';
import { startKubeStandin } from './index';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '6443' },
    host: { type: 'string', default: '127.0.0.1' },
    runtime: { type: 'string', default: 'fake' },
    kubeconfig: { type: 'string' },
    tls: { type: 'boolean', default: false },
    registry: { type: 'string' },
    'registry-username': { type: 'string' },
    'registry-password': { type: 'string' },
    auth: { type: 'string', default: 'none' },
    token: { type: 'string', multiple: true },
    'cluster-name': { type: 'string' },
    region: { type: 'string' },
    debug: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  process.stdout.write(`Usage: tsx standins/kube/cli.ts [--port 6443] [--runtime fake|docker] [--kubeconfig PATH] [--tls]
  [--registry http://127.0.0.1:5000 [--registry-username U --registry-password P]]
  [--auth none|bearer|eks] [--token T ...] [--cluster-name NAME --region REGION] [--debug]
With --auth eks, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment (when set) are the
only credentials whose tokens are accepted: their SigV4 signature, which covers the cluster name,
is recomputed.
`);
  process.exit(0);
}
if (values.runtime !== 'fake' && values.runtime !== 'docker') throw new Error('--runtime must be fake or docker');
if (!['none', 'bearer', 'eks'].includes(values.auth!)) throw new Error('--auth must be none, bearer or eks');

const s = await startKubeStandin({
  port: Number(values.port),
  host: values.host,
  runtime: values.runtime,
  tls: values.tls,
  kubeconfigPath: values.kubeconfig,
  registry: values.registry ? { url: values.registry, username: values['registry-username'], password: values['registry-password'] } : undefined,
  auth: {
    mode: values.auth as 'none' | 'bearer' | 'eks',
    tokens: values.token,
    clusterName: values['cluster-name'],
    region: values.region,
    credentials:
      values.auth === 'eks' && process.env.AWS_ACCESS_KEY_ID && process.env.AWS_SECRET_ACCESS_KEY
        ? { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY }
        : undefined,
  },
  kubeconfigToken: values.auth === 'bearer' ? values.token?.[0] : undefined,
  debug: values.debug,
});
process.stdout.write(`kube stand-in ${s.id} serving ${s.url} (runtime ${values.runtime})\nexport KUBECONFIG=${s.kubeconfigPath}\n`);
let stopping = false;
const shutdown = async () => {
  if (stopping) return; // a second signal must not cut the container clean-up short
  stopping = true;
  await s.stop();
  process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
