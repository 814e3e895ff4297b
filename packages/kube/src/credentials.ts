/**
 * Credentials of a request: a bearer token (given, from a file, from an exec plugin or a
 * provider) or a client certificate. Exec plugins run as client-go runs them (the
 * ExecCredential in KUBERNETES_EXEC_INFO, stdout parsed) and their answer is kept until its
 * expirationTimestamp, or until the server answers 401.
 */
import { spawn } from 'node:child_process';
import { DEADLINES } from '@deploy-actions/action-kit';
import type { Connection, ExecPlugin } from './kubeconfig';

export interface Auth {
  /** Authorization header value, if any. */
  header?: string;
  /** PEM client certificate and key from an exec plugin. */
  cert?: string;
  key?: string;
}

/** Runs a plugin; resolves with its stdout, rejects with a message naming it. */
export type RunPlugin = (plugin: ExecPlugin, execInfo: string) => Promise<string>;

export const runPlugin: RunPlugin = (plugin, execInfo) =>
  new Promise((resolve, reject) => {
    const child = spawn(plugin.command, plugin.args, { env: { ...process.env, ...plugin.env, KUBERNETES_EXEC_INFO: execInfo }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), DEADLINES.kubeMs);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => (clearTimeout(timer), reject(new Error(`exec plugin ${plugin.command} could not start: ${e.message}`))));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve(Buffer.concat(out).toString('utf8'));
      const why = signal === 'SIGKILL' ? `gave no answer within ${DEADLINES.kubeMs / 1000} s` : `exited with ${code}`;
      const last = Buffer.concat(err).toString('utf8').trim().split('\n').pop() ?? '';
      reject(new Error(`exec plugin ${plugin.command} ${why}${last ? `: ${last}` : ''}`));
    });
  });

interface ExecStatus {
  token?: string;
  clientCertificateData?: string;
  clientKeyData?: string;
  expirationTimestamp?: string;
}

export class CredentialSource {
  private cached?: { auth: Auth; until: number };

  constructor(
    private readonly conn: Connection,
    private readonly deps: { readFile: (path: string) => string; runPlugin: RunPlugin; now: () => number },
  ) {}

  /** Forgets a plugin's answer (after a 401). Returns whether there was one to forget. */
  invalidate(): boolean {
    const had = this.cached !== undefined;
    this.cached = undefined;
    return had;
  }

  async get(): Promise<Auth> {
    const c = this.conn.credentials;
    switch (c.kind) {
      case 'none':
        return {};
      case 'token':
        return { header: `Bearer ${c.token}` };
      case 'token-file':
        // Re-read on each request: the file is rotated by whoever writes it.
        return { header: `Bearer ${this.deps.readFile(c.path).trim()}` };
      case 'basic':
        return { header: `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}` };
      case 'provider':
        return { header: `Bearer ${await c.token()}` };
      case 'exec':
        if (this.cached && this.cached.until > this.deps.now()) return this.cached.auth;
        return this.exec(c.plugin);
    }
  }

  private async exec(plugin: ExecPlugin): Promise<Auth> {
    const info = JSON.stringify({ apiVersion: plugin.apiVersion, kind: 'ExecCredential', spec: { interactive: false } });
    const out = await this.deps.runPlugin(plugin, info);
    let status: ExecStatus | undefined;
    try {
      status = (JSON.parse(out) as { status?: ExecStatus }).status;
    } catch {
      throw new Error(`exec plugin ${plugin.command} printed no ExecCredential JSON`);
    }
    const auth: Auth = {};
    if (status?.token) auth.header = `Bearer ${status.token}`;
    if (status?.clientCertificateData && status.clientKeyData) {
      auth.cert = status.clientCertificateData;
      auth.key = status.clientKeyData;
    }
    if (!auth.header && !auth.cert) throw new Error(`exec plugin ${plugin.command} returned neither a token nor a client certificate`);
    const expires = Date.parse(status?.expirationTimestamp ?? '');
    this.cached = { auth, until: Number.isNaN(expires) ? Number.POSITIVE_INFINITY : expires - 10_000 };
    return auth;
  }
}
