import { expect, test } from 'vitest';
import type { EnvironmentJson } from '../src/github';
import { diff, type Desired } from '../src/sync';

const desired: Desired = {
  name: 'production',
  body: {
    wait_timer: 10,
    prevent_self_review: true,
    can_admins_bypass: false,
    reviewers: [
      { type: 'Team', id: 7 },
      { type: 'User', id: 3 },
    ],
    deployment_branch_policy: { protected_branches: false, custom_branch_policies: true },
  },
  labels: new Map([
    ['Team:7', 'acme/platform'],
    ['User:3', 'alice'],
  ]),
  policies: [{ name: 'main', type: 'branch' }],
};

const matching: EnvironmentJson = {
  id: 1,
  name: 'production',
  protection_rules: [
    { type: 'wait_timer', wait_timer: 10 },
    {
      type: 'required_reviewers',
      prevent_self_review: true,
      reviewers: [
        { type: 'User', reviewer: { id: 3, login: 'alice' } },
        { type: 'Team', reviewer: { id: 7, slug: 'platform' } },
      ],
    },
    { type: 'branch_policy' },
  ],
  deployment_branch_policy: { protected_branches: false, custom_branch_policies: true },
  can_admins_bypass: false,
};

test('a matching environment has no changes (reviewer order does not matter)', () => {
  expect(diff(desired, { env: matching, policies: [{ id: 1, name: 'main', type: 'branch' }] })).toEqual([]);
});

test('a missing environment is created and its policies added', () => {
  expect(diff(desired, { env: undefined, policies: [] }).map((c) => `${c.kind} ${c.detail}`)).toEqual([
    'create create environment (reviewers acme/platform, alice, prevent_self_review true, wait_timer 10, can_admins_bypass false, custom policies)',
    'add-policy allow branch main',
  ]);
});

test('every drifted field is reported', () => {
  const drifted: EnvironmentJson = {
    ...matching,
    protection_rules: [{ type: 'required_reviewers', prevent_self_review: false, reviewers: [{ type: 'User', reviewer: { id: 9, login: 'mallory' } }] }],
    deployment_branch_policy: null,
  };
  expect(diff(desired, { env: drifted, policies: [] }).map((c) => c.detail)).toEqual([
    'wait_timer 0 -> 10',
    'reviewers mallory -> acme/platform, alice',
    'prevent_self_review false -> true',
    'deployment branches all branches -> custom policies',
    'allow branch main',
  ]);
});

test('extra and missing branch policies', () => {
  const changes = diff(desired, {
    env: matching,
    policies: [
      { id: 1, name: 'feature/*', type: 'branch' },
      { id: 2, name: 'main', type: 'tag' },
    ],
  });
  expect(changes.map((c) => `${c.kind} ${c.detail}`)).toEqual([
    'add-policy allow branch main',
    'remove-policy remove branch policy feature/*',
    'remove-policy remove tag policy main',
  ]);
});

test('prevent_self_review is not compared when there are no reviewers', () => {
  const none: Desired = { ...desired, body: { ...desired.body, reviewers: [], prevent_self_review: false, wait_timer: 0 }, policies: [{ name: 'main', type: 'branch' }] };
  const env: EnvironmentJson = { ...matching, protection_rules: [], deployment_branch_policy: matching.deployment_branch_policy };
  expect(diff(none, { env, policies: [{ id: 1, name: 'main', type: 'branch' }] })).toEqual([]);
});
