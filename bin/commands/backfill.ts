import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CodeBuildClient, paginateListBuildsForProject } from '@aws-sdk/client-codebuild';
import { S3Client } from '@aws-sdk/client-s3';
import { Command, InvalidArgumentError, Option } from 'commander';

import { BuildNotFinishedError, InvalidBuildError, toIso } from '../../core/collection/codebuild-build';
import {
  DataLakeStore,
  recordOfBuild,
  storeBuildRecord,
  UtilizationQuery,
} from '../../core/collection/collector';
import {
  CloudWatchUtilizationAdapter,
  CODEBUILD_BATCH_SIZE,
  CodeBuildAdapter,
  S3DataLake,
} from '../../lambda/collector/aws-ports';
import { FileDataLake } from '../../local/file-data-lake';
import { UsageError } from '../cli-errors';

export interface BackfillRequest {
  readonly project: string;
  readonly days: number;
  readonly store: DataLakeStore;
  readonly codeBuild: CodeBuildClient;
  readonly cloudWatch: CloudWatchClient;
  readonly now: Date;
  /** Progress lines (one per page of builds). */
  readonly progress?: (line: string) => void;
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
}

/**
 * Pulls a project's build history through the real SDK (ListBuildsForProject newest first, BatchGetBuilds
 * 100 at a time, reports, utilisation metrics) and writes the same records the collector writes, at the
 * same keys: running it twice, or alongside the collector, overwrites rather than duplicates.
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
  return {
    project: request.project,
    since: since.toISOString(),
    stored,
    unfinished,
    invalid,
    missingTests,
    missingUtilization,
  };
}

interface BackfillOptions {
  readonly project: string;
  readonly days: number;
  readonly bucket?: string;
  readonly out?: string;
  readonly region?: string;
}

/** `pipemend backfill`: a new installation's training data on day one. */
export function registerBackfillCommand(
  program: Command,
  write: (text: string) => void = (text) => process.stdout.write(text),
  now: () => Date = () => new Date(),
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
      const summary = await backfillProject({
        project: options.project,
        days: options.days,
        store,
        codeBuild: new CodeBuildClient(clientConfig),
        cloudWatch: new CloudWatchClient(clientConfig),
        progress: (line) => process.stderr.write(`${line}\n`),
        now: now(),
      });
      const destination = options.bucket ? `s3://${options.bucket}` : (store as FileDataLake).root;
      write(formatSummary(summary, destination));
    });
}

export function formatSummary(summary: BackfillSummary, destination: string): string {
  const lines = [
    `${summary.project}: ${summary.stored} builds since ${summary.since.slice(0, 10)} written to ${destination}`,
    `  without test report: ${summary.missingTests}, without utilisation metrics: ${summary.missingUtilization}`,
  ];
  if (summary.unfinished > 0)
    lines.push(`  still running (the collector records them when they finish): ${summary.unfinished}`);
  for (const reason of summary.invalid) lines.push(`  skipped: ${reason}`);
  return `${lines.join('\n')}\n`;
}

function parseDays(value: string): number {
  const days = Number(value);
  if (!/^\d+$/.test(value.trim()) || days < 1 || days > 365) {
    throw new InvalidArgumentError(`must be an integer between 1 and 365, got '${value}'`);
  }
  return days;
}
