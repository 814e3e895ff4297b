// Build step after ncc: turns each action's webpack stats (dist/stats.json, from ncc's
// --stats-out; every module of the entry and of every chunk) into dist/packages.json
// (manifest.ts) and dist/licenses.txt (licenses.ts), then removes the stats (10 MB, with
// this machine's paths). Usage: tsx src/write-manifests.ts <repository root>
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundledActions, readChunks } from './assets';
import { licenseFileName, licensesText } from './licenses';
import { bundleManifest, licenseOf, packageDirs, type StatsModule } from './manifest';

const root = process.argv[2] ?? process.cwd();
let failed = false;
for (const action of bundledActions(root)) {
  const dist = join(root, 'actions', action, 'dist');
  const stats = join(dist, 'stats.json');
  if (!existsSync(stats)) {
    console.log(`[manifest] actions/${action}/dist/stats.json is missing: its build script must pass --stats-out dist/stats.json to ncc`);
    failed = true;
    continue;
  }
  const { modules } = JSON.parse(readFileSync(stats, 'utf8')) as { modules: StatsModule[] };
  const bundle = `actions/${action}/dist/index.js`;
  const manifest = bundleManifest(bundle, readFileSync(join(root, bundle)), modules, (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')), readChunks(root, action));
  writeFileSync(join(dist, 'packages.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const licensed = packageDirs(modules).map((dir) => {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const file = licenseFileName(readdirSync(dir));
    return { name: String(pkg.name ?? ''), license: licenseOf(pkg), text: file ? readFileSync(join(dir, file), 'utf8') : '' };
  });
  writeFileSync(join(dist, 'licenses.txt'), licensesText(licensed.filter((p) => !p.name.startsWith('@deploy-actions/'))));
  rmSync(stats);
}
process.exit(failed ? 1 : 0);
