import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';

import { DataLake } from '../../lib/data-lake';
import { EmbeddedTraining, EmbeddedTrainingProps } from '../../lib/embedded-training';
import { testApp } from '../helpers/synth';

function synth(props: Partial<EmbeddedTrainingProps> = {}): Template {
  const stack = new Stack(testApp(), 'Test');
  new EmbeddedTraining(stack, 'Embedded', { dataLake: new DataLake(stack, 'DataLake'), ...props });
  return Template.fromStack(stack);
}

const template = synth();
const trainerId = Object.keys(template.findResources('AWS::Lambda::Function')).find((id) =>
  id.startsWith('EmbeddedTrainer'),
)!;

test('the trainer is scheduled weekly by EventBridge Scheduler with retries and a dead-letter queue', () => {
  template.hasResourceProperties('AWS::Scheduler::Schedule', {
    ScheduleExpression: 'cron(0 3 ? * MON *)',
    ScheduleExpressionTimezone: 'Etc/UTC',
    Target: {
      Arn: { 'Fn::GetAtt': [trainerId, 'Arn'] },
      DeadLetterConfig: {
        Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EmbeddedRetrainingScheduleDlq'), 'Arn'] },
      },
      RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 2 },
      RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EmbeddedRetrainingSchedulerRole'), 'Arn'] },
    },
  });
});

test('the drift check may invoke the trainer', () => {
  template.hasResourceProperties('AWS::Lambda::Function', {
    Environment: { Variables: Match.objectLike({ TRAINER_FUNCTION_NAME: { Ref: trainerId } }) },
  });
});

test('the trainer reads features/, labels/ and models/ and writes models/ only', () => {
  const bucketArn = { 'Fn::GetAtt': [Match.stringLikeRegexp('^DataLakeBucket'), 'Arn'] };
  template.hasResourceProperties('AWS::IAM::Policy', {
    Roles: [{ Ref: Match.stringLikeRegexp('^EmbeddedTrainerServiceRole') }],
    PolicyDocument: {
      Statement: Match.arrayWith([
        {
          Action: 's3:GetObject',
          Effect: 'Allow',
          Resource: [
            { 'Fn::Join': ['', [bucketArn, '/features/*']] },
            { 'Fn::Join': ['', [bucketArn, '/labels/*']] },
            { 'Fn::Join': ['', [bucketArn, '/models/*']] },
          ],
        },
        {
          Action: 's3:ListBucket',
          Condition: { StringLike: { 's3:prefix': ['features/*', 'labels/*', 'models/*'] } },
          Effect: 'Allow',
          Resource: bucketArn,
        },
        { Action: 's3:PutObject', Effect: 'Allow', Resource: { 'Fn::Join': ['', [bucketArn, '/models/*']] } },
      ]),
    },
  });
});

test('a 15-minute, one-vCPU trainer with the forest settings in its environment', () => {
  template.hasResourceProperties('AWS::Lambda::Function', {
    Timeout: 900,
    MemorySize: 1769,
    Environment: { Variables: Match.objectLike({ WINDOW_DAYS: '90', NUM_TREES: '100', SAMPLE_SIZE: '256' }) },
  });
});

test('rejects a forest size outside the engine’s range', () => {
  expect(() => synth({ numTrees: 0 })).toThrow('numTrees must be an integer from 1 to 1000, got 0');
});
