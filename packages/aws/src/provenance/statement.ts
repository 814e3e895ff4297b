/**
 * Build provenance: what build-push-ecr states about an image it built, as an in-toto Statement
 * v1 (https://in-toto.io/Statement/v1) carrying a SLSA provenance v1 predicate
 * (https://slsa.dev/provenance/v1), and how a consumer reads it back. The statement binds the
 * image digest (subject), the ECR repository and content key (externalParameters), the commit
 * (resolvedDependencies, digest `gitCommit`), the GitHub repository and the workflow identity
 * that ran the build (runDetails.builder.id: build.yml's job_workflow_ref).
 * Decisions are made from these fields only; nothing around the signed bytes is trusted.
 */
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
/** The buildType: what externalParameters mean (docs/build-push-ecr.md, "Build provenance"). */
export const BUILD_TYPE = 'https://github.com/deploy-actions/build-push-ecr/provenance/v1';

/** What a provenance statement says, flattened. */
export interface BuildFacts {
  /** sha256:<64 hex> of the image manifest. */
  digest: string;
  /** The ECR repository name the image was pushed to. */
  ecrRepository: string;
  /** build-push-ecr's content key (`tree-<40 hex>`), '' when none. */
  contentKey: string;
  /** The commit built (40 hex). */
  commit: string;
  /** owner/name of the GitHub repository whose run built it. */
  githubRepository: string;
  /** The workflow that ran the build: job_workflow_ref, e.g. `org/deploy-actions/.github/workflows/build.yml@refs/tags/v1`. */
  workflowRef: string;
  /** The run: `<server>/<owner>/<name>/actions/runs/<id>/attempts/<n>`. */
  runUrl: string;
  /** When the build finished (ISO 8601). */
  time: string;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const COMMIT = /^[0-9a-f]{40}$/;
const KEY = /^tree-[0-9a-f]{40}$/;
const REPO = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
/** The job_workflow_ref of a build.yml: `<owner>/<repo>/.github/workflows/build.yml@<ref>`. */
export const BUILD_WORKFLOW_RE = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/\.github\/workflows\/build\.yml@\S+$/;

/** The statement's bytes (JSON), fields in a fixed order. */
export function encodeProvenance(f: BuildFacts, serverUrl = 'https://github.com'): Buffer {
  const statement = {
    _type: STATEMENT_TYPE,
    subject: [{ name: f.ecrRepository, digest: { sha256: f.digest.slice('sha256:'.length) } }],
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: BUILD_TYPE,
        externalParameters: { ecrRepository: f.ecrRepository, contentKey: f.contentKey, repository: f.githubRepository, commit: f.commit },
        internalParameters: {},
        resolvedDependencies: [{ uri: `git+${serverUrl}/${f.githubRepository}`, digest: { gitCommit: f.commit } }],
      },
      runDetails: {
        builder: { id: `${serverUrl}/${f.workflowRef}` },
        metadata: { invocationId: f.runUrl, finishedOn: f.time },
      },
    },
  };
  return Buffer.from(JSON.stringify(statement), 'utf8');
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The facts of a statement when it is one of ours and every field has its form, else why not. */
export function parseProvenance(bytes: Buffer): BuildFacts | string {
  let s: Obj | undefined;
  try {
    s = obj(JSON.parse(bytes.toString('utf8')));
  } catch {
    return 'the statement is not JSON';
  }
  if (!s || s._type !== STATEMENT_TYPE) return `the statement is not an in-toto Statement v1 (_type ${STATEMENT_TYPE})`;
  if (s.predicateType !== SLSA_PROVENANCE_V1) return `the statement's predicateType is not ${SLSA_PROVENANCE_V1}`;
  const subjects = Array.isArray(s.subject) ? s.subject.map(obj) : [];
  const hex = subjects.length === 1 ? str(obj(subjects[0]?.digest)?.sha256) : undefined;
  const definition = obj(obj(s.predicate)?.buildDefinition);
  const run = obj(obj(s.predicate)?.runDetails);
  if (definition?.buildType !== BUILD_TYPE) return `the provenance's buildType is not ${BUILD_TYPE}`;
  const ext = obj(definition.externalParameters) ?? {};
  const deps = Array.isArray(definition.resolvedDependencies) ? definition.resolvedDependencies.map(obj) : [];
  const builderId = str(obj(run?.builder)?.id) ?? '';
  const meta = obj(run?.metadata) ?? {};
  const f: BuildFacts = {
    digest: `sha256:${hex ?? ''}`,
    ecrRepository: str(ext.ecrRepository) ?? '',
    contentKey: str(ext.contentKey) ?? '-',
    commit: str(ext.commit) ?? '',
    githubRepository: str(ext.repository) ?? '',
    workflowRef: builderId.replace(/^https:\/\/[^/]+\//, ''),
    runUrl: str(meta.invocationId) ?? '',
    time: str(meta.finishedOn) ?? '',
  };
  const dependency = deps.find((d) => str(obj(d?.digest)?.gitCommit) !== undefined);
  const ok =
    DIGEST.test(f.digest) &&
    subjects[0]?.name === f.ecrRepository &&
    f.ecrRepository !== '' &&
    (f.contentKey === '' || KEY.test(f.contentKey)) &&
    COMMIT.test(f.commit) &&
    str(obj(dependency?.digest)?.gitCommit) === f.commit &&
    REPO.test(f.githubRepository) &&
    BUILD_WORKFLOW_RE.test(f.workflowRef) &&
    f.time !== '';
  return ok ? f : 'the provenance fields are malformed';
}
