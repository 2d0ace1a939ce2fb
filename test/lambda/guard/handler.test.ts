import { DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';

import { LambdaContext } from '../../../lambda/guard/guard-once';
import { dnsFailureRerun } from '../../helpers/remediation-fixtures';

const dynamodb = mockClient(DynamoDBClient);
const documents = mockClient(DynamoDBDocumentClient);

process.env.AWS_REGION = 'eu-west-1';
process.env.REMEDIATION_TABLE = 'state';
process.env.DEFAULT_MODE = 'enforce';

type Handler = (typeof import('../../../lambda/guard/handler'))['handler'];
let handler: Handler;

beforeAll(async () => {
  // The handler reads its environment when loaded.
  ({ handler } = await import('../../../lambda/guard/handler'));
});

const context = { getRemainingTimeInMillis: () => 25_000, functionName: 'guard' } as unknown as LambdaContext;

beforeEach(() => {
  dynamodb.reset();
  documents.reset();
  dynamodb.on(PutItemCommand).resolves({});
  dynamodb.on(UpdateItemCommand).resolves({});
  documents.on(GetCommand).resolves({});
  documents.on(UpdateCommand).resolves({});
});

describe('guard handler', () => {
  test('claims the failure with a conditional put, spends the budgets conditionally and lets the action proceed', async () => {
    const result = await handler({ classification: dnsFailureRerun, executionId: 'exec-1' }, context);

    expect(result).toMatchObject({ outcome: 'PROCEED', mode: 'enforce', executionId: 'exec-1' });
    expect(dynamodb).toHaveReceivedCommandWith(PutItemCommand, {
      TableName: 'state',
      ConditionExpression: expect.stringContaining('attribute_not_exists(#id)'),
      ExpressionAttributeNames: expect.objectContaining({ '#id': 'pk', '#expiry': 'expiresAt' }),
    });
    expect(documents).toHaveReceivedCommandTimes(UpdateCommand, 2);
    expect(documents).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: 'budget#project:app#stage#-#revision#r1' },
      ConditionExpression: 'attribute_not_exists(used) OR used < :limit',
    });
  });

  test('a request without a claim key is rejected naming the field, before any write', async () => {
    const withoutKey = Object.fromEntries(
      Object.entries(dnsFailureRerun).filter(([key]) => key !== 'claimKey'),
    );
    await expect(
      handler({ classification: withoutKey, executionId: 'exec-1' }, context),
    ).rejects.toMatchObject({
      name: 'InvalidRemediationInputError',
      message: expect.stringContaining('classification.claimKey'),
    });
    expect(dynamodb).not.toHaveReceivedCommand(PutItemCommand);
  });
});
