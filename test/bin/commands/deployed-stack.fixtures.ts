import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { AwsClientStub } from 'aws-sdk-client-mock';

export const TABLE = 'Pipemend-RemediationStateTable1234-ABC';
export const BUCKET = 'pipemend-datalakebucket-xyz';

export const OUTPUTS: Record<string, string> = {
  DataLakeBucketName: BUCKET,
  RemediationStateTableName: TABLE,
  DefaultRemediationMode: 'shadow',
  ScorerFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:Pipemend-Scorer',
};

/** DescribeStacks answers for the stack named `Pipemend`, listing these outputs. */
export function stackWithOutputs(
  cloudFormation: AwsClientStub<CloudFormationClient>,
  outputs: Record<string, string> = OUTPUTS,
): void {
  cloudFormation.on(DescribeStacksCommand, { StackName: 'Pipemend' }).resolves({
    Stacks: [
      {
        StackName: 'Pipemend',
        StackStatus: 'UPDATE_COMPLETE',
        CreationTime: new Date('2026-11-01T00:00:00Z'),
        Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  });
}
