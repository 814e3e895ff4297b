/**
 * `node dist/index.js eks-token --cluster <name> --region <region>`: the exec credential
 * plugin the written kubeconfig names. Prints one ExecCredential JSON on stdout.
 */
import { eksCredentials } from './eks';
import { eksToken, execCredential, parseTokenArgs, stsEndpoint } from './token';

export async function tokenMain(argv: readonly string[]): Promise<void> {
  try {
    const { cluster, region } = parseTokenArgs(argv);
    const credentials = await eksCredentials(region)();
    const { token, expiresAt } = await eksToken({ cluster, region, credentials, stsEndpoint: stsEndpoint(region, process.env) });
    process.stdout.write(JSON.stringify(execCredential(token, expiresAt)) + '\n');
  } catch (err) {
    process.stderr.write(`helm-deploy-eks eks-token: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
