import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';

import { OperationalAlarms } from '../../lib/operational-alarms';
import { synthPipemend, testApp } from '../helpers/synth';

type Resource = { Type: string; Properties: Record<string, unknown> };

const TOPIC = { Ref: Match.stringLikeRegexp('^EventsNotifications') };
const VARIANTS = {
  default: {},
  "scorer: 'endpoint'": { scorer: 'endpoint' },
  'with bedrockModelId and notificationEmail': {
    bedrockModelId: 'us.anthropic.claude-3-5-haiku-20241022-v1:0',
    notificationEmail: 'ops@example.com',
  },
} as const;

describe.each(Object.entries(VARIANTS))('operational alarms, %s', (_name, config) => {
  const { template } = synthPipemend({ config });
  const resources = template.toJSON().Resources as Record<string, Resource>;
  const alarms = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');

  test('every SQS queue of the template has an alarm on a visible message, notifying the topic', () => {
    const queues = Object.keys(resources).filter((id) => resources[id]!.Type === 'AWS::SQS::Queue');
    expect(queues.length).toBeGreaterThanOrEqual(14);
    for (const queue of queues) {
      const alarm = alarms.find(
        (a) =>
          a.Properties.MetricName === 'ApproximateNumberOfMessagesVisible' &&
          JSON.stringify(a.Properties.Dimensions) ===
            JSON.stringify([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }]),
      );
      expect({ queue, alarm: alarm?.Properties }).toEqual({
        queue,
        alarm: expect.objectContaining({
          Namespace: 'AWS/SQS',
          Statistic: 'Maximum',
          Period: 300,
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          EvaluationPeriods: 1,
          TreatMissingData: 'notBreaching',
          AlarmActions: [{ Ref: expect.stringMatching(/^EventsNotifications/) }],
          OKActions: [{ Ref: expect.stringMatching(/^EventsNotifications/) }],
        }),
      });
    }
  });

  test.each(['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted'])(
    'the remediation state machine alarms on %s',
    (metricName) => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/States',
        MetricName: metricName,
        Dimensions: [
          { Name: 'StateMachineArn', Value: { Ref: Match.stringLikeRegexp('^RemediationStateMachine') } },
        ],
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [TOPIC],
      });
    },
  );

  test('the scorer’s ScoringErrors of every project alarm', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: [
        Match.objectLike({
          Expression: 'SELECT SUM(ScoringErrors) FROM SCHEMA("Pipemend", project, service)',
          Period: 300,
        }),
      ],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [TOPIC],
    });
  });

  test('training failures alarm: the SageMaker pipeline or the embedded trainer', () => {
    if ('scorer' in config) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Sagemaker/ModelBuildingPipeline',
        MetricName: 'ExecutionFailed',
        Dimensions: [{ Name: 'PipelineName', Value: 'pipemend-rcf-training' }],
        Statistic: 'Sum',
        Threshold: 1,
        AlarmActions: [TOPIC],
      });
    } else {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [
          { Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('^EmbeddedTrainingTrainer') } },
        ],
        Statistic: 'Sum',
        Threshold: 1,
        AlarmActions: [TOPIC],
      });
    }
  });

  test('the health dashboard is named after the stack and shows every alarm', () => {
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'Pipemend-health' });
    const body = JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'));
    // Every alarm, the anomaly alarm included, is on the status widget.
    const alarmIds = Object.keys(resources).filter((id) => resources[id]!.Type === 'AWS::CloudWatch::Alarm');
    for (const id of alarmIds.filter(
      (id) => id.startsWith('OperationalAlarms') || id.startsWith('AnomalyAlarm'),
    )) {
      expect(body).toContain(id);
    }
  });
});

describe('who may publish to the encrypted notification topic', () => {
  const { template } = synthPipemend();
  const account = { Ref: 'AWS::AccountId' };

  test('the key policy lets CloudWatch (this account’s alarms) and EventBridge use the key, exactly', () => {
    const [key] = Object.values(template.findResources('AWS::KMS::Key')) as Resource[];
    const statements = (key!.Properties.KeyPolicy as { Statement: Record<string, unknown>[] }).Statement;
    expect(statements.filter((s) => s.Sid !== undefined)).toEqual([
      {
        Sid: 'AllowCloudWatchAlarmsToPublishToTheEncryptedTopic',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
        Condition: { StringEquals: { 'aws:SourceAccount': account } },
      },
      {
        Sid: 'AllowEventBridgeToPublishToTheEncryptedTopic',
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
      },
    ]);
  });

  test('the topic policy allows this account’s alarms and rules to publish, and still denies plain HTTP', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: [
          Match.objectLike({ Sid: 'AllowPublishThroughSSLOnly', Effect: 'Deny' }),
          {
            Sid: 'AllowCloudWatchAlarmsOfThisAccount',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: TOPIC,
            Condition: {
              StringEquals: { 'aws:SourceAccount': account },
              ArnLike: {
                'aws:SourceArn': {
                  'Fn::Join': [
                    '',
                    [
                      'arn:',
                      { Ref: 'AWS::Partition' },
                      ':cloudwatch:',
                      { Ref: 'AWS::Region' },
                      ':',
                      account,
                      ':alarm:*',
                    ],
                  ],
                },
              },
            },
          },
          {
            Sid: 'AllowEventBridgeRulesOfThisAccount',
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: TOPIC,
            Condition: { StringEquals: { 'aws:SourceAccount': account } },
          },
        ],
      },
    });
  });

  test('the state machine role may publish and use the key (Step Functions publishes as the role)', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^RemediationStateMachineRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Action: 'sns:Publish', Effect: 'Allow', Resource: TOPIC },
          {
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DataLakeKey'), 'Arn'] },
          },
        ]),
      },
    });
  });
});

describe('OperationalAlarms', () => {
  test('refuses to synthesize when a queue is created after it, so no queue goes without an alarm', () => {
    const stack = new Stack(testApp(), 'S');
    const topic = new sns.Topic(stack, 'Topic');
    new sqs.Queue(stack, 'Early');
    new OperationalAlarms(stack, 'Alarms', { topic });
    new sqs.Queue(stack, 'Late');
    expect(() => Template.fromStack(stack)).toThrow(
      'S/Late has no alarm: create OperationalAlarms after every queue of the stack',
    );
  });

  test('names the dashboard after its stack, so two stacks do not collide', () => {
    const app = testApp();
    const stacks = ['PipemendProd', 'PipemendStaging'].map((name) => {
      const stack = new Stack(app, name);
      new OperationalAlarms(stack, 'Alarms', { topic: new sns.Topic(stack, 'Topic'), scoringErrors: false });
      return stack;
    });
    for (const stack of stacks) {
      Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Dashboard', {
        DashboardName: `${stack.stackName}-health`,
      });
    }
    expect(stacks.map((stack) => stack.stackName)).toEqual(['PipemendProd', 'PipemendStaging']);
  });

  test('refuses a period that is not whole minutes', () => {
    const stack = new Stack(testApp(), 'S');
    expect(
      () =>
        new OperationalAlarms(stack, 'Alarms', {
          topic: new sns.Topic(stack, 'T'),
          period: Duration.seconds(90),
        }),
    ).toThrow('period must be a whole number of minutes, got 1 minute 30 seconds');
  });
});
