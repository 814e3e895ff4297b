/**
 * What `deploy-setup generate` costs and makes: the example file (workflows/environments.yml,
 * one service, three accounts) and the same environments with 10 and 25 services, each generated
 * by the CLI's own entry (`setupMain generate --offline`: parse, validate, plan, render, write)
 * into a temporary directory. Printed per run: the median wall time of BENCH_RUNS generations;
 * per account (stack): the resources, and the template's size against what CloudFormation
 * accepts (500 resources per template; 51,200 bytes for a template passed inline, which is what
 * `aws cloudformation deploy --template-file` does without `--s3-bucket`; 460,800 bytes from S3).
 * Figures only; nothing is asserted.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import YAML from 'yaml';
import { setupMain } from '../../packages/environments/src/setup/cli';
import { EXAMPLE_FILE, EXAMPLE_IDENTITIES } from '../../packages/environments/src/setup/example';

const RUNS = Number(process.env.BENCH_RUNS ?? 21);
const INLINE_LIMIT = 51_200;
const RESOURCE_LIMIT = 500;

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The example file with `n` services (acme/svc-1..n) instead of its one; ids as --repo-ids. */
function scaled(n: number): { text: string; ids: string[] } {
  const doc = YAML.parse(readFileSync(EXAMPLE_FILE, 'utf8')) as { services: Record<string, unknown> };
  const services: Record<string, unknown> = {};
  const ids: string[] = [];
  for (let i = 1; i <= n; i++) {
    services[`svc-${i}`] = { repository: `acme/svc-${i}`, ecr_repository: `acme/svc-${i}`, namespace: `svc-${i}` };
    ids.push(`acme/svc-${i}=190000001/${1041000100 + i}`);
  }
  return { text: YAML.stringify({ ...doc, services }), ids };
}

async function bench(label: string, text: string, ids: string[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'da-bench-setup-'));
  const file = join(dir, 'environments.yml');
  writeFileSync(file, text);
  const out = join(dir, 'aws');
  const argv = ['generate', '--offline', '--file', file, '--out', out, ...ids.flatMap((r) => ['--repo-ids', r])];
  const lines: string[] = [];
  const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    lines.length = 0;
    const t0 = performance.now();
    const code = await setupMain(argv, {}, io);
    times.push(performance.now() - t0);
    if (code !== 0) throw new Error(`${label}: deploy-setup generate exited ${code}: ${lines.join(' | ')}`);
  }
  const index = JSON.parse(readFileSync(join(out, 'stacks.json'), 'utf8')) as { stacks: Array<{ label: string; account: string; template: string }> };
  console.log(`${label}: generate ${median(times).toFixed(1)} ms (median of ${RUNS}; min ${Math.min(...times).toFixed(1)}, max ${Math.max(...times).toFixed(1)})`);
  for (const s of index.stacks) {
    const path = join(out, s.template);
    const t = JSON.parse(readFileSync(path, 'utf8')) as { Resources: Record<string, { Type: string }> };
    const types = new Map<string, number>();
    for (const r of Object.values(t.Resources)) types.set(r.Type, (types.get(r.Type) ?? 0) + 1);
    const bytes = statSync(path).size;
    const count = Object.keys(t.Resources).length;
    const fit = bytes <= INLINE_LIMIT ? 'fits inline' : 'needs --s3-bucket';
    console.log(
      `  ${s.label.padEnd(11)} account ${s.account}: ${String(count).padStart(3)} resources (${((count / RESOURCE_LIMIT) * 100).toFixed(0)}% of ${RESOURCE_LIMIT}), ` +
        `${(bytes / 1024).toFixed(1)} KiB (${fit}, limit ${INLINE_LIMIT / 1024} KiB) - ${[...types].map(([k, v]) => `${v} ${k.replace('AWS::', '')}`).join(', ')}`,
    );
  }
  rmSync(dir, { recursive: true, force: true });
}

async function main() {
  console.log(`deploy-setup generate, node ${process.version}, ${RUNS} runs each`);
  const example = EXAMPLE_IDENTITIES.map((i) => `${i.repository}=${i.ownerId}/${i.repositoryId}`);
  await bench('example (1 service, workflows/environments.yml)', readFileSync(EXAMPLE_FILE, 'utf8'), example);
  for (const n of [10, 25]) {
    const s = scaled(n);
    await bench(`${n} services, same environments`, s.text, s.ids);
  }
}

await main();
