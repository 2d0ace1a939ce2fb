import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';

import { BudgetClaim } from '../../../core/remediation/guards';
import { DynamoDbGuardStore } from '../../../lambda/remediation/dynamodb-guard-store';

const documents = mockClient(DynamoDBDocumentClient);
const store = new DynamoDbGuardStore('state', new DynamoDBClient({ region: 'eu-west-1' }));
const window: BudgetClaim = {
  key: 'budget#project:app#window#1',
  limit: 3,
  expiresAt: 7200,
  description: 'window',
};
const revision: BudgetClaim = {
  key: 'budget#project:app#stage#-#revision#r1',
  limit: 1,
  expiresAt: 9999,
  description: 'revision',
};
const conditionFailed = new ConditionalCheckFailedException({
  message: 'The conditional request failed',
  $metadata: {},
});

beforeEach(() => documents.reset());

describe('DynamoDbGuardStore (mocked client)', () => {
  test('takes a budget unit with a conditional UpdateItem that refuses beyond the limit', async () => {
    documents.on(UpdateCommand).resolves({});

    await expect(store.consumeBudgets([window])).resolves.toEqual({});

    expect(documents).toHaveReceivedCommandWith(UpdateCommand, {
      TableName: 'state',
      Key: { pk: 'budget#project:app#window#1' },
      UpdateExpression: 'ADD used :one SET expiresAt = :expiresAt',
      ConditionExpression: 'attribute_not_exists(used) OR used < :limit',
      ExpressionAttributeValues: { ':one': 1, ':limit': 3, ':expiresAt': 7200 },
    });
  });

  test('a refused second budget gives the first unit back with a guarded decrement', async () => {
    documents
      .on(UpdateCommand, { Key: { pk: revision.key } })
      .rejects(conditionFailed)
      .on(UpdateCommand, { Key: { pk: window.key } })
      .resolves({});

    await expect(store.consumeBudgets([window, revision])).resolves.toEqual({ exhausted: revision });

    expect(documents).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: window.key },
      UpdateExpression: 'ADD used :minusOne',
      ConditionExpression: 'used > :zero',
    });
  });

  test('claims an escalation only where none holds', async () => {
    documents.on(UpdateCommand).rejectsOnce(conditionFailed).resolves({});

    await expect(store.claimEscalation('project:app', 5000, 1400)).resolves.toBe(false);
    await expect(store.claimEscalation('project:app', 5000, 1400)).resolves.toBe(true);
    expect(documents).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: 'breaker#project:app' },
      ConditionExpression: 'attribute_not_exists(escalatedAt) OR escalatedAt < :holdsSince',
      ExpressionAttributeValues: { ':now': 5000, ':holdsSince': 1400 },
    });
  });

  test('other DynamoDB errors are not mistaken for an exhausted budget', async () => {
    documents.on(UpdateCommand).rejects(new Error('ProvisionedThroughputExceededException'));
    await expect(store.consumeBudgets([window])).rejects.toThrow('ProvisionedThroughputExceededException');
  });
});
