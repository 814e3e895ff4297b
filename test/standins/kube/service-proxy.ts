/**
 * What kube-proxy does for the docker runtime, in user space: each Service gets an IP of its
 * own on the host (a /32 on `lo`, from 10.254.0.0/16, random per Service so that concurrent
 * stand-ins on one host do not collide) with a TCP listener per Service port that forwards each
 * connection to a ready endpoint pod on the resolved target port. Containers reach the IP
 * through their default route (the docker bridge's gateway is the host). Needs CAP_NET_ADMIN
 * for `ip addr`; without it, Service names keep pointing at one endpoint pod directly (and a
 * Service port must then equal its target port).
 */
import { execFileSync } from 'node:child_process';
import { connect, createServer, type Server } from 'node:net';
import { randomInt } from 'node:crypto';
import { byKind } from './resources';
import type { Store } from './store';

interface Proxied {
  ip: string;
  servers: Server[];
}

/** A TCP server that forwards each connection to the target `pick` gives then (closed when there is none). */
export function forwarder(pick: () => { ip: string; port: number } | undefined): Server {
  return createServer((client) => {
    const target = pick();
    if (!target) return client.destroy();
    const upstream = connect(target.port, target.ip);
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
  });
}

export class ServiceProxy {
  private readonly services = new Map<string, Proxied>();
  private disabled = false;
  private next = 0;

  constructor(private readonly store: Store) {}

  /** The proxy IP of a Service (set up on first use), or undefined when the host does not allow it. */
  ipFor(ns: string, name: string): string | undefined {
    if (this.disabled) return undefined;
    const key = `${ns}/${name}`;
    const have = this.services.get(key);
    if (have) return have.ip;
    const svc = this.store.get(byKind('Service'), ns, name);
    if (!svc) return undefined;
    let ip = '';
    for (let attempt = 0; attempt < 5 && !ip; attempt++) {
      const candidate = `10.254.${randomInt(0, 255)}.${randomInt(1, 255)}`;
      try {
        execFileSync('ip', ['addr', 'add', `${candidate}/32`, 'dev', 'lo'], { stdio: 'ignore' });
        ip = candidate;
      } catch {
        if (attempt === 0 && !this.canAddAddresses()) {
          this.disabled = true;
          return undefined;
        }
      }
    }
    if (!ip) return undefined;
    const servers = (svc.spec?.ports ?? []).map((p: { port: number; name?: string }, index: number) => {
      const server = forwarder(() => this.endpoint(ns, name, p.name, index));
      server.on('error', () => undefined);
      server.listen(p.port, ip);
      return server;
    });
    this.services.set(key, { ip, servers });
    return ip;
  }

  /** A ready endpoint (round robin) with the port the Endpoints controller resolved for the Service port. */
  private endpoint(ns: string, name: string, portName: string | undefined, index: number): { ip: string; port: number } | undefined {
    const ep = this.store.get(byKind('Endpoints'), ns, name);
    const subset = ep?.subsets?.[0];
    const addresses: Array<{ ip: string }> = subset?.addresses ?? [];
    if (addresses.length === 0) return undefined;
    const ports: Array<{ name?: string; port: number }> = subset.ports ?? [];
    const port = (portName ? ports.find((p) => p.name === portName) : undefined) ?? ports[index];
    if (!port) return undefined;
    return { ip: addresses[this.next++ % addresses.length]!.ip, port: port.port };
  }

  private canAddAddresses(): boolean {
    try {
      execFileSync('ip', ['-4', 'addr', 'show', 'dev', 'lo'], { stdio: 'ignore' });
      return process.getuid?.() === 0;
    } catch {
      return false;
    }
  }

  stop(): void {
    for (const { ip, servers } of this.services.values()) {
      for (const s of servers) s.close();
      try {
        execFileSync('ip', ['addr', 'del', `${ip}/32`, 'dev', 'lo'], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
    this.services.clear();
  }
}
