// Runs containers in the local Docker engine via the docker CLI (argv arrays), pulling from the registry.
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './exec';
import type { ProbeResult, PullResult, RegistryConfig, RunningContainer, Runtime, StartSpec } from './runtime';
import type { KObj } from './store';

export const STANDIN_LABEL = 'deploy-actions.standin';

export class DockerRuntime implements Runtime {
  readonly name = 'docker' as const;
  private dockerConfig: string;
  private loggedIn?: Promise<void>;

  constructor(private standinId: string, private registry?: RegistryConfig) {
    // A private docker config dir so a registry login does not touch the user's ~/.docker.
    this.dockerConfig = mkdtempSync(join(tmpdir(), 'kube-standin-docker-'));
  }

  private docker(args: string[], timeoutMs = 120_000) {
    return run('docker', args, { env: { ...process.env, DOCKER_CONFIG: this.dockerConfig }, timeoutMs });
  }

  async pull(image: string): Promise<PullResult> {
    const t0 = Date.now();
    if (this.registry?.username) {
      this.loggedIn ??= (async () => {
        const host = new URL(this.registry!.url).host;
        const r = await run('docker', ['login', '--username', this.registry!.username!, '--password-stdin', host], { env: { ...process.env, DOCKER_CONFIG: this.dockerConfig }, input: this.registry!.password ?? '', timeoutMs: 30_000 });
        if (r.code !== 0) throw new Error(`docker login ${host}: ${r.stderr.trim()}`);
      })();
      try {
        await this.loggedIn;
      } catch (e) {
        this.loggedIn = undefined;
        return { ok: false, message: (e as Error).message };
      }
    }
    // Always pull: a cluster node does not share the build machine's image cache, the registry is the source of truth.
    const r = await this.docker(['pull', '--quiet', image]);
    if (r.code !== 0) return { ok: false, message: `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": ${r.stderr.trim().split('\n').pop()}` };
    const insp = await this.docker(['image', 'inspect', '--format', '{{index .RepoDigests 0}} {{.Size}}', image]);
    const [digest, size] = insp.stdout.trim().split(' ');
    return { ok: true, imageID: digest || image, ms: Date.now() - t0, size: Number(size) || undefined };
  }

  async start(spec: StartSpec): Promise<RunningContainer> {
    const { pod, container: c } = spec;
    const ns = pod.metadata.namespace;
    const name = `standin-${this.standinId}-${ns}-${pod.metadata.name}-${c.name}-${spec.restartCount}`.replace(/[^a-zA-Z0-9_.-]/g, '-').slice(0, 120);
    const args = ['run', '--detach', '--name', name, '--label', `${STANDIN_LABEL}=${this.standinId}`, '--label', `${STANDIN_LABEL}.pod=${ns}/${pod.metadata.name}`, '--hostname', pod.metadata.name.slice(0, 63)];
    for (const [h, ip] of spec.hosts) args.push('--add-host', `${h}:${ip}`);
    for (const [k, v] of spec.env) args.push('--env', `${k}=${v}`);
    const sc = { ...(pod.spec.securityContext ?? {}), ...(c.securityContext ?? {}) };
    if (sc.runAsUser !== undefined) args.push('--user', `${sc.runAsUser}${sc.runAsGroup !== undefined ? `:${sc.runAsGroup}` : ''}`);
    if (sc.readOnlyRootFilesystem) args.push('--read-only');
    if (c.workingDir) args.push('--workdir', c.workingDir);
    const command: string[] = c.command ?? [];
    if (command.length) args.push('--entrypoint', command[0]!);
    args.push(c.image, ...command.slice(1), ...((c.args as string[]) ?? []));
    const r = await this.docker(args);
    if (r.code !== 0) {
      await this.docker(['rm', '-f', name]);
      throw new Error(`failed to create containerd task: ${r.stderr.trim()}`);
    }
    const id = r.stdout.trim();
    const insp = await this.docker(['inspect', '--format', '{{.NetworkSettings.IPAddress}}', id]);
    const ip = insp.stdout.trim();
    const exited = this.docker(['wait', id], 0).then(async (w) => {
      const code = Number(w.stdout.trim());
      const st = await this.docker(['inspect', '--format', '{{.State.OOMKilled}}', id]);
      return { exitCode: Number.isFinite(code) ? code : 137, reason: st.stdout.trim() === 'true' ? 'OOMKilled' : 'Error' };
    });
    const self = this;
    return {
      id,
      ip,
      exited,
      probe: (probe, container, _kind) => probeContainer(probe, container, ip, (cmd, timeoutMs) => self.docker(['exec', id, ...cmd], timeoutMs)),
      async kill() {
        await self.docker(['kill', id]);
      },
      async stop(graceSeconds) {
        await self.docker(['stop', '--timeout', String(graceSeconds), id], (graceSeconds + 30) * 1000);
      },
      async logs(o) {
        const a = ['logs'];
        if (o.tailLines !== undefined) a.push('--tail', String(o.tailLines));
        if (o.timestamps) a.push('--timestamps');
        const l = await self.docker([...a, id]);
        if (l.code !== 0) throw new Error(`docker logs: ${l.stderr.trim()}`);
        return l.stdout + l.stderr;
      },
      async remove() {
        await self.docker(['rm', '--force', id]);
      },
    };
  }

  async stopAll() {
    const ps = await this.docker(['ps', '--all', '--quiet', '--filter', `label=${STANDIN_LABEL}=${this.standinId}`]);
    const ids = ps.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
    if (ids.length) await this.docker(['rm', '--force', ...ids]);
    rmSync(this.dockerConfig, { recursive: true, force: true });
  }
}

function resolvePort(port: unknown, c: KObj): number {
  if (typeof port === 'number') return port;
  const p = (c.ports ?? []).find((x: KObj) => x.name === port);
  return p ? p.containerPort : Number(port);
}

export async function probeContainer(probe: KObj, c: KObj, ip: string, exec: (cmd: string[], timeoutMs: number) => Promise<{ code: number; stdout: string; stderr: string }>): Promise<ProbeResult> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  if (probe.httpGet) {
    const port = resolvePort(probe.httpGet.port, c);
    const path = probe.httpGet.path ?? '/';
    const url = `${(probe.httpGet.scheme ?? 'HTTP').toLowerCase()}://${ip}:${port}${path}`;
    return new Promise((resolve) => {
      const headers: Record<string, string> = { 'User-Agent': 'kube-probe/1.35' };
      for (const h of probe.httpGet.httpHeaders ?? []) headers[h.name] = h.value;
      const req = http.get(url, { headers, timeout: timeoutMs }, (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        resolve(code >= 200 && code < 400 ? { ok: true, message: '' } : { ok: false, message: `HTTP probe failed with statuscode: ${code}` });
      });
      req.on('timeout', () => {
        req.destroy();
        resolve({ ok: false, message: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` });
      });
      req.on('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, message: `Get "${url}": dial tcp ${ip}:${port}: connect: ${e.code === 'ECONNREFUSED' ? 'connection refused' : e.message}` }));
    });
  }
  if (probe.tcpSocket) {
    const port = resolvePort(probe.tcpSocket.port, c);
    return new Promise((resolve) => {
      const s = net.connect({ host: ip, port, timeout: timeoutMs });
      s.on('connect', () => {
        s.destroy();
        resolve({ ok: true, message: '' });
      });
      s.on('timeout', () => {
        s.destroy();
        resolve({ ok: false, message: `dial tcp ${ip}:${port}: i/o timeout` });
      });
      s.on('error', () => resolve({ ok: false, message: `dial tcp ${ip}:${port}: connect: connection refused` }));
    });
  }
  if (probe.exec) {
    const r = await exec(probe.exec.command ?? [], timeoutMs + 5000);
    return r.code === 0 ? { ok: true, message: '' } : { ok: false, message: `command ${JSON.stringify((probe.exec.command ?? []).join(' '))} exited with ${r.code}: ${(r.stdout + r.stderr).trim()}` };
  }
  if (probe.grpc) return { ok: false, message: 'grpc probes are not supported by the stand-in' };
  return { ok: true, message: '' };
}
