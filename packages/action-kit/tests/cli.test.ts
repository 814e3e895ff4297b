import { describe, expect, test } from 'vitest';
import { cliErrorLine, githubApiUrlOf, neutralIO } from '../src/cli';
import { UserError } from '../src/errors';

/** What the runner would read as a command: a line starting (after blanks) with ::, outside a stop-commands fence. */
function commandsIn(text: string): string[] {
  const found: string[] = [];
  let stop: string | undefined;
  for (const line of text.split(/\r\n|\r|\n/)) {
    const t = line.trimStart();
    if (stop !== undefined) {
      if (t === `::${stop}::`) stop = undefined;
      continue;
    }
    const m = /^::stop-commands::(.+)$/.exec(t);
    if (m) stop = m[1];
    else if (t.startsWith('::') || t.includes('##[')) found.push(t);
  }
  return found;
}

describe('neutralIO', () => {
  const capture = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: neutralIO({ out: (l) => out.push(l), err: (l) => err.push(l) }) };
  };
  test.each([
    ['production\n::warning::owned'],
    ['x\r::error file=a::b'],
    ['  ::add-mask::secret'],
    ['##[error]old syntax'],
    ['env::set-env name=A::1'],
  ])('%j is printed, not run', (text) => {
    const c = capture();
    c.io.out(`  ${text}: 1 difference`);
    c.io.err(`error: ${text}`);
    expect(commandsIn(c.out.join('\n'))).toEqual([]);
    expect(commandsIn(c.err.join('\n'))).toEqual([]);
    expect(c.out.join('\n')).toContain(text);
  });
  test('plain text passes as it is; an error is one line', () => {
    const c = capture();
    c.io.out('qa: in sync');
    c.io.err('error: a\nb');
    expect(c.out).toEqual(['qa: in sync']);
    expect(c.err).toEqual(['error: a\\nb']);
  });
});

describe('cliErrorLine', () => {
  test('one line, no stack, for any error', () => {
    expect(cliErrorLine(new TypeError('Invalid URL\n    at x'))).toBe('error: Invalid URL\\n    at x');
    expect(cliErrorLine(new UserError('--repo must be owner/name'))).toBe('error: --repo must be owner/name');
    expect(cliErrorLine('thrown string')).toBe('error: thrown string');
  });
});

describe('githubApiUrlOf', () => {
  test.each([
    [{}, 'https://api.github.com'],
    [{ GITHUB_API_URL: 'https://ghe.example/api/v3/' }, 'https://ghe.example/api/v3'],
    [{ GITHUB_API_URL: 'http://127.0.0.1:8080' }, 'http://127.0.0.1:8080'],
  ])('%j', (env, url) => expect(githubApiUrlOf(env)).toBe(url));
  test.each([['api.github.com'], ['https://'], ['ftp://x'], ['https://a b'], ['https://x\n::error::y']])('refuses %j in one line', (value) => {
    expect(() => githubApiUrlOf({ GITHUB_API_URL: value })).toThrow(/^GITHUB_API_URL must be an http\(s\) URL such as https:\/\/api\.github\.com \(got '[^\n]*'\)$/);
  });
});
