/**
 * The AWS identity store the stand-ins share (ECR, EKS, STS, KMS, CloudWatch): accounts,
 * roles with their identity policies and trust policies, and the credentials that identify
 * a caller (access key -> secret, session token, principal ARN, account). STS registers the
 * credentials it issues here; every stand-in authenticates a request's access key through
 * `authenticate` and decides with `authorize` (policy.ts: @cloud-copilot/iam-simulate), so one role's policy change is
 * seen by every service at once.
 */
import { randomBytes } from 'node:crypto';
import { evaluate, type Decision, type PolicyDocument, type Principal } from './policy';

export * from './policy';

export interface Role {
  arn: string;
  name: string;
  account: string;
  /** Identity-based policies (inline and attached alike). */
  policies: PolicyDocument[];
  /** Who may assume it (sts:AssumeRole*, evaluated as a resource policy). */
  trustPolicy?: PolicyDocument;
}

/** A caller's credentials and who they stand for. Shape-compatible with the EKS/STS stand-ins' Identity. */
export interface Identity {
  accessKeyId: string;
  secretAccessKey: string;
  /** Temporary credentials (STS) carry one; the request must send it (X-Amz-Security-Token). */
  sessionToken?: string;
  /** arn:aws:sts::<account>:assumed-role/<role>/<session>, or an IAM user ARN. */
  arn: string;
  account?: string;
  userId?: string;
  /** The role of an assumed-role session. */
  roleArn?: string;
  expiresAt?: Date;
}

export type AuthResult =
  | { ok: true; identity: Identity & { account: string } }
  | { ok: false; code: 'InvalidClientTokenId' | 'ExpiredToken'; message: string };

/** A policy that allows everything: the identities of tests that are not about IAM. */
export const ALLOW_ALL: PolicyDocument = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };

const ARN_ACCOUNT = /^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):/;
const ASSUMED_ROLE = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/;

export function accountOfArn(arn: string): string | undefined {
  return ARN_ACCOUNT.exec(arn)?.[1];
}

/** arn:aws:sts::1:assumed-role/deploy/gha -> arn:aws:iam::1:role/deploy (path-less roles). */
export function roleArnOfSession(arn: string): string | undefined {
  const m = ASSUMED_ROLE.exec(arn);
  return m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : undefined;
}

export function roleArn(account: string, name: string): string {
  return `arn:aws:iam::${account}:role/${name}`;
}

/** The principal a policy sees for these credentials. */
export function principalOf(id: Identity): Principal {
  return { arn: id.arn, account: id.account ?? accountOfArn(id.arn), roleArn: id.roleArn ?? roleArnOfSession(id.arn) };
}

const keyChars = (n: number) => randomBytes(n).toString('hex').toUpperCase().slice(0, n);

export class IamStore {
  readonly roles = new Map<string, Role>();
  readonly identities = new Map<string, Identity>();

  /** Identities a test keeps in its own list; ones added to it later are found too. */
  private shared: Identity[] = [];
  private sharedPolicies: PolicyDocument[] = [ALLOW_ALL];

  /**
   * A store over a test's own identity list (live: identities pushed to it later count too);
   * each one's role is created, allowed everything unless `policies` say otherwise.
   */
  static of(identities: Identity[], policies: PolicyDocument[] = [ALLOW_ALL]): IamStore {
    const store = new IamStore();
    store.shared = identities;
    store.sharedPolicies = policies;
    for (const id of identities) store.addIdentity(id, policies);
    return store;
  }

  /** The identity of an access key (from the test's shared list when it joined it later). */
  identity(accessKeyId: string): Identity | undefined {
    const known = this.identities.get(accessKeyId);
    if (known) return known;
    const late = this.shared.find((i) => i.accessKeyId === accessKeyId);
    return late ? this.addIdentity(late, this.sharedPolicies) : undefined;
  }

  addRole(opts: { account: string; name: string; policies?: PolicyDocument[]; trustPolicy?: PolicyDocument }): Role {
    const role: Role = { arn: roleArn(opts.account, opts.name), name: opts.name, account: opts.account, policies: opts.policies ?? [], trustPolicy: opts.trustPolicy };
    this.roles.set(role.arn, role);
    return role;
  }

  role(arn: string): Role | undefined {
    return this.roles.get(arn);
  }

  /** Replaces a role's identity policies (an IAM fix between two runs, say). */
  setPolicies(roleArn: string, policies: PolicyDocument[]): void {
    const role = this.roles.get(roleArn);
    if (!role) throw new Error(`IAM stand-in: no role ${roleArn}`);
    role.policies = policies;
  }

  /**
   * Registers fixed credentials (a test's own identity). An assumed-role ARN whose role is not
   * in the store gets that role, with `policies` (everything allowed by default).
   */
  addIdentity(id: Identity, policies: PolicyDocument[] = [ALLOW_ALL]): Identity & { account: string } {
    const account = id.account ?? accountOfArn(id.arn) ?? '000000000000';
    const role = id.roleArn ?? roleArnOfSession(id.arn);
    if (role && !this.roles.has(role)) this.addRole({ account, name: role.slice(role.lastIndexOf('/') + 1), policies });
    const stored = { ...id, account, ...(role ? { roleArn: role } : {}) };
    this.identities.set(id.accessKeyId, stored);
    return stored;
  }

  /** Temporary credentials for a session of `roleArn`, as STS hands them out (ASIA key, session token). */
  issueCredentials(roleArn: string, sessionName: string, opts: { durationSeconds?: number; now?: Date } = {}): Identity & { account: string; sessionToken: string; expiresAt: Date } {
    const role = this.roles.get(roleArn);
    if (!role) throw new Error(`IAM stand-in: no role ${roleArn}`);
    const now = opts.now ?? new Date();
    const id = {
      accessKeyId: `ASIA${keyChars(16)}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(48).toString('base64'),
      arn: `arn:aws:sts::${role.account}:assumed-role/${role.name}/${sessionName}`,
      account: role.account,
      userId: `AROA${keyChars(17)}:${sessionName}`,
      roleArn,
      expiresAt: new Date(now.getTime() + (opts.durationSeconds ?? 3600) * 1000),
    };
    this.identities.set(id.accessKeyId, id);
    return id;
  }

  /** The secret of an access key (for SigV4 verification), whoever it belongs to. */
  secretFor = (accessKeyId: string): string | undefined => this.identity(accessKeyId)?.secretAccessKey;

  /** Who an access key stands for, checking the session token of temporary credentials and their expiry. */
  authenticate(accessKeyId: string, sessionToken: string | undefined, now = new Date()): AuthResult {
    const id = this.identity(accessKeyId);
    if (!id || (id.sessionToken !== undefined && id.sessionToken !== sessionToken)) {
      return { ok: false, code: 'InvalidClientTokenId', message: 'The security token included in the request is invalid.' };
    }
    if (id.expiresAt && now > id.expiresAt) return { ok: false, code: 'ExpiredToken', message: 'The security token included in the request is expired' };
    return { ok: true, identity: { ...id, account: id.account ?? accountOfArn(id.arn) ?? '000000000000' } };
  }

  /** The identity policies of a caller: its role's. */
  policiesOf(id: Identity): PolicyDocument[] {
    const role = id.roleArn ?? roleArnOfSession(id.arn);
    return (role && this.roles.get(role)?.policies) || [];
  }

  /**
   * May `caller` do `action` on `resource`? The caller's role policies, plus the resource's
   * policy when it has one, decided by the IAM simulator (policy.ts `evaluate`): cross-account
   * access needs both; KMS key policies and role trust policies must allow the caller or its account.
   */
  authorize(
    caller: Identity,
    action: string,
    resource: string,
    opts: { resourcePolicy?: PolicyDocument; resourceAccount?: string; context?: Record<string, string | string[] | undefined> } = {},
  ): Promise<Decision> {
    return evaluate({ principal: principalOf(caller), action, resource, identityPolicies: this.policiesOf(caller), ...opts });
  }

  /**
   * May this principal assume `roleArn` with `action` (sts:AssumeRole, sts:AssumeRoleWithWebIdentity)?
   * The role's trust policy must allow it; for an AWS principal its own policies must allow
   * sts:AssumeRole too when the trust policy names only its account.
   */
  mayAssume(roleArn: string, principal: Principal, action: string, context: Record<string, string | string[] | undefined> = {}): Promise<Decision> {
    const role = this.roles.get(roleArn);
    const identityPolicies = principal.roleArn ? (this.roles.get(principal.roleArn)?.policies ?? []) : [];
    return evaluate({ principal, action, resource: roleArn, identityPolicies, resourcePolicy: role?.trustPolicy, resourceAccount: role?.account, context });
  }
}
