/**
 * Double of actions/setup-node v4.4.0 (49933ea): the path the workflows use, `node-version`
 * with a version spec. As the action does (src/distributions/official_builds), it looks in the
 * runner's tool cache first (@actions/tool-cache `find`: `$RUNNER_TOOL_CACHE/node/<version>/x64`
 * with its `x64.complete` marker, the greatest version satisfying the spec), prints
 * `Found in cache @ <dir>` and adds `<dir>/bin` to PATH; then sets the `node-version` output
 * from `node --version`. There is no network here, so a version the tool cache lacks fails the
 * step with the action's own words for a version it cannot get. Not modelled (the step fails
 * saying so): node-version-file, check-latest, registry-url, cache, mirror, other architectures.
 * A test fills the tool cache with `addNodeToToolCache`, as a runner image ships its Node versions.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import semver from 'semver';
import { runStep, StepFailure, type ActionMetadata, type Step } from './step';
import type { ActionDouble, ActionDoubleContext } from './types';

const run = promisify(execFile);

/** Inputs of action.yml at v4.4.0 and their defaults. */
export const SETUP_NODE_INPUTS: ActionMetadata = {
  'always-auth': 'false',
  'node-version': undefined,
  'node-version-file': undefined,
  architecture: undefined,
  'check-latest': 'false',
  'registry-url': undefined,
  scope: undefined,
  token: '${{ github.token }}', // action.yml: `github.server_url == 'https://github.com' && github.token || ''`; the executor's server is github.com
  cache: undefined,
  'cache-dependency-path': undefined,
  mirror: undefined,
  'mirror-token': undefined,
};

/** tool-cache `find`: the greatest cached version satisfying `spec` (an exact version must be cached as such). */
export function findInToolCache(toolCache: string, spec: string, arch = 'x64'): string | undefined {
  const dir = join(toolCache, 'node');
  if (!existsSync(dir)) return undefined;
  const complete = readdirSync(dir).filter((v) => semver.valid(v) && existsSync(join(dir, v, `${arch}.complete`)));
  const version = semver.valid(spec) ? complete.find((v) => v === semver.clean(spec)) : semver.maxSatisfying(complete, spec);
  return version ? join(dir, version, arch) : undefined;
}

/** Puts a Node binary into a tool cache the way the action's download leaves one: node/<version>/x64/bin/node. */
export function addNodeToToolCache(toolCache: string, nodeBinary = process.execPath, version = process.versions.node): void {
  const dir = join(toolCache, 'node', version, 'x64');
  mkdirSync(join(dir, 'bin'), { recursive: true });
  if (!existsSync(join(dir, 'bin', 'node'))) symlinkSync(nodeBinary, join(dir, 'bin', 'node'));
  writeFileSync(`${dir}.complete`, '');
}

async function setupNode(ctx: ActionDoubleContext, step: Step): Promise<void> {
  const unsupported = ['node-version-file', 'registry-url', 'cache', 'mirror'].filter((n) => step.input(n) !== '');
  if (step.input('check-latest').toUpperCase() === 'TRUE') unsupported.push('check-latest');
  if (!['', 'x64'].includes(step.input('architecture'))) unsupported.push('architecture');
  if (unsupported.length) throw new StepFailure(`setup-node double: input ${unsupported.join(', ')} is not modelled`);
  const spec = step.input('node-version');
  if (spec) {
    const toolPath = findInToolCache(ctx.env.RUNNER_TOOL_CACHE ?? '', spec);
    if (!toolPath) {
      step.info(`Attempting to download ${spec}...`);
      throw new StepFailure(`Unable to find Node version '${spec}' for platform linux and architecture x64.`);
    }
    step.info(`Found in cache @ ${toolPath}`);
    step.addPath(join(toolPath, 'bin'));
  }
  const node = spec ? join(step.path.at(-1)!, 'node') : 'node';
  const version = (await run(node, ['--version'], { env: ctx.env })).stdout.trim();
  step.info(`node: ${version}`);
  step.setOutput('node-version', version);
}

export function setupNodeDouble(): ActionDouble {
  return (ctx) => runStep(ctx, SETUP_NODE_INPUTS, (step) => setupNode(ctx, step));
}
