/**
 * The runner machine of the tests that run this repository's own maintenance workflows
 * (release.test.ts, tool-updates.test.ts): the repository is a bare repository on disk that git
 * reaches as https://github.com/org/deploy-actions through github-git.sh (git's ext:: transport,
 * refused without the credentials actions/checkout persists; each push's token is appended to
 * `accessLog`), and the workspace's packages are the ones installed in `installed` (the setup.sh
 * stand-in links them).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const here = import.meta.dirname;

export function runnerEnvFor(repo: string, bare: string, accessLog: string, installed: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    GIT_CONFIG_COUNT: '2',
    GIT_CONFIG_KEY_0: `url.ext::bash ${join(here, 'github-git.sh')} %S ${bare} ${accessLog}.insteadOf`,
    GIT_CONFIG_VALUE_0: `https://github.com/${repo}`,
    GIT_CONFIG_KEY_1: 'protocol.ext.allow',
    GIT_CONFIG_VALUE_1: 'always',
    DEPLOY_ACTIONS_INSTALLED: installed,
    npm_config_update_notifier: 'false',
  };
}

/** Copies the working tree's tracked and new (not ignored) files of `root` into `dest`. */
export function copyTree(root: string, dest: string): void {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean);
  execFileSync('bash', ['-c', `tar --null --ignore-failed-read -C "${root}" -T - -cf - | tar -x -C "${dest}"`], { input: files.join('\0'), stdio: ['pipe', 'ignore', 'ignore'] });
}
