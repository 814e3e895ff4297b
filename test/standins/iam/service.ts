/**
 * The IAM API over the shared identity store, for read-only checks (deploy-setup doctor):
 * the Query protocol the real @aws-sdk/client-iam speaks (`POST /`, form body
 * `Action=...&Version=2010-05-08`, XML answers in the `https://iam.amazonaws.com/doc/2010-05-08/`
 * namespace), reached through AWS_ENDPOINT_URL_IAM. Operations:
 *   - GetRole: the role with its trust policy, URL-encoded (RFC 3986) as IAM returns it;
 *   - SimulatePrincipalPolicy: each action on each resource for a role's identity policies,
 *     decided by @cloud-copilot/iam-simulate (policy.ts `evaluate`) like every other decision of
 *     the stand-ins; the resource belongs to the role's account unless `ResourceOwner` says
 *     otherwise, and no resource policy is simulated (none given): IAM's answer is the identity
 *     policies'. For a KMS key that means a key policy that leaves the decision to IAM (the
 *     default key policy, the account's root), since the simulator otherwise applies KMS's rule
 *     that only a key policy can open a key.
 * Each request is signed (SigV4, service iam) and the caller needs iam:GetRole /
 * iam:SimulatePrincipalPolicy on the role by its own policies (same account) as in AWS.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import { closeServer, listenLocal, readBody } from '../../harness/net';
import { logRequests, type LoggedRequest } from '../request-log';
import { evaluate, type IamStore, type Role } from './index';
import { authenticateRequest } from './request';

const NS = 'https://iam.amazonaws.com/doc/2010-05-08/';
const CREATED = '2026-09-01T09:00:00Z';

export interface IamStandin {
  url: string;
  requests: LoggedRequest[];
  /** AWS_ENDPOINT_URL_IAM for a process's environment. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

class IamError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** RFC 3986 encoding, as IAM encodes policy documents. */
const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const roleId = (arn: string) => `AROA${createHash('sha256').update(arn).digest('hex').slice(0, 17).toUpperCase()}`;

/** `Name.member.1`, `Name.member.2`, ...: a Query-protocol list. */
function members(form: URLSearchParams, name: string): string[] {
  const out: string[] = [];
  for (let i = 1; form.has(`${name}.member.${i}`); i++) out.push(form.get(`${name}.member.${i}`)!);
  return out;
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() });
  res.end(body);
}

function answer(action: string, result: string): string {
  return `<${action}Response xmlns="${NS}">\n  <${action}Result>\n${result}  </${action}Result>\n  <ResponseMetadata>\n    <RequestId>${randomUUID()}</RequestId>\n  </ResponseMetadata>\n</${action}Response>\n`;
}

export async function startIamStandin(opts: { iam: IamStore }): Promise<IamStandin> {
  const { iam } = opts;

  function roleOf(caller: { account: string }, form: URLSearchParams, param: 'RoleName' | 'PolicySourceArn'): Role {
    const value = form.get(param);
    if (!value) throw new IamError('ValidationError', `1 validation error detected: Value null at '${param === 'RoleName' ? 'roleName' : 'policySourceArn'}' failed to satisfy constraint: Member must not be null`);
    const arn = param === 'RoleName' ? `arn:aws:iam::${caller.account}:role/${value}` : value;
    const role = iam.role(arn);
    if (!role) {
      if (param === 'RoleName') throw new IamError('NoSuchEntity', `The role with name ${value} cannot be found.`, 404);
      throw new IamError('NoSuchEntity', `The user, group or role ${value} could not be found.`, 404);
    }
    return role;
  }

  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    try {
      const auth = authenticateRequest(iam, { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body });
      if (!auth.ok) throw new IamError(auth.code, auth.message, 403);
      if (auth.service !== 'iam') throw new IamError('SignatureDoesNotMatch', `Credential should be scoped to correct service: 'iam'.`, 403);
      const form = new URLSearchParams(body.toString('utf8'));
      const action = form.get('Action') ?? '';
      if (form.get('Version') !== '2010-05-08' || !['GetRole', 'SimulatePrincipalPolicy'].includes(action)) {
        throw new IamError('InvalidAction', `Could not find operation ${action} for version ${form.get('Version') ?? ''}`);
      }
      const caller = auth.identity;
      const role = roleOf(caller, form, action === 'GetRole' ? 'RoleName' : 'PolicySourceArn');
      const allowed = await iam.authorize(caller, `iam:${action}`, role.arn);
      if (!allowed.allowed) throw new IamError('AccessDenied', allowed.message, 403);

      if (action === 'GetRole') {
        const trust = role.trustPolicy ? `      <AssumeRolePolicyDocument>${xml(rfc3986(JSON.stringify(role.trustPolicy)))}</AssumeRolePolicyDocument>\n` : '';
        const r = `    <Role>\n      <Path>/</Path>\n      <RoleName>${xml(role.name)}</RoleName>\n      <RoleId>${roleId(role.arn)}</RoleId>\n      <Arn>${xml(role.arn)}</Arn>\n      <CreateDate>${CREATED}</CreateDate>\n${trust}      <MaxSessionDuration>3600</MaxSessionDuration>\n    </Role>\n`;
        send(res, 200, answer(action, r));
        return;
      }
      const actions = members(form, 'ActionNames');
      if (actions.length === 0) throw new IamError('ValidationError', "1 validation error detected: Value null at 'actionNames' failed to satisfy constraint: Member must not be null");
      const resources = members(form, 'ResourceArns');
      const owner = /^arn:aws[a-z-]*:iam::(\d{12}):root$/.exec(form.get('ResourceOwner') ?? '')?.[1] ?? role.account;
      let results = '';
      for (const a of actions) {
        for (const resource of resources.length ? resources : ['*']) {
          const kmsKey = /^arn:aws[a-z-]*:kms:[^:]*:\d{12}:key\//.test(resource);
          const delegate = { Version: '2012-10-17', Statement: [{ Effect: 'Allow' as const, Principal: { AWS: `arn:aws:iam::${owner}:root` }, Action: 'kms:*', Resource: '*' }] };
          const d = await evaluate({
            principal: { arn: role.arn, account: role.account, roleArn: role.arn },
            action: a,
            resource,
            identityPolicies: role.policies,
            resourceAccount: owner,
            ...(kmsKey ? { resourcePolicy: delegate } : {}),
          });
          const decision = d.allowed ? 'allowed' : d.reason === 'explicit-deny-identity' ? 'explicitDeny' : 'implicitDeny';
          results += `      <member>\n        <EvalActionName>${xml(a)}</EvalActionName>\n        <EvalResourceName>${xml(resource)}</EvalResourceName>\n        <EvalDecision>${decision}</EvalDecision>\n        <MatchedStatements/>\n        <MissingContextValues/>\n      </member>\n`;
        }
      }
      send(res, 200, answer(action, `    <IsTruncated>false</IsTruncated>\n    <EvaluationResults>\n${results}    </EvaluationResults>\n`));
    } catch (err) {
      const e = err instanceof IamError ? err : new IamError('ServiceFailure', (err as Error).message, 500);
      send(res, e.status, `<ErrorResponse xmlns="${NS}">\n  <Error>\n    <Type>${e.status >= 500 ? 'Receiver' : 'Sender'}</Type>\n    <Code>${e.code}</Code>\n    <Message>${xml(e.message)}</Message>\n  </Error>\n  <RequestId>${randomUUID()}</RequestId>\n</ErrorResponse>\n`);
    }
  });
  const requests = logRequests(server);
  const url = `http://127.0.0.1:${await listenLocal(server)}`;
  return { url, requests, env: { AWS_ENDPOINT_URL_IAM: url }, stop: () => closeServer(server) };
}
