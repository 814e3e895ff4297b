/** Reusable workflows and this repository's actions, as GitHub resolves and checks them. */
import { describe, expect, test } from 'vitest';
import { MAX_WORKFLOW_LEVELS } from './workflow';
import { runFiles } from './testing';

const caller = (body: string) => ({ '.github/workflows/main.yml': `on: push\npermissions: {}\njobs:\n${body}` });

/** A called workflow with a boolean and a string input, echoing them as outputs. */
const leaf = `on:
  workflow_call:
    inputs:
      flag: { type: boolean, required: false, default: true }
      name: { type: string, required: true }
      count: { type: number, required: false, default: 2 }
    outputs:
      said:
        value: \${{ jobs.say.outputs.said }}
permissions: {}
jobs:
  say:
    name: say \${{ inputs.name }}
    runs-on: ubuntu-latest
    permissions:
      contents: read
    outputs:
      said: \${{ steps.s.outputs.said }}
    steps:
      - id: s
        if: inputs.flag
        run: echo "said=\${{ inputs.name }}-\${{ inputs.flag }}-\${{ inputs.count }}-\${{ github.workflow }}" >> "$GITHUB_OUTPUT"
`;

const middle = `on:
  workflow_call:
    inputs:
      name: { type: string, required: true }
      flag: { type: boolean, required: false, default: false }
    outputs:
      said:
        value: \${{ jobs.inner.outputs.said }}
jobs:
  inner:
    uses: org/deploy-actions/.github/workflows/leaf.yml@v1
    with:
      name: \${{ inputs.name }}
      flag: \${{ inputs.flag }}
`;

describe('reusable workflows', () => {
  test('inputs keep their types and outputs flow back through two levels; jobs are named caller / called', async () => {
    const r = await runFiles(
      caller(`  outer:
    uses: org/deploy-actions/.github/workflows/middle.yml@v1
    permissions:
      contents: read
    with:
      name: svc
      flag: true
  after:
    needs: outer
    runs-on: ubuntu-latest
    steps:
      - run: echo "\${{ needs.outer.outputs.said }}"
`),
      { '.github/workflows/middle.yml': middle, '.github/workflows/leaf.yml': leaf },
    );
    expect(r.error).toBeUndefined();
    const say = r.jobs.find((j) => j.path.join('/') === 'outer/inner/say')!;
    expect(say.names).toEqual(['outer', 'inner', 'say svc']);
    expect(say.workflowRef).toBe('org/deploy-actions/.github/workflows/leaf.yml@v1');
    expect(say.permissions.contents).toBe('read');
    // github.workflow stays the caller's; the boolean arrived as a boolean (if: inputs.flag ran the step).
    const after = r.jobs.find((j) => j.path.join('/') === 'after')!;
    expect(after.steps[0]!.log.trim()).toBe('svc-true-2-.github/workflows/main.yml');
    expect(r.jobs.find((j) => j.path.join('/') === 'outer')!.calls).toBe('org/deploy-actions/.github/workflows/middle.yml@v1');
  });

  test.each([
    ['a string for a boolean input', 'flag: "yes"', /The template is not valid\. \.github\/workflows\/main\.yml \(Line: \d+, Col: \d+\): Unexpected value 'yes'/],
    ['an expression giving a string for a boolean input', "flag: ${{ 'true' }}", /Unexpected value 'true'/],
    ['a string for a number input', 'count: "many"', /Unexpected value 'many'/],
    ['an input the called workflow does not declare', 'colour: red', /Invalid input, colour is not defined in the referenced workflow\./],
  ])('%s fails the run before any job starts', async (_what, extra, error) => {
    const r = await runFiles(
      caller(`  call:
    uses: org/deploy-actions/.github/workflows/leaf.yml@v1
    permissions:
      contents: read
    with:
      name: svc
      ${extra}
`),
      { '.github/workflows/leaf.yml': leaf },
    );
    expect(r.conclusion).toBe('failure');
    expect(r.error).toMatch(error);
    expect(r.jobs.flatMap((j) => j.steps)).toEqual([]);
  });

  test('a required input not given fails like GitHub', async () => {
    const r = await runFiles(caller(`  call:\n    uses: org/deploy-actions/.github/workflows/leaf.yml@v1\n    permissions:\n      contents: read\n`), { '.github/workflows/leaf.yml': leaf });
    expect(r.error).toMatch(/Input name is required, but not provided while calling\./);
  });

  test('a called job asking for more permissions than its caller grants fails the run at start', async () => {
    const r = await runFiles(caller(`  call:\n    uses: org/deploy-actions/.github/workflows/leaf.yml@v1\n    permissions:\n      actions: read\n    with:\n      name: x\n`), { '.github/workflows/leaf.yml': leaf });
    expect(r.error).toBe(
      "Error calling workflow 'org/deploy-actions/.github/workflows/leaf.yml@v1'. The nested job 'say' is requesting 'contents: read', but is only allowed 'contents: none'.",
    );
    expect(r.jobs).toEqual([]);
  });

  test(`more than ${MAX_WORKFLOW_LEVELS} levels of workflows fail the run`, async () => {
    const self: Record<string, string> = {};
    const chain = (n: number, last: number) => {
      for (let i = 1; i <= last; i++) {
        self[`.github/workflows/l${i}.yml`] =
          i === last
            ? 'on: workflow_call\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo deepest\n'
            : `on: workflow_call\njobs:\n  next:\n    uses: org/deploy-actions/.github/workflows/l${i + 1}.yml@v1\n`;
      }
      return runFiles(caller('  c:\n    uses: org/deploy-actions/.github/workflows/l1.yml@v1\n'), self).then((r) => [n, r] as const);
    };
    const [, ok] = await chain(0, MAX_WORKFLOW_LEVELS - 1);
    expect(ok.error).toBeUndefined();
    expect(ok.jobs.at(-1)!.steps[0]!.log.trim()).toBe('deepest');
    const [, tooDeep] = await chain(0, MAX_WORKFLOW_LEVELS);
    expect(tooDeep.error).toMatch(/more than 10 levels of workflows/);
  });
});

describe("this repository's actions", () => {
  const action = {
    'echo/action.yml': `name: echo
description: test action
inputs:
  token:
    description: t
    default: \${{ github.token }}
  ref:
    description: r
    default: \${{ github.ref }}
  given:
    description: g
    required: true
runs:
  using: node24
  main: index.js
`,
    'echo/index.js': `const fs = require('fs');
for (const k of ['TOKEN', 'REF', 'GIVEN']) fs.appendFileSync(process.env.GITHUB_OUTPUT, k.toLowerCase() + '=' + (process.env['INPUT_' + k] ?? '') + '\\n');
console.log('::add-mask::' + process.env.INPUT_GIVEN);
console.log('given was ' + process.env.INPUT_GIVEN);
`,
  };

  test('action.yml defaults are evaluated as expressions; unknown inputs warn as the runner does', async () => {
    const r = await runFiles(
      caller(`  a:
    runs-on: ubuntu-latest
    steps:
      - id: e
        uses: org/deploy-actions/echo@v1
        with:
          given: hello
          extra: x
`),
      action,
      { mintToken: () => 'ghs_job_token' },
    );
    const s = r.jobs[0]!.steps[0]!;
    expect(s.outcome).toBe('success');
    expect(s.outputs).toEqual({ token: 'ghs_job_token', ref: 'refs/heads/main', given: 'hello' });
    expect(s.log.trim()).toBe('given was ***');
    expect(s.annotations.map((a) => a.message)).toContain("Unexpected input(s) 'extra', valid inputs are ['token', 'ref', 'given']");
    expect(s.name).toBe('Run org/deploy-actions/echo@v1');
  });
});
