import { describe, expect, test } from 'vitest';
import { accountRoot, mergeRepositoryPolicy, missingPullActions, PULL_SID, READ_SID, RECORD_SID, type PolicyDocument, type Statement } from '../src';

const QA = 'arn:aws:iam::222222222222:root';
const PROD = 'arn:aws:iam::333333333333:root';
const PROD_DEPLOY = 'arn:aws:iam::333333333333:role/gha-prod-deploy';
const theirs: Statement = { Sid: 'LambdaPull', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: ['ecr:BatchGetImage'] };
const theirsNoSid: Statement = { Effect: 'Deny', Principal: '*', Action: 'ecr:DeleteRepository' };
const doc = (...s: Statement[]) => JSON.stringify({ Version: '2012-10-17', Statement: s });
const pull = (...p: string[]): Statement => ({ Sid: PULL_SID, Effect: 'Allow', Principal: { AWS: p.length === 1 ? p[0]! : p }, Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'] });
const read = (...p: string[]): Statement => ({ Sid: READ_SID, Effect: 'Allow', Principal: { AWS: p.length === 1 ? p[0]! : p }, Action: ['ecr:DescribeImages', 'ecr:GetRepositoryPolicy'] });

describe('mergeRepositoryPolicy', () => {
  test.each<[string, string | undefined, { pull: string[]; read: string[]; record?: string[] }, Statement[] | undefined, boolean]>([
    ['no policy yet: ours only', undefined, { pull: [QA], read: [] }, [pull(QA)], true],
    ['principals sorted and deduplicated', undefined, { pull: [PROD, QA, PROD], read: [PROD_DEPLOY] }, [pull(QA, PROD), read(PROD_DEPLOY)], true],
    ["someone else's statements kept, in their place", doc(theirs, theirsNoSid), { pull: [QA], read: [] }, [theirs, theirsNoSid, pull(QA)], true],
    ['our old statement replaced, not added to', doc(pull(QA, PROD), theirs), { pull: [QA], read: [] }, [theirs, pull(QA)], true],
    ['same grants: unchanged', doc(theirs, pull(QA, PROD)), { pull: [PROD, QA], read: [] }, [theirs, pull(QA, PROD)], false],
    ['record statement for a deploy role', doc(pull(QA)), { pull: [QA], read: [PROD_DEPLOY], record: [PROD_DEPLOY] }, [pull(QA), read(PROD_DEPLOY), { Sid: RECORD_SID, Effect: 'Allow', Principal: { AWS: PROD_DEPLOY }, Action: ['ecr:BatchGetImage', 'ecr:DescribeImages', 'ecr:PutImage'] }], true],
    ['read statement dropped when no deploy role is given', doc(pull(QA), read(PROD_DEPLOY)), { pull: [QA], read: [] }, [pull(QA)], true],
    ['nothing left: no policy', doc(pull(QA)), { pull: [], read: [] }, undefined, true],
    ['nothing asked, nothing there: unchanged', undefined, { pull: [], read: [] }, undefined, false],
  ])('%s', (_name, current, grants, statements, changed) => {
    const merged = mergeRepositoryPolicy(current, { record: [], ...grants });
    expect(merged.changed).toBe(changed);
    expect(merged.text === undefined ? undefined : (JSON.parse(merged.text) as PolicyDocument).Statement).toEqual(statements);
  });

  test('a policy ECR hands back laid out otherwise (keys reordered, one line) is unchanged', () => {
    const stored = JSON.stringify({ Statement: [{ Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], Principal: { AWS: QA }, Effect: 'Allow', Sid: PULL_SID }], Version: '2012-10-17' });
    expect(mergeRepositoryPolicy(stored, { pull: [QA], read: [], record: [] }).changed).toBe(false);
  });

  test('a single statement object (not a list) is kept', () => {
    const merged = mergeRepositoryPolicy(JSON.stringify({ Version: '2012-10-17', Statement: theirs }), { pull: [QA], read: [], record: [] });
    expect(JSON.parse(merged.text!).Statement).toEqual([theirs, pull(QA)]);
  });
});

describe('missingPullActions', () => {
  const both = ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'];
  test.each<[string, Statement[], string, string[]]>([
    ['our statement grants the account', [pull(QA, PROD)], '333333333333', []],
    ['an account not named', [pull(QA)], '333333333333', both],
    ['a role of the account is enough', [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::333333333333:role/node' }, Action: 'ecr:*' }], '333333333333', []],
    ['a bare account id', [{ Effect: 'Allow', Principal: { AWS: ['333333333333'] }, Action: ['ecr:BatchGet*', 'ecr:GetDownloadUrlForLayer'] }], '333333333333', []],
    ['everyone, with a condition we cannot evaluate', [{ Effect: 'Allow', Principal: '*', Action: '*', Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-1' } } }], '333333333333', []],
    ['only one of the two actions', [{ Effect: 'Allow', Principal: { AWS: PROD }, Action: 'ecr:batchgetimage' }], '333333333333', ['ecr:GetDownloadUrlForLayer']],
    ['NotAction covering the pull', [{ Effect: 'Allow', Principal: { AWS: PROD }, NotAction: 'ecr:Put*' }], '333333333333', []],
    ['a Deny of the whole account wins', [pull(PROD), { Effect: 'Deny', Principal: { AWS: PROD }, Action: 'ecr:GetDownloadUrlForLayer' }], '333333333333', ['ecr:GetDownloadUrlForLayer']],
    ['a conditional Deny is not certain', [pull(PROD), { Effect: 'Deny', Principal: '*', Action: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }], '333333333333', []],
    ['a Deny of one role leaves the account', [pull(PROD), { Effect: 'Deny', Principal: { AWS: 'arn:aws:iam::333333333333:role/x' }, Action: '*' }], '333333333333', []],
    ['a service principal is not the account', [theirs], '333333333333', both],
  ])('%s', (_name, statements, account, missing) => {
    expect(missingPullActions({ Statement: statements }, account)).toEqual(missing);
  });
});

test.each([
  ['eu-west-1', 'arn:aws:iam::111111111111:root'],
  ['cn-north-1', 'arn:aws-cn:iam::111111111111:root'],
  ['us-gov-west-1', 'arn:aws-us-gov:iam::111111111111:root'],
])('accountRoot in %s', (region, arn) => expect(accountRoot('111111111111', region)).toBe(arn));
