// The release workflow's steps: `pnpm --filter @deploy-actions/release exec tsx src/cli.ts`,
// with INPUT_VERSION, INPUT_TOKEN (optionally INPUT_MODE `check` or `release`, INPUT_REMOTE,
// INPUT_CHANGELOG) and the runner's GITHUB_* (GITHUB_SERVER_URL other than https://github.com:
// GitHub Enterprise Server, released with a release commit).
import { runAction, InputError } from '@deploy-actions/action-kit';
import { gitIn } from './git';
import { releasesApi } from './github';
import { run, type ReleaseInputs } from './release';

const REPOSITORY = /^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/;

await runAction(
  (i) => {
    const repository = process.env.GITHUB_REPOSITORY ?? '';
    if (!REPOSITORY.test(repository)) throw new InputError('GITHUB_REPOSITORY', 'must be owner/name', repository);
    return {
      version: i.required('version'),
      repository,
      root: process.env.GITHUB_WORKSPACE || process.cwd(),
      changelog: i.string('changelog', 'CHANGELOG.md'),
      workflowsDir: '.github/workflows',
      remote: i.string('remote', 'origin'),
      token: i.required('token'),
      apiUrl: process.env.GITHUB_API_URL || 'https://api.github.com',
      checkOnly: i.oneOf('mode', ['release', 'check'], 'release') === 'check',
      // GitHub Enterprise Server has no $/ references: its release commit pins them to the tag.
      target: (process.env.GITHUB_SERVER_URL || 'https://github.com') === 'https://github.com' ? 'github.com' : 'ghes',
    } satisfies ReleaseInputs & Record<string, string | boolean>;
  },
  async () => ({
    run,
    realDeps: (io, inputs) => {
      io.setSecret(inputs.token);
      return {
        io,
        git: gitIn({
          cwd: inputs.root,
          remote: inputs.remote,
          committerName: 'github-actions[bot]',
          committerEmail: '41898282+github-actions[bot]@users.noreply.github.com',
        }),
        releases: releasesApi(inputs.token, inputs.repository, inputs.apiUrl),
      };
    },
  }),
);
