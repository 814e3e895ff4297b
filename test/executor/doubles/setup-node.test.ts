/** actions/setup-node double: the tool cache lookup, PATH, the output, and what it refuses. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { addNodeToToolCache, findInToolCache, setupNodeDouble } from './setup-node';
import { stepContext } from './testing';

let cache: string;
beforeAll(() => {
  cache = mkdtempSync(join(tmpdir(), 'tool-cache-'));
  addNodeToToolCache(cache); // this Node under its own version
  addNodeToToolCache(cache, process.execPath, '20.1.0');
});

describe('setup-node double', () => {
  test.each([
    ['20', '20.'],
    ['20.1.0', '20.1.0'],
    [process.versions.node, process.versions.node],
    ['>=18', process.versions.node.split('.')[0]!],
  ])('finds %s in the tool cache', (spec, prefix) => {
    expect(findInToolCache(cache, spec)).toContain(join(cache, 'node', prefix));
  });

  test('takes the greatest cached version of the spec and skips one without its .complete marker', () => {
    expect(findInToolCache(cache, '20')).toBe(join(cache, 'node', process.versions.node.startsWith('20.') ? process.versions.node : '20.1.0', 'x64'));
    expect(findInToolCache(cache, '18')).toBeUndefined();
  });

  test('adds the bin directory to PATH and sets node-version', async () => {
    const r = await setupNodeDouble()(stepContext({ with: { 'node-version': '20.1.0' }, env: { RUNNER_TOOL_CACHE: cache } }));
    expect(r.outcome).toBe('success');
    expect(r.path).toEqual([join(cache, 'node', '20.1.0', 'x64', 'bin')]);
    expect(r.outputs['node-version']).toBe(`v${process.versions.node}`); // the binary linked in is this Node
    expect(r.log[0]).toBe(`Found in cache @ ${join(cache, 'node', '20.1.0', 'x64')}`);
  });

  test.each([
    [{ 'node-version': '16' }, "Unable to find Node version '16' for platform linux and architecture x64."],
    [{ 'node-version': '20', cache: 'pnpm' }, 'setup-node double: input cache is not modelled'],
    [{ 'node-version-file': '.nvmrc' }, 'setup-node double: input node-version-file is not modelled'],
  ])('fails with %j', async (inputs, error) => {
    const r = await setupNodeDouble()(stepContext({ with: inputs, env: { RUNNER_TOOL_CACHE: cache } }));
    expect(r).toMatchObject({ outcome: 'failure', error });
  });
});
