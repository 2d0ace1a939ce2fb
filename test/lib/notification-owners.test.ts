/**
 * Owners and the daily digest in the synthesized stack: the owners' topics, who may publish where, the
 * Publish state that takes its topic from record-outcome, and the scheduled digest with its alarm.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';

import { remediationDefinition } from '../../local/remediation-runner';
import { synthPipemend } from '../helpers/synth';

const PAYMENTS_TOPIC = 'arn:aws:sns:eu-west-1:123456789012:payments-ci';
const { template } = synthPipemend({
  config: {
    owners: [
      { pipeline: 'payments', topicArn: PAYMENTS_TOPIC },
      { project: 'web-build', email: 'web-team@example.com' },
      { project: 'docs-build', email: 'Web-Team@example.com' },
    ],
  },
});
const { template: withoutOwners } = synthPipemend({});
const definition = remediationDefinition(template.toJSON() as Parameters<typeof remediationDefinition>[0]);

function logicalId(of: Template, type: string, prefix: string): string {
  const ids = Object.keys(of.findResources(type)).filter((id) => id.startsWith(prefix));
  expect(ids).toHaveLength(1);
  return ids[0]!;
}

function statementsOf(of: Template, policyPrefix: string): unknown[] {
  const policy = of.findResources('AWS::IAM::Policy')[logicalId(of, 'AWS::IAM::Policy', policyPrefix)] as {
    Properties: { PolicyDocument: { Statement: unknown[] } };
  };
  return policy.Properties.PolicyDocument.Statement;
}

const mainTopic = logicalId(template, 'AWS::SNS::Topic', 'EventsNotifications');
const ownerTopic = logicalId(template, 'AWS::SNS::Topic', 'RemediationOwnersTopic');
const table = logicalId(template, 'AWS::DynamoDB::Table', 'RemediationState');

describe('notification owners', () => {
  test("an e-mail owner gets one topic per address, encrypted with Pipemend's key, TLS only", () => {
    template.resourceCountIs('AWS::SNS::Topic', 2);
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DataLakeKey'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: ownerTopic }],
      PolicyDocument: {
        Statement: [
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sns:Publish',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ],
      },
    });
  });

  test("an e-mail owner's address is subscribed, its undeliverable notifications kept in a dead-letter queue", () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      TopicArn: { Ref: ownerTopic },
      Protocol: 'email',
      Endpoint: 'web-team@example.com',
      RedrivePolicy: {
        deadLetterTargetArn: {
          'Fn::GetAtt': [Match.stringLikeRegexp('^RemediationOwnersTopic.*Dlq'), 'Arn'],
        },
      },
    });
  });

  test('record-outcome is given the main topic and the owner topic of each scope', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          NOTIFICATION_TOPIC_ARN: { Ref: mainTopic },
          OWNER_TOPICS: {
            'Fn::Join': [
              '',
              [
                `{"pipeline:payments":"${PAYMENTS_TOPIC}","project:web-build":"`,
                { Ref: ownerTopic },
                '","project:docs-build":"',
                { Ref: ownerTopic },
                '"}',
              ],
            ],
          },
        }),
      },
    });
  });

  test('the state machine may publish to the main topic and the owner topics, and to nothing else', () => {
    const publishing = statementsOf(template, 'RemediationStateMachineRoleDefaultPolicy').filter((s) =>
      JSON.stringify(s).includes('sns:'),
    );
    expect(publishing).toEqual([
      {
        Action: 'sns:Publish',
        Effect: 'Allow',
        Resource: [PAYMENTS_TOPIC, { Ref: mainTopic }, { Ref: ownerTopic }],
      },
    ]);
  });

  test('without owners the state machine may publish to the main topic only', () => {
    const publishing = statementsOf(withoutOwners, 'RemediationStateMachineRoleDefaultPolicy').filter((s) =>
      JSON.stringify(s).includes('sns:'),
    );
    expect(publishing).toEqual([
      {
        Action: 'sns:Publish',
        Effect: 'Allow',
        Resource: { Ref: logicalId(withoutOwners, 'AWS::SNS::Topic', 'EventsNotifications') },
      },
    ]);
  });

  test("the notification is published to the topic record-outcome names, with SNS's retries and the NotificationFailed catch", () => {
    expect(definition.States.PublishNotification).toEqual({
      Type: 'Task',
      Resource: 'arn:aws:states:::sns:publish',
      Parameters: {
        'TopicArn.$': '$.recorded.topicArn',
        'Subject.$': '$.recorded.subject',
        'Message.$': '$.recorded.message',
      },
      ResultPath: null,
      Retry: [
        {
          ErrorEquals: ['SNS.ThrottledException', 'SNS.InternalErrorException', 'SNS.KMSThrottlingException'],
          IntervalSeconds: 2,
          MaxAttempts: 3,
          BackoffRate: 2,
        },
      ],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.publishError', Next: 'NotificationFailed' }],
      Next: 'Done',
    });
  });

  test('a record that could not be written is published to the main topic', () => {
    expect(
      (definition.States.PublishRecordFailure as { Parameters: Record<string, unknown> }).Parameters.TopicArn,
    ).toBe(`arn:aws:sns:us-east-1:123456789012:${mainTopic}`);
  });

  test("a rollback approval is asked of the pipeline's owner, else on the main topic", () => {
    expect(definition.States.ApprovalTopic).toEqual({
      Type: 'Choice',
      Choices: [
        {
          Variable: '$.classification.target.pipelineName',
          StringEquals: 'payments',
          Next: 'ApprovalToOwner1',
        },
      ],
      Default: 'ApprovalToMainTopic',
    });
    expect(definition.States.ApprovalToOwner1).toMatchObject({
      Parameters: { arn: PAYMENTS_TOPIC },
      ResultPath: '$.approvalTopic',
      Next: 'RequestRollbackApproval',
    });
    expect(definition.States.ApprovalToMainTopic).toMatchObject({
      Parameters: { arn: `arn:aws:sns:us-east-1:123456789012:${mainTopic}` },
      ResultPath: '$.approvalTopic',
      Next: 'RequestRollbackApproval',
    });
    expect(definition.States.RequestRollbackApproval).toMatchObject({
      Resource: 'arn:aws:states:::sns:publish.waitForTaskToken',
      Parameters: { 'TopicArn.$': '$.approvalTopic.arn' },
    });
  });
});

describe('daily notification digest', () => {
  test('the remediation table has a sparse index of the digest items by day', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: [
        {
          IndexName: 'DigestByDay',
          KeySchema: [
            { AttributeName: 'digestDay', KeyType: 'HASH' },
            { AttributeName: 'pk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
  });

  test('the digest function may query the digest index, read and write items, and publish to the main and owner topics only', () => {
    const statements = statementsOf(template, 'RemediationDigestFunctionServiceRoleDefaultPolicy');
    expect(statements).toEqual(
      expect.arrayContaining([
        {
          Action: 'dynamodb:Query',
          Effect: 'Allow',
          Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [table, 'Arn'] }, '/index/DigestByDay']] },
        },
        {
          Action: ['dynamodb:GetItem', 'dynamodb:PutItem'],
          Effect: 'Allow',
          Resource: { 'Fn::GetAtt': [table, 'Arn'] },
        },
        {
          Action: 'sns:Publish',
          Effect: 'Allow',
          Resource: [PAYMENTS_TOPIC, { Ref: mainTopic }, { Ref: ownerTopic }],
        },
      ]),
    );
    expect(JSON.stringify(statements)).not.toMatch(/dynamodb:(Scan|UpdateItem|DeleteItem)/);
  });

  test('an EventBridge Scheduler schedule runs the digest every day at 08:00 UTC, retried, with a dead-letter queue', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 8 * * ? *)',
      ScheduleExpressionTimezone: 'Etc/UTC',
      Target: {
        Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RemediationDigestFunction'), 'Arn'] },
        DeadLetterConfig: {
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RemediationDigestScheduleDlq'), 'Arn'] },
        },
        RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 2 },
        RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RemediationDigestSchedulerRole'), 'Arn'] },
      },
    });
  });

  test('a failed digest run alarms on the main topic', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [
        { Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('^RemediationDigestFunction') } },
      ],
      Statistic: 'Sum',
      Threshold: 1,
      AlarmActions: [{ Ref: mainTopic }],
    });
  });
});
