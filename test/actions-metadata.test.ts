/**
 * Every public action: its action.yml sits alone in a top-level folder named like the
 * action, runs node24 from ../actions/<name>/dist/index.js, describes every input and
 * output, has branding, and declares every input its inputs.ts reads.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { readActionMetadata, repoRoot, runnerDefault } from './harness/runner';

const actions = readdirSync(join(repoRoot, 'actions')).filter((n) => existsSync(join(repoRoot, n, 'action.yml')));

/** Input names read through the Inputs accessors: i.string('x'), i.bool('y', ...), ... */
export function inputsReadBy(source: string): string[] {
  const names = new Set<string>();
  for (const m of source.matchAll(/\.(?:string|required|bool|int|oneOf|list|keyValues)\(\s*'([a-z0-9-]+)'/g)) names.add(m[1]!);
  return [...names].sort();
}

test('there are actions to check', () => {
  expect(actions).toContain('build-push-ecr');
});

test('the input scanner finds accessor calls', () => {
  expect(inputsReadBy(`i.required('repository'); i.bool('skip-existing', true); i.oneOf('builder', B, 'auto')`)).toEqual([
    'builder',
    'repository',
    'skip-existing',
  ]);
});

/** The module type dist/package.json gives the bundle's files. */
function distType(name: string): string {
  return JSON.parse(readFileSync(join(repoRoot, 'actions', name, 'dist/package.json'), 'utf8')).type;
}

describe.each(actions)('%s', (name) => {
  const meta = readActionMetadata(name);

  test('its folder holds action.yml and nothing else', () => {
    expect(readdirSync(join(repoRoot, name))).toEqual(['action.yml']);
  });

  test('runs node24 from the committed bundle', () => {
    expect(meta.runs.using).toBe('node24');
    expect(meta.runs.main).toBe(`../actions/${name}/dist/index.js`);
    expect(existsSync(join(repoRoot, name, meta.runs.main))).toBe(true);
    // ES modules (ncc's output for a package of type module), or CommonJS where the action's build
    // says so (build-push-ecr: scripts/build-cjs.mjs); node reads the files by this type.
    expect(['module', 'commonjs']).toContain(distType(name));
  });

  test('its dist/ is self-contained: every chunk the entry loads is there, none is stale, nothing but node is required', () => {
    const dist = join(repoRoot, 'actions', name, 'dist');
    const js = readdirSync(dist).filter((f) => f.endsWith('.js'));
    const text = js.map((f) => readFileSync(join(dist, f), 'utf8')).join('\n');
    // webpack's runtime loads chunk <id> as ./<id>.index.js (ncc names them so); in a chunk the
    // minifier may have renamed __nccwpck_require__ (a short parameter name).
    const loaded = [...new Set([...text.matchAll(/(?:require__|\b[\w$]{1,2})\.e\((\d+)\)/g)].map((m) => `${m[1]}.index.js`))].sort();
    expect(loaded.length).toBeGreaterThan(0);
    expect(js.filter((f) => f !== 'index.js').sort()).toEqual(loaded);
    // Modules outside the bundle: node's own only. An ES module bundle reaches them through
    // createRequire or a static import; a CommonJS one through require calls (not the SDK's
    // error texts that name one), and holds no ES module
    // syntax (node would refuse an import statement in a file its package.json calls commonjs).
    const esm = /\(import\.meta\.url\)\("([^"]+)"\)|(?:^|;)\s*import\s*[\w*{}\s,$]+from\s*"([^"]+)"/gm;
    const external =
      distType(name) === 'module'
        ? [...text.matchAll(esm)].map((m) => m[1] ?? m[2]!)
        : [...text.matchAll(/(?<=[=(,;:?&|!])require\("([^"./][^"]*)"\)/g)].map((m) => m[1]!);
    if (distType(name) === 'module') expect(external).toContain('module');
    else expect([...text.matchAll(esm)].map((m) => m[0])).toEqual([]);
    expect(external.length).toBeGreaterThan(0);
    expect(external.filter((m) => !isBuiltin(m))).toEqual([]);
  });

  test('has a name, description, branding, and describes every input and output', () => {
    expect(meta.name).toBeTruthy();
    expect(meta.branding?.icon).toBeTruthy();
    expect(meta.branding?.color).toBeTruthy();
    for (const [input, spec] of Object.entries(meta.inputs ?? {})) expect(spec.description, input).toBeTruthy();
    for (const [output, spec] of Object.entries(meta.outputs ?? {})) expect(spec.description, output).toBeTruthy();
  });

  test('declares every input its code reads', () => {
    const src = join(repoRoot, 'actions', name, 'src');
    const read = readdirSync(src)
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) => inputsReadBy(readFileSync(join(src, f), 'utf8')));
    expect(read.length).toBeGreaterThan(0);
    expect(read.filter((i) => !(i in (meta.inputs ?? {})))).toEqual([]);
  });
});

describe('action.yml defaults as the harness hands them to a bundle (as the runner evaluates them)', () => {
  test.each([
    ['5m', {}, '5m'],
    ['${{ github.token }}', { GITHUB_TOKEN: 'ghs_job' }, 'ghs_job'],
    ['${{github.token}}', {}, ''],
  ])('%s -> %s', (value, env: Record<string, string>, expected) => {
    expect(runnerDefault(value, env)).toBe(expected);
  });

  test('an expression the harness does not evaluate throws instead of reaching the action as text', () => {
    expect(() => runnerDefault('${{ github.repository }}', {})).toThrow(/only \$\{\{ github\.token \}\} is evaluated/);
  });

  test('every expression default of our action.yml files is one the harness evaluates', () => {
    for (const name of ['build-push-ecr', 'helm-deploy-eks', 'promote-gate']) {
      for (const spec of Object.values(readActionMetadata(name).inputs ?? {})) {
        if (spec.default !== undefined) expect(() => runnerDefault(String(spec.default), {})).not.toThrow();
      }
    }
  });
});
