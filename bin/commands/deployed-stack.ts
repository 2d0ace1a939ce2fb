/**
 * The deployed Pipemend stack as the CLI finds it: by name (`--stack`, default `Pipemend`), through the
 * stack outputs that PipemendStack declares under stable names.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';

import { UsageError } from '../cli-errors';

export const DEFAULT_STACK_NAME = 'Pipemend';

/** Output names of lib/pipemend-stack.ts that the CLI reads. */
export type StackOutputName =
  | 'ScorerFunctionArn'
  | 'DataLakeBucketName'
  | 'NotificationTopicArn'
  | 'EventBusName'
  | 'RemediationStateMachineArn'
  | 'RemediationStateTableName'
  | 'DefaultRemediationMode'
  | 'FeatureStreamName';

export interface DeployedStack {
  readonly name: string;
  readonly status: string;
  readonly outputs: ReadonlyMap<string, string>;
  /** The value of an output, or a UsageError naming it when the stack lacks it. */
  output(name: StackOutputName): string;
}

export async function findDeployedStack(
  cloudFormation: CloudFormationClient,
  stackName: string,
): Promise<DeployedStack> {
  const stacks = await cloudFormation
    .send(new DescribeStacksCommand({ StackName: stackName }))
    .then((result) => result.Stacks ?? [])
    .catch((error: unknown) => {
      // CloudFormation answers a missing stack with a ValidationError "Stack with id X does not exist".
      if ((error as { name?: string }).name === 'ValidationError') return [];
      throw error;
    });
  const stack = stacks[0];
  if (!stack) {
    throw new UsageError(
      `no stack named '${stackName}' in this account and region: pass --stack <name> (and --region)`,
    );
  }
  const outputs = new Map(
    (stack.Outputs ?? []).flatMap((o) =>
      o.OutputKey && o.OutputValue ? [[o.OutputKey, o.OutputValue]] : [],
    ),
  );
  return {
    name: stackName,
    status: stack.StackStatus ?? 'UNKNOWN',
    outputs,
    output(name) {
      const value = outputs.get(name);
      if (value === undefined) {
        throw new UsageError(
          `stack '${stackName}' has no output ${name}: it was deployed by an older Pipemend; run cdk deploy with this version`,
        );
      }
      return value;
    },
  };
}
