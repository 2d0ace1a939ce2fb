/**
 * The daily digest's items in the remediation table (partition key `pk`, TTL `expiresAt`):
 * - `digest#<day>#<fingerprint>`: `digestDay`, `fingerprint`, `where`, `cause`, `topicArn`,
 *   `occurrences` and `repeats` (ADD), `firstSeen` (if_not_exists), `lastSeen`, `lastCountedBy`; found by
 *   day through the table's sparse index `DIGEST_INDEX_NAME` (partition key `digestDay`, sort key `pk`), which
 *   holds these items only. They expire three days after their day.
 * - `digest-sent#<day>#<topic ARN>#<part>`: the digest part was published (a retried digest run skips it).
 */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';

import { remediationDocuments } from './remediation-documents';
import {
  DIGEST_DAY_ATTRIBUTE,
  DIGEST_INDEX_NAME,
  DigestEntry,
  digestExpiresAt,
  DigestOccurrence,
  NotificationDigestStore,
} from '../../core/remediation/notification-digest';

export const digestKey = (day: string, fingerprint: string): string => `digest#${day}#${fingerprint}`;
export const digestSentKey = (day: string, topicArn: string, part: number): string =>
  `digest-sent#${day}#${topicArn}#${part}`;

export class DynamoDbDigestStore implements NotificationDigestStore {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    private readonly tableName: string,
    client: DynamoDBClient,
  ) {
    this.documents = remediationDocuments(client);
  }

  async countOccurrence(occurrence: DigestOccurrence): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: digestKey(occurrence.day, occurrence.fingerprint) },
          UpdateExpression:
            'ADD occurrences :one, repeats :repeat SET #day = :day, fingerprint = :fingerprint, #where = :where, cause = :cause, topicArn = :topic, firstSeen = if_not_exists(firstSeen, :at), lastSeen = :at, lastCountedBy = :by, expiresAt = :expiresAt',
          // The remediation counted last retrying its record step: counted already.
          ConditionExpression: 'attribute_not_exists(lastCountedBy) OR lastCountedBy <> :by',
          ExpressionAttributeNames: { '#day': DIGEST_DAY_ATTRIBUTE, '#where': 'where' },
          ExpressionAttributeValues: {
            ':one': 1,
            ':repeat': occurrence.sent ? 0 : 1,
            ':day': occurrence.day,
            ':fingerprint': occurrence.fingerprint,
            ':where': occurrence.where,
            ':cause': occurrence.cause,
            ':topic': occurrence.topicArn,
            ':at': occurrence.at,
            ':by': occurrence.remediationId,
            ':expiresAt': digestExpiresAt(occurrence.day),
          },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** Every digest item of the day, all pages. */
  async entriesOf(day: string): Promise<DigestEntry[]> {
    const entries: DigestEntry[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: DIGEST_INDEX_NAME,
          KeyConditionExpression: '#day = :day',
          ExpressionAttributeNames: { '#day': DIGEST_DAY_ATTRIBUTE },
          ExpressionAttributeValues: { ':day': day },
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) entries.push(toEntry(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return entries;
  }

  async isSent(day: string, topicArn: string, part: number): Promise<boolean> {
    const { Item } = await this.documents.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: digestSentKey(day, topicArn, part) },
        ConsistentRead: true,
      }),
    );
    return Item !== undefined;
  }

  async markSent(day: string, topicArn: string, part: number, sentAt: string): Promise<void> {
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: digestSentKey(day, topicArn, part), sentAt, expiresAt: digestExpiresAt(day) },
      }),
    );
  }
}

function toEntry(item: Record<string, unknown>): DigestEntry {
  const text = (name: string): string => {
    const value = item[name];
    if (typeof value !== 'string') {
      throw new Error(`Digest item ${String(item.pk)} has no string '${name}'`);
    }
    return value;
  };
  const number = (name: string): number => {
    const value = item[name];
    if (typeof value !== 'number') {
      throw new Error(`Digest item ${String(item.pk)} has no number '${name}'`);
    }
    return value;
  };
  return {
    day: text(DIGEST_DAY_ATTRIBUTE),
    fingerprint: text('fingerprint'),
    where: text('where'),
    cause: text('cause'),
    topicArn: text('topicArn'),
    occurrences: number('occurrences'),
    repeats: number('repeats'),
    firstSeen: text('firstSeen'),
    lastSeen: text('lastSeen'),
  };
}
