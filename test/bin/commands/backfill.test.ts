import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  BatchGetBuildsCommand,
  BatchGetReportsCommand,
  Build,
  CodeBuildClient,
  ListBuildsForProjectCommand,
} from '@aws-sdk/client-codebuild';
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { Command } from 'commander';

import { OUTPUTS, stackWithOutputs } from './deployed-stack.fixtures';
import {
  BackfillDeliveryError,
  backfillProject,
  BackfillRequest,
  BackfillSummary,
  formatSummary,
  registerBackfillCommand,
} from '../../../bin/commands/backfill';
import { BuildRecord } from '../../../core/collection/build-record';
import { compactedFeatureRow } from '../../../core/collection/compacted-feature-row';
import { S3DataLake } from '../../../lambda/collector/aws-ports';
import { FirehoseFeatureSink } from '../../../lambda/collector/firehose-feature-sink';
import { FileDataLake } from '../../../local/file-data-lake';
import { sampleCodeBuild } from '../../helpers/sample-events';

const codeBuild = mockClient(CodeBuildClient);
const cloudWatch = mockClient(CloudWatchClient);
const s3 = mockClient(S3Client);
const firehose = mockClient(FirehoseClient);
const cloudFormation = mockClient(CloudFormationClient);
const STREAM = 'Pipemend-compacted-features';
const NOW = new Date('2026-11-21T00:00:00Z');
const template = sampleCodeBuild().builds[0] as Build;

/** A finished api-build build that started `daysAgo` days before NOW. */
function buildStarted(index: number, daysAgo: number, overrides: Partial<Build> = {}): Build {
  const start = new Date(NOW.getTime() - daysAgo * 86_400_000);
  return {
    ...template,
    id: `api-build:${String(index).padStart(4, '0')}`,
    arn: `arn:aws:codebuild:eu-west-1:123456789012:build/api-build:${String(index).padStart(4, '0')}`,
    buildNumber: index,
    startTime: start,
    endTime: new Date(start.getTime() + 300_000),
    reportArns: [],
    ...overrides,
  };
}

let root: string;

beforeEach(async () => {
  codeBuild.reset();
  cloudWatch.reset();
  s3.reset();
  firehose.reset();
  cloudFormation.reset();
  cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
  root = await mkdtemp(path.join(tmpdir(), 'pipemend-backfill-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** 150 builds, newest first, one every 0.5 days: builds 0..149 started 0..74.5 days ago. */
function mockHistory(builds: Build[]): void {
  const ids = builds.map((build) => build.id!);
  codeBuild.on(ListBuildsForProjectCommand).callsFake(async (input: { nextToken?: string }) => {
    const offset = input.nextToken ? Number(input.nextToken) : 0;
    const page = ids.slice(offset, offset + 100);
    return { ids: page, nextToken: offset + 100 < ids.length ? String(offset + 100) : undefined };
  });
  const byId = new Map(builds.map((build) => [build.id, build]));
  codeBuild.on(BatchGetBuildsCommand).callsFake(async (input: { ids: string[] }) => ({
    builds: input.ids.map((id) => byId.get(id)!),
  }));
}

/** Backfills api-build's last 90 days into the local lake at `root`, through the mocked clients, as of NOW. */
function backfillFromMocks(overrides: Partial<BackfillRequest> = {}): Promise<BackfillSummary> {
  return backfillProject({
    project: 'api-build',
    days: 90,
    store: new FileDataLake(root),
    codeBuild: new CodeBuildClient({}),
    cloudWatch: new CloudWatchClient({}),
    now: NOW,
    ...overrides,
  });
}

test('pages through ListBuildsForProject newest first and asks BatchGetBuilds 100 at a time', async () => {
  mockHistory(Array.from({ length: 150 }, (_, index) => buildStarted(index, index * 0.5)));
  const summary = await backfillFromMocks();
  expect(summary.stored).toBe(150);
  expect(codeBuild).toHaveReceivedCommandWith(ListBuildsForProjectCommand, {
    projectName: 'api-build',
    sortOrder: 'DESCENDING',
  });
  expect(codeBuild.commandCalls(ListBuildsForProjectCommand)).toHaveLength(2);
  expect(codeBuild.commandCalls(BatchGetBuildsCommand).map((call) => call.args[0].input.ids?.length)).toEqual(
    [100, 50],
  );
  expect(await new FileDataLake(root).list('builds/')).toHaveLength(150);
  expect(await new FileDataLake(root).list('features/')).toHaveLength(150);
});

test('stops at the first page that reaches builds older than the window', async () => {
  mockHistory(Array.from({ length: 250 }, (_, index) => buildStarted(index, index * 0.5)));
  const summary = await backfillFromMocks({ days: 30 });
  // Builds 0..59 started less than 30 days ago; build 60 is exactly 30 days old and is kept.
  expect(summary.stored).toBe(61);
  expect(summary.since).toBe('2026-10-22T00:00:00.000Z');
  expect(codeBuild.commandCalls(ListBuildsForProjectCommand)).toHaveLength(1);
});

test('reads test reports and utilisation metrics of each build into the record', async () => {
  const recorded = sampleCodeBuild();
  const report = recorded.reports[0]!;
  mockHistory([buildStarted(1, 1, { reportArns: [report.arn!] })]);
  codeBuild.on(BatchGetReportsCommand).resolves({ reports: [report as never] });
  cloudWatch.on(GetMetricDataCommand).resolves({
    MetricDataResults: [
      { Id: 'm0_1', Values: [55] },
      { Id: 'm0_3', Values: [40] },
    ],
  });
  const store = new FileDataLake(root);
  const summary = await backfillFromMocks({ store });
  expect(summary).toMatchObject({ stored: 1, missingTests: 0, missingUtilization: 0 });
  const [key] = await store.list('builds/');
  expect(JSON.parse((await store.get(key!))!)).toMatchObject({
    tests: { total: 412, failed: 0, error: 0, skipped: 3 },
    utilization: { cpuUtilizedPercent: 55, memoryUtilizedPercent: 40 },
  });
});

test('counts running builds and skips builds without timestamps, naming them', async () => {
  mockHistory([
    buildStarted(1, 1, { buildStatus: 'IN_PROGRESS', endTime: undefined }),
    buildStarted(2, 2, { endTime: undefined }),
    buildStarted(3, 3),
  ]);
  const summary = await backfillFromMocks();
  expect(summary).toMatchObject({
    stored: 1,
    unfinished: 1,
    invalid: ['build api-build:0002 lacks a valid startTime or endTime'],
    missingTests: 1,
    missingUtilization: 1,
  });
});

test('writes the same keys to S3 with PutObject', async () => {
  mockHistory([buildStarted(7, 1)]);
  s3.on(PutObjectCommand).resolves({});
  await backfillFromMocks({ store: new S3DataLake(new S3Client({}), 'lake') });
  expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
    Bucket: 'lake',
    Key: 'builds/project=api-build/date=2026-11-20/api-build:0007.json',
  });
  expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
    Bucket: 'lake',
    Key: 'features/project=api-build/date=2026-11-20/api-build:0007.csv',
  });
});

test('an AWS error aborts the backfill with that error', async () => {
  codeBuild
    .on(ListBuildsForProjectCommand)
    .rejects(Object.assign(new Error('Project not found'), { name: 'ResourceNotFoundException' }));
  await expect(backfillFromMocks({ project: 'nope' })).rejects.toThrow('Project not found');
});

describe('delivery to the compacted table', () => {
  /** The records of every PutRecordBatch call, parsed. */
  function sentRows(): Record<string, unknown>[][] {
    return firehose
      .commandCalls(PutRecordBatchCommand)
      .map((call) =>
        (call.args[0].input.Records ?? []).map((r) => JSON.parse(Buffer.from(r.Data!).toString('utf8'))),
      );
  }

  function compacted(sleeps: number[] = []) {
    return {
      streamName: STREAM,
      sink: new FirehoseFeatureSink(new FirehoseClient({}), STREAM, {
        sleep: async (millis) => {
          sleeps.push(millis);
        },
      }),
    };
  }

  /** Firehose answering a PutRecordBatch: the records of these builds rejected, the others accepted. */
  const rejecting = (buildIds: readonly string[]) => async (input: { Records?: { Data?: Uint8Array }[] }) => {
    const RequestResponses = (input.Records ?? []).map((record, i) =>
      buildIds.includes(
        (JSON.parse(Buffer.from(record.Data!).toString('utf8')) as { build_id: string }).build_id,
      )
        ? { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' }
        : { RecordId: `r${i}` },
    );
    return { FailedPutCount: RequestResponses.filter((r) => 'ErrorCode' in r).length, RequestResponses };
  };

  test("sends each stored build's row, the collector's compacted row stamped with the backfill's time, to the stream", async () => {
    mockHistory([buildStarted(7, 1)]);
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0 });
    const store = new FileDataLake(root);
    const summary = await backfillFromMocks({ store, compacted: compacted() });
    const [key] = await store.list('builds/');
    const record = JSON.parse((await store.get(key!))!) as BuildRecord;
    expect(firehose).toHaveReceivedCommandWith(PutRecordBatchCommand, { DeliveryStreamName: STREAM });
    expect(sentRows()).toEqual([[compactedFeatureRow(record, NOW)]]);
    expect(summary.featureDelivery).toEqual({ streamName: STREAM, delivered: 1, undelivered: 0 });
  });

  test("a row keeps its build's own day, so history lands in its past partition", async () => {
    mockHistory([buildStarted(1, 40)]);
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0 });
    await backfillFromMocks({ compacted: compacted() });
    expect(sentRows()[0]![0]).toMatchObject({ build_id: 'api-build:0001', date: '2026-10-12' });
  });

  test('sends PutRecordBatch calls of at most 500 records', async () => {
    mockHistory(Array.from({ length: 620 }, (_, index) => buildStarted(index, index * 0.1)));
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0 });
    s3.on(PutObjectCommand).resolves({});
    const store = new S3DataLake(new S3Client({}), 'lake');
    const summary = await backfillFromMocks({ store, compacted: compacted() });
    expect(sentRows().map((rows) => rows.length)).toEqual([500, 120]);
    expect(summary.featureDelivery?.delivered).toBe(620);
  });

  test('resends only the records Firehose rejected', async () => {
    mockHistory([buildStarted(1, 1), buildStarted(2, 2), buildStarted(3, 3)]);
    firehose
      .on(PutRecordBatchCommand)
      .callsFakeOnce(rejecting(['api-build:0002']))
      .resolves({ FailedPutCount: 0 });
    const summary = await backfillFromMocks({ compacted: compacted() });
    const calls = sentRows();
    expect(calls.map((rows) => rows.map((row) => row.build_id))).toEqual([
      ['api-build:0001', 'api-build:0002', 'api-build:0003'],
      ['api-build:0002'],
    ]);
    expect(summary.featureDelivery).toEqual({ streamName: STREAM, delivered: 3, undelivered: 0 });
  });

  test('rows still rejected after the bounded retries fail the backfill at the end, naming how many', async () => {
    mockHistory(Array.from({ length: 3 }, (_, index) => buildStarted(index, index + 1)));
    firehose.on(PutRecordBatchCommand).callsFake(rejecting(['api-build:0000', 'api-build:0002']));
    const sleeps: number[] = [];
    const attempt = backfillFromMocks({ compacted: compacted(sleeps) });
    await expect(attempt).rejects.toThrow(BackfillDeliveryError);
    await expect(attempt).rejects.toThrow(
      /^2 of 3 feature rows were not delivered to Firehose stream Pipemend-compacted-features \(2 of 3 feature rows were not accepted .* after 4 attempts \(last: 2 × ServiceUnavailableException\)\); the per-build objects are written: run the same backfill again/,
    );
  });

  test('a batch that fails does not stop the later builds from being stored and sent', async () => {
    mockHistory(Array.from({ length: 600 }, (_, index) => buildStarted(index, index * 0.1)));
    // Build 3 is in the first batch of 500: Firehose keeps rejecting it, the other 599 rows go through.
    firehose.on(PutRecordBatchCommand).callsFake(rejecting(['api-build:0003']));
    s3.on(PutObjectCommand).resolves({});
    const store = new S3DataLake(new S3Client({}), 'lake');
    const error = (await backfillFromMocks({ store, compacted: compacted() }).catch(
      (e: unknown) => e,
    )) as BackfillDeliveryError;
    expect(error.summary).toMatchObject({
      stored: 600,
      featureDelivery: { delivered: 599, undelivered: 1 },
    });
    const keys = s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input.Key ?? '');
    expect(keys.filter((key) => key.startsWith('features/'))).toHaveLength(600);
    expect(sentRows().map((rows) => rows.length)).toEqual([500, 1, 1, 1, 100]);
    expect(error.message).toMatch(/^1 of 600 feature rows were not delivered/);
  });

  test('an error that retrying cannot fix aborts the backfill with that error', async () => {
    mockHistory([buildStarted(1, 1)]);
    firehose.on(PutRecordBatchCommand).rejects(
      Object.assign(new Error('Firehose Pipemend-compacted-features not found'), {
        name: 'ResourceNotFoundException',
      }),
    );
    await expect(backfillFromMocks({ compacted: compacted() })).rejects.toThrow(
      'Firehose Pipemend-compacted-features not found',
    );
  });
});

describe('the backfill command', () => {
  function program(): { run: (...args: string[]) => Promise<void>; output: string[] } {
    const output: string[] = [];
    const command = new Command()
      .exitOverride()
      .configureOutput({ writeErr: (text) => output.push(text), writeOut: (text) => output.push(text) });
    registerBackfillCommand(
      command,
      (text) => output.push(text),
      () => new Date('2026-11-21T12:00:00Z'),
      { maxAttempts: 2, sleep: async () => undefined },
    );
    return {
      run: (...args) => command.parseAsync(['node', 'pipemend', 'backfill', ...args]).then(() => undefined),
      output,
    };
  }

  test('writes to a local directory with --out and prints a summary', async () => {
    mockHistory([buildStarted(1, 1)]);
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const { run, output } = program();
    await run('--project', 'api-build', '--out', root);
    stderr.mockRestore();
    expect(output.join('')).toMatch(new RegExp(`^api-build: 1 builds since 2026-08-23 written to ${root}\n`));
    expect(await new FileDataLake(root).list('builds/')).toHaveLength(1);
  });

  test("with --bucket, delivers the rows to the stream named by the stack's FeatureStreamName output", async () => {
    mockHistory([buildStarted(1, 1)]);
    s3.on(PutObjectCommand).resolves({});
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0 });
    stackWithOutputs(cloudFormation, { ...OUTPUTS, FeatureStreamName: STREAM });
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const { run, output } = program();
    await run('--project', 'api-build', '--bucket', 'lake');
    stderr.mockRestore();
    expect(firehose).toHaveReceivedCommandWith(PutRecordBatchCommand, { DeliveryStreamName: STREAM });
    expect(output.join('')).toContain(
      `  feature rows delivered to the compacted table (Firehose stream ${STREAM}): 1\n`,
    );
  });

  test('--feature-stream names the stream without asking CloudFormation', async () => {
    mockHistory([buildStarted(1, 1)]);
    s3.on(PutObjectCommand).resolves({});
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0 });
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await program().run('--project', 'api-build', '--bucket', 'lake', '--feature-stream', 'other-stream');
    stderr.mockRestore();
    expect(firehose).toHaveReceivedCommandWith(PutRecordBatchCommand, { DeliveryStreamName: 'other-stream' });
    expect(cloudFormation).not.toHaveReceivedCommand(DescribeStacksCommand);
  });

  test('--no-feature-stream writes the per-build objects only', async () => {
    mockHistory([buildStarted(1, 1)]);
    s3.on(PutObjectCommand).resolves({});
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await program().run('--project', 'api-build', '--bucket', 'lake', '--no-feature-stream');
    stderr.mockRestore();
    expect(s3).toHaveReceivedCommand(PutObjectCommand);
    expect(firehose).not.toHaveReceivedCommand(PutRecordBatchCommand);
    expect(cloudFormation).not.toHaveReceivedCommand(DescribeStacksCommand);
  });

  test('a stack deployed without the FeatureStreamName output is refused before anything is written', async () => {
    mockHistory([buildStarted(1, 1)]);
    stackWithOutputs(cloudFormation);
    await expect(program().run('--project', 'api-build', '--bucket', 'lake')).rejects.toThrow(
      "stack 'Pipemend' has no output FeatureStreamName: it was deployed by an older Pipemend; run cdk deploy with this version. backfill --bucket also delivers the feature rows to the compacted table's Firehose stream: pass --feature-stream <name>, or --no-feature-stream to write the per-build objects only",
    );
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
  });

  test('rows not delivered are reported in the summary, then as the error', async () => {
    mockHistory([buildStarted(1, 1)]);
    s3.on(PutObjectCommand).resolves({});
    firehose.on(PutRecordBatchCommand).resolves({
      FailedPutCount: 1,
      RequestResponses: [{ ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' }],
    });
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const { run, output } = program();
    await expect(
      run('--project', 'api-build', '--bucket', 'lake', '--feature-stream', STREAM),
    ).rejects.toThrow(BackfillDeliveryError);
    stderr.mockRestore();
    expect(output.join('')).toContain(
      `  feature rows delivered to the compacted table (Firehose stream ${STREAM}): 0, NOT delivered: 1\n`,
    );
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(2);
  });

  test('refuses --feature-stream together with --out', async () => {
    const { run, output } = program();
    await run('--project', 'api-build', '--out', root, '--feature-stream', STREAM).catch(() => undefined);
    expect(output.join('')).toMatch(
      /option '--feature-stream <name>' cannot be used with option '--out <dir>'/,
    );
    expect(firehose).not.toHaveReceivedCommand(PutRecordBatchCommand);
  });

  test('--out writes locally and sends nothing to a stream', async () => {
    mockHistory([buildStarted(1, 1)]);
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await program().run('--project', 'api-build', '--out', root);
    stderr.mockRestore();
    expect(firehose).not.toHaveReceivedCommand(PutRecordBatchCommand);
    expect(cloudFormation).not.toHaveReceivedCommand(DescribeStacksCommand);
  });

  test('rejects --days outside 1-365', async () => {
    const { run, output } = program();
    await expect(run('--project', 'api-build', '--days', '400', '--out', root)).rejects.toThrow();
    expect(output.join('')).toMatch(/must be an integer between 1 and 365, got '400'/);
  });

  test('requires --bucket or --out', async () => {
    const { run } = program();
    await expect(run('--project', 'api-build')).rejects.toThrow(
      'backfill needs --bucket <name> (the data lake in S3) or --out <dir> (a local directory)',
    );
  });

  test('refuses --bucket together with --out', async () => {
    const { run, output } = program();
    await run('--project', 'api-build', '--bucket', 'b', '--out', root).catch(() => undefined);
    expect(output.join('')).toMatch(/option '--bucket <name>' cannot be used with option '--out <dir>'/);
  });
});

test('formatSummary says what was written and what was skipped', () => {
  expect(
    formatSummary(
      {
        project: 'api-build',
        since: '2026-08-23T00:00:00.000Z',
        stored: 412,
        unfinished: 1,
        invalid: ['build x lacks a valid startTime or endTime'],
        missingTests: 12,
        missingUtilization: 0,
      },
      '/data',
    ),
  ).toBe(
    'api-build: 412 builds since 2026-08-23 written to /data\n' +
      '  without test report: 12, without utilisation metrics: 0\n' +
      '  still running (the collector records them when they finish): 1\n' +
      '  skipped: build x lacks a valid startTime or endTime\n',
  );
});
