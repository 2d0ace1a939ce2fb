import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { BatchGetBuildsCommand, BatchGetReportsCommand, CodeBuildClient } from '@aws-sdk/client-codebuild';
import { FirehoseClient, PutRecordBatchCommand, ServiceUnavailableException } from '@aws-sdk/client-firehose';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';

import { handler } from '../../../lambda/collector/handler';
import { sampleCodeBuild, sampleEvent } from '../../helpers/sample-events';

// The handler reads DATA_LAKE_BUCKET and FEATURE_STREAM_NAME on first use, not at import.
process.env.DATA_LAKE_BUCKET = 'pipemend-data-lake';
process.env.FEATURE_STREAM_NAME = 'pipemend-compacted-features';

const codeBuild = mockClient(CodeBuildClient);
const cloudWatch = mockClient(CloudWatchClient);
const s3 = mockClient(S3Client);
const firehose = mockClient(FirehoseClient);
const recorded = sampleCodeBuild();
const apiBuild = recorded.builds[0]!;

interface EmfBlob {
  _aws: {
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [key: string]: unknown;
}

let emf: EmfBlob[];
let stdout: jest.SpyInstance;
let stderr: jest.SpyInstance;

beforeEach(() => {
  codeBuild.reset();
  cloudWatch.reset();
  s3.reset();
  firehose.reset();
  firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0, RequestResponses: [{ RecordId: 'r1' }] });
  codeBuild.on(BatchGetBuildsCommand).resolves({ builds: [apiBuild as never] });
  codeBuild.on(BatchGetReportsCommand).resolves({ reports: recorded.reports.slice(0, 2) as never });
  cloudWatch.on(GetMetricDataCommand).resolves({
    MetricDataResults: [
      { Id: 'm0_1', Label: 'CPUUtilizedPercent', Values: [81, 94] },
      { Id: 'm1_3', Label: 'MemoryUtilizedPercent', Values: [36.3, 43.3] },
    ],
  });
  s3.on(GetObjectCommand).rejects(
    Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' }),
  );
  s3.on(PutObjectCommand).resolves({});
  emf = [];
  stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    const text = String(chunk);
    for (const line of text.split('\n')) {
      if (line.includes('"_aws"')) emf.push(JSON.parse(line) as EmfBlob);
    }
    return true;
  });
  stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
});

afterEach(() => {
  stdout.mockRestore();
  stderr.mockRestore();
});

test('a finished build is enriched through BatchGetBuilds, BatchGetReports and GetMetricData and stored in S3', async () => {
  const outcome = await handler(sampleEvent('01-codebuild-succeeded'));
  expect(outcome.status).toBe('stored');
  expect(codeBuild).toHaveReceivedCommandWith(BatchGetBuildsCommand, {
    ids: ['api-build:5f0c1a9e-3b7d-4e52-9a61-0c2f4d8b7e11'],
  });
  expect(codeBuild).toHaveReceivedCommandWith(BatchGetReportsCommand, {
    reportArns: apiBuild.reportArns as string[],
  });
  expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
    Bucket: 'pipemend-data-lake',
    Key: 'builds/project=api-build/date=2026-11-20/api-build:5f0c1a9e-3b7d-4e52-9a61-0c2f4d8b7e11.json',
    ContentType: 'application/json',
  });
  expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
    Bucket: 'pipemend-data-lake',
    Key: 'features/project=api-build/date=2026-11-20/api-build:5f0c1a9e-3b7d-4e52-9a61-0c2f4d8b7e11.csv',
    Body: '298,4,23,6,41,3,212,2,5,0,94,43.3\n',
    ContentType: 'text/csv',
  });
});

test('the build metrics go out as EMF in the Pipemend namespace with the project dimension', async () => {
  await handler(sampleEvent('01-codebuild-succeeded'));
  expect(emf).toHaveLength(1);
  const blob = emf[0]!;
  const directive = blob._aws.CloudWatchMetrics[0]!;
  expect(directive.Namespace).toBe('Pipemend');
  expect(directive.Dimensions[0]).toEqual(expect.arrayContaining(['ProjectName']));
  expect(directive.Metrics.map((metric) => metric.Name)).toEqual([
    'BuildsCollected',
    'BuildDuration',
    'QueuedDuration',
    'TestFailureRate',
    'CPUUtilizedPercent',
    'MemoryUtilizedPercent',
  ]);
  expect(blob).toMatchObject({
    ProjectName: 'api-build',
    BuildDuration: 298,
    QueuedDuration: 4,
    TestFailureRate: 0,
    CPUUtilizedPercent: 94,
    MemoryUtilizedPercent: 43.3,
  });
});

test('a malformed event is answered (not thrown) with a RejectedEvents metric and a logged reason', async () => {
  const event = sampleEvent('02-codebuild-failed');
  delete event.detail['project-name'];
  const outcome = await handler(event);
  expect(outcome).toMatchObject({
    status: 'rejected',
    reason: expect.stringContaining('detail.project-name'),
  });
  expect(emf).toHaveLength(1);
  expect(emf[0]).toMatchObject({ RejectedEvents: 1 });
  expect(emf[0]).not.toHaveProperty('ProjectName');
  const log = [...stdout.mock.calls, ...stderr.mock.calls]
    .map(([chunk]) => String(chunk))
    .find((line) => line.includes('event rejected'));
  expect(JSON.parse(log ?? '{}')).toMatchObject({
    level: 'WARN',
    message: 'event rejected',
    reason: expect.stringContaining('detail.project-name'),
    eventId: '7b1a4c2d-3e5f-4a6b-9c7d-8e9f0a1b2c02',
    detailType: 'CodeBuild Build State Change',
  });
  expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
});

test('an unknown detail-type is rejected without calling any AWS API', async () => {
  const outcome = await handler(sampleEvent('08-codebuild-phase-change-unsupported'));
  expect(outcome.status).toBe('rejected');
  expect(codeBuild).not.toHaveReceivedCommand(BatchGetBuildsCommand);
  expect(emf[0]).toMatchObject({ RejectedEvents: 1 });
});

test('a build in a region without utilisation metrics and without reports is stored with missing flags', async () => {
  codeBuild.on(BatchGetBuildsCommand).resolves({ builds: [recorded.builds[2] as never] });
  cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'm0_1', Values: [] }] });
  const outcome = await handler(sampleEvent('04-codebuild-succeeded-in-pipeline'));
  expect(outcome).toMatchObject({
    status: 'stored',
    record: { missing: { tests: true, utilization: true } },
  });
  expect(codeBuild).not.toHaveReceivedCommand(BatchGetReportsCommand);
});

test('a throttled CodeBuild call throws so EventBridge retries and then dead-letters the event', async () => {
  codeBuild
    .on(BatchGetBuildsCommand)
    .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client' }));
  await expect(handler(sampleEvent('01-codebuild-succeeded'))).rejects.toThrow('Rate exceeded');
  expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
});

test('an S3 failure throws too (the record must not be lost)', async () => {
  s3.on(PutObjectCommand).rejects(
    Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable' }),
  );
  await expect(handler(sampleEvent('01-codebuild-succeeded'))).rejects.toThrow('Service Unavailable');
});

test('the feature row also goes to the compacted data lake stream', async () => {
  await handler(sampleEvent('01-codebuild-succeeded'));
  const records = firehose.commandCalls(PutRecordBatchCommand)[0]!.args[0].input;
  expect(records.DeliveryStreamName).toBe('pipemend-compacted-features');
  expect(JSON.parse(Buffer.from(records.Records![0]!.Data!).toString('utf8'))).toMatchObject({
    project: 'api-build',
    build_id: 'api-build:5f0c1a9e-3b7d-4e52-9a61-0c2f4d8b7e11',
    date: '2026-11-20',
    duration_seconds: 298,
  });
});

test('a stream that stays throttled throws so EventBridge retries and then dead-letters the event', async () => {
  firehose
    .on(PutRecordBatchCommand)
    .rejects(new ServiceUnavailableException({ message: 'Slow down.', $metadata: {} }));
  await expect(handler(sampleEvent('01-codebuild-succeeded'))).rejects.toThrow(
    /not accepted by Firehose stream pipemend-compacted-features after 4 attempts/,
  );
});
