/**
 * The exact list of third-party packages inside a bundle: `dist/packages.json`, written at
 * build time from the modules webpack put into `dist/index.js` (ncc's `--stats-out`), each
 * package named, versioned and licensed by the package.json of the directory its modules
 * were read from. ncc's licenses.txt names the same packages without versions (and keeps one
 * entry per name); CI checks that both agree and that `sha256` is the committed bundle's.
 */
import { createHash } from 'node:crypto';

export interface BundledPackage {
  name: string;
  version: string;
  license: string;
}

export interface BundleManifest {
  /** The bundle's entry, relative to the repository root. */
  bundle: string;
  sha256: string;
  /**
   * The chunks beside the entry (`dist/<id>.index.js`, what its dynamic imports load), relative
   * to the repository root, each with its sha256. The packages below are those of every chunk.
   */
  chunks: Record<string, string>;
  packages: BundledPackage[];
}

/** The files of a bundle other than its entry, by path, as read: what `chunks` describes. */
export type ChunkFiles = Record<string, Buffer>;

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** What the manifest reads of webpack's stats: modules, concatenated ones with their parts. */
export interface StatsModule {
  nameForCondition?: string;
  orphan?: boolean;
  modules?: StatsModule[];
}

/** The files of every module in the bundle (orphans are parts listed again under the module holding them). */
export function moduleFiles(modules: readonly StatsModule[]): string[] {
  const out: string[] = [];
  const walk = (ms: readonly StatsModule[], top: boolean) => {
    for (const m of ms) {
      if (top && m.orphan) continue;
      if (m.nameForCondition) out.push(m.nameForCondition);
      walk(m.modules ?? [], false);
    }
  };
  walk(modules, true);
  return out;
}

/** The directory of the installed package a file belongs to: the name after its last `node_modules/`. */
export function packageDirOf(file: string): string | undefined {
  const at = file.lastIndexOf('/node_modules/');
  if (at < 0) return undefined;
  const [first, second] = file.slice(at + '/node_modules/'.length).split('/');
  if (!first || (first.startsWith('@') && !second)) return undefined;
  return file.slice(0, at + '/node_modules/'.length) + (first.startsWith('@') ? `${first}/${second}` : first);
}

/** esbuild's metafile: per output file, the input files (paths relative to esbuild's working directory) and their bytes in it. */
export interface EsbuildMetafile {
  outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }>;
}

/** The input files with code in any output (tree-shaken ones have 0 bytes), as StatsModules; `resolve` makes a path absolute. */
export function metafileModules(meta: EsbuildMetafile, resolve: (path: string) => string): StatsModule[] {
  const files = new Set<string>();
  for (const o of Object.values(meta.outputs)) for (const [file, i] of Object.entries(o.inputs)) if (i.bytesInOutput > 0) files.add(resolve(file));
  return [...files].sort().map((f) => ({ nameForCondition: f }));
}

/** The installed package directories the modules of a bundle (every chunk) were read from. */
export function packageDirs(modules: readonly StatsModule[]): string[] {
  return [...new Set(moduleFiles(modules).map(packageDirOf))].filter((d): d is string => d !== undefined).sort();
}

/** A package.json's license as an SPDX expression: `license`, or the old `licenses` array (OR). */
export function licenseOf(pkg: { license?: unknown; licenses?: unknown }): string {
  const one = (l: unknown): string => (typeof l === 'string' ? l : typeof (l as { type?: unknown })?.type === 'string' ? (l as { type: string }).type : '');
  if (pkg.license !== undefined) return one(pkg.license) || 'UNKNOWN';
  if (Array.isArray(pkg.licenses) && pkg.licenses.length > 0) {
    const all = pkg.licenses.map(one).filter(Boolean);
    return all.length === 1 ? all[0]! : all.length > 1 ? `(${all.join(' OR ')})` : 'UNKNOWN';
  }
  return 'UNKNOWN';
}

/** The manifest of one bundle, sorted by name then version; one entry per installed package version. */
export function bundleManifest(
  bundle: string,
  bundleBytes: Buffer,
  modules: readonly StatsModule[],
  readPackageJson: (dir: string) => { name?: unknown; version?: unknown; license?: unknown; licenses?: unknown },
  chunkFiles: ChunkFiles = {},
): BundleManifest {
  const byKey = new Map<string, BundledPackage>();
  for (const dir of packageDirs(modules)) {
    const pkg = readPackageJson(dir);
    const p = { name: String(pkg.name ?? ''), version: String(pkg.version ?? ''), license: licenseOf(pkg) };
    byKey.set(`${p.name}@${p.version}`, p);
  }
  const packages = [...byKey.values()].sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
  const chunks = Object.fromEntries(Object.keys(chunkFiles).sort().map((f) => [f, sha256(chunkFiles[f]!)]));
  return { bundle, sha256: sha256(bundleBytes), chunks, packages };
}

/**
 * What is wrong with a committed manifest: an entry or chunk that changed since it was written,
 * a chunk it does not list (or lists and the bundle lacks), or a package set that differs from
 * ncc's licenses.txt (our own workspace packages aside). One line each.
 */
export function manifestProblems(manifest: BundleManifest, bundleBytes: Buffer, nccNames: readonly string[], chunkFiles: ChunkFiles = {}): string[] {
  const problems: string[] = [];
  const sha = sha256(bundleBytes);
  if (manifest.sha256 !== sha) problems.push(`${manifest.bundle} has sha256 ${sha}, the manifest says ${manifest.sha256}: rebuild with pnpm build`);
  const listed = manifest.chunks ?? {};
  for (const [file, bytes] of Object.entries(chunkFiles)) {
    if (!(file in listed)) problems.push(`${file} is not in ${manifest.bundle}'s manifest: rebuild with pnpm build`);
    else if (listed[file] !== sha256(bytes)) problems.push(`${file} has sha256 ${sha256(bytes)}, the manifest says ${listed[file]}: rebuild with pnpm build`);
  }
  for (const file of Object.keys(listed)) if (!(file in chunkFiles)) problems.push(`${manifest.bundle}'s manifest lists ${file}, which is missing: rebuild with pnpm build`);
  const ours = new Set(manifest.packages.map((p) => p.name));
  const theirs = new Set(nccNames.filter((n) => !n.startsWith('@deploy-actions/')));
  const missing = [...theirs].filter((n) => !ours.has(n));
  const extra = [...ours].filter((n) => !theirs.has(n));
  if (missing.length) problems.push(`${manifest.bundle}: licenses.txt lists ${missing.join(', ')}, the manifest does not`);
  if (extra.length) problems.push(`${manifest.bundle}: the manifest lists ${extra.join(', ')}, licenses.txt does not`);
  for (const p of manifest.packages) if (!p.version) problems.push(`${manifest.bundle}: ${p.name} has no version`);
  return problems;
}
