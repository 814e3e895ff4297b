// Build step after ncc (each action's `build` script): ncc minifies dist/index.js only, not the
// chunks its dynamic imports emit (dist/<id>.index.js). This minifies them with esbuild for the
// same target, so a chunk costs no more to read and parse than it would inside index.js.
// Licenses stay in ncc's licenses.txt, which covers every chunk's modules.
// Usage: node scripts/minify-chunks.mjs <dist directory>
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { transformSync } from 'esbuild';

const dist = process.argv[2];
if (!dist) {
  console.error('usage: node scripts/minify-chunks.mjs <dist directory>');
  process.exit(2);
}
// The chunks' module format is the bundle's: dist/package.json's type (build-cjs.mjs writes commonjs).
let format = 'esm';
try {
  if (JSON.parse(readFileSync(join(dist, 'package.json'), 'utf8')).type === 'commonjs') format = 'cjs';
} catch {
  // No dist/package.json: ncc's ES module output.
}
for (const name of readdirSync(dist).filter((n) => /^\d+\.index\.js$/.test(n))) {
  const file = join(dist, name);
  const { code } = transformSync(readFileSync(file, 'utf8'), { minify: true, format, target: 'es2022', legalComments: 'none', charset: 'utf8' });
  writeFileSync(file, code);
}
