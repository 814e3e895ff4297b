/**
 * Amazon CloudWatch stand-in for the bake window: DescribeAlarms in the protocol the current
 * @aws-sdk/client-cloudwatch speaks, AWS JSON 1.0 (`X-Amz-Target:
 * GraniteServiceVersion20100801.DescribeAlarms`, `application/x-amz-json-1.0`, timestamps as
 * epoch seconds), with the query-compatible error header (`x-amzn-query-error`) the service sends.
 * Reached through AWS_ENDPOINT_URL_CLOUDWATCH. With `iam` (the identity store the other AWS
 * stand-ins share) every request's SigV4 signature and credentials are checked there and
 * DescribeAlarms is authorized as `cloudwatch:DescribeAlarms` on the account's alarms; without it,
 * requests must carry a SigV4 Authorization for `accessKeyId` and the `monitoring` service (the
 * signature is not recomputed).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { logRequests, type LoggedRequest } from '../request-log';
import { closeServer, listenLocal, readBody } from '../../harness/net';
import type { IamStore } from '../iam/index';
import { authenticateRequest } from '../iam/request';

export interface StandinAlarm {
  name: string;
  state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  reason: string;
  updatedAt: number;
}

export interface CloudWatchStandin {
  url: string;
  /** Every HTTP request received, whatever it is (request-log.ts). */
  requests: LoggedRequest[];
  env: Record<string, string>;
  alarms: Map<string, StandinAlarm>;
  /** Sets an alarm's state (creating it) and returns when it changed. */
  setAlarm(name: string, state: StandinAlarm['state'], reason?: string): number;
  calls: Array<{ operation: string; body: unknown; at: number }>;
  stop(): Promise<void>;
}

const TARGET = 'GraniteServiceVersion20100801.';

export async function startCloudWatchStandin(
  o: { accountId?: string; region?: string; accessKeyId?: string; pageSize?: number; iam?: IamStore } = {},
): Promise<CloudWatchStandin> {
  const account = o.accountId ?? '123456789012';
  const region = o.region ?? 'eu-west-1';
  const key = o.accessKeyId ?? 'AKIDCLOUDWATCH';
  const pageSize = o.pageSize ?? 50;
  const alarms = new Map<string, StandinAlarm>();
  const calls: CloudWatchStandin['calls'] = [];

  const fail = (res: ServerResponse, status: number, code: string, message: string, fault = 'Sender') => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': `${code};${fault}` });
    res.end(JSON.stringify({ __type: `com.amazonaws.cloudwatch#${code}`, message }));
  };

  /** How the service answers a request that fails authentication (query-compatible codes). */
  const AUTH_STATUS: Record<string, number> = { IncompleteSignature: 400 };
  type Caller = Parameters<IamStore['authorize']>[0];

  /** The caller (undefined without `iam`), or why the request is refused before it is read. */
  function authenticate(req: IncomingMessage, body: Buffer): { caller?: Caller } | { refused: { status: number; code: string; message: string } } {
    if (o.iam) {
      const auth = authenticateRequest(o.iam, { method: req.method ?? 'POST', url: req.url ?? '/', headers: req.headers, body });
      if (!auth.ok) return { refused: { status: AUTH_STATUS[auth.code] ?? 403, code: auth.code, message: auth.message } };
      if (auth.service !== 'monitoring') return { refused: { status: 403, code: 'SignatureDoesNotMatch', message: `Credential should be scoped to correct service: 'monitoring'.` } };
      return { caller: auth.identity };
    }
    const header = String(req.headers.authorization ?? '');
    if (!new RegExp(`^AWS4-HMAC-SHA256 Credential=${key}/\\d{8}/${region}/monitoring/aws4_request, SignedHeaders=[^,]*x-amz-target[^,]*, Signature=[0-9a-f]{64}$`).test(header)) {
      return { refused: { status: 403, code: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' } };
    }
    return {};
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const target = String(req.headers['x-amz-target'] ?? '');
    const bytes = await readBody(req);
    const raw = bytes.toString('utf8');
    if (req.method !== 'POST' || !target.startsWith(TARGET)) return fail(res, 400, 'UnknownOperationException', `unknown target ${target}`);
    if (!String(req.headers['content-type'] ?? '').startsWith('application/x-amz-json-1.0')) return fail(res, 400, 'SerializationException', 'expected application/x-amz-json-1.0');
    const auth = authenticate(req, bytes);
    if ('refused' in auth) return fail(res, auth.refused.status, auth.refused.code, auth.refused.message);
    const operation = target.slice(TARGET.length);
    let body: Record<string, unknown>;
    try {
      body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      return fail(res, 400, 'SerializationException', 'body is not JSON');
    }
    calls.push({ operation, body, at: Date.now() });
    if (operation !== 'DescribeAlarms') return fail(res, 400, 'UnknownOperationException', `${operation} is not served by this stand-in`);
    const decision = o.iam && auth.caller ? await o.iam.authorize(auth.caller, 'cloudwatch:DescribeAlarms', `arn:aws:cloudwatch:${region}:${account}:alarm:*`) : undefined;
    if (decision && !decision.allowed) return fail(res, 403, 'AccessDenied', decision.message);
    const names = body.AlarmNames as string[] | undefined;
    const prefix = body.AlarmNamePrefix as string | undefined;
    if (names?.length && prefix) return fail(res, 400, 'InvalidParameterCombination', 'AlarmNames and AlarmNamePrefix cannot be specified together');
    const types = (body.AlarmTypes as string[] | undefined) ?? ['MetricAlarm'];
    const matching = [...alarms.values()]
      .filter((a) => (names?.length ? names.includes(a.name) : prefix ? a.name.startsWith(prefix) : true))
      .filter((a) => !body.StateValue || a.state === body.StateValue)
      .sort((a, b) => a.name.localeCompare(b.name));
    const from = body.NextToken ? Number(body.NextToken) : 0;
    const page = matching.slice(from, from + pageSize);
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
    res.end(
      JSON.stringify({
        MetricAlarms: types.includes('MetricAlarm')
          ? page.map((a) => ({
              AlarmName: a.name,
              AlarmArn: `arn:aws:cloudwatch:${region}:${account}:alarm:${a.name}`,
              StateValue: a.state,
              StateReason: a.reason,
              StateUpdatedTimestamp: a.updatedAt / 1000,
              ActionsEnabled: true,
            }))
          : [],
        CompositeAlarms: [],
        ...(from + pageSize < matching.length ? { NextToken: String(from + pageSize) } : {}),
      }),
    );
  }

  const server = createServer((req, res) => void handle(req, res).catch((err: unknown) => fail(res, 500, 'InternalServiceFault', String(err), 'Receiver')));
  const requests = logRequests(server);
  const url = `http://127.0.0.1:${await listenLocal(server)}`;
  return {
    url,
    requests,
    // With `iam`, callers bring credentials of the store; otherwise the stand-in's own key.
    env: o.iam
      ? { AWS_ENDPOINT_URL_CLOUDWATCH: url, AWS_REGION: region }
      : { AWS_ENDPOINT_URL_CLOUDWATCH: url, AWS_ACCESS_KEY_ID: key, AWS_SECRET_ACCESS_KEY: 'cloudwatch-standin-secret', AWS_REGION: region },
    alarms,
    calls,
    setAlarm(name, state, reason = `Threshold Crossed: stand-in set ${state}`) {
      const at = Date.now();
      alarms.set(name, { name, state, reason, updatedAt: at });
      return at;
    },
    stop: () => closeServer(server),
  };
}
