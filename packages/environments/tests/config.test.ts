import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { ConfigError, parseEnvironmentsConfig, parseEnvironmentsFile } from '../src/config';

const example = readFileSync(new URL('../../../workflows/environments.yml', import.meta.url), 'utf8');

test('the example file parses to qa, preprod, production', () => {
  const envs = parseEnvironmentsFile(example, 'acme');
  expect(envs).toEqual([
    {
      name: 'qa',
      users: [],
      teams: [],
      preventSelfReview: false,
      waitTimer: 0,
      canAdminsBypass: true,
      branches: { mode: 'custom', policies: [{ name: 'develop', type: 'branch' }] },
      target: { account: '222222222222', region: 'eu-west-1', cluster: 'nonprod' },
      variables: {},
    },
    {
      name: 'preprod',
      users: [],
      teams: [{ org: 'acme', slug: 'platform' }],
      preventSelfReview: true,
      waitTimer: 0,
      canAdminsBypass: true,
      branches: { mode: 'custom', policies: [{ name: 'main', type: 'branch' }] },
      target: { account: '222222222222', region: 'eu-west-1', cluster: 'nonprod' },
      variables: {},
    },
    {
      name: 'production',
      users: [],
      teams: [
        { org: 'acme', slug: 'platform' },
        { org: 'acme', slug: 'release-managers' },
      ],
      preventSelfReview: true,
      waitTimer: 10,
      canAdminsBypass: false,
      branches: { mode: 'custom', policies: [{ name: 'main', type: 'branch' }] },
      target: { account: '333333333333', region: 'eu-west-1', cluster: 'prod' },
      variables: { SMOKE_URL: 'https://sample-service.example.com/healthz' },
    },
  ]);
});

test('branch modes, tags, users and org/slug teams', () => {
  const [a, b, c] = parseEnvironmentsFile(
    `environments:
  a: { deployment_branches: all }
  b: { deployment_branches: protected, reviewers: { users: [alice], teams: [other-org/ops] } }
  c: { deployment_branches: [main, 'release/*', { tag: 'v*' }] }
`,
    'acme',
  );
  expect(a!.branches).toEqual({ mode: 'all' });
  expect(b).toMatchObject({ branches: { mode: 'protected' }, users: ['alice'], teams: [{ org: 'other-org', slug: 'ops' }] });
  expect(c!.branches).toEqual({
    mode: 'custom',
    policies: [
      { name: 'main', type: 'branch' },
      { name: 'release/*', type: 'branch' },
      { name: 'v*', type: 'tag' },
    ],
  });
});

describe('invalid files fail naming the place', () => {
  test.each([
    ['qa: {}', "must have an 'environments' mapping"],
    ['environments: {}\nextra: 1', "unknown top-level key 'extra'"],
    ['environments: {}', "'environments' is empty"],
    ['environments:\n  qa: { wait: 5 }', "environments.qa: unknown key 'wait'"],
    ['environments:\n  qa: { wait_timer: 50000 }', 'environments.qa.wait_timer must be whole minutes'],
    ['environments:\n  qa: { wait_timer: "5" }', 'environments.qa.wait_timer must be whole minutes'],
    ['environments:\n  qa: { prevent_self_review: yes please }', 'prevent_self_review must be true or false'],
    ['environments:\n  qa: { prevent_self_review: true }', 'prevent_self_review needs reviewers'],
    ['environments:\n  qa: { reviewers: { people: [a] } }', "reviewers: unknown key 'people'"],
    ['environments:\n  qa: { reviewers: { users: [bad_login!] } }', "'bad_login!' is not a GitHub login"],
    ['environments:\n  qa: { reviewers: { teams: [a/b/c] } }', "'a/b/c' must be a team slug or org/slug"],
    ['environments:\n  qa: { reviewers: { users: [a, b, c, d, e, f, g] } }', 'at most 6 reviewers'],
    ['environments:\n  qa: { deployment_branches: [] }', "must be 'all', 'protected' or a non-empty list"],
    ['environments:\n  qa: { deployment_branches: [main, main] }', 'lists branch main twice'],
    ['environments:\n  qa: { deployment_branches: [{ ref: x }] }', 'entries must be branch patterns'],
    ['environments:\n  qa: {}\n  QA: {}', 'case-insensitive'],
    ['environments: [', 'not valid YAML'],
  ])('%s', (text, message) => {
    let err: unknown;
    try {
      parseEnvironmentsFile(text, 'acme', 'envs.yml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain(message);
    expect((err as Error).message).toMatch(/^envs\.yml: /);
  });
});

describe('promotion chain and admin bypass', () => {
  const file = (extra: string) => `environments:\n  qa: {}\n  Preprod: {}\n  Production:\n    reviewers: { users: [alice] }\n${extra}`;
  test('default chain: preprod then production, by their spelling in the file; production refuses admin bypass by default', () => {
    const cfg = parseEnvironmentsConfig(file(''), 'acme');
    expect(cfg.promotion).toEqual({ chain: ['Preprod', 'Production'], refs: ['refs/heads/main'] });
    expect(cfg.environments.map((e) => [e.name, e.canAdminsBypass])).toEqual([['qa', true], ['Preprod', true], ['Production', false]]);
  });
  test('an explicit can_admins_bypass wins', () => {
    const cfg = parseEnvironmentsConfig(file('').replace('Production:\n', 'Production:\n    can_admins_bypass: true\n'), 'acme');
    expect(cfg.environments[2]!.canAdminsBypass).toBe(true);
  });
  test('a custom chain and refs', () => {
    const cfg = parseEnvironmentsConfig(file('promotion:\n  chain: [qa, preprod, production]\n  refs: [refs/heads/release]\n'), 'acme');
    expect(cfg.promotion).toEqual({ chain: ['qa', 'Preprod', 'Production'], refs: ['refs/heads/release'] });
  });
  test.each([
    ['promotion:\n  chain: [preprod, live]\n', "'live' is not one of the environments"],
    ['promotion:\n  chain: [qa, preprod]\n', 'must keep preprod directly before production'],
    ['promotion:\n  chain: [preprod, qa, production]\n', 'must keep preprod directly before production'],
    ['promotion:\n  chain: [production]\n', 'at least two different environments'],
    ['promotion:\n  chain: [preprod, production]\n  refs: [refs/heads/*]\n', 'must be an exact ref'],
    ['promotion:\n  chain: [preprod, production]\n  refs: [main]\n', 'must be an exact ref'],
    ['promotion:\n  chain: [preprod, production]\n  branches: [main]\n', "unknown key 'branches'"],
  ])('refused: %j', (extra, message) => {
    expect(() => parseEnvironmentsConfig(file(extra), 'acme')).toThrow(message);
  });
});
