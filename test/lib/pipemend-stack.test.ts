import { Match } from 'aws-cdk-lib/assertions';

import { stackArn } from '../helpers/arn';
import { synthPipemend } from '../helpers/synth';

const OUTPUTS = [
  'DefaultRemediationMode',
  'ScorerFunctionArn',
  'DataLakeBucketName',
  'NotificationTopicArn',
  'EventBusName',
  'RemediationStateMachineArn',
  'RemediationStateTableName',
  'FeatureStreamName',
];

describe('PipemendStack outputs', () => {
  const { template } = synthPipemend();

  test.each(OUTPUTS)('%s has a stable name and an export named after the stack', (name) => {
    expect(template.findOutputs(name)[name]).toMatchObject({
      Export: { Name: `Pipemend-${name}` },
    });
  });

  test('the scorer output is the scorer function ARN', () => {
    const scorer = Object.keys(template.findResources('AWS::Lambda::Function')).find((id) =>
      id.startsWith('ScoringScorer'),
    );
    expect(template.findOutputs('ScorerFunctionArn').ScorerFunctionArn?.Value).toEqual({
      'Fn::GetAtt': [scorer, 'Arn'],
    });
  });

  test("the feature stream output names the compacted table's Firehose stream", () => {
    expect(template.findOutputs('FeatureStreamName').FeatureStreamName?.Value).toBe(
      'Pipemend-compacted-features',
    );
  });
});

describe('PipemendStack wiring', () => {
  test('the scorer may list the action executions of the configured pipelines only', () => {
    const { template } = synthPipemend({ config: { pipelines: ['app-pipeline'] } });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: Match.stringLikeRegexp('^ScoringScorer'),
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 'codepipeline:ListActionExecutions',
            Effect: 'Allow',
            Resource: stackArn('codepipeline', 'app-pipeline'),
          },
        ]),
      },
    });
  });
});
