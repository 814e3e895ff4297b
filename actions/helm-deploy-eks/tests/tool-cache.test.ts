/**
 * lazyToolCache (tools.ts): a run whose helm is in the tool cache finds it without loading
 * @actions/tool-cache (and undici with it); its lookup must agree with tool-cache's own find on
 * a cache tool-cache wrote, and caching still goes through tool-cache.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import * as tc from '@actions/tool-cache';
import { lazyToolCache } from '../src/tools';

let root: string;
const saved = { RUNNER_TOOL_CACHE: process.env.RUNNER_TOOL_CACHE, RUNNER_TEMP: process.env.RUNNER_TEMP };
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tool-cache-'));
  Object.assign(process.env, { RUNNER_TOOL_CACHE: join(root, 'cache'), RUNNER_TEMP: join(root, 'temp') });
});
afterAll(() => {
  for (const [k, v] of Object.entries(saved)) (v === undefined ? delete process.env[k] : (process.env[k] = v));
  rmSync(root, { recursive: true, force: true });
});

const noDownload = async () => {
  throw new Error('no download expected');
};

test('find agrees with @actions/tool-cache: cached by tool-cache, another version, another arch, no .complete marker', async () => {
  const lazy = lazyToolCache(process.env, noDownload);
  const src = join(root, 'src');
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, 'helm'), '#!/bin/sh\n');
  // Cached through the lazy cache: tool-cache's own cacheDir does the writing.
  const dir = await lazy.cacheDir(src, 'helm', '4.3.0', 'amd64');
  const cases: Array<[string, string, string]> = [
    ['helm', '4.3.0', 'amd64'],
    ['helm', 'v4.3.0', 'amd64'],
    ['helm', '4.2.3', 'amd64'],
    ['helm', '4.3.0', 'arm64'],
    ['kubectl', '4.3.0', 'amd64'],
  ];
  for (const [tool, version, arch] of cases) expect([tool, version, arch, lazy.find(tool, version, arch)]).toEqual([tool, version, arch, tc.find(tool, version, arch)]);
  expect(lazy.find('helm', '4.3.0', 'amd64')).toBe(dir);
  rmSync(`${dir}.complete`);
  expect(lazy.find('helm', '4.3.0', 'amd64')).toBe('');
  expect(tc.find('helm', '4.3.0', 'amd64')).toBe('');
});

test('without RUNNER_TOOL_CACHE: refused as tool-cache refuses it', () => {
  expect(() => lazyToolCache({}, noDownload).find('helm', '4.3.0', 'amd64')).toThrow(/RUNNER_TOOL_CACHE/);
});
