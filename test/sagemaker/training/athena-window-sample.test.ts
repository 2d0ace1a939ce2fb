import { gzipSync } from 'node:zlib';

import {
  AthenaClient,
  GetQueryExecutionCommand,
  QueryExecutionState,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  TooManyRequestsException,
} from '@aws-sdk/client-athena';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';

import { compactedSource, fakeTime } from './compacted-source';
import { FEATURE_DIMENSION } from '../../../core/collection/build-record';
import {
  AthenaQueryFailedError,
  AthenaQueryTimeoutError,
  CompactedWindowSource,
  readCompactedWindowSample,
  runAthenaQuery,
  unloadPrefix,
} from '../../../sagemaker/training/athena-window-sample';

const athena = mockClient(AthenaClient);
const s3 = mockClient(S3Client);
const RUN = '4f6c2a9e-0b1d-4c3e-8f7a-1d2e3f4a5b6c';
const QUERY_ID = 'q-0001';

function source(time = fakeTime(), timeoutMillis = 60_000): CompactedWindowSource {
  return compactedSource({ timing: { timeoutMillis, now: time.now, sleep: time.sleep } });
}

const status = (State: QueryExecutionState, StateChangeReason?: string) => ({
  QueryExecution: { QueryExecutionId: QUERY_ID, Status: { State, StateChangeReason } },
});

const throttled = () =>
  new TooManyRequestsException({
    message: 'Rate exceeded',
    $metadata: {},
    Reason: 'CONCURRENT_QUERY_LIMIT_EXCEEDED',
  });

const query = { sql: 'SELECT 1', workGroup: 'wg', database: 'db', clientRequestToken: RUN };

beforeEach(() => {
  athena.reset();
  s3.reset();
  athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
});

test('UNLOADs the sample into a fresh prefix of the workgroup results and reads it once the query succeeded', async () => {
  athena
    .on(GetQueryExecutionCommand)
    .resolvesOnce(status(QueryExecutionState.QUEUED))
    .resolvesOnce(status(QueryExecutionState.RUNNING))
    .resolves(status(QueryExecutionState.SUCCEEDED));
  const prefix = `athena-results/unload/${RUN}/`;
  const values = [7, ...Array.from({ length: FEATURE_DIMENSION - 1 }, () => 1)].join(',');
  const file = gzipSync(`api,2026-11-20,api:1,${values},30,true\n`);
  s3.on(ListObjectsV2Command, { Bucket: 'lake', Prefix: prefix }).resolves({
    Contents: [{ Key: `${prefix}project_bucket=3/part-0.gz`, Size: file.length }],
  });
  s3.on(GetObjectCommand).resolves({
    Body: { transformToByteArray: async () => new Uint8Array(file) } as never,
  });

  const sample = await readCompactedWindowSample(source(), '2026-08-24', 20, RUN);

  const start = athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input;
  expect(start).toMatchObject({
    WorkGroup: 'Pipemend-compacted',
    QueryExecutionContext: { Database: 'pipemend' },
    ClientRequestToken: RUN,
  });
  expect(start.QueryString).toMatch(/^UNLOAD \(SELECT/);
  expect(start.QueryString).toContain(`FROM pipemend.features_compacted s JOIN rates`);
  expect(start.QueryString).toContain("WHERE date >= '2026-08-24'");
  expect(start.QueryString).toContain(`TO 's3://lake/${prefix}'`);
  expect(sample.rows).toEqual([
    { projectName: 'api', buildId: 'api:1', date: '2026-11-20', values: values.split(',').map(Number) },
  ]);
  expect(sample.projectBuilds).toEqual({ api: 30 });
});

test('waits between polls with a growing interval', async () => {
  athena
    .on(GetQueryExecutionCommand)
    .resolvesOnce(status(QueryExecutionState.RUNNING))
    .resolvesOnce(status(QueryExecutionState.RUNNING))
    .resolvesOnce(status(QueryExecutionState.RUNNING))
    .resolves(status(QueryExecutionState.SUCCEEDED));
  const time = fakeTime();
  expect(await runAthenaQuery(new AthenaClient({}), query, { timeoutMillis: 60_000, ...time })).toBe(
    QUERY_ID,
  );
  expect(time.sleeps).toEqual([1000, 1500, 2250]);
});

test('a FAILED query throws AthenaQueryFailedError with its state-change reason', async () => {
  athena
    .on(GetQueryExecutionCommand)
    .resolves(
      status(QueryExecutionState.FAILED, 'HIVE_BAD_DATA: Field duration_seconds type INT64 is incompatible'),
    );
  const attempt = runAthenaQuery(new AthenaClient({}), query, { timeoutMillis: 60_000, ...fakeTime() });
  await expect(attempt).rejects.toThrow(AthenaQueryFailedError);
  await expect(attempt).rejects.toThrow(
    'Athena query q-0001 ended FAILED: HIVE_BAD_DATA: Field duration_seconds type INT64 is incompatible',
  );
});

test('a CANCELLED query throws AthenaQueryFailedError naming the state', async () => {
  athena
    .on(GetQueryExecutionCommand)
    .resolves(status(QueryExecutionState.CANCELLED, 'Query cancelled by user'));
  await expect(
    runAthenaQuery(new AthenaClient({}), query, { timeoutMillis: 60_000, ...fakeTime() }),
  ).rejects.toMatchObject({
    name: 'AthenaQueryFailedError',
    state: 'CANCELLED',
    reason: 'Query cancelled by user',
  });
});

test('a query still running at the end of the time budget is stopped and throws AthenaQueryTimeoutError', async () => {
  athena.on(GetQueryExecutionCommand).resolves(status(QueryExecutionState.RUNNING));
  athena.on(StopQueryExecutionCommand).resolves({});
  const time = fakeTime();
  const attempt = runAthenaQuery(new AthenaClient({}), query, { timeoutMillis: 30_000, ...time });
  await expect(attempt).rejects.toThrow(AthenaQueryTimeoutError);
  await expect(attempt).rejects.toThrow(
    'Athena query q-0001 was still RUNNING after 30 s; it was asked to stop',
  );
  expect(athena).toHaveReceivedCommandWith(StopQueryExecutionCommand, { QueryExecutionId: QUERY_ID });
  expect(time.sleeps.reduce((a, b) => a + b, 0)).toBe(30_000);
});

test('a throttled start is retried with the same idempotency token', async () => {
  athena
    .on(StartQueryExecutionCommand)
    .rejectsOnce(throttled())
    .rejectsOnce(throttled())
    .resolves({ QueryExecutionId: QUERY_ID });
  athena.on(GetQueryExecutionCommand).resolves(status(QueryExecutionState.SUCCEEDED));
  await runAthenaQuery(new AthenaClient({}), query, { timeoutMillis: 60_000, ...fakeTime() });
  const tokens = athena
    .commandCalls(StartQueryExecutionCommand)
    .map((call) => call.args[0].input.ClientRequestToken);
  expect(tokens).toEqual([RUN, RUN, RUN]);
});

test('a start throttled on every attempt throws the TooManyRequestsException', async () => {
  athena.on(StartQueryExecutionCommand).rejects(throttled());
  await expect(
    runAthenaQuery(new AthenaClient({}), query, {
      timeoutMillis: 60_000,
      maxStartAttempts: 3,
      ...fakeTime(),
    }),
  ).rejects.toThrow(TooManyRequestsException);
  expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(3);
});

test('a throttled poll is waited out, not fatal', async () => {
  athena
    .on(GetQueryExecutionCommand)
    .rejectsOnce(throttled())
    .resolves(status(QueryExecutionState.SUCCEEDED));
  expect(await runAthenaQuery(new AthenaClient({}), query, { timeoutMillis: 60_000, ...fakeTime() })).toBe(
    QUERY_ID,
  );
  expect(athena.commandCalls(GetQueryExecutionCommand)).toHaveLength(2);
});

test('an UNLOAD prefix is refused for an id that could escape it', () => {
  expect(() => unloadPrefix('../models')).toThrow("invalid UNLOAD run id '../models'");
});
