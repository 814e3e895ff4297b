/**
 * Who approved, read with real Octokit from the GitHub stand-in's run review history: each run is
 * asked once however many rows name it; a token without actions: read is refused by GitHub and
 * the answer says so instead of failing.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startGithubStandin, type GithubStandin } from '../../../test/standins/github';
import { approvedBy, octokitApprovals } from '../src/approvals';

let gh: GithubStandin;
beforeAll(async () => {
  gh = await startGithubStandin({ tokens: { reader: { permissions: { actions: 'read' } }, blind: { permissions: { deployments: 'read' } } } });
  gh.state.approvals.push(
    { repo: 'acme/sample-service', runId: 41, environments: ['preprod'], state: 'approved', login: 'rita', comment: '' },
    { repo: 'acme/sample-service', runId: 41, environments: ['production'], state: 'rejected', login: 'sam', comment: 'not yet' },
    { repo: 'acme/sample-service', runId: 42, environments: ['production'], state: 'approved', login: 'olga', comment: '' },
  );
});
afterAll(() => gh.stop());

const api = (token: string) => octokitApprovals({ token, apiUrl: gh.url, owner: 'acme', repo: 'sample-service' });
const asked = (runId: number) => gh.state.requests.filter((r) => r.path.endsWith(`/actions/runs/${runId}/approvals`));

test('actions: read: the approving logins per environment, each run asked once', async () => {
  const reader = api('reader');
  expect(await approvedBy(reader, '41', 'preprod')).toBe('rita');
  expect(await approvedBy(reader, '41', 'production')).toBe('(no review)');
  expect(await approvedBy(reader, '42', 'Production')).toBe('olga');
  expect(await approvedBy(reader, '42', 'production')).toBe('olga');
  expect(asked(41)).toHaveLength(1);
  expect(asked(42)).toHaveLength(1);
});

test('without actions: read GitHub refuses (403): unknown, with the reason, never an error', async () => {
  const before = asked(41).length;
  expect(await approvedBy(api('blind'), '41', 'preprod')).toBe('(unknown: the token cannot read the run reviews; it needs actions: read)');
  expect(asked(41).slice(before).map((r) => r.status)).toEqual([403]);
});

test('a failure other than a refusal: unknown with its first line', async () => {
  expect(await approvedBy({ ofRun: async () => { throw new Error('read the reviews of run 7 to api.github.com: no answer within 15 s\nmore'); } }, '7', 'qa')).toBe(
    '(unknown: read the reviews of run 7 to api.github.com: no answer within 15 s)',
  );
  expect(await approvedBy(undefined, '7', 'qa')).toBe('(unknown)');
});
