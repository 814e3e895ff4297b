/**
 * Evidence flooding (issue 20): what the production gate's signed check costs, and that its answer
 * does not move, when anyone with `deployments: write` adds junk deployments to preprod's evidence.
 * promote-gate's verify (source, real Octokit against the GitHub stand-in, real KMS client against
 * the KMS stand-in) decides about two digests: the one preprod holds (passes) and an older one
 * preprod has moved on from (refused), before and after N junk deployments (a third of them
 * carrying a replayed copy of the older digest's genuine statement, the rest unsigned or with a
 * bad signature), half of them on the older digest's commit.
 * Prints, per N: the decisions, the verifier's wall time and its GitHub API requests.
 * Figures only; nothing is asserted (the decisions are asserted in
 * actions/promote-gate/tests/signed.test.ts and test/security/attacks.test.ts).
 *
 *   BENCH=evidence-flood npm run bench        (BENCH_FLOOD=0,1000,10000 to choose)
 */
import { Inputs as Raw, mapInputs, recordingIO, runContextFrom, UserError } from '@deploy-actions/action-kit';
import { octokitDeployments } from '../../actions/promote-gate/src/github';
import { getInputs } from '../../actions/promote-gate/src/inputs';
import { kmsEvidenceKeys } from '@deploy-actions/aws/kms';
import { run } from '../../actions/promote-gate/src/run';
import { addGeneratedRoles, deployRoleArn } from '../executor/doubles/aws-trust';
import { startEvidenceKms } from '../security/evidence-keys';
import { startGithubStandin } from '../standins/github/index';
import { IamStore } from '../standins/iam/index';

const NAME = 'acme/sample-service';
const REPO = 'team/sample-service';
const SIZES = (process.env.BENCH_FLOOD ?? '0,1000,10000').split(',').map(Number);
const sha = (c: string) => c.repeat(40);
const digest = (c: string) => `sha256:${c.repeat(64)}`;

async function main() {
  const iam = new IamStore();
  addGeneratedRoles(iam);
  const evidence = await startEvidenceKms({ iam });
  process.env.AWS_ENDPOINT_URL_KMS = evidence.kms.url;
  const github = await startGithubStandin({ tokens: {}, repositories: [NAME] });
  const token = github.mintToken({ deployments: 'write' });
  const [owner, repo] = NAME.split('/') as [string, string];
  const env = (commit: string) => ({ GITHUB_SHA: commit, GITHUB_REF: 'refs/heads/main', GITHUB_REPOSITORY: NAME, GITHUB_SERVER_URL: 'https://github.com', GITHUB_RUN_ID: '1', GITHUB_ACTOR: 'alice', GITHUB_API_URL: github.url });
  const inputs = (values: Record<string, string>, commit: string) =>
    getInputs(
      new Raw(mapInputs({ 'github-token': token, repository: REPO, evidence: 'github', 'evidence-keys': evidence.variable, 'require-signed-evidence': 'true', 'target-environment': 'production', ...values })),
      env(commit),
      runContextFrom(env(commit)),
    );
  const deps = (role: string) => {
    const c = iam.issueCredentials(deployRoleArn(role), 'bench');
    return {
      io: recordingIO(),
      github: octokitDeployments({ token, apiUrl: github.url, owner, repo, need: 'write' }),
      keys: kmsEvidenceKeys({}, { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken }),
    };
  };
  const older = { sha: sha('a'), digest: digest('a') };
  const held = { sha: sha('b'), digest: digest('b') };
  for (const img of [older, held]) await run(inputs({ mode: 'record', environment: 'preprod', digest: img.digest }, img.sha), deps('preprod'));
  const replayed = github.state.deployments.find((d) => (d.payload as { digest?: string }).digest === older.digest)!.payload;

  const verify = async (img: { sha: string; digest: string }) => {
    const before = github.state.requests.length;
    const t0 = performance.now();
    const answer = await run(inputs({ mode: 'verify', digest: img.digest }, img.sha), deps('production')).then(
      () => 'passes',
      (e: unknown) => (e instanceof UserError ? `refused (${/moved on|marked failed|no statement|Refusing to decide/.exec(e.message)?.[0] ?? e.message.slice(0, 60)})` : `error ${String(e)}`),
    );
    return { answer, ms: performance.now() - t0, requests: github.state.requests.length - before };
  };
  const post = (body: unknown) =>
    fetch(`${github.url}/repos/${NAME}/deployments`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  const rows: string[][] = [];
  let made = 0;
  for (const n of SIZES) {
    for (; made < n; made += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, n - made) }, (_, j) => {
          const i = made + j;
          const payload = i % 3 === 0 ? replayed : i % 3 === 1 ? { digest: older.digest } : { digest: older.digest, signed: { statement: 'e30=', signature: 'AAAA', key: 'x' } };
          return post({ ref: i % 2 ? older.sha : held.sha, task: 'deploy:evidence:preprod', environment: 'preprod', payload, transient_environment: true, required_contexts: [] });
        }),
      );
    }
    for (const [what, img] of [['held digest', held], ['moved-on digest', older]] as const) {
      const v = await verify(img);
      rows.push([n.toLocaleString('en'), what, v.answer, `${v.ms.toFixed(0)} ms`, String(v.requests)]);
    }
  }
  console.log('junk deployments | digest | decision | verify wall time | GitHub requests');
  for (const r of rows) console.log(r.join(' | '));
  await github.stop();
  await evidence.kms.stop();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
