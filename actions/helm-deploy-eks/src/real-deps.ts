/** The real dependencies of run(): processes, clock, filesystem, AWS clients, the tool cache. */
import { spawn } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { chmod, readFile } from 'node:fs/promises';
import { exec as realExec, exportVariable, githubContext, LogLines, realSleep, runContextFrom, type ActionIO, type ExecResult } from '@deploy-actions/action-kit';
import { ecrApi, getRepositoryPolicy } from '@deploy-actions/aws';
import { KubeClient } from '@deploy-actions/kube';
import type { Deps, Proc } from './context';
import { makeCloudWatch } from './bake/cloudwatch';
import { awsDeps } from './eks';
import type { ReadPolicy } from './pull-access';
import type { Inputs } from './inputs';
import { installTool, lazyToolCache, runnerArch, sha256File } from './tools';
import { downloadFile } from './download';

function startProcess(file: string, args: readonly string[], env: Record<string, string>): Proc {
  const child = spawn(file, [...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const [echoOut, echoErr] = [new LogLines(), new LogLines()];
  child.stdout.on('data', (d: Buffer) => {
    out.push(d);
    echoOut.push(d);
  });
  child.stderr.on('data', (d: Buffer) => {
    err.push(d);
    echoErr.push(d);
  });
  const done = new Promise<ExecResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      echoOut.end();
      echoErr.end();
      resolve({
        exitCode: code ?? (signal ? 128 + 15 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
  return { done, kill: (s) => void child.kill(s) };
}

export function realDeps(io: ActionIO, inputs: Inputs): Deps {
  const env = process.env;
  return {
    io,
    exec: realExec,
    start: startProcess,
    sleep: realSleep,
    within: (p, ms) => {
      let timer: NodeJS.Timeout | undefined;
      const t = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
      return Promise.race([p, t]).finally(() => clearTimeout(timer));
    },
    now: () => Date.now(),
    env,
    github: githubContext(runContextFrom(env)),
    aws: inputs.clusterName ? awsDeps(inputs.region, (m) => io.info(m)) : undefined,
    readPolicy: inputs.clusterName ? realReadPolicy((m) => io.info(m)) : undefined,
    cloudwatch: inputs.bake.durationMs > 0 && (inputs.bake.alarmNames.length > 0 || inputs.bake.alarmPrefix) ? makeCloudWatch(inputs.region || (process.env.AWS_REGION ?? '')) : undefined,
    installTool: (d) =>
      installTool(d, runnerArch(), {
        tc: lazyToolCache(env, (url) => downloadFile(url, `${env.RUNNER_TEMP ?? '/tmp'}/helm-deploy-eks/downloads`, `${d.tool} ${d.version}`)),
        readFile: (p) => readFile(p, 'utf8'),
        chmod: (p, m) => chmod(p, m),
        log: (m) => io.info(m),
      }),
    onPath: async (tool) => {
      for (const dir of (env.PATH ?? '').split(':').filter(Boolean)) {
        const path = `${dir}/${tool}`;
        try {
          accessSync(path, constants.X_OK);
        } catch {
          continue;
        }
        return { path, sha256: await sha256File(path) };
      }
      return undefined;
    },
    writePrivate: (path, text) => {
      mkdirSync(path.slice(0, path.lastIndexOf('/')), { recursive: true, mode: 0o700 });
      writeFileSync(path, text, { mode: 0o600 });
      chmodSync(path, 0o600);
    },
    appendEnv: (name, value) => exportVariable(name, value),
    exists: (p) => existsSync(p),
    readFile: (p) => {
      try {
        return readFileSync(p, 'utf8');
      } catch {
        return undefined;
      }
    },
    fetch: globalThis.fetch,
    kubeClient: (connection) => new KubeClient(connection),
    nodePath: process.execPath,
    bundlePath: process.argv[1] ?? '',
    pollMs: 1000,
    heartbeatMs: 12_000,
    killGraceMs: 30_000,
  };
}

function realReadPolicy(onRetry: (m: string) => void): ReadPolicy {
  return ({ registryId, region, repository }) => getRepositoryPolicy(ecrApi(region), { registryId, repositoryName: repository }, { onRetry });
}
