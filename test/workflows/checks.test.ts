// The checks in lib.ts must be able to fail: each is fed a deliberately broken copy of a real
// workflow (or a small broken workflow) and must report it.
import { describe, expect, test } from 'vitest';
import { actionlint } from '../tools/actionlint';
import {
  type ActionMeta,
  type ActionResolver,
  type Obj,
  type WorkflowFile,
  type WorkflowResolver,
  checkActionInputs,
  checkDeployJobs,
  checkNoExpressionsInRun,
  checkPermissions,
  checkPins,
  checkPinsAgree,
  checkPipeline,
  checkProductionGate,
  checkWorkflowCalls,
  readWorkflow,
  resolveFromRepo,
  workflowFromText,
  workflowParserErrors,
} from './lib';

/** A real workflow with its parsed document changed by `edit`. */
function mutated(path: string, edit: (doc: Obj) => void): WorkflowFile {
  const wf = readWorkflow(path);
  const doc = structuredClone(wf.doc);
  edit(doc);
  return { path: `${path} (broken)`, text: wf.text, doc };
}

/** Resolves reusable workflows from the repository, except `path`, which is replaced. */
function resolverWith(path: string, replacement: WorkflowFile): WorkflowResolver {
  return (p) => (p === path ? replacement : resolveFromRepo(p));
}

const PIPELINE = '.github/workflows/pipeline.yml';
const DEPLOY = '.github/workflows/deploy.yml';
const BUILD = '.github/workflows/build.yml';

describe('checkPipeline fails on a broken release flow', () => {
  test('the real pipeline passes (baseline)', () => {
    expect(checkPipeline(readWorkflow(PIPELINE))).toEqual([]);
  });

  test('production without needs', () => {
    const wf = mutated(PIPELINE, (d) => delete d.jobs.production.needs);
    const problems = checkPipeline(wf).join('\n');
    expect(problems).toContain('job production does not need preprod');
    expect(problems).toContain('job production does not need build');
  });

  test('production needing only build (skips preprod)', () => {
    const wf = mutated(PIPELINE, (d) => (d.jobs.production.needs = 'build'));
    expect(checkPipeline(wf).join('\n')).toContain('job production does not need preprod');
  });

  test('production without its own ref condition', () => {
    const wf = mutated(PIPELINE, (d) => delete d.jobs.production.if);
    expect(checkPipeline(wf).join('\n')).toContain("job production's own if: allows refs/heads/develop");
  });

  test('production without its ref condition and without needs runs on develop', () => {
    const wf = mutated(PIPELINE, (d) => {
      delete d.jobs.production.if;
      d.jobs.production.needs = 'build';
    });
    expect(checkPipeline(wf).join('\n')).toMatch(/on refs\/heads\/develop runs .*"production":"production"/);
  });

  test('qa deployed from main', () => {
    const wf = mutated(PIPELINE, (d) => (d.jobs.qa.if = "github.ref == 'refs/heads/main'"));
    const problems = checkPipeline(wf).join('\n');
    expect(problems).toMatch(/on refs\/heads\/main runs .*"qa"/);
    expect(problems).toMatch(/on refs\/heads\/develop runs/);
  });

  test('build on every branch', () => {
    const wf = mutated(PIPELINE, (d) => delete d.jobs.build.if);
    expect(checkPipeline(wf).join('\n')).toContain('on refs/heads/feature/x runs {"build":""}');
  });

  test('production deploying something other than the built image', () => {
    const wf = mutated(PIPELINE, (d) => (d.jobs.production.with['image-ref'] = '${{ inputs.image }}'));
    expect(checkPipeline(wf).join('\n')).toContain('job production does not deploy needs.build.outputs.image-ref');
  });

  test('production stage pointed at the wrong environment', () => {
    const wf = mutated(PIPELINE, (d) => (d.jobs.production.with.environment = 'preprod'));
    expect(checkPipeline(wf).join('\n')).toMatch(/on refs\/heads\/main runs .*"production":"preprod"/);
  });

  test('a deploy workflow whose gate can be skipped for production', () => {
    const weak = mutated(DEPLOY, (d) => {
      d.jobs.deploy.steps.find((s: Obj) => s.with?.mode === 'verify').if = "inputs.require-environment != ''";
    });
    const wf = mutated(PIPELINE, (d) => delete d.jobs.production.with['require-environment']);
    expect(checkPipeline(wf, resolverWith(DEPLOY, weak))).toContain(`${wf.path}: production deploys without verifying preprod evidence first`);
  });
});

describe('checkProductionGate fails when production can skip preprod', () => {
  test('verify only when asked', () => {
    const wf = mutated(DEPLOY, (d) => {
      d.jobs.deploy.steps.find((s: Obj) => s.with?.mode === 'verify').if = "inputs.require-environment != ''";
    });
    expect(checkProductionGate(wf).join('\n')).toContain("production deploy (require-environment '') runs no promote-gate verify");
  });

  test('verify after the deploy', () => {
    const wf = mutated(DEPLOY, (d) => {
      const steps = d.jobs.deploy.steps as Obj[];
      const i = steps.findIndex((s) => s.with?.mode === 'verify');
      const [verify] = steps.splice(i, 1);
      steps.push(verify!);
    });
    expect(checkProductionGate(wf).length).toBeGreaterThan(0);
  });

  test('production gated on the caller-chosen environment', () => {
    const wf = mutated(DEPLOY, (d) => {
      d.jobs.deploy.steps.find((s: Obj) => s.with?.mode === 'verify').with['require-environment'] = '${{ inputs.require-environment }}';
    });
    expect(checkProductionGate(wf).join('\n')).toContain("production gate requires 'qa' for target 'production'");
  });
});

describe('checkDeployJobs fails on missing approval or cancelling concurrency', () => {
  test('no environment', () => {
    const wf = mutated(DEPLOY, (d) => delete d.jobs.deploy.environment);
    expect(checkDeployJobs(wf).join('\n')).toContain('deploys without environment');
  });

  test('environment without url', () => {
    const wf = mutated(DEPLOY, (d) => (d.jobs.deploy.environment = { name: '${{ inputs.environment }}' }));
    expect(checkDeployJobs(wf).join('\n')).toContain('environment url must come from a step output');
  });

  test('cancel-in-progress true', () => {
    const wf = mutated(DEPLOY, (d) => (d.jobs.deploy.concurrency['cancel-in-progress'] = true));
    expect(checkDeployJobs(wf).join('\n')).toContain('cancel-in-progress: false');
  });

  test('cancel-in-progress from an input that defaults to true', () => {
    const wf = mutated(DEPLOY, (d) => (d.on.workflow_call.inputs['cancel-in-progress'].default = true));
    expect(checkDeployJobs(wf).join('\n')).toContain('cancel-in-progress: false (or a boolean input defaulting to false)');
  });

  test('no concurrency', () => {
    const wf = mutated(DEPLOY, (d) => delete d.jobs.deploy.concurrency);
    expect(checkDeployJobs(wf).join('\n')).toContain('no concurrency group');
  });

  test('one group for every environment', () => {
    const wf = mutated(DEPLOY, (d) => (d.jobs.deploy.concurrency.group = 'deploy-${{ github.repository }}'));
    expect(checkDeployJobs(wf).join('\n')).toContain('is not per repository and environment');
  });
});

describe('checkPermissions fails on more (or less) than a job uses', () => {
  test('no top-level permissions', () => {
    const wf = mutated(BUILD, (d) => delete d.permissions);
    expect(checkPermissions(wf).join('\n')).toContain('top-level permissions must be {}');
  });

  test('top-level write-all', () => {
    const wf = mutated(BUILD, (d) => (d.permissions = 'write-all'));
    expect(checkPermissions(wf).join('\n')).toContain('top-level permissions must be {}');
  });

  test('id-token: write on a job that requests no AWS credentials', () => {
    const wf = mutated(BUILD, (d) => {
      d.jobs.build.steps = (d.jobs.build.steps as Obj[]).filter((s) => !String(s.uses ?? '').startsWith('aws-actions/'));
    });
    expect(checkPermissions(wf).join('\n')).toContain('differ from what it uses');
  });

  test('deployments: write where nothing is recorded', () => {
    const wf = mutated(BUILD, (d) => (d.jobs.build.permissions.deployments = 'write'));
    expect(checkPermissions(wf).join('\n')).toContain('differ from what it uses');
  });

  test('a job without permissions', () => {
    const wf = mutated(DEPLOY, (d) => delete d.jobs.deploy.permissions);
    expect(checkPermissions(wf).join('\n')).toContain('declares no permissions');
  });

  test('a caller job granting less than the called workflow needs', () => {
    const wf = mutated(PIPELINE, (d) => delete d.jobs.production.permissions.deployments);
    expect(checkPermissions(wf).join('\n')).toContain('job production: permissions');
  });

  test('a caller job granting id-token to a workflow that does not use it', () => {
    // Every job of deploy.yml (deploy, and the release card's job) without AWS.
    const noAws = mutated(DEPLOY, (d) => {
      for (const job of Object.values(d.jobs as Record<string, Obj>)) {
        job.steps = (job.steps as Obj[]).filter((s) => !String(s.uses ?? '').startsWith('aws-actions/'));
        if (job.permissions) delete job.permissions['id-token'];
      }
    });
    expect(checkPermissions(readWorkflow(PIPELINE), resolverWith(DEPLOY, noAws)).join('\n')).toContain('job qa: permissions');
  });
});

describe('checkPins fails on unpinned or unlabelled actions', () => {
  const wf = (uses: string, comment = ''): WorkflowFile =>
    workflowFromText(
      'pins.yml',
      `on: push\npermissions: {}\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: ${uses}${comment}\n`,
    );

  test.each([
    ['actions/checkout@v5', 'is not pinned by a full 40-hex commit SHA'],
    ['actions/checkout@08c6903', 'is not pinned by a full 40-hex commit SHA'],
    ['actions/checkout@main', 'is not pinned by a full 40-hex commit SHA'],
    ['docker://alpine:3.20', 'is not pinned by digest'],
    ['./helm-deploy-eks', "would resolve in the caller's repository"],
  ])('%s', (uses, message) => {
    expect(checkPins(wf(uses)).join('\n')).toContain(message);
  });

  test('a reusable workflow calling a sibling by ./ (resolved in the caller repository)', () => {
    const call = (on: string) =>
      workflowFromText('calls.yml', `on: ${on}\npermissions: {}\njobs:\n  j:\n    uses: ./.github/workflows/build.yml\n`);
    expect(checkPins(call('workflow_call')).join('\n')).toContain(
      `local workflow ./.github/workflows/build.yml would resolve in the caller's repository; use $/.github/workflows/build.yml`,
    );
    expect(checkPins(call('{ workflow_call: { inputs: {} } }')).join('\n')).toContain('would resolve in the caller');
    // In a workflow of this repository that nobody calls, ./ is this repository.
    expect(checkPins(call('push'))).toEqual([]);
  });

  test('own references: $/ inside this repository, a released ref in a starter a service repository copies', () => {
    const at = (path: string, uses: string, job = false) =>
      workflowFromText(path, `on: workflow_call\npermissions: {}\njobs:\n  j:\n${job ? `    uses: ${uses}\n` : `    runs-on: ubuntu-latest\n    steps:\n      - uses: ${uses}\n`}`);
    expect(checkPins(at('.github/workflows/x.yml', '$/helm-deploy-eks'))).toEqual([]);
    expect(checkPins(at('.github/workflows/x.yml', '$/.github/workflows/deploy.yml', true))).toEqual([]);
    expect(checkPins(at('.github/workflows/x.yml', 'org/deploy-actions/helm-deploy-eks@v1')).join('\n')).toContain(
      'org/deploy-actions/helm-deploy-eks@v1 names a ref of this repository; use $/helm-deploy-eks (the running commit)',
    );
    expect(checkPins(at('.github/workflows/x.yml', 'org/deploy-actions/.github/workflows/deploy.yml@v1', true)).join('\n')).toContain(
      'use $/.github/workflows/deploy.yml (the running commit)',
    );
    expect(checkPins(at('workflows/deploy.yml', 'org/deploy-actions/.github/workflows/pipeline.yml@v1', true))).toEqual([]);
    expect(checkPins(at('workflows/deploy.yml', '$/.github/workflows/pipeline.yml', true)).join('\n')).toContain(
      'would resolve in the service repository that copies this starter; use org/deploy-actions/.github/workflows/pipeline.yml@v1',
    );
  });

  test('one action pinned to two commits in two workflows', () => {
    const v4 = wf('actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683', ' # v4.2.2');
    const v5 = workflowFromText('other.yml', wf('actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8', ' # v5.0.0').text);
    expect(checkPinsAgree([v4, v5])).toEqual([
      'actions/checkout is pinned to 2 commits: 11bd71901bbe5b1630ceea73d27597364c9af683 in pins.yml; 08c6903cd8c0fde910a37f88322edcfb5dd907a8 in other.yml',
    ]);
    expect(checkPinsAgree([v5, v5])).toEqual([]);
  });

  test('a SHA without its release comment', () => {
    expect(checkPins(wf('actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8')).join('\n')).toContain("no '# vX.Y.Z' comment");
  });

  test('a SHA with its release comment passes', () => {
    expect(checkPins(wf('actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8', ' # v5.0.0'))).toEqual([]);
  });
});

describe('checkNoExpressionsInRun fails on an expression in a script', () => {
  test('an input in run:', () => {
    const wf = mutated(BUILD, (d) => {
      d.jobs.build.steps[0].run = 'echo "${{ inputs.repository }}"';
    });
    expect(checkNoExpressionsInRun(wf).join('\n')).toContain('run: contains a ${{ }} expression');
  });
});

describe('checkActionInputs fails on keys an action does not declare', () => {
  const helm: ActionMeta = { inputs: { release: { required: true }, image: {}, 'cluster-name': {} }, outputs: { revision: {} } };
  const gate: ActionMeta = { inputs: { mode: { required: true }, 'image-ref': {}, environment: {} }, outputs: {} };
  const fake: ActionResolver = (name) => (name === 'helm-deploy-eks' ? helm : gate);
  const wf = (steps: string): WorkflowFile =>
    workflowFromText('inputs.yml', `on: push\npermissions: {}\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n${steps}`);

  test('an unknown key', () => {
    const problems = checkActionInputs(wf('      - uses: org/deploy-actions/helm-deploy-eks@v1\n        with: { release: r, imagee: x }\n'), fake);
    expect(problems.join('\n')).toContain("helm-deploy-eks has no input 'imagee'");
  });

  test('a missing required input', () => {
    const problems = checkActionInputs(wf('      - uses: org/deploy-actions/promote-gate@v1\n        with: { image-ref: x }\n'), fake);
    expect(problems.join('\n')).toContain("required input 'mode' of promote-gate is not given");
  });

  test('an undeclared output read', () => {
    const problems = checkActionInputs(
      wf('      - id: d\n        uses: org/deploy-actions/helm-deploy-eks@v1\n        with: { release: r }\n      - run: echo "$U"\n        env: { U: "${{ steps.d.outputs.url }}" }\n'),
      fake,
    );
    expect(problems.join('\n')).toContain("helm-deploy-eks has no output 'url'");
  });

  test('an action that does not exist', () => {
    const problems = checkActionInputs(wf('      - uses: org/deploy-actions/helm-deploy-eks@v1\n        with: { release: r }\n'), () => undefined);
    expect(problems.join('\n')).toContain('helm-deploy-eks/action.yml does not exist');
  });
});

describe('checkWorkflowCalls fails on undeclared inputs and outputs', () => {
  test('an unknown input to deploy.yml', () => {
    const wf = mutated(PIPELINE, (d) => (d.jobs.qa.with.enviroment = 'qa'));
    expect(checkWorkflowCalls(wf).join('\n')).toContain("has no input 'enviroment'");
  });

  test('a missing required input', () => {
    const wf = mutated(PIPELINE, (d) => delete d.jobs.preprod.with.release);
    expect(checkWorkflowCalls(wf).join('\n')).toContain("required input 'release'");
  });

  test('an output build does not declare', () => {
    const wf = mutated(PIPELINE, (d) => (d.jobs.qa.with['image-ref'] = '${{ needs.build.outputs.image_ref }}'));
    expect(checkWorkflowCalls(wf).join('\n')).toContain("job build has no output 'image_ref'");
  });

  test('an output of a job that is not needed', () => {
    const wf = mutated(PIPELINE, (d) => (d.jobs.qa.needs = []));
    expect(checkWorkflowCalls(wf).join('\n')).toContain('uses needs.build.outputs.image-ref but does not need build');
  });

  test('a workflow output from an undeclared job output', () => {
    const wf = mutated(BUILD, (d) => delete d.jobs.build.outputs.digest);
    expect(checkWorkflowCalls(wf).join('\n')).toContain("workflow output 'digest' refers to jobs.build.outputs.digest");
  });
});

describe('the parser and actionlint report broken workflows', () => {
  const broken = `on:
  workflow_call:
    inputs:
      environment: { type: strng, required: true }
permissions: {}
jobs:
  deploy:
    runs-on: ubuntu-latest
    environment: \${{ inputs.enviroment }}
    permissions: { id-token: writ }
    steps:
      - run: echo "\${{ github.event.head_commit.message }}"
`;

  test('@actions/workflow-parser', async () => {
    const errors = await workflowParserErrors('broken.yml', broken);
    expect(errors.join('\n')).toMatch(/strng|writ/);
  });

  test('actionlint', async () => {
    const text = (await actionlint(broken, '.github/workflows/broken.yml')).map((f) => f.message).join('\n');
    expect(text).toContain('enviroment');
    expect(text).toContain('potentially untrusted');
  });

  // .github/actionlint.yaml ignores actionlint's two "$/ is malformed" messages (rhysd/actionlint#711)
  // and nothing else: without it both appear; with it, a `$/` line still gets every other check.
  const selfRefs = `on: workflow_call
permissions: {}
jobs:
  call:
    uses: $/.github/workflows/deploy.yml
  step:
    runs-on: ubuntu-latest
    steps:
      - uses: $/promote-gate
        with:
          mode: \${{ inputs.nope }}
      - uses: org/deploy-actions/promote-gate
`;

  test('the $/ suppression of .github/actionlint.yaml is that one false positive only', async () => {
    const path = '.github/workflows/self.yml';
    const raw = (await actionlint(selfRefs, path, [])).map((f) => `${f.kind}: ${f.message}`);
    expect(raw.filter((m) => m.includes('"$/'))).toHaveLength(2);
    const kept = (await actionlint(selfRefs, path)).map((f) => `${f.kind}: ${f.message}`);
    expect(kept.filter((m) => m.includes('"$/'))).toEqual([]);
    expect(kept.join('\n')).toContain('property "nope" is not defined');
    expect(kept.join('\n')).toContain('specifying action "org/deploy-actions/promote-gate" in invalid format because ref is missing');
    // The starters (workflows/) are outside the configured paths: there `$/` would resolve in the service repository.
    expect((await actionlint(selfRefs, 'workflows/self.yml')).filter((f) => f.message.includes('"$/'))).toHaveLength(2);
  });
});
