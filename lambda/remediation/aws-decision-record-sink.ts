/**
 * Decision records in AWS: the record as history in the data lake (`remediations/…`), its label for
 * training (`labels/…`), and a summary item in the remediation table for `pipemend`/console lookups.
 * Keys are deterministic, so a retried write overwrites rather than duplicates.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';

import { remediationDocuments } from './remediation-documents';
import { labelKey } from '../../core/remediation/labels';
import {
  DecisionRecord,
  decisionRecordKey,
  DecisionRecordSink,
} from '../../core/remediation/remediation-record';

/** Summary items live 90 days; the history in S3 follows the data lake's lifecycle. */
const RECORD_TTL_SECONDS = 90 * 86400;

export const recordItemKey = (remediationId: string): string => `record#${remediationId}`;

export class AwsDecisionRecordSink implements DecisionRecordSink {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    private readonly options: { readonly tableName: string; readonly bucketName: string },
    dynamodb: DynamoDBClient,
    private readonly s3: S3Client,
  ) {
    this.documents = remediationDocuments(dynamodb);
  }

  async save(record: DecisionRecord): Promise<void> {
    const historyKey = decisionRecordKey(record);
    await this.putJson(historyKey, record);
    if (record.label) await this.putJson(labelKey(record.label), record.label);
    await this.documents.send(
      new PutCommand({
        TableName: this.options.tableName,
        Item: {
          pk: recordItemKey(record.remediationId),
          scope: record.scope,
          status: record.status,
          action: record.classification?.decision.action ?? 'NONE',
          guardOutcome: record.guard?.outcome ?? 'NONE',
          mode: record.guard?.mode,
          claimKey: record.classification?.claimKey,
          error: record.error?.error,
          executionId: record.executionId,
          recordedAt: record.recordedAt,
          historyKey,
          labelKind: record.label?.kind,
          testOutcome: record.testOutcome,
          fingerprint: record.classification?.fingerprint?.hash,
          notificationSent: record.notification?.sent,
          expiresAt: Math.floor(Date.parse(record.recordedAt) / 1000) + RECORD_TTL_SECONDS,
        },
      }),
    );
  }

  private async putJson(key: string, value: unknown): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.options.bucketName,
        Key: key,
        Body: JSON.stringify(value),
        ContentType: 'application/json',
      }),
    );
  }
}
