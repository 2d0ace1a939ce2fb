/**
 * The compacted data lake's intake on AWS: feature rows as JSON records to the Firehose delivery stream
 * (Direct PUT), which partitions them by day and converts them to Parquet (lib/compaction.ts).
 *
 * PutRecordBatch accepts a call and may still reject some of its records (`FailedPutCount`, an `ErrorCode`
 * per record, `ServiceUnavailableException` when the stream is throttled), and the call itself may be
 * throttled. Only the rejected records are sent again, with exponential backoff, a bounded number of
 * times; then `FeatureDeliveryError` is thrown, so the collector's event is retried by EventBridge and
 * finally dead-lettered: a row is never dropped silently.
 */
import { FirehoseClient, PutRecordBatchCommand, _Record } from '@aws-sdk/client-firehose';

import { FeatureRowSink } from '../../core/collection/collector';
import { CompactedFeatureRow } from '../../core/collection/compacted-feature-row';

/** PutRecordBatch takes at most 500 records (and 4 MiB; a feature row is well under 1 KiB). */
export const FIREHOSE_BATCH_SIZE = 500;

/** Errors of the call itself after which sending again can succeed: throttling and service faults. */
const RETRYABLE_ERRORS = new Set(['ServiceUnavailableException', 'ThrottlingException', 'InternalFailure']);

export interface FirehoseFeatureSinkOptions {
  /** Attempts per batch, the first included. @default 4 */
  readonly maxAttempts?: number;
  /** Wait before the second attempt; doubled each time. @default 100 ms (100 + 200 + 400 ms in all) */
  readonly baseDelayMillis?: number;
  /** Injected in tests. @default setTimeout */
  readonly sleep?: (millis: number) => Promise<void>;
}

/** Feature rows Firehose did not accept after the bounded retries; the message names the error codes. */
export class FeatureDeliveryError extends Error {
  public override readonly name = 'FeatureDeliveryError';

  constructor(
    message: string,
    /** Rows of the failed batch that Firehose did not accept (the batch's other rows were accepted). */
    readonly undelivered: number,
  ) {
    super(message);
  }
}

export class FirehoseFeatureSink implements FeatureRowSink {
  private readonly maxAttempts: number;
  private readonly baseDelayMillis: number;
  private readonly sleep: (millis: number) => Promise<void>;

  constructor(
    private readonly client: FirehoseClient,
    readonly streamName: string,
    options: FirehoseFeatureSinkOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 4;
    this.baseDelayMillis = options.baseDelayMillis ?? 100;
    this.sleep = options.sleep ?? ((millis) => new Promise((resolve) => setTimeout(resolve, millis)));
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1) {
      throw new Error(`maxAttempts must be a positive integer, got ${this.maxAttempts}`);
    }
  }

  async send(rows: readonly CompactedFeatureRow[]): Promise<void> {
    for (let start = 0; start < rows.length; start += FIREHOSE_BATCH_SIZE) {
      await this.sendBatch(rows.slice(start, start + FIREHOSE_BATCH_SIZE));
    }
  }

  private async sendBatch(rows: readonly CompactedFeatureRow[]): Promise<void> {
    let pending: _Record[] = rows.map((row) => ({ Data: Buffer.from(JSON.stringify(row), 'utf8') }));
    let lastFailure = '';
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      if (attempt > 1) await this.sleep(this.baseDelayMillis * 2 ** (attempt - 2));
      try {
        const answer = await this.client.send(
          new PutRecordBatchCommand({ DeliveryStreamName: this.streamName, Records: pending }),
        );
        if (!answer.FailedPutCount) return;
        const responses = answer.RequestResponses ?? [];
        const failed = pending.filter((_, index) => responses[index]?.ErrorCode !== undefined);
        // A count without per-record codes cannot say which failed: send them all again.
        if (failed.length > 0) pending = failed;
        lastFailure = describeCodes(responses.flatMap((r) => (r.ErrorCode ? [r.ErrorCode] : [])));
      } catch (error) {
        const name = (error as { name?: string }).name ?? 'Error';
        if (!RETRYABLE_ERRORS.has(name)) throw error;
        lastFailure = `${name}: ${(error as Error).message}`;
      }
    }
    throw new FeatureDeliveryError(
      `${pending.length} of ${rows.length} feature rows were not accepted by Firehose stream ${this.streamName} after ${this.maxAttempts} attempts (last: ${lastFailure})`,
      pending.length,
    );
  }
}

function describeCodes(codes: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const code of codes) counts.set(code, (counts.get(code) ?? 0) + 1);
  return [...counts].map(([code, count]) => `${count} × ${code}`).join(', ') || 'FailedPutCount > 0';
}
