/**
 * The deployed stacks' outputs (the evidence keys' ARNs are only known once KMS created them),
 * read with CloudFormation DescribeStacks in each stack's account and region: the default
 * credentials, or a named profile per account (--profile ACCOUNT=PROFILE).
 *
 * The client is made as the actions' are (awsClientConfig: the connection and request deadlines
 * of DEADLINES, no SDK retries) and the call goes through awsCall (the one retry policy; a
 * network fault ends in the one line naming the endpoint and the time waited), as doctor's calls.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DeadlineError, UserError } from '@deploy-actions/action-kit';
import { awsCall, awsClientConfig, awsErrorName, reportEndpoint } from '@deploy-actions/aws';
import type { Stack } from './template';

export type ReadOutputs = (stack: Stack) => Promise<Record<string, string> | undefined>;

export function cloudFormationOutputs(profiles: ReadonlyMap<string, string>): ReadOutputs {
  return async (stack) => {
    const profile = profiles.get(stack.account);
    const cfn = reportEndpoint(new CloudFormationClient({ ...awsClientConfig(stack.region), ...(profile ? { profile } : {}) }));
    try {
      const res = await awsCall('cloudformation:DescribeStacks', `stack ${stack.stackName} (account ${stack.account})`, () =>
        cfn.send(new DescribeStacksCommand({ StackName: stack.stackName })),
      );
      const out: Record<string, string> = {};
      for (const o of res.Stacks?.[0]?.Outputs ?? []) if (o.OutputKey && o.OutputValue) out[o.OutputKey] = o.OutputValue;
      return out;
    } catch (err) {
      if (err instanceof DeadlineError) throw err;
      const e = err as Error;
      if (awsErrorName(err) === 'ValidationError' && /does not exist/.test(e.message)) return undefined;
      const how = profile ? `profile ${profile}` : `the default credentials (add --profile ${stack.account}=<profile> for that account)`;
      const what = err instanceof UserError ? e.message : `${e.name}: ${e.message.split('\n')[0]}`;
      throw new UserError(`cannot read stack ${stack.stackName} in account ${stack.account} (${stack.region}) with ${how}: ${what}`);
    } finally {
      cfn.destroy();
    }
  };
}
