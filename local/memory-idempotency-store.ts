/**
 * A Powertools idempotency persistence layer in memory, with the DynamoDB layer's rules (a key is
 * claimable when absent, expired, or in progress past its in-progress expiry), so the local replay runs
 * the very same idempotent guard as the Lambda.
 */
import {
  IdempotencyItemAlreadyExistsError,
  IdempotencyItemNotFoundError,
} from '@aws-lambda-powertools/idempotency';
import { BasePersistenceLayer, IdempotencyRecord } from '@aws-lambda-powertools/idempotency/persistence';

export class MemoryIdempotencyStore extends BasePersistenceLayer {
  private readonly records = new Map<string, IdempotencyRecord>();

  protected _getRecord(idempotencyKey: string): Promise<IdempotencyRecord> {
    const record = this.records.get(idempotencyKey);
    return record ? Promise.resolve(record) : Promise.reject(new IdempotencyItemNotFoundError());
  }

  protected _putRecord(record: IdempotencyRecord): Promise<void> {
    const existing = this.records.get(record.idempotencyKey);
    const now = Date.now();
    const claimable =
      existing === undefined ||
      (existing.expiryTimestamp !== undefined && existing.expiryTimestamp < now / 1000) ||
      (existing.getStatus() === 'INPROGRESS' &&
        existing.inProgressExpiryTimestamp !== undefined &&
        existing.inProgressExpiryTimestamp < now);
    if (!claimable) {
      return Promise.reject(
        new IdempotencyItemAlreadyExistsError(
          `Failed to put record for already existing idempotency key: ${record.idempotencyKey}`,
          existing,
        ),
      );
    }
    this.records.set(record.idempotencyKey, record);
    return Promise.resolve();
  }

  protected _updateRecord(record: IdempotencyRecord): Promise<void> {
    this.records.set(record.idempotencyKey, record);
    return Promise.resolve();
  }

  protected _deleteRecord(record: IdempotencyRecord): Promise<void> {
    this.records.delete(record.idempotencyKey);
    return Promise.resolve();
  }
}
