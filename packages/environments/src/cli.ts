#!/usr/bin/env -S npx tsx
/**
 * deploy-environments: apply (or --check) a repository's GitHub deployment environments
 * from an environments file.
 *
 *   GITHUB_TOKEN=... pnpm --filter @deploy-actions/environments run apply \
 *     --repo acme/sample-service --file workflows/environments.yml [--check]
 *
 * (a relative --file is resolved from the directory pnpm was started in)
 *
 * Exit codes: 0 in sync (or applied), 1 error, 2 drift found by --check.
 */
import { pathToFileURL } from 'node:url';
import { UserError, errorMessage } from '@deploy-actions/action-kit';
import { ConfigError, parseEnvironmentsFile } from './config';
import { readEnvironmentsText } from './file';
import { octokitEnvironments, type EnvironmentsApi } from './github';
import { resolve, sync } from './sync';

export const USAGE = `Usage: deploy-environments --repo <owner/name> [--file <path>] [--check]

Creates or updates the repository's GitHub deployment environments (reviewers, wait timer,
self-review prevention, deployment branches) to match the environments file.
  --repo    owner/name (default: GITHUB_REPOSITORY)
  --file    environments file (default: .github/environments.yml)
  --check   report drift and exit 2 when the repository differs; change nothing
Environment: GITHUB_TOKEN (or GH_TOKEN), GITHUB_API_URL (default https://api.github.com).`;

export interface CliIO {
  out(line: string): void;
  err(line: string): void;
}

interface Args {
  repo: string;
  file: string;
  check: boolean;
}

function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv): Args | 'help' {
  const args: Args = { repo: env.GITHUB_REPOSITORY ?? '', file: '.github/environments.yml', check: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UserError(`${a} needs a value`);
      return v;
    };
    if (a === '--help' || a === '-h') return 'help';
    else if (a === '--check') args.check = true;
    else if (a === '--repo') args.repo = value();
    else if (a.startsWith('--repo=')) args.repo = a.slice(7);
    else if (a === '--file') args.file = value();
    else if (a.startsWith('--file=')) args.file = a.slice(7);
    else throw new UserError(`unknown argument '${a}'\n${USAGE}`);
  }
  if (!/^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/.test(args.repo)) throw new UserError(`--repo must be owner/name (got '${args.repo}')`);
  return args;
}

/** The whole command; returns the exit code. `makeApi` is replaceable for tests of the wiring only. */
export async function main(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  io: CliIO,
  makeApi: (o: { token: string; apiUrl: string; owner: string; repo: string }) => EnvironmentsApi = (o) =>
    octokitEnvironments({ ...o, onRetry: (m) => io.err(`retrying: ${m}`) }),
): Promise<number> {
  try {
    const args = parseArgs(argv, env);
    if (args === 'help') {
      io.out(USAGE);
      return 0;
    }
    const [owner, repo] = args.repo.split('/') as [string, string];
    const { text } = readEnvironmentsText(args.file, env);
    const specs = parseEnvironmentsFile(text, owner, args.file);
    const token = env.GITHUB_TOKEN || env.GH_TOKEN || '';
    if (!token) throw new UserError('set GITHUB_TOKEN (a token with Administration: write on the repository, Members: read on the org for teams)');
    const api = makeApi({ token, apiUrl: env.GITHUB_API_URL || 'https://api.github.com', owner, repo });
    const desired = await resolve(specs, api);
    const result = await sync(desired, api, { check: args.check, log: (l) => io.out(l) });
    for (const u of result.unmanaged) io.out(`note: environment '${u}' exists in ${args.repo} but is not in ${args.file} (left alone)`);
    if (args.check) {
      if (result.changes.length === 0) {
        io.out(`${args.repo}: environments match ${args.file}`);
        return 0;
      }
      io.out(`${args.repo}: ${result.changes.length} difference(s) from ${args.file}:`);
      for (const c of result.changes) io.out(`  ${c.environment}: ${c.detail}`);
      return 2;
    }
    for (const c of result.changes) io.out(`  ${c.environment}: ${c.detail}`);
    io.out(
      result.changes.length
        ? `${args.repo}: applied ${result.changes.length} change(s) from ${args.file}`
        : `${args.repo}: no changes; environments already match ${args.file}`,
    );
    return 0;
  } catch (err) {
    if (err instanceof UserError || err instanceof ConfigError) {
      io.err(`error: ${err.message}`);
      return 1;
    }
    io.err(`error: ${errorMessage(err)}`);
    if (err instanceof Error && err.stack && env.RUNNER_DEBUG === '1') io.err(err.stack);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main(process.argv.slice(2), process.env, {
    out: (l) => console.log(l),
    err: (l) => console.error(l),
  }).then((code) => {
    process.exitCode = code;
  });
}
