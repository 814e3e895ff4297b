import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Asset {
  name: string;
  data: Buffer;
  contentType: string;
}

/** The actions whose bundle is committed: `actions/<name>/dist/index.js`. */
export function bundledActions(root: string): string[] {
  const dir = join(root, 'actions');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => existsSync(join(dir, n, 'dist', 'index.js')))
    .sort();
}

/** An action's chunks: the `dist/<id>.index.js` files its entry loads on demand, repository-relative, sorted. */
export function bundleChunks(root: string, action: string): string[] {
  return readdirSync(join(root, 'actions', action, 'dist'))
    .filter((n) => /^\d+\.index\.js$/.test(n))
    .sort((a, b) => parseInt(a, 10) - parseInt(b, 10))
    .map((n) => `actions/${action}/dist/${n}`);
}

/** The chunks of an action, read: what the manifest lists and checks. */
export function readChunks(root: string, action: string): Record<string, Buffer> {
  return Object.fromEntries(bundleChunks(root, action).map((f) => [f, readFileSync(join(root, f))]));
}

/**
 * The command-line tools released as one file each (committed, rebuilt and drift-checked by
 * `pnpm build` like the actions' bundles): `deploy-setup.mjs` runs with node alone, without a
 * checkout of deploy-actions (`node deploy-setup.mjs generate`). Beside each, as for an action's
 * bundle: its manifest (every package inside, version and license) and its license file, both
 * written by the build from esbuild's metafile (the build deletes the metafile).
 */
export const CLI_BUNDLES = [
  {
    path: 'packages/environments/dist/deploy-setup.mjs',
    name: 'deploy-setup.mjs',
    metafile: 'packages/environments/dist/deploy-setup.meta.json',
    manifest: 'packages/environments/dist/deploy-setup.packages.json',
    licenses: 'packages/environments/dist/deploy-setup.licenses.txt',
  },
] as const;

export type CliBundle = (typeof CLI_BUNDLES)[number];

/** The command-line bundles a tree holds. */
export function cliBundles(root: string): CliBundle[] {
  return CLI_BUNDLES.filter((c) => existsSync(join(root, c.path)));
}

/**
 * What a release attaches: `SHA256SUMS` (one `sha256sum` line per bundle file, entry and chunks,
 * and per command-line bundle, checkable with `sha256sum -c SHA256SUMS` in a checkout of the tag),
 * per action bundle `<action>.packages.json` (the committed dist/packages.json (manifest.ts), the
 * bundle's sha256 and every package inside it with its version and license), and each
 * command-line bundle under its own name (CLI_BUNDLES) with its manifest and license file.
 */
export function releaseAssets(root: string): Asset[] {
  const actions = bundledActions(root);
  const clis = cliBundles(root);
  const sums = [...actions.flatMap((a) => [`actions/${a}/dist/index.js`, ...bundleChunks(root, a)]), ...clis.map((c) => c.path)].map(
    (path) => `${createHash('sha256').update(readFileSync(join(root, path))).digest('hex')}  ${path}\n`,
  );
  const assets: Asset[] = [{ name: 'SHA256SUMS', data: Buffer.from(sums.join('')), contentType: 'text/plain' }];
  for (const c of clis) {
    assets.push({ name: c.name, data: readFileSync(join(root, c.path)), contentType: 'text/javascript' });
    const base = c.name.replace(/\.mjs$/, '');
    if (existsSync(join(root, c.manifest))) assets.push({ name: `${base}.packages.json`, data: readFileSync(join(root, c.manifest)), contentType: 'application/json' });
    if (existsSync(join(root, c.licenses))) assets.push({ name: `${base}.licenses.txt`, data: readFileSync(join(root, c.licenses)), contentType: 'text/plain' });
  }
  for (const a of actions) {
    const manifest = join(root, 'actions', a, 'dist', 'packages.json');
    if (existsSync(manifest)) assets.push({ name: `${a}.packages.json`, data: readFileSync(manifest), contentType: 'application/json' });
  }
  return assets;
}
