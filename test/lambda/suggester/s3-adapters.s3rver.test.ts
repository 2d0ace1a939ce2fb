/**
 * The suggester's S3 adapters through the real SDK against s3rver on loopback: missing keys, overwrites
 * of the per-project passing-build pointer, the stored-suggestion check and gzip log reading.
 */
import { gzipSync } from 'node:zlib';

import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';

import { selectFailureExcerpt } from '../../../core/logs/log-excerpt';
import { offlineSuggestion } from '../../../core/suggestions/offline-suggester';
import { AwsLogSource, AwsSuggestionDelivery, S3PassingBuildIndex } from '../../../lambda/suggester/adapters';
import { RunningS3rver, startS3rver } from '../../helpers/s3rver';

const bucket = 'pipemend-data-lake';
let server: RunningS3rver;
let s3: S3Client;

beforeAll(async () => {
  server = await startS3rver(bucket, 'build-logs');
  s3 = server.client;
});

afterAll(async () => {
  await server.stop();
});

describe('suggester S3 adapters against s3rver', () => {
  test('the passing-build index answers undefined before any pass, then the latest passing build', async () => {
    const index = new S3PassingBuildIndex(s3, bucket);
    expect(await index.lastPassing('web')).toBeUndefined();
    await index.recordPassing('web', 'web:1', { groupName: '/aws/codebuild/web', streamName: '1' });
    await index.recordPassing('web', 'web:2', { groupName: '/aws/codebuild/web', streamName: '2' });
    expect(await index.lastPassing('web')).toEqual({
      buildId: 'web:2',
      logs: { groupName: '/aws/codebuild/web', streamName: '2' },
    });
  });

  test('a stored suggestion is found by project and build id, and a redelivery overwrites the same key', async () => {
    const delivery = new AwsSuggestionDelivery(
      { s3, events: new EventBridgeClient({}), sns: new SNSClient({}) },
      { bucket, eventBusName: 'bus', topicArn: 'arn:aws:sns:eu-west-1:123456789012:t' },
    );
    const suggestion = offlineSuggestion({
      excerpt: selectFailureExcerpt('fatal: not a git repository'),
      diffedAgainstPassingBuild: false,
      redactedSecrets: 0,
      build: { buildId: 'web:3', projectName: 'web' },
      now: new Date('2026-11-21T10:00:00Z'),
    });
    expect(await delivery.isStored('web', 'web:3')).toBe(false);
    await delivery.store(suggestion);
    await delivery.store({ ...suggestion, createdAt: '2026-11-21T10:01:00.000Z' });
    expect(await delivery.isStored('web', 'web:3')).toBe(true);
    const object = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'suggestions/project=web/web:3.json' }),
    );
    expect(JSON.parse(await object.Body!.transformToString())).toMatchObject({
      category: 'source-control',
      createdAt: '2026-11-21T10:01:00.000Z',
    });
  });

  test('reads a gzip-compressed CodeBuild log by its S3 ARN and names a missing one', async () => {
    await s3.send(
      new PutObjectCommand({
        Bucket: 'build-logs',
        Key: 'web/4.gz',
        Body: gzipSync('line 1\nfatal: boom\n'),
      }),
    );
    const logs = new AwsLogSource(new CloudWatchLogsClient({}), s3);
    expect(await logs.read({ s3Location: 'arn:aws:s3:::build-logs/web/4.gz' })).toBe('line 1\nfatal: boom\n');
    await expect(logs.read({ s3Location: 's3://build-logs/web/missing.gz' })).rejects.toThrow(
      'no log object at s3://build-logs/web/missing.gz',
    );
  });
});
