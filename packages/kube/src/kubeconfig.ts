/**
 * What a kubeconfig says about reaching one context's cluster: the server, how to trust it
 * (CA, or insecure-skip-tls-verify) and who we are (bearer token or token file, client
 * certificate, basic auth, or an exec credential plugin such as `aws eks get-token`). Pure:
 * files it names are read through `readFile`, relative to the kubeconfig's directory as
 * client-go resolves them.
 */
import { parse as parseYaml } from 'yaml';

export interface ExecPlugin {
  command: string;
  args: string[];
  env: Record<string, string>;
  apiVersion: string;
}

export type Credentials =
  | { kind: 'none' }
  | { kind: 'token'; token: string }
  | { kind: 'token-file'; path: string }
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'exec'; plugin: ExecPlugin }
  /** Supplied by the caller (an EKS token minted in-process). */
  | { kind: 'provider'; token: () => Promise<string> };

export interface Connection {
  /** https://host[:port][/path] or http://... */
  server: string;
  /** PEM of the CA bundle to trust (else the system's). */
  ca?: string;
  insecure: boolean;
  serverName?: string;
  /** PEM client certificate and key. */
  cert?: string;
  key?: string;
  credentials: Credentials;
  /** The context's namespace ('' when it names none). */
  namespace: string;
}

/** A kubeconfig the client cannot use, with the reason; the message names the field. */
export class KubeconfigError extends Error {
  override name = 'KubeconfigError';
}

type Entry = Record<string, unknown>;

function named(list: unknown, name: unknown, what: string): Entry {
  const e = Array.isArray(list) ? (list.find((x) => x && typeof x === 'object' && (x as Entry).name === name) as Entry | undefined) : undefined;
  const body = e?.[what];
  if (!body || typeof body !== 'object') throw new KubeconfigError(`has no ${what} '${String(name)}'`);
  return body as Entry;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Reads `<field>-data` (base64) or `<field>` (a file) of an entry. */
function pem(entry: Entry, field: string, readFile: (path: string) => string, dir: string): string | undefined {
  const data = str(entry[`${field}-data`]);
  if (data) return Buffer.from(data, 'base64').toString('utf8');
  const file = str(entry[field]);
  if (!file) return undefined;
  const path = file.startsWith('/') ? file : `${dir}/${file}`;
  try {
    return readFile(path);
  } catch {
    throw new KubeconfigError(`names ${field} ${path}, which cannot be read`);
  }
}

export function parseKubeconfig(text: string, opts: { context?: string; dir: string; readFile: (path: string) => string }): Connection {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch {
    throw new KubeconfigError('is not YAML');
  }
  if (!doc || typeof doc !== 'object') throw new KubeconfigError('is empty (no clusters, contexts or users)');
  const k = doc as Entry;
  const ctxName = opts.context || k['current-context'];
  if (!ctxName) throw new KubeconfigError('has no current-context (set one, or give kube-context)');
  const ctx = named(k.contexts, ctxName, 'context');
  const cluster = named(k.clusters, ctx.cluster, 'cluster');
  const server = str(cluster.server).replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s/]+/.test(server)) throw new KubeconfigError(`names no server URL for the cluster of context '${String(ctxName)}'`);
  if (cluster['proxy-url']) throw new KubeconfigError(`sets proxy-url for cluster '${String(ctx.cluster)}', which this action's API client does not support`);
  const user = ctx.user ? named(k.users, ctx.user, 'user') : {};
  if (user['auth-provider']) throw new KubeconfigError(`user '${String(ctx.user)}' uses an auth-provider plugin (removed from client-go); use an exec plugin`);
  const read = opts.readFile;
  const conn: Connection = {
    server,
    ca: pem(cluster, 'certificate-authority', read, opts.dir),
    insecure: cluster['insecure-skip-tls-verify'] === true,
    serverName: str(cluster['tls-server-name']) || undefined,
    cert: pem(user, 'client-certificate', read, opts.dir),
    key: pem(user, 'client-key', read, opts.dir),
    credentials: { kind: 'none' },
    namespace: str(ctx.namespace),
  };
  if (!!conn.cert !== !!conn.key) throw new KubeconfigError(`user '${String(ctx.user)}' has a client certificate without its key, or a key without its certificate`);
  const exec = user.exec as Entry | undefined;
  if (str(user.token)) conn.credentials = { kind: 'token', token: str(user.token) };
  else if (str(user.tokenFile)) conn.credentials = { kind: 'token-file', path: str(user.tokenFile).startsWith('/') ? str(user.tokenFile) : `${opts.dir}/${str(user.tokenFile)}` };
  else if (str(user.username)) conn.credentials = { kind: 'basic', username: str(user.username), password: str(user.password) };
  else if (exec && typeof exec === 'object') {
    const command = str(exec.command);
    if (!command) throw new KubeconfigError(`user '${String(ctx.user)}' has an exec plugin without a command`);
    const env: Record<string, string> = {};
    for (const e of Array.isArray(exec.env) ? (exec.env as Entry[]) : []) if (str(e?.name)) env[str(e.name)] = str(e.value);
    conn.credentials = {
      kind: 'exec',
      plugin: {
        // client-go: a command with a slash but not absolute is relative to the kubeconfig's directory.
        command: command.includes('/') && !command.startsWith('/') ? `${opts.dir}/${command}` : command,
        args: Array.isArray(exec.args) ? exec.args.map(String) : [],
        env,
        apiVersion: str(exec.apiVersion) || 'client.authentication.k8s.io/v1beta1',
      },
    };
  }
  return conn;
}
