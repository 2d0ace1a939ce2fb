/**
 * GuardStore on DynamoDB: every budget, breaker and escalation change is one UpdateItem with a
 * ConditionExpression, so concurrent executions can never overspend a budget or escalate twice.
 *
 * Items (partition key `pk`, TTL attribute `expiresAt`):
 * - `budget#<scope>#window#<n>` / `budget#<scope>#stage#<stage>#revision#<rev>`: `used`
 * - `breaker#<scope>`: `consecutiveFailures`, `lastFailureAt`, `escalatedAt` (epoch seconds), `resultIds`
 *   (string set: the remediations whose results were counted since the last success)
 * - `mode#<scope>`: `mode` (`shadow` | `suggest` | `enforce`), written by the user
 * - `fingerprint#<hash>`: `occurrences`, `firstAt`, `lastAt` (epoch seconds), `notifiedBy` (the
 *   remediation whose notification was sent); expires at the end of its notification window
 */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';

import { remediationDocuments } from './remediation-documents';
import { FingerprintOccurrence, NotificationDedupStore } from '../../core/remediation/failure-fingerprint';
import { BreakerState, BudgetClaim, CLOSED_BREAKER, GuardStore } from '../../core/remediation/guards';
import { REMEDIATION_MODES, RemediationMode } from '../../core/remediation/remediation';

export const breakerKey = (scope: string): string => `breaker#${scope}`;
export const modeKey = (scope: string): string => `mode#${scope}`;
export const fingerprintKey = (hash: string): string => `fingerprint#${hash}`;

export class DynamoDbGuardStore implements GuardStore, NotificationDedupStore {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    private readonly tableName: string,
    client: DynamoDBClient,
  ) {
    this.documents = remediationDocuments(client);
  }

  async consumeBudgets(claims: readonly BudgetClaim[]): Promise<{ exhausted?: BudgetClaim }> {
    const taken: BudgetClaim[] = [];
    for (const claim of claims) {
      if (await this.take(claim)) {
        taken.push(claim);
        continue;
      }
      // All or nothing: hand back what this call took so a denied request spends no budget.
      await Promise.all(taken.map((done) => this.giveBack(done)));
      return { exhausted: claim };
    }
    return {};
  }

  async getBreaker(scope: string): Promise<BreakerState> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: breakerKey(scope) }, ConsistentRead: true }),
    );
    return Item ? toBreakerState(Item) : CLOSED_BREAKER;
  }

  async claimEscalation(scope: string, nowSeconds: number, holdsSince: number): Promise<boolean> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: breakerKey(scope) },
          UpdateExpression: 'SET escalatedAt = :now',
          ConditionExpression: 'attribute_not_exists(escalatedAt) OR escalatedAt < :holdsSince',
          ExpressionAttributeValues: { ':now': nowSeconds, ':holdsSince': holdsSince },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async recordResult(
    scope: string,
    succeeded: boolean,
    nowSeconds: number,
    resultId?: string,
  ): Promise<BreakerState> {
    const update = succeeded
      ? // A success closes the circuit and ends the escalation episode; the counted results start over.
        {
          UpdateExpression: `SET consecutiveFailures = :zero${resultId ? ', resultIds = :ids' : ''} REMOVE escalatedAt`,
          ExpressionAttributeValues: { ':zero': 0 },
        }
      : {
          UpdateExpression: `ADD consecutiveFailures :one${resultId ? ', resultIds :ids' : ''} SET lastFailureAt = :now`,
          ExpressionAttributeValues: { ':one': 1, ':now': nowSeconds },
        };
    try {
      const { Attributes } = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: breakerKey(scope) },
          ReturnValues: 'ALL_NEW',
          UpdateExpression: update.UpdateExpression,
          ...(resultId
            ? {
                // Counted already (a retried record step): leave the breaker as it is.
                ConditionExpression: 'NOT contains(resultIds, :id)',
                ExpressionAttributeValues: {
                  ...update.ExpressionAttributeValues,
                  ':ids': new Set([resultId]),
                  ':id': resultId,
                },
              }
            : { ExpressionAttributeValues: update.ExpressionAttributeValues }),
        }),
      );
      return Attributes ? toBreakerState(Attributes) : CLOSED_BREAKER;
    } catch (error) {
      if (resultId && error instanceof ConditionalCheckFailedException) return this.getBreaker(scope);
      throw error;
    }
  }

  async getMode(scope: string): Promise<RemediationMode | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: modeKey(scope) } }),
    );
    const mode: unknown = Item?.mode;
    if (mode === undefined) return undefined;
    if (!REMEDIATION_MODES.includes(mode as RemediationMode)) {
      throw new Error(
        `Item ${modeKey(scope)} has mode '${String(mode)}'; expected one of ${REMEDIATION_MODES.join(', ')}`,
      );
    }
    return mode as RemediationMode;
  }

  async noteOccurrence(
    hash: string,
    notifiedBy: string,
    nowSeconds: number,
    windowSeconds: number,
  ): Promise<FingerprintOccurrence> {
    const key = { pk: fingerprintKey(hash) };
    try {
      // The first occurrence in a window (no item, or its window over though TTL has not deleted it yet).
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression:
            'SET occurrences = :one, firstAt = :now, lastAt = :now, notifiedBy = :by, expiresAt = :expiresAt',
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
          ExpressionAttributeValues: {
            ':one': 1,
            ':now': nowSeconds,
            ':by': notifiedBy,
            ':expiresAt': nowSeconds + windowSeconds,
          },
        }),
      );
      return { first: true, count: 1 };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    try {
      // A repeat within the window: count it. The remediation that was notified retrying stays the first.
      const { Attributes } = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'ADD occurrences :one SET lastAt = :now',
          ConditionExpression: 'notifiedBy <> :by',
          ExpressionAttributeValues: { ':one': 1, ':now': nowSeconds, ':by': notifiedBy },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { first: false, count: Number(Attributes?.occurrences ?? 2) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const { Item } = await this.documents.send(
        new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
      );
      return { first: true, count: Number(Item?.occurrences ?? 1) };
    }
  }

  private async take(claim: BudgetClaim): Promise<boolean> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: claim.key },
          UpdateExpression: 'ADD used :one SET expiresAt = :expiresAt',
          ConditionExpression: 'attribute_not_exists(used) OR used < :limit',
          ExpressionAttributeValues: { ':one': 1, ':limit': claim.limit, ':expiresAt': claim.expiresAt },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  private async giveBack(claim: BudgetClaim): Promise<void> {
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: claim.key },
        UpdateExpression: 'ADD used :minusOne',
        ConditionExpression: 'used > :zero',
        ExpressionAttributeValues: { ':minusOne': -1, ':zero': 0 },
      }),
    );
  }
}

function toBreakerState(item: Record<string, unknown>): BreakerState {
  const number = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);
  return {
    consecutiveFailures: number(item.consecutiveFailures) ?? 0,
    ...(number(item.lastFailureAt) !== undefined ? { lastFailureAt: number(item.lastFailureAt) } : {}),
    ...(number(item.escalatedAt) !== undefined ? { escalatedAt: number(item.escalatedAt) } : {}),
  };
}
