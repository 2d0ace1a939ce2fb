/**
 * AWS adapters of the collector's ports: CodeBuild (BatchGetBuilds, BatchGetReports), CloudWatch
 * (GetMetricData) and the S3 data lake. Clients are passed in so the Lambda creates them once at module
 * scope and tests inject mocks; the backfill command reuses the same adapters.
 */
import { CloudWatchClient, GetMetricDataCommand, MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import {
  BatchGetBuildsCommand,
  BatchGetReportsCommand,
  Build,
  CodeBuildClient,
} from '@aws-sdk/client-codebuild';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

import { FirehoseFeatureSink, FirehoseFeatureSinkOptions } from './firehose-feature-sink';
import {
  CodeBuildBuild,
  CodeBuildReport,
  UTILIZATION_METRICS,
  UtilizationMetric,
} from '../../core/collection/codebuild-build';
import { CollectorPorts, DataLakeStore, UtilizationQuery } from '../../core/collection/collector';

/** BatchGetBuilds and BatchGetReports take at most 100 ids per call. */
export const CODEBUILD_BATCH_SIZE = 100;

export class CodeBuildAdapter {
  constructor(private readonly client: CodeBuildClient) {}

  async getBuild(buildId: string): Promise<CodeBuildBuild | undefined> {
    const [build] = await this.getBuilds([buildId]);
    return build;
  }

  /** Builds in batches of 100; ids CodeBuild does not know are left out. */
  async getBuilds(buildIds: readonly string[]): Promise<Build[]> {
    const builds: Build[] = [];
    for (const ids of chunks(buildIds, CODEBUILD_BATCH_SIZE)) {
      const answer = await this.client.send(new BatchGetBuildsCommand({ ids }));
      builds.push(...(answer.builds ?? []));
    }
    return builds;
  }

  async getReports(reportArns: readonly string[]): Promise<CodeBuildReport[]> {
    const reports: CodeBuildReport[] = [];
    for (const arns of chunks(reportArns, CODEBUILD_BATCH_SIZE)) {
      const answer = await this.client.send(new BatchGetReportsCommand({ reportArns: arns }));
      reports.push(...(answer.reports ?? []));
    }
    return reports;
  }
}

export const CODEBUILD_NAMESPACE = 'AWS/CodeBuild';

export class CloudWatchUtilizationAdapter {
  constructor(
    private readonly client: CloudWatchClient,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Peak-per-period datapoints of CPUUtilized(Percent) and MemoryUtilized(Percent) for one build
   * (dimensions BuildId, BuildNumber, ProjectName), padded by a minute before and after the build.
   * The documentation does not pin down whether the BuildId value is `<project>:<uuid>` or the bare
   * uuid, so both are asked for in the same call and whichever has datapoints is used.
   */
  async getUtilizationMetrics(
    query: UtilizationQuery,
  ): Promise<Partial<Record<UtilizationMetric, number[]>>> {
    const start = new Date(Date.parse(query.startTime) - 60_000);
    const end = new Date(Date.parse(query.endTime) + 60_000);
    const period = metricPeriodFor(start, this.now());
    const buildIdValues = buildIdDimensionValues(query.buildId);
    const queries: MetricDataQuery[] = buildIdValues.flatMap((buildIdValue, variant) =>
      UTILIZATION_METRICS.map((metricName, index) => ({
        Id: `m${variant}_${index}`,
        Label: metricName,
        ReturnData: true,
        MetricStat: {
          Metric: {
            Namespace: CODEBUILD_NAMESPACE,
            MetricName: metricName,
            Dimensions: [
              { Name: 'BuildId', Value: buildIdValue },
              { Name: 'BuildNumber', Value: String(query.buildNumber) },
              { Name: 'ProjectName', Value: query.projectName },
            ],
          },
          Period: period,
          Stat: 'Maximum',
        },
      })),
    );
    const values: Partial<Record<UtilizationMetric, number[]>> = {};
    let nextToken: string | undefined;
    do {
      const answer = await this.client.send(
        new GetMetricDataCommand({
          MetricDataQueries: queries,
          StartTime: start,
          EndTime: end,
          ScanBy: 'TimestampAscending',
          NextToken: nextToken,
        }),
      );
      for (const result of answer.MetricDataResults ?? []) {
        const metric = UTILIZATION_METRICS[Number(result.Id?.split('_')[1])];
        if (metric === undefined || !result.Values?.length) continue;
        values[metric] = [...(values[metric] ?? []), ...result.Values];
      }
      nextToken = answer.NextToken;
    } while (nextToken);
    return values;
  }
}

/** `<project>:<uuid>` and the bare `<uuid>`: the two forms a BuildId dimension value may take. */
export function buildIdDimensionValues(buildId: string): string[] {
  const uuid = buildId.slice(buildId.lastIndexOf(':') + 1);
  return uuid && uuid !== buildId ? [buildId, uuid] : [buildId];
}

/**
 * CloudWatch keeps 1-minute datapoints for 15 days, 5-minute ones for 63 days, then hourly ones; a
 * finer period than the retention allows returns nothing, so old builds (backfill) ask for coarser data.
 */
export function metricPeriodFor(start: Date, now: Date): number {
  const ageDays = (now.getTime() - start.getTime()) / 86_400_000;
  if (ageDays < 15) return 60;
  if (ageDays < 63) return 300;
  return 3600;
}

/** The data lake in S3: PutObject overwrites the same key, GetObject of a missing key is `undefined`. */
export class S3DataLake implements DataLakeStore {
  constructor(
    private readonly client: S3Client,
    readonly bucketName: string,
  ) {}

  async put(key: string, body: string, contentType: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucketName, Key: key, Body: body, ContentType: contentType }),
    );
  }

  async get(key: string): Promise<string | undefined> {
    try {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: this.bucketName, Key: key }));
      return await answer.Body?.transformToString('utf8');
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }
}

export interface AwsCollectorClients {
  readonly codeBuild: CodeBuildClient;
  readonly cloudWatch: CloudWatchClient;
  readonly s3: S3Client;
  readonly bucketName: string;
  /**
   * The compacted data lake's Firehose stream and its client; without them feature rows are only written
   * as per-build CSVs (the backfill command, installations before the stream).
   */
  readonly featureStream?: {
    readonly client: FirehoseClient;
    readonly name: string;
    readonly options?: FirehoseFeatureSinkOptions;
  };
  /** Stamps the feature rows' ingestion time. @default () => new Date() */
  readonly now?: () => Date;
}

/** The collector's ports on AWS, except metrics publishing (the caller decides how to publish). */
export function awsCollectorPorts(
  clients: AwsCollectorClients,
  emitMetrics: CollectorPorts['emitMetrics'],
): CollectorPorts {
  const codeBuild = new CodeBuildAdapter(clients.codeBuild);
  const cloudWatch = new CloudWatchUtilizationAdapter(clients.cloudWatch);
  return {
    getBuild: (buildId) => codeBuild.getBuild(buildId),
    getReports: (arns) => codeBuild.getReports(arns),
    getUtilizationMetrics: (query) => cloudWatch.getUtilizationMetrics(query),
    store: new S3DataLake(clients.s3, clients.bucketName),
    ...(clients.featureStream
      ? {
          featureSink: new FirehoseFeatureSink(
            clients.featureStream.client,
            clients.featureStream.name,
            clients.featureStream.options,
          ),
        }
      : {}),
    ...(clients.now ? { now: clients.now } : {}),
    emitMetrics,
  };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let index = 0; index < items.length; index += size) result.push(items.slice(index, index + size));
  return result;
}
