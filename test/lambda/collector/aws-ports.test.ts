import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { BatchGetBuildsCommand, CodeBuildClient } from '@aws-sdk/client-codebuild';
import { ListObjectVersionsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';

import { collectEvent } from '../../../core/collection/collector';
import {
  buildIdDimensionValues,
  CloudWatchUtilizationAdapter,
  CodeBuildAdapter,
  metricPeriodFor,
  S3DataLake,
} from '../../../lambda/collector/aws-ports';
import { recordedCodeBuildPorts } from '../../../local/recorded-codebuild';
import { RunningS3rver, startS3rver } from '../../helpers/s3rver';
import { sampleCodeBuild, sampleEvent } from '../../helpers/sample-events';

describe('CodeBuildAdapter', () => {
  const codeBuild = mockClient(CodeBuildClient);
  beforeEach(() => codeBuild.reset());

  test('asks BatchGetBuilds in batches of 100 ids', async () => {
    codeBuild.on(BatchGetBuildsCommand).callsFake(async (input: { ids: string[] }) => ({
      builds: input.ids.map((id) => ({ id })),
    }));
    const ids = Array.from({ length: 250 }, (_, index) => `p:${index}`);
    const builds = await new CodeBuildAdapter(new CodeBuildClient({})).getBuilds(ids);
    expect(builds).toHaveLength(250);
    expect(
      codeBuild.commandCalls(BatchGetBuildsCommand).map((call) => call.args[0].input.ids?.length),
    ).toEqual([100, 100, 50]);
  });

  test('a build CodeBuild does not know is undefined', async () => {
    codeBuild.on(BatchGetBuildsCommand).resolves({ builds: [], buildsNotFound: ['p:gone'] });
    expect(await new CodeBuildAdapter(new CodeBuildClient({})).getBuild('p:gone')).toBeUndefined();
  });
});

describe('CloudWatchUtilizationAdapter', () => {
  const cloudWatch = mockClient(CloudWatchClient);
  beforeEach(() => cloudWatch.reset());

  test('queries the four utilisation metrics of the build by BuildId, BuildNumber and ProjectName', async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    const now = () => new Date('2026-11-21T00:00:00Z');
    await new CloudWatchUtilizationAdapter(new CloudWatchClient({}), now).getUtilizationMetrics({
      buildId: 'api-build:5f0c',
      buildNumber: 41,
      projectName: 'api-build',
      startTime: '2026-11-20T09:14:02.000Z',
      endTime: '2026-11-20T09:19:00.000Z',
    });
    const queriesFor = (buildIdValue: string, variant: number) =>
      ['CPUUtilized', 'CPUUtilizedPercent', 'MemoryUtilized', 'MemoryUtilizedPercent'].map(
        (MetricName, index) => ({
          Id: `m${variant}_${index}`,
          Label: MetricName,
          ReturnData: true,
          MetricStat: {
            Metric: {
              Namespace: 'AWS/CodeBuild',
              MetricName,
              Dimensions: [
                { Name: 'BuildId', Value: buildIdValue },
                { Name: 'BuildNumber', Value: '41' },
                { Name: 'ProjectName', Value: 'api-build' },
              ],
            },
            Period: 60,
            Stat: 'Maximum',
          },
        }),
      );
    expect(cloudWatch).toHaveReceivedCommandWith(GetMetricDataCommand, {
      StartTime: new Date('2026-11-20T09:13:02.000Z'),
      EndTime: new Date('2026-11-20T09:20:00.000Z'),
      MetricDataQueries: [...queriesFor('api-build:5f0c', 0), ...queriesFor('5f0c', 1)],
    });
  });

  test('follows NextToken and joins the datapoints per metric, whichever BuildId form has them', async () => {
    cloudWatch
      .on(GetMetricDataCommand)
      .resolvesOnce({ MetricDataResults: [{ Id: 'm0_1', Values: [10] }], NextToken: 'more' })
      .resolvesOnce({
        MetricDataResults: [
          { Id: 'm0_3', Values: [] },
          { Id: 'm1_1', Values: [30] },
          { Id: 'm1_3', Values: [5] },
        ],
      });
    const values = await new CloudWatchUtilizationAdapter(new CloudWatchClient({})).getUtilizationMetrics({
      buildId: 'p:1',
      buildNumber: 1,
      projectName: 'p',
      startTime: new Date().toISOString(),
      endTime: new Date().toISOString(),
    });
    expect(values).toEqual({ CPUUtilizedPercent: [10, 30], MemoryUtilizedPercent: [5] });
    expect(cloudWatch.commandCalls(GetMetricDataCommand)[1]?.args[0].input.NextToken).toBe('more');
  });

  test.each([
    [1, 60],
    [20, 300],
    [80, 3600],
  ])('a build %i days old is queried with a %i-second period (CloudWatch retention)', (days, period) => {
    const now = new Date('2026-11-21T00:00:00Z');
    expect(metricPeriodFor(new Date(now.getTime() - days * 86_400_000), now)).toBe(period);
  });
});

describe('S3DataLake against s3rver on loopback', () => {
  let server: RunningS3rver;
  let client: S3Client;
  const bucket = 'pipemend-data-lake';

  beforeAll(async () => {
    server = await startS3rver(bucket);
    client = server.client;
  });

  afterAll(async () => {
    await server.stop();
  });

  test('the same event collected twice leaves exactly one record and one feature row', async () => {
    const store = new S3DataLake(client, bucket);
    const ports = { ...recordedCodeBuildPorts(sampleCodeBuild()), store, emitMetrics: () => undefined };
    await collectEvent(sampleEvent('01-codebuild-succeeded'), ports);
    await collectEvent(sampleEvent('07-codebuild-succeeded-redelivered'), ports);
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'builds/' }));
    expect(listed.Contents?.map((object) => object.Key)).toEqual([
      'builds/project=api-build/date=2026-11-20/api-build:5f0c1a9e-3b7d-4e52-9a61-0c2f4d8b7e11.json',
    ]);
    const features = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'features/' }));
    expect(features.KeyCount).toBe(1);
    const versions = await client
      .send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'builds/' }))
      .catch(() => undefined);
    // s3rver does not version; where it answers, one current version per key is all there is.
    expect(versions?.Versions?.filter((version) => version.IsLatest).length ?? 1).toBe(1);
  });

  test('reads back what it wrote and answers undefined for a missing key', async () => {
    const store = new S3DataLake(client, bucket);
    await store.put('pipeline-links/web-build:1.json', '{"pipelineName":"web"}', 'application/json');
    expect(await store.get('pipeline-links/web-build:1.json')).toBe('{"pipelineName":"web"}');
    expect(await store.get('pipeline-links/none.json')).toBeUndefined();
  });
});

test('buildIdDimensionValues gives the full build id and its bare uuid', () => {
  expect(buildIdDimensionValues('api-build:5f0c')).toEqual(['api-build:5f0c', '5f0c']);
  expect(buildIdDimensionValues('5f0c')).toEqual(['5f0c']);
});
