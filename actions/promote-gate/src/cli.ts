#!/usr/bin/env -S npx tsx
/**
 * What runs where, from a laptop: the status view of promote-gate's `status` mode.
 *
 *   GITHUB_TOKEN=... pnpm status --repo acme/orders-api --repository team/orders-api \
 *     [--environments qa,preprod,production] [--json] [--card production]
 *
 * Exit codes: 0 shown, 1 error.
 */
import { pathToFileURL } from 'node:url';
import { UserError, errorMessage, splitList } from '@deploy-actions/action-kit';
import { octokitApprovals } from './approvals';
import { octokitDeployments } from './github';
import { ECR_REPOSITORY_RE, ENVIRONMENT_RE } from './refs';
import { runningCard, statusLines, statusView } from './status';

export const USAGE = `Usage: pnpm status --repo <owner/name> --repository <ecr-repository> [--environments qa,preprod,production] [--json] [--card <environment>]

Prints, per environment, the digest and commit running, since when, the run that recorded it,
who approved it, its evidence, a newer attempt that failed, and what waits to be promoted.
  --repo          the service's GitHub repository (default: GITHUB_REPOSITORY)
  --repository    the ECR repository the evidence is about (e.g. team/orders-api)
  --environments  the promotion chain, in order (default: qa,preprod,production)
  --json          print the view as JSON
  --card          after the view, print the release card kept with what runs in that environment
                  and whether its sha256 is the one its signed statement names
Environment: GITHUB_TOKEN (or GH_TOKEN) with Deployments: read (Actions: read shows approvers),
GITHUB_API_URL (default https://api.github.com).`;

export interface CliIO {
  out(line: string): void;
  err(line: string): void;
}

interface Args {
  repo: string;
  repository: string;
  environments: string[];
  json: boolean;
  card: string;
}

function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv): Args | 'help' {
  const args: Args = { repo: env.GITHUB_REPOSITORY ?? '', repository: '', environments: ['qa', 'preprod', 'production'], json: false, card: '' };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UserError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--help' || flag === '-h') return 'help';
    else if (flag === '--json') args.json = true;
    else if (flag === '--repo') args.repo = value();
    else if (flag === '--repository') args.repository = value();
    else if (flag === '--environments') args.environments = splitList(value());
    else if (flag === '--card') args.card = value();
    else throw new UserError(`unknown argument '${argv[i]}'\n${USAGE}`);
  }
  if (!/^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/.test(args.repo)) throw new UserError(`--repo must be owner/name (got '${args.repo}')`);
  if (!ECR_REPOSITORY_RE.test(args.repository)) throw new UserError(`--repository must be an ECR repository name like team/service (got '${args.repository}')`);
  const bad = args.environments.find((e) => !ENVIRONMENT_RE.test(e));
  if (bad !== undefined || args.environments.length === 0) throw new UserError(`--environments must list environment names (got '${bad ?? ''}')`);
  if (args.card && !args.environments.some((e) => e.toLowerCase() === args.card.toLowerCase())) throw new UserError(`--card must name one of the environments ${args.environments.join(', ')} (got '${args.card}')`);
  return args;
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv, io: CliIO): Promise<number> {
  try {
    const args = parseArgs(argv, env);
    if (args === 'help') {
      io.out(USAGE);
      return 0;
    }
    const token = env.GITHUB_TOKEN || env.GH_TOKEN || '';
    if (!token) throw new UserError('set GITHUB_TOKEN (a token with Deployments: read on the repository)');
    const [owner, repo] = args.repo.split('/') as [string, string];
    const gh = { token, apiUrl: (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, ''), owner, repo, onRetry: (m: string) => io.err(`retrying: ${m}`) };
    const view = await statusView(
      { github: octokitDeployments({ ...gh, need: 'read' }), approvals: octokitApprovals(gh) },
      args.environments,
      args.repository,
    );
    // Descriptions and names come from the API: no terminal control characters reach the screen.
    const print = (text: string) => io.out(text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '?'));
    if (args.json) print(JSON.stringify(view, null, 2));
    else for (const line of statusLines(view)) print(line);
    if (args.card) for (const line of ['', ...runningCard(view, args.card)]) print(line);
    return 0;
  } catch (err) {
    io.err(`error: ${errorMessage(err)}`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main(process.argv.slice(2), process.env, { out: (l) => console.log(l), err: (l) => console.error(l) }).then((code) => {
    process.exitCode = code;
  });
}
