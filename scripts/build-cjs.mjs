// An action's bundle as CommonJS: what `ncc build src/index.ts -o dist --minify --target es2022
// --no-source-map-register --stats-out dist/stats.json` writes, but through ncc's API with
// `esm: false` (its CLI has no flag for it and emits ES modules for a package of type module),
// plus dist/package.json `{"type":"commonjs"}` so node reads dist/ as CommonJS below that package.
// Why: node runs an ES module entry and every chunk it imports through its ES module loader,
// whose own modules it compiles on each start; a CommonJS bundle loads its chunks with require.
// build-push-ecr's skip path costs about 5-9 ms of CPU less (issue 25). Chunks are then
// minified by minify-chunks.mjs (the format it reads from dist/package.json).
// Usage (from the action's folder): node ../../scripts/build-cjs.mjs
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const require = createRequire(import.meta.url);
const ncc = require('@vercel/ncc');
const dist = resolve('dist');
mkdirSync(dist, { recursive: true });
for (const f of readdirSync(dist).filter((n) => n.endsWith('.js'))) rmSync(join(dist, f));

const { code, assets, stats } = await ncc(resolve('src/index.ts'), {
  esm: false,
  // No webpack cache: ncc names its cache after the entry path alone (~/.cache/ncc/<cwd hash>,
  // ncc_<entry hash>), not the options, so an earlier ES module build of this entry at the same
  // path came back from it as an ES module entry (a CI clone at a path built before this script).
  cache: false,
  minify: true,
  target: 'es2022',
  sourceMap: false,
  sourceMapRegister: false,
  quiet: true,
});
writeFileSync(join(dist, 'index.js'), code);
for (const [name, asset] of Object.entries(assets)) {
  mkdirSync(dirname(join(dist, name)), { recursive: true });
  writeFileSync(join(dist, name), asset.source, { mode: asset.permissions });
}
writeFileSync(join(dist, 'package.json'), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
writeFileSync(join(dist, 'stats.json'), JSON.stringify(stats.toJson()));
