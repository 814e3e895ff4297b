/**
 * A small Kubernetes API client: get, chunked list (limit/continue), watch (newline-delimited
 * events from a resourceVersion) and pod logs, over node:http(s) with the kubeconfig's trust
 * and credentials. Written here rather than bundling @kubernetes/client-node: the deploy needs
 * five read calls, and helm-deploy-eks's bundle is already near the 1.5 MB budget.
 *
 * Deadlines (docs/deadlines.md): each request DEADLINES.kubeMs from connection to last byte,
 * tried at most DEADLINES.timeoutAttempts times when it got no answer; a watch has no overall
 * deadline but ends quietly after DEADLINES.kubeMs without a byte (the caller watches again
 * from its resourceVersion). Network faults end in action-kit's one line (networkFailure).
 */
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { DEADLINES, networkFailure } from '@deploy-actions/action-kit';
import { CredentialSource, runPlugin as realRunPlugin, type Auth, type RunPlugin } from './credentials';
import type { Connection } from './kubeconfig';

/** An object as the API returns it: enough for the reader's keys. */
export interface KubeObject {
  kind?: string;
  apiVersion?: string;
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string; [k: string]: unknown };
}

export interface ListQuery {
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size (default 500, as kubectl asks). */
  limit?: number;
}

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
  /** Requests it took (pages, and a restart after an expired continue token). */
  requests: number;
}

export interface WatchEvent<T = KubeObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/** How a watch ended without an error: the server closed it, or it went idle. */
export type WatchEnd = 'closed' | 'idle' | 'aborted';

/** What the deploy reads with; the client implements it, tests replace it. */
export interface KubeReader {
  /** The API server's URL, for messages. */
  readonly server: string;
  list<T extends KubeObject>(path: string, query?: ListQuery): Promise<ListResult<T>>;
  watch<T extends KubeObject>(path: string, query: ListQuery & { resourceVersion: string }, onEvent: (e: WatchEvent<T>) => void, signal?: AbortSignal): Promise<WatchEnd>;
  text(path: string, query?: Record<string, string>): Promise<string>;
}

/** The API server's answer was an error Status (404 NotFound, 401, 403, 410 Expired...). */
export class KubeApiError extends Error {
  override name = 'KubeApiError';
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** 410 Gone: the resourceVersion (or continue token) is older than the server keeps; list again. */
export function isGone(err: unknown): boolean {
  return err instanceof KubeApiError && (err.code === 410 || err.reason === 'Expired' || err.reason === 'Gone');
}

/** The collection path of a resource kind the deploy reads. */
const GROUPS: Record<string, string> = {
  pods: '/api/v1',
  events: '/api/v1',
  replicasets: '/apis/apps/v1',
  deployments: '/apis/apps/v1',
  statefulsets: '/apis/apps/v1',
  daemonsets: '/apis/apps/v1',
  jobs: '/apis/batch/v1',
};
export type Resource = keyof typeof GROUPS & string;
export const KINDS: Record<string, string> = {
  pods: 'Pod',
  events: 'Event',
  replicasets: 'ReplicaSet',
  deployments: 'Deployment',
  statefulsets: 'StatefulSet',
  daemonsets: 'DaemonSet',
  jobs: 'Job',
};

export function collectionPath(resource: Resource, namespace: string): string {
  const base = GROUPS[resource];
  if (!base) throw new Error(`unknown resource ${resource}`);
  return `${base}/namespaces/${encodeURIComponent(namespace)}/${resource}`;
}

function queryString(q: Record<string, string | number | boolean | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** "list pods", "watch replicasets", "get log of pods/web-1" from a path. */
function operation(method: string, path: string, watch = false): string {
  const parts = path.split('?')[0]!.split('/').filter(Boolean);
  const rest = parts.slice(parts[0] === 'api' ? 2 : 3);
  const r = rest[0] === 'namespaces' && rest.length > 2 ? rest.slice(2) : rest;
  if (watch) return `watch ${r[0]}`;
  if (r[2]) return `${method} ${r[2]} of ${r[0]}/${r[1]}`;
  return r[1] ? `${method} ${r[0]}/${r[1]}` : `list ${r[0]}`;
}

export interface ClientOptions {
  readFile?: (path: string) => string;
  runPlugin?: RunPlugin;
  now?: () => number;
  /** Per-request deadline and watch idle deadline (default DEADLINES.kubeMs). */
  deadlineMs?: number;
  /** Seconds after which the server ends a watch (it is then resumed); default 300. */
  watchSeconds?: number;
}

export class KubeClient implements KubeReader {
  readonly server: string;
  private readonly creds: CredentialSource;
  private readonly deadlineMs: number;
  private readonly watchSeconds: number;
  private readonly now: () => number;
  private agent?: { auth: Auth; agent: http.Agent };

  constructor(
    private readonly conn: Connection,
    opts: ClientOptions = {},
  ) {
    this.server = conn.server;
    this.now = opts.now ?? Date.now;
    this.deadlineMs = opts.deadlineMs ?? DEADLINES.kubeMs;
    this.watchSeconds = opts.watchSeconds ?? 300;
    this.creds = new CredentialSource(conn, { readFile: opts.readFile ?? ((p) => readFileSync(p, 'utf8')), runPlugin: opts.runPlugin ?? realRunPlugin, now: this.now });
  }

  private agentFor(auth: Auth): http.Agent {
    if (this.agent?.auth.cert === auth.cert && this.agent) return this.agent.agent;
    this.agent?.agent.destroy();
    const agent = this.conn.server.startsWith('https:')
      ? new https.Agent({
          keepAlive: true,
          ca: this.conn.ca,
          cert: auth.cert ?? this.conn.cert,
          key: auth.key ?? this.conn.key,
          rejectUnauthorized: !this.conn.insecure,
          servername: this.conn.serverName,
        })
      : new http.Agent({ keepAlive: true });
    this.agent = { auth, agent };
    return agent;
  }

  /** Closes kept-alive connections. */
  close(): void {
    this.agent?.agent.destroy();
    this.agent = undefined;
  }

  /**
   * Sends one request; resolves with the response once headers arrived. `timer` is armed for
   * the whole request (`total`) or reset on each byte (`idle`), and destroys it when it fires.
   */
  private async open(method: string, pathQuery: string, accept: string, mode: 'total' | 'idle', signal?: AbortSignal): Promise<{ res: http.IncomingMessage; disarm: () => void; idle: () => boolean }> {
    const auth = await this.creds.get();
    const url = new URL(this.conn.server + pathQuery);
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { accept, 'user-agent': 'deploy-actions (helm-deploy-eks)' };
      if (auth.header) headers.authorization = auth.header;
      const req = mod.request(url, { method, agent: this.agentFor(auth), headers, signal });
      let idled = false;
      let timer: NodeJS.Timeout | undefined;
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          idled = true;
          req.destroy(Object.assign(new Error(`no answer within ${this.deadlineMs} ms`), { code: 'ETIMEDOUT' }));
        }, this.deadlineMs);
      };
      arm();
      req.on('error', (e) => (clearTimeout(timer), reject(e)));
      req.on('response', (res) => {
        if (mode === 'idle') res.on('data', arm);
        res.on('end', () => clearTimeout(timer));
        res.on('close', () => clearTimeout(timer));
        resolve({ res, disarm: () => clearTimeout(timer), idle: () => idled });
      });
      req.end();
    });
  }

  private async read(res: http.IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  private apiError(status: number, text: string, op: string): KubeApiError {
    let s: { reason?: string; message?: string } = {};
    try {
      s = JSON.parse(text);
    } catch {
      // A proxy's HTML or plain text: the status line says enough.
    }
    const reason = s.reason ?? http.STATUS_CODES[status] ?? 'Unknown';
    return new KubeApiError(status, reason, `${op}: ${this.server} answered ${status} ${reason}${s.message ? `: ${s.message}` : ''}`);
  }

  /** A GET whose whole answer is read under the deadline; retried after a timeout, and once after a 401 with a plugin's token. */
  private async getText(pathQuery: string, accept: string): Promise<string> {
    const op = operation('get', pathQuery);
    const started = this.now();
    let refreshed = false;
    for (let attempt = 1; ; attempt++) {
      try {
        const { res } = await this.open('GET', pathQuery, accept, 'total');
        const text = await this.read(res);
        const status = res.statusCode ?? 0;
        if (status === 401 && !refreshed && this.creds.invalidate()) {
          refreshed = true;
          attempt--;
          continue;
        }
        if (status < 200 || status > 299) throw this.apiError(status, text, op);
        return text;
      } catch (err) {
        if (err instanceof KubeApiError) throw err;
        const fault = networkFailure(err, { endpoint: `the Kubernetes API server (${this.server})`, operation: op, waitedMs: this.now() - started, attempts: attempt, deadlineMs: this.deadlineMs });
        if (fault?.fault === 'timeout' && attempt < DEADLINES.timeoutAttempts) continue;
        throw fault ?? err;
      }
    }
  }

  async get<T>(path: string, query: Record<string, string> = {}): Promise<T> {
    return JSON.parse(await this.getText(path + queryString(query), 'application/json')) as T;
  }

  async text(path: string, query: Record<string, string> = {}): Promise<string> {
    return this.getText(path + queryString(query), 'text/plain, */*');
  }

  /**
   * Every item of a collection, page by page. When a continue token expires (410) between
   * pages, the list starts over once without it, as client-go's pager does.
   */
  async list<T extends KubeObject>(path: string, query: ListQuery = {}): Promise<ListResult<T>> {
    const kind = KINDS[path.split('/').pop() ?? ''];
    let requests = 0;
    for (let restart = 0; ; restart++) {
      const items: T[] = [];
      let cont = '';
      let resourceVersion = '';
      try {
        do {
          requests++;
          const page = await this.get<{ items?: T[]; metadata?: { resourceVersion?: string; continue?: string } }>(path, {
            ...(query.labelSelector ? { labelSelector: query.labelSelector } : {}),
            ...(query.fieldSelector ? { fieldSelector: query.fieldSelector } : {}),
            limit: String(query.limit ?? 500),
            ...(cont ? { continue: cont } : {}),
          });
          // List items carry no kind: the collection says it.
          for (const i of page.items ?? []) items.push(kind && !i.kind ? { ...i, kind } : i);
          resourceVersion ||= page.metadata?.resourceVersion ?? '';
          cont = page.metadata?.continue ?? '';
        } while (cont);
        return { items, resourceVersion, requests };
      } catch (err) {
        if (!(isGone(err) && cont !== '' && restart === 0)) throw err;
      }
    }
  }

  /**
   * Watches a collection from `resourceVersion`, calling onEvent for each event. Resolves when
   * the server ends the watch, when it stays silent for the deadline, or on abort; rejects
   * with a KubeApiError (410: list again) when the server refuses or sends an ERROR event.
   */
  async watch<T extends KubeObject>(path: string, query: ListQuery & { resourceVersion: string }, onEvent: (e: WatchEvent<T>) => void, signal?: AbortSignal): Promise<WatchEnd> {
    const q = {
      watch: 'true',
      resourceVersion: query.resourceVersion,
      allowWatchBookmarks: 'true',
      timeoutSeconds: String(this.watchSeconds),
      labelSelector: query.labelSelector,
      fieldSelector: query.fieldSelector,
    };
    const op = operation('watch', path, true);
    const started = this.now();
    let opened;
    try {
      opened = await this.open('GET', path + queryString(q), 'application/json', 'idle', signal);
    } catch (err) {
      if (signal?.aborted) return 'aborted';
      throw networkFailure(err, { endpoint: `the Kubernetes API server (${this.server})`, operation: op, waitedMs: this.now() - started, attempts: 1, deadlineMs: this.deadlineMs }) ?? err;
    }
    const { res, idle } = opened;
    const status = res.statusCode ?? 0;
    if (status === 401) this.creds.invalidate();
    if (status < 200 || status > 299) throw this.apiError(status, await this.read(res), op);
    let buf = '';
    try {
      for await (const chunk of res) {
        buf += (chunk as Buffer).toString('utf8');
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          const ev = JSON.parse(line) as WatchEvent<T>;
          if (ev.type === 'ERROR') {
            const s = ev.object as unknown as { code?: number; reason?: string; message?: string };
            throw new KubeApiError(s.code ?? 500, s.reason ?? 'Unknown', `${op}: ${this.server} ended the watch: ${s.message ?? s.reason ?? 'error'}`);
          }
          onEvent(ev);
        }
      }
    } catch (err) {
      if (err instanceof KubeApiError) throw err;
      if (signal?.aborted) return 'aborted';
      if (idle()) return 'idle';
      throw networkFailure(err, { endpoint: `the Kubernetes API server (${this.server})`, operation: op, waitedMs: this.now() - started, attempts: 1, deadlineMs: this.deadlineMs }) ?? err;
    }
    return signal?.aborted ? 'aborted' : 'closed';
  }
}
