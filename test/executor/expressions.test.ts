/** Expression evaluation against GitHub's documented behaviour (expressions reference). */
import { describe, expect, test } from 'vitest';
import { evaluateCondition, evaluateExpression, toText } from './expressions';
import { tempTree } from './testing';

const ctx = {
  github: { ref: 'refs/heads/Main', event_name: 'push', event: { inputs: { flag: 'false' } } },
  inputs: { environment: 'Production', helm: true, count: 3, empty: '' },
  needs: { build: { result: 'success', outputs: { 'image-ref': 'r@sha256:1' } } },
};

describe('operators and literals', () => {
  test.each([
    ["'abc' == 'ABC'", true], // string comparison ignores case
    ["inputs.environment == 'production'", true],
    ["github.ref == 'refs/heads/main'", true],
    ["inputs.environment != 'preprod'", true],
    ['inputs.helm == true', true],
    ["inputs.count == '3'", true], // string coerced to number
    ["'' == 0", true],
    ['null == 0', true],
    ["inputs.missing == ''", true], // missing property is null, null == '' via number 0
    ["inputs.empty || 'fallback'", 'fallback'],
    ["inputs.environment == 'production' && 'preprod' || 'none'", 'preprod'],
    ["inputs.environment == 'qa' && 'preprod' || 'none'", 'none'],
    ["needs.build.outputs['image-ref']", 'r@sha256:1'],
    ['needs.build.outputs.image-ref', 'r@sha256:1'],
    ['NEEDS.Build.Outputs.IMAGE-REF', 'r@sha256:1'], // property names ignore case
    ["github.event.inputs.flag == 'false'", true], // event inputs are strings
    ['!inputs.empty', true],
    ['0x10', 16],
    ['1 < 2 && 3 >= 3', true],
  ])('%s -> %j', async (expr, want) => {
    expect(await evaluateExpression(expr, ctx)).toEqual(want);
  });
});

describe('functions', () => {
  test.each([
    ["contains('Hello world', 'WORLD')", true],
    ["contains(fromJSON('[\"a\",\"b\"]'), 'B')", true],
    ["startsWith(github.ref, 'REFS/heads/')", true],
    ["endsWith('abc.yml', '.YML')", true],
    ["format('{0}-{1}-{{x}}', 'a', 1)", 'a-1-{x}'],
    ["join(fromJSON('[1,2,3]'), '+')", '1+2+3'],
    ['toJSON(inputs.count)', '3'],
    ["fromJSON('{\"a\":true}').a", true],
  ])('%s -> %j', async (expr, want) => {
    expect(await evaluateExpression(expr, ctx)).toEqual(want);
  });

  test('unknown functions and contexts are refused when parsed', async () => {
    await expect(evaluateExpression('nosuch()', ctx)).rejects.toThrow(/not valid/);
    await expect(evaluateExpression('nosuchcontext.a', ctx)).rejects.toThrow(/not valid/);
  });
});

describe('status functions', () => {
  test.each([
    ['success()', { failed: false }, true],
    ['success()', { failed: true }, false],
    ['success()', { failed: false, skipped: true }, false],
    ['failure()', { failed: true }, true],
    ['failure()', { failed: false }, false],
    ['always()', { failed: true }, true],
    ['cancelled()', { failed: false }, false],
    ['!cancelled()', { failed: true }, true],
  ])('%s with %j', async (expr, status, want) => {
    expect(await evaluateCondition(expr, {}, { status })).toBe(want);
  });
});

test('hashFiles hashes the matching files of the workspace, empty when none match', async () => {
  const ws = tempTree({ 'a/x.lock': 'one', 'b/y.lock': 'two', 'c.txt': 'x' });
  const h = await evaluateExpression("hashFiles('**/*.lock')", {}, { workspace: ws });
  expect(h).toMatch(/^[0-9a-f]{64}$/);
  expect(await evaluateExpression("hashFiles('**/*.nothing')", {}, { workspace: ws })).toBe('');
  const other = tempTree({ 'a/x.lock': 'one', 'b/y.lock': 'changed' });
  expect(await evaluateExpression("hashFiles('**/*.lock')", {}, { workspace: other })).not.toBe(h);
});

test.each([
  [true, 'true'],
  [false, 'false'],
  [null, ''],
  [3, '3'],
  [1.5, '1.5'],
  ['x', 'x'],
])('%j becomes the text %j', (value, text) => {
  expect(toText(value)).toBe(text);
});
