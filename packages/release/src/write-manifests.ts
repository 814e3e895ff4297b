// Build step after ncc and esbuild: turns each action's webpack stats (dist/stats.json, from ncc's
// --stats-out; every module of the entry and of every chunk) into dist/packages.json
// (manifest.ts) and dist/licenses.txt (licenses.ts), then removes the stats (10 MB, with
// this machine's paths); the same for each command-line bundle from esbuild's metafile
// (CLI_BUNDLES: <name>.packages.json and <name>.licenses.txt beside it).
// Usage: tsx src/write-manifests.ts <repository root>
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { bundledActions, cliBundles, readChunks } from './assets';
import { licenseFileName, licensesText } from './licenses';
import { bundleManifest, licenseOf, metafileModules, packageDirs, type EsbuildMetafile, type StatsModule } from './manifest';

const readPackage = (dir: string) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));

/** The license file of the third-party packages the modules come from (ours aside). */
function licensesOf(modules: readonly StatsModule[]): string {
  const licensed = packageDirs(modules).map((dir) => {
    const pkg = readPackage(dir);
    const file = licenseFileName(readdirSync(dir));
    return { name: String(pkg.name ?? ''), license: licenseOf(pkg), text: file ? readFileSync(join(dir, file), 'utf8') : '' };
  });
  return licensesText(licensed.filter((p) => !p.name.startsWith('@deploy-actions/')));
}

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
  const manifest = bundleManifest(bundle, readFileSync(join(root, bundle)), modules, readPackage, readChunks(root, action));
  writeFileSync(join(dist, 'packages.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(join(dist, 'licenses.txt'), licensesOf(modules));
  rmSync(stats);
}
for (const cli of cliBundles(root)) {
  const meta = join(root, cli.metafile);
  if (!existsSync(meta)) {
    console.log(`[manifest] ${cli.metafile} is missing: the bundle script of ${cli.path} must pass --metafile to esbuild`);
    failed = true;
    continue;
  }
  // esbuild writes input paths relative to its working directory: the package's (dist/..).
  const cwd = dirname(dirname(join(root, cli.path)));
  const modules = metafileModules(JSON.parse(readFileSync(meta, 'utf8')) as EsbuildMetafile, (p) => resolve(cwd, p));
  const manifest = bundleManifest(cli.path, readFileSync(join(root, cli.path)), modules, readPackage);
  writeFileSync(join(root, cli.manifest), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(join(root, cli.licenses), licensesOf(modules));
  rmSync(meta);
}
process.exit(failed ? 1 : 0);
