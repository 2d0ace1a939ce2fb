import {
  FirehoseClient,
  PutRecordBatchCommand,
  ResourceNotFoundException,
  ServiceUnavailableException,
} from '@aws-sdk/client-firehose';
import { mockClient } from 'aws-sdk-client-mock';

import { CompactedFeatureRow } from '../../../core/collection/compacted-feature-row';
import {
  FeatureDeliveryError,
  FIREHOSE_BATCH_SIZE,
  FirehoseFeatureSink,
} from '../../../lambda/collector/firehose-feature-sink';

const firehose = mockClient(FirehoseClient);

function row(buildId: string): CompactedFeatureRow {
  return {
    project: 'api-build',
    build_id: buildId,
    ingested_at: '2026-11-20T09:19:05.000Z',
    date: '2026-11-20',
    duration_seconds: 298,
  };
}

function sink(sleeps: number[] = []): FirehoseFeatureSink {
  return new FirehoseFeatureSink(new FirehoseClient({}), 'pipemend-features', {
    sleep: async (millis) => {
      sleeps.push(millis);
    },
  });
}

/** The build ids of the records of each PutRecordBatch call. */
function sentBuildIds(): string[][] {
  return firehose
    .commandCalls(PutRecordBatchCommand)
    .map((call) =>
      (call.args[0].input.Records ?? []).map(
        (record) => (JSON.parse(Buffer.from(record.Data!).toString('utf8')) as CompactedFeatureRow).build_id,
      ),
    );
}

const throttled = () =>
  new ServiceUnavailableException({ message: 'Slow down.', $metadata: { httpStatusCode: 400 } });

beforeEach(() => firehose.reset());

test('sends each row as one JSON record to the stream', async () => {
  firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0, RequestResponses: [{ RecordId: 'r1' }] });
  await sink().send([row('api-build:1')]);
  expect(firehose).toHaveReceivedCommandWith(PutRecordBatchCommand, {
    DeliveryStreamName: 'pipemend-features',
  });
  const data = firehose.commandCalls(PutRecordBatchCommand)[0]!.args[0].input.Records![0]!.Data!;
  expect(JSON.parse(Buffer.from(data).toString('utf8'))).toEqual(row('api-build:1'));
});

test('sends more rows than a batch holds in batches of 500', async () => {
  firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0 });
  const rows = Array.from({ length: FIREHOSE_BATCH_SIZE + 20 }, (_, i) => row(`api-build:${i}`));
  await sink().send(rows);
  expect(sentBuildIds().map((ids) => ids.length)).toEqual([500, 20]);
});

test('sends again only the records a batch rejected', async () => {
  firehose
    .on(PutRecordBatchCommand)
    .resolvesOnce({
      FailedPutCount: 1,
      RequestResponses: [
        { RecordId: 'r1' },
        { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' },
        { RecordId: 'r3' },
      ],
    })
    .resolves({ FailedPutCount: 0, RequestResponses: [{ RecordId: 'r2' }] });
  await sink().send([row('a:1'), row('a:2'), row('a:3')]);
  expect(sentBuildIds()).toEqual([['a:1', 'a:2', 'a:3'], ['a:2']]);
});

test('retries a throttled call with exponential backoff', async () => {
  firehose
    .on(PutRecordBatchCommand)
    .rejectsOnce(throttled())
    .rejectsOnce(throttled())
    .resolves({ FailedPutCount: 0 });
  const sleeps: number[] = [];
  await sink(sleeps).send([row('a:1')]);
  expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(3);
  expect(sleeps).toEqual([100, 200]);
});

test('throws FeatureDeliveryError naming the error codes when records are still rejected after the last attempt', async () => {
  firehose.on(PutRecordBatchCommand).resolves({
    FailedPutCount: 1,
    RequestResponses: [{ RecordId: 'r1' }, { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'x' }],
  });
  const attempt = sink().send([row('a:1'), row('a:2')]);
  await expect(attempt).rejects.toThrow(FeatureDeliveryError);
  await expect(attempt).rejects.toThrow(
    '1 of 2 feature rows were not accepted by Firehose stream pipemend-features after 4 attempts (last: 1 × ServiceUnavailableException)',
  );
  await expect(attempt).rejects.toMatchObject({ undelivered: 1 });
  expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(4);
});

test('throws FeatureDeliveryError when every attempt is throttled', async () => {
  firehose.on(PutRecordBatchCommand).rejects(throttled());
  await expect(sink().send([row('a:1')])).rejects.toThrow(
    /1 of 1 feature rows .* after 4 attempts \(last: ServiceUnavailableException: Slow down\.\)/,
  );
});

test('does not retry an error that sending again cannot fix', async () => {
  firehose
    .on(PutRecordBatchCommand)
    .rejects(new ResourceNotFoundException({ message: 'Stream not found', $metadata: {} }));
  await expect(sink().send([row('a:1')])).rejects.toThrow(ResourceNotFoundException);
  expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(1);
});
