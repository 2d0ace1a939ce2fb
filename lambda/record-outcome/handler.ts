/** Record-outcome Lambda: decision record, breaker update, label, digest count and the notification (text and topic). */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';

import { RecordedOutcome, recordOutcome } from './record-outcome';
import { AwsDecisionRecordSink } from '../remediation/aws-decision-record-sink';
import { DynamoDbDigestStore } from '../remediation/dynamodb-digest-store';
import { DynamoDbGuardStore } from '../remediation/dynamodb-guard-store';
import { notificationRoutesFromEnv } from '../remediation/notification-routes-env';
import { S3FlakyTestHistory } from '../remediation/s3-flaky-test-history';
import { outcomeReportSchema, parseInput } from '../remediation/schemas';
import { optionalEnv, requireEnv } from '../shared/env';
import { logger, tracer } from '../shared/powertools';

const dynamodb = tracer.captureAWSv3Client(new DynamoDBClient({}));
const s3 = tracer.captureAWSv3Client(new S3Client({}));
const tableName = requireEnv('REMEDIATION_TABLE');
const bucketName = requireEnv('DATA_LAKE_BUCKET');
const guardStore = new DynamoDbGuardStore(tableName, dynamodb);
const windowSeconds = optionalEnv('NOTIFICATION_WINDOW_SECONDS');
const dependencies = {
  guardStore,
  notificationDedup: guardStore,
  ...(windowSeconds !== undefined ? { notificationWindowSeconds: Number(windowSeconds) } : {}),
  digest: new DynamoDbDigestStore(tableName, dynamodb),
  routes: notificationRoutesFromEnv(process.env),
  sink: new AwsDecisionRecordSink({ tableName, bucketName }, dynamodb, s3),
  flakyTests: new S3FlakyTestHistory(bucketName, s3),
  now: () => new Date(),
};

export async function handler(event: unknown): Promise<RecordedOutcome> {
  const report = parseInput(outcomeReportSchema, event, 'outcome report');
  const recorded = await recordOutcome(report, dependencies);
  logger.info('Remediation recorded', {
    remediationId: recorded.remediationId,
    status: recorded.status,
    topicArn: recorded.topicArn,
  });
  return recorded;
}
