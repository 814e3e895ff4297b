/**
 * deploy-setup: the whole set-up of deploy-actions from one file.
 *
 *   deploy-setup generate [--file F] [--out DIR]        CloudFormation templates, one stack per account
 *   deploy-setup github   [--file F] [--check]          GitHub environments and variables (--check: drift only)
 *   deploy-setup doctor   [--file F] [--profile A=P]    read-only checks of the deployed set-up (doctor/)
 *
 * Exit codes: 0 done / in sync, 1 error, 2 drift or problems found.
 */
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { UserError, cliErrorLine, githubApiUrlOf, githubTokenOf, neutralIO } from '@deploy-actions/action-kit';
import { parseEnvironmentsConfig, type EnvironmentsConfig } from '../config';
import { ConfigError } from '../errors';
import { readEnvironmentsText } from '../file';
import { octokitEnvironments, type EnvironmentsApi } from '../github';
import { resolve as resolveReviewers, sync as syncEnvironments } from '../sync';
import { driftedFiles, renderFiles, writeFiles } from './files';
import { octokitSetup, readIdentity, type SetupGithubApi } from './github-api';
import { cloudFormationOutputs, type ReadOutputs } from './stack-outputs';
import { describeSubject, parseSubjectFormat, type RepoIdentity, type SubjectFormat } from './subject';
import { plan, type SetupConfig, type SetupPlan } from './template';
import { applyVariables, desiredVariables, readVariables } from './variables';
import { sdkDoctorAws, type DoctorAwsFactory } from './doctor/aws';
import { runDoctor } from './doctor/index';

export const SETUP_USAGE = `Usage: deploy-setup <generate|github|doctor> [options]

  generate   write the CloudFormation templates (one stack per AWS account) and their parameters
  github     create/update the GitHub environments (reviewers, branches) and the variables the
             workflows read; --check reports drift (exit 2) and changes nothing
  doctor     read-only checks of the deployed set-up with your own credentials: each role's trust
             vs the tokens the repository's jobs carry, IAM's simulation of every action each role
             needs, the evidence key policies, the EKS access entries' namespace, the GitHub
             environments and variables, the plan's limits; one table of what is wrong and the fix
             (exit 2), exit 0 when nothing is

Options:
  --file F                 the environments file (default .github/environments.yml)
  --out DIR                generate: where the templates go (default .github/aws)
  --check                  generate: fail (exit 2) when DIR differs; github: report drift only
  --offline                take the repositories' GitHub ids from --repo-ids instead of the API
  --repo-ids R=OWNER_ID/REPO_ID   (repeatable) ids of repository R (owner/name)
  --subject R=FORMAT       (repeatable) immutable | legacy | custom:claim,claim,...: the OIDC
                           subject R's tokens carry (default: read from GitHub)
  --profile ACCOUNT=NAME   (repeatable) github, doctor: AWS profile for that account (default: the
                           default credential chain)
Environment: GITHUB_TOKEN (or GH_TOKEN), GITHUB_API_URL (default https://api.github.com).`;

/** The largest template body CloudFormation accepts in the request itself (larger ones go through S3). */
export const INLINE_TEMPLATE_BYTES = 51_200;

export interface SetupIO {
  out(line: string): void;
  err(line: string): void;
}

export interface SetupDeps {
  github?: (o: { token: string; apiUrl: string }) => SetupGithubApi;
  environments?: (o: { token: string; apiUrl: string; owner: string; repo: string }) => EnvironmentsApi;
  outputs?: (profiles: ReadonlyMap<string, string>) => ReadOutputs;
  aws?: DoctorAwsFactory;
}

interface Args {
  command: 'generate' | 'github' | 'doctor';
  file: string;
  out: string;
  check: boolean;
  offline: boolean;
  repoIds: Map<string, { ownerId: string; repositoryId: string }>;
  subjects: Map<string, SubjectFormat>;
  profiles: Map<string, string>;
}

const REPO_RE = /^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/;

function parseArgs(argv: readonly string[]): Args | 'help' {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') return 'help';
  if (command !== 'generate' && command !== 'github' && command !== 'doctor') throw new UserError(`unknown command '${command}' (expected generate, github or doctor)`);
  const args: Args = { command, file: '.github/environments.yml', out: '.github/aws', check: false, offline: false, repoIds: new Map(), subjects: new Map(), profiles: new Map() };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    const [flag, inline] = a.startsWith('--') && a.includes('=') && !['--repo-ids', '--subject', '--profile'].some((f) => a === f) ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => {
      if (inline !== undefined) return inline;
      const v = rest[++i];
      if (v === undefined || v.startsWith('--')) throw new UserError(`${flag} needs a value`);
      return v;
    };
    const pair = (v: string, what: string): [string, string] => {
      const at = v.indexOf('=');
      if (at <= 0) throw new UserError(`${flag} must be ${what} (got '${v}')`);
      return [v.slice(0, at), v.slice(at + 1)];
    };
    if (flag === '--help' || flag === '-h') return 'help';
    else if (flag === '--check') args.check = true;
    else if (flag === '--offline') args.offline = true;
    else if (flag === '--file') args.file = value();
    else if (flag === '--out') args.out = value();
    else if (flag === '--repo-ids') {
      const [repo, ids] = pair(value(), 'owner/name=OWNER_ID/REPO_ID');
      const m = /^(\d+)\/(\d+)$/.exec(ids);
      if (!REPO_RE.test(repo) || !m) throw new UserError(`--repo-ids must be owner/name=OWNER_ID/REPO_ID (numbers; got '${repo}=${ids}')`);
      args.repoIds.set(repo.toLowerCase(), { ownerId: m[1]!, repositoryId: m[2]! });
    } else if (flag === '--subject') {
      const [repo, fmt] = pair(value(), 'owner/name=immutable|legacy|custom:claim,...');
      const parsed = parseSubjectFormat(fmt);
      if (!REPO_RE.test(repo) || !parsed) throw new UserError(`--subject must be owner/name=immutable, legacy or custom:claim,claim (got '${repo}=${fmt}')`);
      args.subjects.set(repo.toLowerCase(), parsed);
    } else if (flag === '--profile') {
      const [account, profile] = pair(value(), 'ACCOUNT=PROFILE');
      if (!/^\d{12}$/.test(account) || !profile) throw new UserError(`--profile must be a 12-digit account id = a profile name (got '${account}=${profile}')`);
      args.profiles.set(account, profile);
    } else throw new UserError(`unknown argument '${a}' (see --help)`);
  }
  return args;
}

function readConfig(args: Args, env: NodeJS.ProcessEnv): { cfg: SetupConfig; path: string } {
  const { path, text } = readEnvironmentsText(args.file, env);
  // Teams without an org/ prefix belong to the (first) service's owner.
  const first = parseEnvironmentsConfig(text, 'owner', args.file);
  const owner = first.services[0]?.repository.split('/')[0] ?? 'owner';
  const cfg: EnvironmentsConfig = parseEnvironmentsConfig(text, owner, args.file);
  if (!cfg.aws || cfg.services.length === 0) throw new ConfigError(`${args.file}: needs the 'aws' and 'services' sections for deploy-setup (see workflows/environments.yml)`);
  return { cfg: cfg as SetupConfig, path };
}

function tokenOf(env: NodeJS.ProcessEnv): { token: string; apiUrl: string } {
  const token = githubTokenOf(env, 'set GITHUB_TOKEN (or use --offline with --repo-ids for generate)');
  return { token, apiUrl: githubApiUrlOf(env) };
}

async function identities(cfg: SetupConfig, args: Args, env: NodeJS.ProcessEnv, deps: SetupDeps, io: SetupIO): Promise<Array<RepoIdentity & { private?: boolean }>> {
  const out: Array<RepoIdentity & { private?: boolean }> = [];
  let api: SetupGithubApi | undefined;
  for (const s of cfg.services) {
    const key = s.repository.toLowerCase();
    const fmt = args.subjects.get(key);
    if (args.offline) {
      const ids = args.repoIds.get(key);
      if (!ids) throw new UserError(`--offline: give the ids of ${s.repository} with --repo-ids ${s.repository}=OWNER_ID/REPO_ID (services.${s.name}.repository)`);
      out.push({ repository: s.repository, ...ids, subject: fmt ?? { kind: 'immutable' } });
      continue;
    }
    api ??= (deps.github ?? ((o) => octokitSetup({ ...o, onRetry: (m) => io.err(`retrying: ${m}`) })))(tokenOf(env));
    const id = await readIdentity(api, s.repository, fmt ? fmt.kind !== 'legacy' : undefined);
    const identity = fmt ? { ...id, subject: fmt } : id;
    io.out(`${s.repository}: repository id ${identity.repositoryId}, owner id ${identity.ownerId}, OIDC subject ${describeSubject(identity.subject)}${fmt ? ' (--subject)' : ` (created ${id.createdAt})`}`);
    out.push(identity);
  }
  return out;
}

function planOf(cfg: SetupConfig, ids: RepoIdentity[]): SetupPlan {
  return plan(cfg, new Map(ids.map((i) => [i.repository.toLowerCase(), i])));
}

async function generate(args: Args, env: NodeJS.ProcessEnv, deps: SetupDeps, io: SetupIO): Promise<number> {
  const { cfg } = readConfig(args, env);
  const ids = await identities(cfg, args, env, deps, io);
  const p = planOf(cfg, ids);
  const files = renderFiles(p, ids, args.file);
  const dir = isAbsolute(args.out) ? args.out : resolvePath(env.INIT_CWD || process.cwd(), args.out);
  if (args.check) {
    const drift = driftedFiles(dir, files);
    if (drift.length) {
      io.out(`${args.out}: ${drift.length} file(s) differ from what ${args.file} generates: ${drift.join(', ')}`);
      return 2;
    }
    io.out(`${args.out}: matches ${args.file}`);
    return 0;
  }
  writeFiles(dir, files);
  // CloudFormation takes a template body of at most 51,200 bytes inline (what `deploy` sends without --s3-bucket).
  const large = new Set(p.stacks.filter((s) => Buffer.byteLength(files.get(`${s.label}.template.json`)!) > INLINE_TEMPLATE_BYTES).map((s) => s.label));
  for (const s of p.stacks) {
    const count = Object.keys(s.template.Resources as object).length;
    io.out(`${s.stackName}: account ${s.account} ${s.region}, ${count} resources -> ${args.out}/${s.label}.template.json`);
  }
  io.out('Deploy each stack in its account, as the key administrator (see workflows/README.md):');
  for (const s of p.stacks) {
    io.out(
      `  aws cloudformation deploy --region ${s.region} --stack-name ${s.stackName} --template-file ${args.out}/${s.label}.template.json --parameter-overrides file://${args.out}/${s.label}.parameters.json --capabilities CAPABILITY_NAMED_IAM${large.has(s.label) ? ' --s3-bucket <a bucket of that account>' : ''}`,
    );
  }
  if (large.size) io.out(`note: ${[...large].map((l) => `${l}.template.json`).join(', ')} exceed the ${INLINE_TEMPLATE_BYTES} bytes CloudFormation takes inline: deploy uploads them through --s3-bucket (up to 460,800 bytes)`);
  return 0;
}

async function github(args: Args, env: NodeJS.ProcessEnv, deps: SetupDeps, io: SetupIO): Promise<number> {
  const { cfg } = readConfig(args, env);
  const conn = tokenOf(env);
  const ids = await identities(cfg, args, env, deps, io);
  const p = planOf(cfg, ids);
  const read = (deps.outputs ?? cloudFormationOutputs)(args.profiles);
  const outputs = new Map<string, string>();
  for (const s of p.stacks) {
    const o = await read(s);
    if (!o) io.out(`note: stack ${s.stackName} is not deployed in ${s.account} ${s.region}; its outputs (EVIDENCE_KMS_KEYS) are not known yet`);
    for (const [k, v] of Object.entries(o ?? {})) outputs.set(k, v);
  }
  const api = (deps.github ?? ((o) => octokitSetup({ ...o, onRetry: (m) => io.err(`retrying: ${m}`) })))(conn);
  const vars = await readVariables(desiredVariables(cfg, p, outputs), api);
  let drift = 0;
  for (const s of cfg.services) {
    const [owner, repo] = s.repository.split('/') as [string, string];
    const envApi = (deps.environments ?? ((o) => octokitEnvironments({ ...o, onRetry: (m) => io.err(`retrying: ${m}`) })))({ ...conn, owner, repo });
    const desired = await resolveReviewers(cfg.environments, envApi);
    const envs = await syncEnvironments(desired, envApi, { check: args.check, log: (l) => io.out(`${s.repository}: ${l}`) });
    for (const c of envs.changes) io.out(`${s.repository}: ${args.check ? 'differs' : 'applied'}: ${c.environment}: ${c.detail}`);
    drift += envs.changes.length;
  }
  await applyVariables(vars.changes, api, { check: args.check, log: (l) => io.out(l) });
  drift += vars.changes.length;
  for (const u of vars.unknown) io.out(`not set: ${u.repository} ${u.name} (deploy the stacks first; it comes from their outputs)`);
  io.out('What the plan cannot enforce: required reviewers and wait timers need a public repository or GitHub Enterprise for private ones (Pro/Team private repositories keep only the branch rules); organization-level variables with the same names are shadowed by these.');
  if (args.check) {
    io.out(drift ? `${drift} difference(s) from ${args.file}` : `GitHub matches ${args.file}${vars.unknown.length ? ' (except the values not known yet)' : ''}`);
    return drift || vars.unknown.length ? 2 : 0;
  }
  io.out(`applied ${drift} change(s) from ${args.file}`);
  return 0;
}

async function doctor(args: Args, env: NodeJS.ProcessEnv, deps: SetupDeps, io: SetupIO): Promise<number> {
  if (args.check) throw new UserError('doctor reads only; --check belongs to generate and github');
  const { cfg } = readConfig(args, env);
  const conn = tokenOf(env);
  const ids = await identities(cfg, args, env, deps, io);
  const github = (deps.github ?? ((o) => octokitSetup({ ...o, onRetry: (m) => io.err(`retrying: ${m}`) })))(conn);
  return runDoctor({
    file: args.file,
    cfg,
    plan: planOf(cfg, ids),
    identities: ids,
    readOutputs: (deps.outputs ?? cloudFormationOutputs)(args.profiles),
    aws: deps.aws ?? sdkDoctorAws,
    profiles: args.profiles,
    github,
    environments: (repository) => {
      const [owner, repo] = repository.split('/') as [string, string];
      return (deps.environments ?? ((o) => octokitEnvironments({ ...o, onRetry: (m) => io.err(`retrying: ${m}`) })))({ ...conn, owner, repo });
    },
    out: (line) => io.out(line),
  });
}

export async function setupMain(argv: readonly string[], env: NodeJS.ProcessEnv, raw: SetupIO, deps: SetupDeps = {}): Promise<number> {
  const io = neutralIO(raw);
  try {
    const args = parseArgs(argv);
    if (args === 'help') {
      io.out(SETUP_USAGE);
      return 0;
    }
    const run = { generate, github, doctor }[args.command];
    return await run(args, env, deps, io);
  } catch (err) {
    io.err(cliErrorLine(err));
    return 1;
  }
}
