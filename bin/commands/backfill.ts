import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CodeBuildClient, paginateListBuildsForProject } from '@aws-sdk/client-codebuild';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { S3Client } from '@aws-sdk/client-s3';
import { Command, InvalidArgumentError, Option } from 'commander';

import { BuildNotFinishedError, InvalidBuildError, toIso } from '../../core/collection/codebuild-build';
import {
  DataLakeStore,
  FeatureRowSink,
  recordOfBuild,
  storeBuildRecord,
  UtilizationQuery,
} from '../../core/collection/collector';
import { CompactedFeatureRow, compactedFeatureRow } from '../../core/collection/compacted-feature-row';
import {
  CloudWatchUtilizationAdapter,
  CODEBUILD_BATCH_SIZE,
  CodeBuildAdapter,
  S3DataLake,
} from '../../lambda/collector/aws-ports';
import {
  FeatureDeliveryError,
  FIREHOSE_BATCH_SIZE,
  FirehoseFeatureSink,
  FirehoseFeatureSinkOptions,
} from '../../lambda/collector/firehose-feature-sink';
import { FileDataLake } from '../../local/file-data-lake';
import { UsageError } from '../cli-errors';
import { DEFAULT_STACK_NAME, findDeployedStack } from './deployed-stack';

export interface BackfillRequest {
  readonly project: string;
  readonly days: number;
  readonly store: DataLakeStore;
  readonly codeBuild: CodeBuildClient;
  readonly cloudWatch: CloudWatchClient;
  readonly now: Date;
  /** Progress lines (one per page of builds). */
  readonly progress?: (line: string) => void;
  /**
   * The compacted table's intake (its Firehose stream): each stored build's feature row is also sent
   * there, stamped with `now` as its ingestion time, in batches of up to 500.
   * @default - none: only the per-build objects are written
   */
  readonly compacted?: { readonly sink: FeatureRowSink; readonly streamName: string };
}

/** What reached the compacted table's stream. */
export interface FeatureDelivery {
  readonly streamName: string;
  readonly delivered: number;
  readonly undelivered: number;
  /** The last delivery error, when rows were not delivered. */
  readonly lastError?: string;
}

export interface BackfillSummary {
  readonly project: string;
  readonly since: string;
  readonly stored: number;
  /** Builds still running: the collector records them when they finish. */
  readonly unfinished: number;
  /** Builds CodeBuild returned without the data a record needs, with the reason. */
  readonly invalid: readonly string[];
  readonly missingTests: number;
  readonly missingUtilization: number;
  /** Present when the rows were sent to the compacted table's stream. */
  readonly featureDelivery?: FeatureDelivery;
}

/**
 * Feature rows Firehose still rejected after its bounded retries. Thrown once every build has been
 * stored and every other row sent, with the summary: running the same backfill again resends them.
 */
export class BackfillDeliveryError extends Error {
  public override readonly name = 'BackfillDeliveryError';

  constructor(readonly summary: BackfillSummary & { readonly featureDelivery: FeatureDelivery }) {
    const { streamName, delivered, undelivered, lastError } = summary.featureDelivery;
    super(
      `${undelivered} of ${delivered + undelivered} feature rows were not delivered to Firehose stream ${streamName} (${lastError}); ` +
        'the per-build objects are written: run the same backfill again to resend them (the compacted table keeps the latest copy of a build)',
    );
  }
}

/**
 * Pulls a project's build history through the real SDK (ListBuildsForProject newest first, BatchGetBuilds
 * 100 at a time, reports, utilisation metrics) and writes the same records the collector writes, at the
 * same keys: running it twice, or alongside the collector, overwrites rather than duplicates. Given the
 * compacted table's stream, it also sends each build's feature row there, the collector's row
 * (`compactedFeatureRow`); the stream partitions a row by its own `date`, so history lands in its day,
 * and a build sent twice is one row for the compacted readers (the latest `ingested_at` wins).
 * Rows Firehose keeps rejecting do not stop the backfill: they are counted, and
 * `BackfillDeliveryError` is thrown at the end naming how many.
 */
export async function backfillProject(request: BackfillRequest): Promise<BackfillSummary> {
  const { now } = request;
  const since = new Date(now.getTime() - request.days * 86_400_000);
  const codeBuild = new CodeBuildAdapter(request.codeBuild);
  const cloudWatch = new CloudWatchUtilizationAdapter(request.cloudWatch, () => now);
  const ports = {
    getReports: (arns: readonly string[]) => codeBuild.getReports(arns),
    getUtilizationMetrics: (query: UtilizationQuery) => cloudWatch.getUtilizationMetrics(query),
  };
  let stored = 0;
  let unfinished = 0;
  let missingTests = 0;
  let missingUtilization = 0;
  const invalid: string[] = [];
  const delivery = request.compacted ? new BatchedDelivery(request.compacted.sink) : undefined;

  const pages = paginateListBuildsForProject(
    { client: request.codeBuild, pageSize: CODEBUILD_BATCH_SIZE },
    { projectName: request.project, sortOrder: 'DESCENDING' },
  );
  for await (const page of pages) {
    const builds = await codeBuild.getBuilds(page.ids ?? []);
    let reachedOlderBuilds = false;
    for (const build of builds) {
      const started = toIso(build.startTime);
      if (started !== undefined && Date.parse(started) < since.getTime()) {
        reachedOlderBuilds = true;
        continue;
      }
      try {
        const record = await recordOfBuild(build, ports);
        await storeBuildRecord(record, request.store);
        await delivery?.add(compactedFeatureRow(record, now));
        stored += 1;
        if (record.missing.tests) missingTests += 1;
        if (record.missing.utilization) missingUtilization += 1;
      } catch (error) {
        if (error instanceof BuildNotFinishedError) unfinished += 1;
        else if (error instanceof InvalidBuildError) invalid.push(error.message);
        else throw error;
      }
    }
    request.progress?.(`${request.project}: ${stored} builds stored`);
    // Newest first: once a page reaches builds older than the window, later pages are older still.
    if (reachedOlderBuilds) break;
  }
  await delivery?.flush();
  const summary: BackfillSummary = {
    project: request.project,
    since: since.toISOString(),
    stored,
    unfinished,
    invalid,
    missingTests,
    missingUtilization,
  };
  if (!delivery || !request.compacted) return summary;
  const featureDelivery: FeatureDelivery = {
    streamName: request.compacted.streamName,
    delivered: delivery.delivered,
    undelivered: delivery.undelivered,
    ...(delivery.lastError !== undefined ? { lastError: delivery.lastError } : {}),
  };
  if (featureDelivery.undelivered > 0) throw new BackfillDeliveryError({ ...summary, featureDelivery });
  return { ...summary, featureDelivery };
}

/**
 * Sends rows in batches of PutRecordBatch's 500 records (a row is under 1 KiB: far below its 4 MiB). A
 * batch the sink gave up on (FeatureDeliveryError, after resending only its rejected records a bounded
 * number of times) is counted, not fatal; any other error (access denied, no such stream) is.
 */
class BatchedDelivery {
  delivered = 0;
  undelivered = 0;
  lastError: string | undefined;
  private pending: CompactedFeatureRow[] = [];

  constructor(private readonly sink: FeatureRowSink) {}

  async add(row: CompactedFeatureRow): Promise<void> {
    this.pending.push(row);
    if (this.pending.length >= FIREHOSE_BATCH_SIZE) await this.flush();
  }

  async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    try {
      await this.sink.send(batch);
      this.delivered += batch.length;
    } catch (error) {
      if (!(error instanceof FeatureDeliveryError)) throw error;
      this.undelivered += error.undelivered;
      this.delivered += batch.length - error.undelivered;
      this.lastError = error.message;
    }
  }
}

interface BackfillOptions {
  readonly project: string;
  readonly days: number;
  readonly bucket?: string;
  readonly out?: string;
  readonly region?: string;
  readonly stack: string;
  /** A stream name, `false` with --no-feature-stream, undefined to take the stack's output. */
  readonly featureStream?: string | false;
}

/** Retries of a batch's rejected rows: a backfill sends thousands of rows, so wait longer than the collector. */
const BACKFILL_DELIVERY: FirehoseFeatureSinkOptions = { maxAttempts: 6, baseDelayMillis: 200 };

/** The compacted table's Firehose stream: --feature-stream, or the stack's output FeatureStreamName. */
async function featureStreamName(options: BackfillOptions, region?: string): Promise<string> {
  if (typeof options.featureStream === 'string') return options.featureStream;
  try {
    const stack = await findDeployedStack(new CloudFormationClient(region ? { region } : {}), options.stack);
    return stack.output('FeatureStreamName');
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    throw new UsageError(
      `${error.message}. backfill --bucket also delivers the feature rows to the compacted table's Firehose stream: pass --feature-stream <name>, or --no-feature-stream to write the per-build objects only`,
    );
  }
}

/** `pipemend backfill`: a new installation's training data on day one. */
export function registerBackfillCommand(
  program: Command,
  write: (text: string) => void = (text) => process.stdout.write(text),
  now: () => Date = () => new Date(),
  delivery: FirehoseFeatureSinkOptions = BACKFILL_DELIVERY,
): void {
  program
    .command('backfill')
    .description("Collect a CodeBuild project's past builds into the data lake (S3) or a local directory")
    .requiredOption('--project <name>', 'CodeBuild project name')
    .option('--days <n>', 'how many days of history (1-365)', parseDays, 90)
    .addOption(new Option('--bucket <name>', 'the Pipemend data-lake bucket to write to').conflicts('out'))
    .addOption(
      new Option('--out <dir>', 'a local directory to write to (the layout `pipemend replay --data` reads)'),
    )
    .option('--region <region>', 'AWS region (default: from the AWS profile/environment)')
    .addOption(
      new Option(
        '--feature-stream <name>',
        "with --bucket: the compacted table's Firehose stream (default: the stack output FeatureStreamName)",
      ).conflicts('out'),
    )
    .option('--no-feature-stream', 'with --bucket: write the per-build objects only, not the compacted table')
    .option('--stack <name>', 'the Pipemend stack whose FeatureStreamName output to use', DEFAULT_STACK_NAME)
    .action(async (options: BackfillOptions) => {
      if (!options.bucket && !options.out) {
        throw new UsageError(
          'backfill needs --bucket <name> (the data lake in S3) or --out <dir> (a local directory)',
        );
      }
      const clientConfig = options.region ? { region: options.region } : {};
      const store = options.bucket
        ? new S3DataLake(new S3Client(clientConfig), options.bucket)
        : new FileDataLake(options.out ?? '');
      const streamName =
        options.bucket && options.featureStream !== false
          ? await featureStreamName(options, options.region)
          : undefined;
      const destination = options.bucket ? `s3://${options.bucket}` : (store as FileDataLake).root;
      try {
        const summary = await backfillProject({
          project: options.project,
          days: options.days,
          store,
          codeBuild: new CodeBuildClient(clientConfig),
          cloudWatch: new CloudWatchClient(clientConfig),
          progress: (line) => process.stderr.write(`${line}\n`),
          now: now(),
          ...(streamName
            ? {
                compacted: {
                  streamName,
                  sink: new FirehoseFeatureSink(new FirehoseClient(clientConfig), streamName, delivery),
                },
              }
            : {}),
        });
        write(formatSummary(summary, destination));
      } catch (error) {
        // What was written is still said before the error that some rows were not delivered.
        if (error instanceof BackfillDeliveryError) write(formatSummary(error.summary, destination));
        throw error;
      }
    });
}

export function formatSummary(summary: BackfillSummary, destination: string): string {
  const lines = [
    `${summary.project}: ${summary.stored} builds since ${summary.since.slice(0, 10)} written to ${destination}`,
    `  without test report: ${summary.missingTests}, without utilisation metrics: ${summary.missingUtilization}`,
  ];
  const delivery = summary.featureDelivery;
  if (delivery) {
    lines.push(
      `  feature rows delivered to the compacted table (Firehose stream ${delivery.streamName}): ${delivery.delivered}` +
        (delivery.undelivered > 0 ? `, NOT delivered: ${delivery.undelivered}` : ''),
    );
  }
  if (summary.unfinished > 0)
    lines.push(`  still running (the collector records them when they finish): ${summary.unfinished}`);
  for (const reason of summary.invalid) lines.push(`  skipped: ${reason}`);
  return `${lines.join('\n')}\n`;
}

/**
 * At most 365 days. Keep it below 500: a backfill sends rows of up to this many days into the stream's
 * day partitions at once, and Firehose diverts records beyond 500 active partitions to its error prefix
 * without telling the producer (docs/aws-contracts.md).
 */
function parseDays(value: string): number {
  const days = Number(value);
  if (!/^\d+$/.test(value.trim()) || days < 1 || days > 365) {
    throw new InvalidArgumentError(`must be an integer between 1 and 365, got '${value}'`);
  }
  return days;
}
