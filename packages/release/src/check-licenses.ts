// CI: every bundle's dist/packages.json (manifest.ts) is the bundle's (sha256 of the entry and of
// every chunk), names the same
// packages as ncc's licenses.txt, and every package in it has a license of
// scripts/license-allowlist.json. One line per problem; exit 1.
// Usage: tsx src/check-licenses.ts <repository root>
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundledActions, cliBundles, readChunks } from './assets';
import { disallowed, parseNccLicenses } from './licenses';
import { manifestProblems, type BundleManifest } from './manifest';

const root = process.argv[2] ?? process.cwd();
const { allowed } = JSON.parse(readFileSync(join(root, 'scripts/license-allowlist.json'), 'utf8')) as { allowed: string[] };
let failed = false;
for (const action of bundledActions(root)) {
  const dist = join(root, 'actions', action, 'dist');
  if (!existsSync(join(dist, 'packages.json'))) {
    console.log(`[licenses] actions/${action}/dist/packages.json is missing: run pnpm build`);
    failed = true;
    continue;
  }
  const manifest = JSON.parse(readFileSync(join(dist, 'packages.json'), 'utf8')) as BundleManifest;
  const ncc = parseNccLicenses(readFileSync(join(dist, 'licenses.txt'), 'utf8')).map((e) => e.name);
  const problems = manifestProblems(manifest, readFileSync(join(dist, 'index.js')), ncc, readChunks(root, action));
  for (const e of disallowed(manifest.packages, allowed)) {
    problems.push(`actions/${action}: ${JSON.stringify(`${e.name}@${e.version}`)} is licensed ${JSON.stringify(e.license)}, not in scripts/license-allowlist.json`);
  }
  for (const p of problems) console.log(`[licenses] ${p}`);
  if (problems.length === 0) console.log(`[licenses] actions/${action}: ${manifest.packages.length} bundled packages, versions and licenses listed, all allowed`);
  failed ||= problems.length > 0;
}
for (const cli of cliBundles(root)) {
  if (!existsSync(join(root, cli.manifest)) || !existsSync(join(root, cli.licenses))) {
    console.log(`[licenses] ${cli.manifest} or ${cli.licenses} is missing: run pnpm build`);
    failed = true;
    continue;
  }
  const manifest = JSON.parse(readFileSync(join(root, cli.manifest), 'utf8')) as BundleManifest;
  const listed = parseNccLicenses(readFileSync(join(root, cli.licenses), 'utf8')).map((e) => e.name);
  const problems = manifestProblems(manifest, readFileSync(join(root, cli.path)), listed);
  for (const e of disallowed(manifest.packages, allowed)) {
    problems.push(`${cli.path}: ${JSON.stringify(`${e.name}@${e.version}`)} is licensed ${JSON.stringify(e.license)}, not in scripts/license-allowlist.json`);
  }
  for (const p of problems) console.log(`[licenses] ${p}`);
  if (problems.length === 0) console.log(`[licenses] ${cli.path}: ${manifest.packages.length} bundled packages, versions and licenses listed, all allowed`);
  failed ||= problems.length > 0;
}
process.exit(failed ? 1 : 0);
