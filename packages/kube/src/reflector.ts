/**
 * A live copy of one collection, kept by list + watch as client-go's reflector keeps it: list
 * (in pages), then watch from the list's resourceVersion, applying each event; resume the
 * watch from the last version seen when it ends or idles; list again when the server says
 * that version is gone (410). Readers take snapshots; nothing polls.
 */
import { errorMessage } from '@deploy-actions/action-kit';
import { isGone, KINDS, type KubeObject, type KubeReader, type ListQuery } from './client';

export interface ReflectorOptions {
  /** Told of each failed list or watch (the reflector keeps trying). */
  onError?: (message: string) => void;
  /** Wait between failed attempts. */
  sleep?: (ms: number) => Promise<void>;
  retryMs?: number;
}

export class Reflector<T extends KubeObject> {
  private readonly items = new Map<string, T>();
  private resourceVersion = '';
  private readonly abort = new AbortController();
  private stopped = false;
  private markSynced!: (ok: boolean) => void;
  /** Resolves after the first list: true when it succeeded, false when it failed (the reflector goes on trying). */
  readonly synced: Promise<boolean> = new Promise((r) => (this.markSynced = r));
  /** Lists made (the first included): more than one means a watch was refused as too old. */
  lists = 0;
  watches = 0;
  private readonly running: Promise<void>;

  constructor(
    private readonly client: KubeReader,
    private readonly path: string,
    private readonly query: ListQuery = {},
    private readonly opts: ReflectorOptions = {},
  ) {
    this.running = this.run();
  }

  /** The objects as last seen, in no particular order. */
  snapshot(): T[] {
    return [...this.items.values()];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.running;
  }

  private key(o: KubeObject): string {
    return o.metadata.uid ?? `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  }

  private apply(ev: { type: string; object: T }): void {
    const o = ev.object;
    if (o?.metadata?.resourceVersion) this.resourceVersion = o.metadata.resourceVersion;
    if (ev.type === 'BOOKMARK') return;
    if (ev.type === 'DELETED') this.items.delete(this.key(o));
    else this.items.set(this.key(o), o);
  }

  private async run(): Promise<void> {
    const kind = KINDS[this.path.split('/').pop() ?? ''];
    const sleep = this.opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    let needList = true;
    while (!this.stopped) {
      try {
        if (needList) {
          const l = await this.client.list<T>(this.path, this.query);
          this.lists++;
          this.items.clear();
          for (const i of l.items) this.items.set(this.key(i), i);
          this.resourceVersion = l.resourceVersion;
          needList = false;
          this.markSynced(true);
        }
        this.watches++;
        const t0 = Date.now();
        const end = await this.client.watch<T>(
          this.path,
          { ...this.query, resourceVersion: this.resourceVersion },
          (ev) => this.apply(kind && ev.object && !ev.object.kind ? { ...ev, object: { ...ev.object, kind } } : ev),
          this.abort.signal,
        );
        // A server that ends watches at once would make this loop spin.
        if (end === 'closed' && Date.now() - t0 < 100) await sleep(this.opts.retryMs ?? 1000);
      } catch (err) {
        if (this.stopped) break;
        if (isGone(err)) {
          needList = true;
          continue;
        }
        this.opts.onError?.(errorMessage(err));
        if (needList) this.markSynced(false);
        await sleep(this.opts.retryMs ?? 1000);
      }
    }
    this.markSynced(false);
  }
}
