/**
 * The digest Lambda through the SDK mocks: the day's items from every page of the index, one digest per
 * topic, parts already published skipped, and no failure swallowed.
 */
import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { PublishCommand, SNSClient, ThrottledException } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';

const dynamodb = mockClient(DynamoDBDocumentClient);
const sns = mockClient(SNSClient);

process.env.AWS_REGION = 'eu-west-1';
process.env.REMEDIATION_TABLE = 'state';
type Handler = (typeof import('../../../lambda/notification-digest/handler'))['handler'];
let handler: Handler;

beforeAll(async () => {
  // The handler reads its environment when loaded.
  ({ handler } = await import('../../../lambda/notification-digest/handler'));
});

const MAIN = 'arn:aws:sns:eu-west-1:123456789012:pipemend';
const TEAM = 'arn:aws:sns:eu-west-1:123456789012:payments-team';

function item(fingerprint: string, topicArn: string, repeats: number): Record<string, unknown> {
  return {
    pk: `digest#2026-12-05#${fingerprint}`,
    digestDay: '2026-12-05',
    fingerprint,
    where: 'project:app',
    cause: 'npm ERR! code E<n>',
    topicArn,
    occurrences: repeats + 1,
    repeats,
    firstSeen: '2026-12-05T08:00:00.000Z',
    lastSeen: '2026-12-05T18:00:00.000Z',
    lastCountedBy: 'rem-9',
    expiresAt: 1,
  };
}

beforeEach(() => {
  dynamodb.reset();
  sns.reset();
  dynamodb.on(GetCommand).resolves({});
  dynamodb.on(PutCommand).resolves({});
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
});

describe('notification digest handler', () => {
  test("queries the day's items through the digest index, following every page", async () => {
    dynamodb
      .on(QueryCommand)
      .resolvesOnce({ Items: [item('aaaa', MAIN, 2)], LastEvaluatedKey: { pk: 'digest#2026-12-05#aaaa' } })
      .resolvesOnce({ Items: [item('bbbb', MAIN, 1)] });

    await handler({ day: '2026-12-05' });

    expect(dynamodb).toHaveReceivedCommandTimes(QueryCommand, 2);
    expect(dynamodb).toHaveReceivedNthSpecificCommandWith(1, QueryCommand, {
      TableName: 'state',
      IndexName: 'DigestByDay',
      KeyConditionExpression: '#day = :day',
      ExpressionAttributeNames: { '#day': 'digestDay' },
      ExpressionAttributeValues: { ':day': '2026-12-05' },
    });
    expect(dynamodb).toHaveReceivedNthSpecificCommandWith(2, QueryCommand, {
      ExclusiveStartKey: { pk: 'digest#2026-12-05#aaaa' },
    });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input.Message).toContain('fingerprint: bbbb');
  });

  test('publishes one digest per topic and marks each as sent', async () => {
    dynamodb.on(QueryCommand).resolves({ Items: [item('aaaa', MAIN, 2), item('tttt', TEAM, 4)] });

    await handler({ day: '2026-12-05' });

    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: MAIN,
      Subject: 'Pipemend digest 2026-12-05: 1 repeated failure',
      Message: expect.stringContaining('1. project:app: 3 occurrences (2 not sent)'),
    });
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: TEAM,
      Subject: 'Pipemend digest 2026-12-05: 1 repeated failure',
      Message: expect.stringContaining('1. project:app: 5 occurrences (4 not sent)'),
    });
    expect(dynamodb).toHaveReceivedCommandWith(PutCommand, {
      TableName: 'state',
      Item: expect.objectContaining({ pk: `digest-sent#2026-12-05#${TEAM}#1` }),
    });
  });

  test('a day whose failures never repeated publishes nothing', async () => {
    dynamodb.on(QueryCommand).resolves({ Items: [item('aaaa', MAIN, 0)] });

    const run = await handler({ day: '2026-12-05' });

    expect(sns).not.toHaveReceivedCommand(PublishCommand);
    expect(run).toEqual({ day: '2026-12-05', failures: 1, published: 0, alreadySent: 0 });
  });

  test('a digest part a previous run published is not published again', async () => {
    dynamodb.on(QueryCommand).resolves({ Items: [item('aaaa', MAIN, 2), item('tttt', TEAM, 4)] });
    dynamodb
      .on(GetCommand, { Key: { pk: `digest-sent#2026-12-05#${MAIN}#1` } })
      .resolves({ Item: { pk: `digest-sent#2026-12-05#${MAIN}#1` } });

    const run = await handler({ day: '2026-12-05' });

    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(sns).toHaveReceivedCommandWith(PublishCommand, { TopicArn: TEAM });
    expect(run).toMatchObject({ published: 1, alreadySent: 1 });
  });

  test('a topic that cannot be published to fails the run naming it, after the other topics got theirs', async () => {
    dynamodb.on(QueryCommand).resolves({ Items: [item('aaaa', MAIN, 2), item('tttt', TEAM, 4)] });
    sns
      .on(PublishCommand, { TopicArn: MAIN })
      .rejects(new ThrottledException({ message: 'Rate exceeded', $metadata: {} }));

    await expect(handler({ day: '2026-12-05' })).rejects.toMatchObject({
      name: 'DigestPublishError',
      message: `The digest of 2026-12-05 was not sent to 1 topic part(s): ${MAIN} (part 1 of 1): ThrottledException: Rate exceeded`,
    });
    expect(sns).toHaveReceivedCommandWith(PublishCommand, { TopicArn: TEAM });
    expect(dynamodb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ pk: `digest-sent#2026-12-05#${TEAM}#1` }),
    });
    expect(dynamodb).not.toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ pk: `digest-sent#2026-12-05#${MAIN}#1` }),
    });
  });

  test('a throttled query fails the run and publishes nothing', async () => {
    dynamodb
      .on(QueryCommand)
      .rejects(new ProvisionedThroughputExceededException({ message: 'throttled', $metadata: {} }));

    await expect(handler({ day: '2026-12-05' })).rejects.toMatchObject({
      name: 'ProvisionedThroughputExceededException',
    });
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
  });

  test('a malformed day is refused naming the field, and nothing is read', async () => {
    await expect(handler({ day: '5 Dec' })).rejects.toThrow(
      'Invalid digest request: day: must be a day like 2026-12-05',
    );
    expect(dynamodb).not.toHaveReceivedCommand(QueryCommand);
  });
});
