/**
 * The `Fn::Join` CloudFormation synthesizes for an ARN in the stack's own partition, region and account
 * (`arn:<partition>:<service>:<region>:<account>:<resource>`), for exact IAM assertions.
 */
export function stackArn(service: string, resource: string): { 'Fn::Join': [string, unknown[]] } {
  return {
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        `:${service}:`,
        { Ref: 'AWS::Region' },
        ':',
        { Ref: 'AWS::AccountId' },
        `:${resource}`,
      ],
    ],
  };
}
