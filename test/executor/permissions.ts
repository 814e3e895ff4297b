/**
 * GITHUB_TOKEN permissions as a workflow declares them (`permissions:` of the workflow or job),
 * the repository default when neither does, and the rule for called workflows: a nested job may
 * keep or reduce what its caller grants, never ask for more (GitHub fails the run before any job
 * starts: "The nested job 'x' is requesting 'id-token: write', but is only allowed 'id-token: none'").
 */
import { isMapping, isString, type TemplateToken } from './parser';

export type Level = 'none' | 'read' | 'write';
export type Permissions = Record<string, Level>;

/** The scopes `permissions:` takes (workflow syntax reference). */
export const SCOPES = [
  'actions',
  'artifact-metadata',
  'attestations',
  'checks',
  'contents',
  'deployments',
  'discussions',
  'id-token',
  'issues',
  'models',
  'packages',
  'pages',
  'pull-requests',
  'repository-projects',
  'security-events',
  'statuses',
] as const;

const rank: Record<Level, number> = { none: 0, read: 1, write: 2 };

function all(level: Level): Permissions {
  return Object.fromEntries(SCOPES.map((s) => [s, s === 'id-token' && level === 'read' ? 'none' : level]));
}

/** The repository's default for workflows that declare nothing ("restricted" since 2023 for new repositories). */
export function defaultPermissions(kind: 'restricted' | 'permissive'): Permissions {
  if (kind === 'permissive') return { ...all('write'), 'id-token': 'none' };
  return { ...all('none'), contents: 'read', packages: 'read' };
}

/** `permissions:` from its token; undefined when the key is absent. */
export function readPermissions(token: TemplateToken | undefined): Permissions | undefined {
  if (token === undefined) return undefined;
  if (isString(token)) {
    if (token.value === 'read-all') return all('read');
    if (token.value === 'write-all') return all('write');
    throw new Error(`permissions: unexpected value '${token.value}'`);
  }
  if (!isMapping(token)) throw new Error('permissions: expected read-all, write-all or a mapping');
  const result = all('none');
  for (let i = 0; i < token.count; i++) {
    const pair = token.get(i);
    const scope = pair.key.assertString('permission scope').value;
    const level = pair.value.assertString(`permission ${scope}`).value as Level;
    if (!(level in rank)) throw new Error(`permissions: ${scope} must be read, write or none, not '${level}'`);
    result[scope] = level;
  }
  return result;
}

/** The first scope where `requested` exceeds `allowed`, in GitHub's words; undefined when within. */
export function exceeds(requested: Permissions, allowed: Permissions): { scope: string; requested: Level; allowed: Level } | undefined {
  for (const [scope, level] of Object.entries(requested)) {
    const max = allowed[scope] ?? 'none';
    if (rank[level] > rank[max]) return { scope, requested: level, allowed: max };
  }
  return undefined;
}

/** Only the scopes that grant something, for logs and tokens. */
export function granted(p: Permissions): Record<string, Level> {
  return Object.fromEntries(Object.entries(p).filter(([, l]) => l !== 'none'));
}
