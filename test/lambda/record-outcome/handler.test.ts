import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';

import { dnsFailureRerun, enforcedProceed } from '../../helpers/remediation-fixtures';

const s3 = mockClient(S3Client);
const dynamodb = mockClient(DynamoDBDocumentClient);

process.env.AWS_REGION = 'eu-west-1';
process.env.REMEDIATION_TABLE = 'state';
process.env.DATA_LAKE_BUCKET = 'lake';
const MAIN_TOPIC = 'arn:aws:sns:eu-west-1:123456789012:pipemend';
const APP_TEAM_TOPIC = 'arn:aws:sns:eu-west-1:123456789012:app-team';
process.env.NOTIFICATION_TOPIC_ARN = MAIN_TOPIC;
process.env.OWNER_TOPICS = JSON.stringify({ 'project:app': APP_TEAM_TOPIC });
type Handler = (typeof import('../../../lambda/record-outcome/handler'))['handler'];
let handler: Handler;

beforeAll(async () => {
  // The handler reads its environment when loaded.
  ({ handler } = await import('../../../lambda/record-outcome/handler'));
});

beforeEach(() => {
  s3.reset();
  dynamodb.reset();
  s3.on(PutObjectCommand).resolves({});
  dynamodb.on(UpdateCommand).resolves({ Attributes: { consecutiveFailures: 0 } });
  dynamodb.on(PutCommand).resolves({});
});

describe('record-outcome handler', () => {
  test('a passed rerun writes the history record, the environment-fault label and the summary item, and closes the breaker', async () => {
    const recorded = await handler({
      classification: dnsFailureRerun,
      guard: enforcedProceed,
      status: 'SUCCEEDED',
      detail: 'clean rerun app:2 succeeded',
    });

    expect(recorded).toMatchObject({
      remediationId: 'rem-1',
      status: 'SUCCEEDED',
      labelKind: 'environment-fault',
      notify: true,
    });
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'lake',
      Key: expect.stringMatching(/^remediations\/date=\d{4}-\d{2}-\d{2}\/scope=project%3Aapp\/rem-1\.json$/),
    });
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'lake',
      Key: expect.stringMatching(/^labels\/kind=environment-fault\/date=\d{4}-\d{2}-\d{2}\/rem-1\.json$/),
    });
    expect(dynamodb).toHaveReceivedCommandWith(UpdateCommand, {
      TableName: 'state',
      Key: { pk: 'breaker#project:app' },
      UpdateExpression: 'SET consecutiveFailures = :zero, resultIds = :ids REMOVE escalatedAt',
    });
    expect(dynamodb).toHaveReceivedCommandWith(PutCommand, {
      TableName: 'state',
      Item: expect.objectContaining({
        pk: 'record#rem-1',
        status: 'SUCCEEDED',
        labelKind: 'environment-fault',
      }),
    });
  });

  test('a shadowed decision is recorded without touching the breaker and without notifying', async () => {
    const recorded = await handler({
      classification: dnsFailureRerun,
      guard: { ...enforcedProceed, outcome: 'SHADOW', mode: 'shadow' },
      status: 'SHADOWED',
      detail: 'shadow mode',
    });

    expect(recorded.notify).toBe(false);
    expect(dynamodb).not.toHaveReceivedCommand(UpdateCommand);
    expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 1);
  });

  test('a failed classification is recorded from what the execution knows (event, error) and notifies', async () => {
    const recorded = await handler({
      event: {
        id: 'evt-9',
        source: 'aws.codebuild',
        'detail-type': 'CodeBuild Build State Change',
        detail: { secret: 'PLAINTEXT value' },
      },
      executionId: 'arn:aws:states:eu-west-1:123456789012:execution:Remediation:exec-9',
      executionName: 'exec-9',
      classification: null,
      guard: null,
      error: { Error: 'ResourceNotFoundException', Cause: 'The specified log stream does not exist.' },
      status: 'ESCALATED',
      detail: 'The specified log stream does not exist.',
    });

    expect(recorded).toMatchObject({ remediationId: 'execution-exec-9', status: 'ESCALATED', notify: true });
    expect(recorded.message).toContain(
      'Error: ResourceNotFoundException: The specified log stream does not exist.',
    );
    expect(dynamodb).not.toHaveReceivedCommand(UpdateCommand);
    const history = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(history?.Key).toMatch(
      /^remediations\/date=\d{4}-\d{2}-\d{2}\/scope=none\/execution-exec-9\.json$/,
    );
    const body = JSON.parse(String(history?.Body)) as Record<string, unknown>;
    expect(body).toMatchObject({
      eventId: 'evt-9',
      executionId: 'arn:aws:states:eu-west-1:123456789012:execution:Remediation:exec-9',
      classification: null,
      guard: null,
      error: { error: 'ResourceNotFoundException', cause: 'The specified log stream does not exist.' },
      trigger: { source: 'aws.codebuild', detailType: 'CodeBuild Build State Change' },
    });
    expect(String(history?.Body)).not.toContain('PLAINTEXT value');
    expect(dynamodb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ pk: 'record#execution-exec-9', action: 'NONE', guardOutcome: 'NONE' }),
    });
  });

  test('a failed guard is recorded with the classification it had', async () => {
    const recorded = await handler({
      event: { id: 'evt-10' },
      executionId: 'arn:exec-10',
      executionName: 'exec-10',
      classification: dnsFailureRerun,
      guard: null,
      error: { Error: 'Lambda.TooManyRequestsException', Cause: 'Rate exceeded' },
      status: 'ESCALATED',
      detail: 'Rate exceeded',
    });

    expect(recorded).toMatchObject({ remediationId: 'execution-exec-10', notify: true });
    expect(recorded.subject).toContain('project:app');
    expect(recorded.message).toContain('Guard: not consulted');
  });

  test('a failed rerun recorded twice (a retried record step) counts once for the breaker', async () => {
    const report = {
      classification: dnsFailureRerun,
      guard: enforcedProceed,
      status: 'FAILED',
      detail: 'clean rerun failed',
    };
    await handler(report);

    expect(dynamodb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: 'breaker#project:app' },
      ConditionExpression: 'NOT contains(resultIds, :id)',
      ExpressionAttributeValues: expect.objectContaining({ ':id': 'rem-1' }),
    });
  });

  test('a malformed report is rejected naming the field, and nothing is written', async () => {
    await expect(
      handler({ classification: dnsFailureRerun, guard: enforcedProceed, status: 'MAYBE' }),
    ).rejects.toMatchObject({
      name: 'InvalidRemediationInputError',
      message: expect.stringContaining('Invalid outcome report: status:'),
    });
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
  });

  test('a first-failure rerun that passed is rescued: recorded, its tests recorded as flaky, nobody paged', async () => {
    const recorded = await handler({
      classification: {
        ...dnsFailureRerun,
        tests: { projectName: 'app', failed: ['cart › debounces'], basis: 'first-failure' },
      },
      guard: enforcedProceed,
      status: 'SUCCEEDED',
      detail: 'clean rerun app:2 succeeded',
    });

    expect(recorded).toMatchObject({ testOutcome: 'rescued-by-rerun', notify: false });
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'lake',
      Key: `test-history/flaky/project=app/${encodeURIComponent('cart › debounces')}.json`,
    });
  });

  test('a first-failure rerun that failed again is a regression: notified, its tests never recorded as flaky', async () => {
    const recorded = await handler({
      classification: {
        ...dnsFailureRerun,
        tests: { projectName: 'app', failed: ['pay'], basis: 'first-failure' },
      },
      guard: enforcedProceed,
      status: 'FAILED',
      detail: 'clean rerun app:2 failed',
    });

    expect(recorded).toMatchObject({ testOutcome: 'failed-again', notify: true });
    expect(s3).not.toHaveReceivedCommandWith(PutObjectCommand, {
      Key: expect.stringMatching(/^test-history\/flaky\//),
    });
  });

  describe('notification topic', () => {
    test("a record of an owned project names the owner's topic", async () => {
      const recorded = await handler({
        classification: dnsFailureRerun,
        guard: { ...enforcedProceed, outcome: 'SUGGEST', mode: 'suggest' },
        status: 'SUGGESTED',
      });

      expect(recorded.topicArn).toBe(APP_TEAM_TOPIC);
    });

    test('a record without a scope (classification failed) names the main topic', async () => {
      const recorded = await handler({
        event: { id: 'evt-11' },
        executionName: 'exec-11',
        classification: null,
        guard: null,
        error: { Error: 'States.Timeout', Cause: 'timed out' },
        status: 'ESCALATED',
        detail: 'timed out',
      });

      expect(recorded.topicArn).toBe(MAIN_TOPIC);
    });
  });

  describe('notifications by failure fingerprint', () => {
    const fingerprint = { hash: 'abc123', where: 'project:app', cause: 'test failed: pay' };

    test('the first occurrence in the window is sent and the record keeps the fingerprint', async () => {
      const recorded = await handler({
        classification: { ...dnsFailureRerun, fingerprint },
        guard: { ...enforcedProceed, outcome: 'SUGGEST', mode: 'suggest' },
        status: 'SUGGESTED',
      });

      expect(recorded.notify).toBe(true);
      expect(recorded.repeatOf).toBeUndefined();
      expect(dynamodb).toHaveReceivedCommandWith(UpdateCommand, {
        TableName: 'state',
        Key: { pk: 'fingerprint#abc123' },
        ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
      });
    });

    test('a repeat within the window only counts: not sent, and the record says so', async () => {
      dynamodb
        .on(UpdateCommand, { Key: { pk: 'fingerprint#abc123' } })
        .rejectsOnce(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }))
        .resolves({ Attributes: { occurrences: 3 } });

      const recorded = await handler({
        classification: { ...dnsFailureRerun, fingerprint },
        guard: { ...enforcedProceed, outcome: 'SUGGEST', mode: 'suggest' },
        status: 'SUGGESTED',
      });

      expect(recorded).toMatchObject({ notify: false, repeatOf: { fingerprint: 'abc123', occurrence: 3 } });
      expect(dynamodb).toHaveReceivedCommandWith(PutCommand, {
        Item: expect.objectContaining({ pk: 'record#rem-1', fingerprint: 'abc123', notificationSent: false }),
      });
    });

    test("every occurrence is counted in the day's digest item under the owner's topic", async () => {
      dynamodb
        .on(UpdateCommand, { Key: { pk: 'fingerprint#abc123' } })
        .rejectsOnce(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }))
        .resolves({ Attributes: { occurrences: 2 } });

      await handler({
        classification: { ...dnsFailureRerun, fingerprint },
        guard: { ...enforcedProceed, outcome: 'SUGGEST', mode: 'suggest' },
        status: 'SUGGESTED',
      });

      expect(dynamodb).toHaveReceivedCommandWith(UpdateCommand, {
        TableName: 'state',
        Key: { pk: expect.stringMatching(/^digest#\d{4}-\d{2}-\d{2}#abc123$/) },
        ConditionExpression: 'attribute_not_exists(lastCountedBy) OR lastCountedBy <> :by',
        ExpressionAttributeValues: expect.objectContaining({
          ':one': 1,
          ':repeat': 1,
          ':where': 'project:app',
          ':cause': 'test failed: pay',
          ':topic': APP_TEAM_TOPIC,
          ':by': 'rem-1',
        }),
      });
    });

    test('an escalation is not counted in the digest: it is always sent', async () => {
      await handler({
        classification: { ...dnsFailureRerun, fingerprint },
        guard: { ...enforcedProceed, outcome: 'ESCALATE' },
        status: 'ESCALATED',
      });

      expect(dynamodb).not.toHaveReceivedCommandWith(UpdateCommand, {
        Key: { pk: expect.stringMatching(/^digest#/) },
      });
    });

    test('an escalation is always sent, whatever the fingerprint', async () => {
      const recorded = await handler({
        classification: { ...dnsFailureRerun, fingerprint },
        guard: { ...enforcedProceed, outcome: 'ESCALATE' },
        status: 'ESCALATED',
      });

      expect(recorded.notify).toBe(true);
      expect(dynamodb).not.toHaveReceivedCommandWith(UpdateCommand, { Key: { pk: 'fingerprint#abc123' } });
    });
  });
});
