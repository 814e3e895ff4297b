/**
 * The alarms the bake watches: CloudWatch DescribeAlarms by names or prefix, every page. CloudWatch
 * speaks AWS JSON 1.0; its calls go through packages/aws's JSON-protocol client (aws4-signed,
 * node:http(s), the AWS deadline), not the SDK's CloudWatch client, whose load every run paid
 * (issue 25). The SDK client is loaded only for credentials not in the environment or unusual
 * endpoints (jsonClient's rules).
 */
import { awsCall, jsonClient, sdkResolvers, type AwsCallOptions, type JsonClient, type JsonClientOptions, type JsonService } from '@deploy-actions/aws';
import type { Alarm } from './checks';

export const CLOUDWATCH_SERVICE: JsonService = {
  signingName: 'monitoring',
  targetPrefix: 'GraniteServiceVersion20100801',
  endpointId: 'CLOUDWATCH',
  host: 'monitoring',
  jsonVersion: '1.0',
  sdk: async (region) => {
    const { CloudWatchClient } = await import('@aws-sdk/client-cloudwatch');
    return sdkResolvers(new CloudWatchClient({ region }));
  },
};

/** CloudWatch in one region (DescribeAlarms is the one call made). */
export type CloudWatch = JsonClient;

export function makeCloudWatch(region: string, opts: JsonClientOptions = {}): CloudWatch {
  return jsonClient(CLOUDWATCH_SERVICE, region, opts);
}

interface AlarmWire {
  AlarmName?: string;
  StateValue?: Alarm['state'];
  StateReason?: string;
}
interface DescribeAlarmsWire {
  MetricAlarms?: AlarmWire[];
  CompositeAlarms?: AlarmWire[];
  NextToken?: string;
}

export async function describeAlarms(cw: CloudWatch, q: { names: string[]; prefix: string }, aws: AwsCallOptions = {}): Promise<Alarm[]> {
  const out: Alarm[] = [];
  let NextToken: string | undefined;
  do {
    const res = await awsCall(
      'cloudwatch:DescribeAlarms',
      q.prefix || q.names.join(','),
      () =>
        cw.call<DescribeAlarmsWire>('DescribeAlarms', {
          ...(q.prefix ? { AlarmNamePrefix: q.prefix } : { AlarmNames: q.names }),
          AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
          ...(NextToken ? { NextToken } : {}),
        }),
      aws,
    );
    for (const a of [...(res.MetricAlarms ?? []), ...(res.CompositeAlarms ?? [])]) {
      out.push({ name: a.AlarmName ?? '?', state: a.StateValue ?? 'INSUFFICIENT_DATA', reason: a.StateReason ?? '' });
    }
    NextToken = res.NextToken;
  } while (NextToken);
  return out;
}
