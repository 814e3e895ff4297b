/**
 * The deployed stacks' outputs (the evidence keys' ARNs are only known once KMS created them),
 * read with CloudFormation DescribeStacks in each stack's account and region: the default
 * credentials, or a named profile per account (--profile ACCOUNT=PROFILE).
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { UserError } from '@deploy-actions/action-kit';
import type { Stack } from './template';

export const AWS_DEADLINE_MS = 30_000;

export type ReadOutputs = (stack: Stack) => Promise<Record<string, string> | undefined>;

export function cloudFormationOutputs(profiles: ReadonlyMap<string, string>): ReadOutputs {
  return async (stack) => {
    const profile = profiles.get(stack.account);
    const cfn = new CloudFormationClient({
      region: stack.region,
      maxAttempts: 3,
      requestHandler: { requestTimeout: AWS_DEADLINE_MS, connectionTimeout: 10_000 },
      ...(profile ? { profile } : {}),
    });
    try {
      const res = await cfn.send(new DescribeStacksCommand({ StackName: stack.stackName }), { abortSignal: AbortSignal.timeout(AWS_DEADLINE_MS * 2) });
      const out: Record<string, string> = {};
      for (const o of res.Stacks?.[0]?.Outputs ?? []) if (o.OutputKey && o.OutputValue) out[o.OutputKey] = o.OutputValue;
      return out;
    } catch (err) {
      const e = err as Error;
      if (e.name === 'ValidationError' && /does not exist/.test(e.message)) return undefined;
      const how = profile ? `profile ${profile}` : `the default credentials (add --profile ${stack.account}=<profile> for that account)`;
      throw new UserError(`cannot read stack ${stack.stackName} in account ${stack.account} (${stack.region}) with ${how}: ${e.name}: ${e.message.split('\n')[0]}`);
    } finally {
      cfn.destroy();
    }
  };
}
