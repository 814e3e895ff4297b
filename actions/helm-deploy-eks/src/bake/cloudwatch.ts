/** The alarms the bake watches: CloudWatch DescribeAlarms by names or prefix, every page. */
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { awsCall, awsClientConfig, reportEndpoint, type AwsCallOptions } from '@deploy-actions/aws';
import type { Alarm } from './checks';

export function makeCloudWatch(region: string): CloudWatchClient {
  return reportEndpoint(new CloudWatchClient(awsClientConfig(region)));
}

export async function describeAlarms(cw: CloudWatchClient, q: { names: string[]; prefix: string }, aws: AwsCallOptions = {}): Promise<Alarm[]> {
  const out: Alarm[] = [];
  let NextToken: string | undefined;
  do {
    const res = await awsCall(
      'cloudwatch:DescribeAlarms',
      q.prefix || q.names.join(','),
      () =>
        cw.send(
          new DescribeAlarmsCommand({
            ...(q.prefix ? { AlarmNamePrefix: q.prefix } : { AlarmNames: q.names }),
            AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
            ...(NextToken ? { NextToken } : {}),
          }),
        ),
      aws,
    );
    for (const a of [...(res.MetricAlarms ?? []), ...(res.CompositeAlarms ?? [])]) {
      out.push({ name: a.AlarmName ?? '?', state: a.StateValue ?? 'INSUFFICIENT_DATA', reason: a.StateReason ?? '' });
    }
    NextToken = res.NextToken;
  } while (NextToken);
  return out;
}
