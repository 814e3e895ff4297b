// A CA generated at start and a server certificate for 127.0.0.1/localhost, made with the openssl CLI.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './exec';

export interface TlsMaterial { caCert: string; key: string; cert: string }

export async function generateTls(): Promise<TlsMaterial> {
  const dir = mkdtempSync(join(tmpdir(), 'kube-standin-tls-'));
  const f = (n: string) => join(dir, n);
  const ossl = async (args: string[]) => {
    const r = await run('openssl', args, { timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`openssl ${args[0]}: ${r.stderr}`);
  };
  try {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    await ossl(['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '7', '-subj', '/CN=kube-standin-ca', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature']);
    await ossl(['req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=kube-apiserver']);
    writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default.svc\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n');
    await ossl(['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.crt'), '-days', '7', '-extfile', f('ext.cnf')]);
    return { caCert: readFileSync(f('ca.crt'), 'utf8'), key: readFileSync(f('server.key'), 'utf8'), cert: readFileSync(f('server.crt'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
