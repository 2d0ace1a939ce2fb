import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, GetObjectCommandOutput, S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';

import { BUCKET, OUTPUTS, stackWithOutputs, TABLE } from './deployed-stack.fixtures';
import { deployedStatus, StatusClients } from '../../../bin/commands/status';

const cloudFormation = mockClient(CloudFormationClient);
const s3 = mockClient(S3Client);
const sqs = mockClient(SQSClient);
const documents = mockClient(DynamoDBDocumentClient);

const clients = (): StatusClients => ({
  cloudFormation: new CloudFormationClient({ region: 'eu-west-1' }),
  s3: new S3Client({ region: 'eu-west-1' }),
  sqs: new SQSClient({ region: 'eu-west-1' }),
  documents: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })),
});
const NOW = new Date('2026-12-01T12:00:00Z');
const queue = (name: string) => `https://sqs.eu-west-1.amazonaws.com/123456789012/${name}`;

beforeEach(() => {
  for (const mock of [cloudFormation, s3, sqs, documents]) mock.reset();
  stackWithOutputs(cloudFormation);
  documents.on(ScanCommand, { TableName: TABLE }).resolves({
    Items: [{ pk: 'mode#pipeline:app', mode: 'enforce' }],
  });
  sqs.on(ListQueuesCommand, { QueueNamePrefix: 'Pipemend-' }).resolves({
    QueueUrls: [queue('Pipemend-ScoringEventDlq-A'), queue('Pipemend-CollectionDlq-B')],
  });
  sqs
    .on(GetQueueAttributesCommand, { QueueUrl: queue('Pipemend-ScoringEventDlq-A') })
    .resolves({ Attributes: { ApproximateNumberOfMessages: '3' } })
    .on(GetQueueAttributesCommand, { QueueUrl: queue('Pipemend-CollectionDlq-B') })
    .resolves({ Attributes: { ApproximateNumberOfMessages: '0' } });
});

test('shows the outputs, the current model, the modes and the queues that hold messages', async () => {
  const manifest = {
    modelVersion: '2026-11-29T03-00-00Z',
    kind: 'embedded',
    trainedAt: '2026-11-29T03:00:00Z',
    trainingRows: 8123,
  };
  s3.on(GetObjectCommand, { Bucket: BUCKET, Key: 'models/current.json' }).resolves({
    Body: {
      transformToString: async () => JSON.stringify(manifest),
    } as unknown as GetObjectCommandOutput['Body'],
  });
  const text = await deployedStatus(clients(), 'Pipemend', NOW);
  expect(text).toContain('Stack Pipemend (UPDATE_COMPLETE)');
  expect(text).toContain(`  DataLakeBucketName           ${OUTPUTS.DataLakeBucketName}`);
  expect(text).toContain(
    'Model: 2026-11-29T03-00-00Z (embedded), trained 2026-11-29T03:00:00Z on 8123 builds',
  );
  expect(text).toContain('Scopes (default mode: shadow):');
  expect(text).toContain('  pipeline:app  mode enforce');
  expect(text).toContain('Dead-letter queues: 1 of 2 hold messages');
  expect(text).toContain('  Pipemend-ScoringEventDlq-A  3');
});

test('before the first training it says builds are scored by the baseline', async () => {
  s3.on(GetObjectCommand).rejects(Object.assign(new Error('missing'), { name: 'NoSuchKey' }));
  const text = await deployedStatus(clients(), 'Pipemend', NOW);
  expect(text).toContain('Model: none yet; builds are scored against each project’s cold-start baseline');
});

test('a stack deployed by an older Pipemend names the output it lacks', async () => {
  cloudFormation.reset();
  stackWithOutputs(cloudFormation, { ScorerFunctionArn: 'arn' });
  await expect(deployedStatus(clients(), 'Pipemend', NOW)).rejects.toThrow(
    "stack 'Pipemend' has no output DataLakeBucketName",
  );
});
