import { describe, expect, test } from 'vitest';
import { computeTags, semverTag, slug, timestampTag, validateTag } from '../src/tags';

const sha = '0123456789abcdef0123456789abcdef01234567';
const none = { tagSemver: false, tagBranch: false, tagRunNumber: false, tagTimestamp: false, extraTags: [] as string[] };
const now = new Date('2026-11-21T10:24:07.123Z');

describe('computeTags', () => {
  test.each([
    ['sha only', {}, { ref: 'refs/heads/main', branch: 'main' }, ['0123456']],
    ['semver from a v tag', { tagSemver: true }, { ref: 'refs/tags/v1.4.0', branch: '' }, ['0123456', '1.4.0']],
    ['semver ignored on a branch', { tagSemver: true }, { ref: 'refs/heads/main', branch: 'main' }, ['0123456']],
    ['prerelease and build metadata', { tagSemver: true }, { ref: 'refs/tags/v2.0.0-rc.1+b7', branch: '' }, ['0123456', '2.0.0-rc.1-b7']],
    ['branch slug', { tagBranch: true }, { ref: 'refs/heads/Feature/JIRA-12_x', branch: 'Feature/JIRA-12_x' }, ['0123456', 'feature-jira-12_x']],
    ['run number', { tagRunNumber: true }, { ref: 'refs/heads/main', branch: 'main' }, ['0123456', 'run-42']],
    ['timestamp', { tagTimestamp: true }, { ref: 'refs/heads/main', branch: 'main' }, ['0123456', '20261121T102407Z']],
    ['extra tags, duplicates dropped', { extraTags: ['latest', '0123456', 'latest'] }, { ref: 'refs/heads/main', branch: 'main' }, ['0123456', 'latest']],
    [
      'all of them, in a fixed order',
      { tagSemver: true, tagBranch: true, tagRunNumber: true, tagTimestamp: true, extraTags: ['x'] },
      { ref: 'refs/tags/v1.0.0', branch: 'main' },
      ['0123456', '1.0.0', 'main', 'run-42', '20261121T102407Z', 'x'],
    ],
  ])('%s', (_name, opts, ctx, expected) => {
    expect(computeTags({ sha, runNumber: '42', ...ctx }, { ...none, ...opts }, now)).toEqual(expected);
  });

  test('refuses a SHA that is not 40 hex characters', () => {
    expect(() => computeTags({ sha: 'abc', ref: '', branch: '', runNumber: '' }, none, now)).toThrow("GITHUB_SHA 'abc'");
  });
});

describe('tag helpers', () => {
  test.each([
    ['main', 'main'],
    ['feature/New Thing', 'feature-new-thing'],
    ['--weird..', 'weird'],
    ['a'.repeat(200), 'a'.repeat(128)],
  ])('slug(%s) = %s', (input, expected) => expect(slug(input)).toBe(expected));

  test.each([
    ['refs/tags/v1.2.3', '1.2.3'],
    ['refs/tags/1.2.3', undefined],
    ['refs/tags/v1.2', undefined],
    ['refs/heads/v1.2.3', undefined],
  ])('semverTag(%s) = %s', (ref, expected) => expect(semverTag(ref)).toBe(expected));

  test('timestampTag is UTC and tag-safe', () => {
    expect(timestampTag(new Date('2026-01-02T03:04:05Z'))).toBe('20260102T030405Z');
  });

  test.each(['', '-x', '.x', 'a b', 'a:b', 'é', 'x'.repeat(129)])('rejects tag %j', (t) => {
    expect(() => validateTag(t, 'extra-tags')).toThrow("Input 'extra-tags' must hold image tags");
  });
});
