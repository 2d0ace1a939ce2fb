/**
 * CodeBuild and CloudWatch answers recorded in a JSON file (`sample/codebuild.json` shape): the local
 * stand-in for BatchGetBuilds, BatchGetReports and GetMetricData, so the collector runs unchanged offline.
 */
import { readFile } from 'node:fs/promises';

import { CodeBuildBuild, CodeBuildReport, UtilizationMetric } from '../core/collection/codebuild-build';
import { CollectorPorts } from '../core/collection/collector';

export interface RecordedCodeBuild {
  readonly builds: readonly CodeBuildBuild[];
  readonly reports: readonly CodeBuildReport[];
  /** Datapoints per build id and metric; a build without an entry has no utilisation metrics. */
  readonly metrics: Readonly<Record<string, Partial<Record<UtilizationMetric, number[]>>>>;
}

export async function readRecordedCodeBuild(file: string): Promise<RecordedCodeBuild> {
  let parsed: Partial<RecordedCodeBuild>;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<RecordedCodeBuild>;
  } catch (error) {
    throw new Error(`cannot read recorded CodeBuild answers from ${file}: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed.builds))
    throw new Error(`${file}: 'builds' must be an array of CodeBuild builds`);
  return { builds: parsed.builds, reports: parsed.reports ?? [], metrics: parsed.metrics ?? {} };
}

/** The CodeBuild/CloudWatch ports of the collector, answered from recorded data. */
export function recordedCodeBuildPorts(
  recorded: RecordedCodeBuild,
): Pick<CollectorPorts, 'getBuild' | 'getReports' | 'getUtilizationMetrics'> {
  const builds = new Map(recorded.builds.map((build) => [build.id, build]));
  const reports = new Map(recorded.reports.map((report) => [report.arn, report]));
  return {
    getBuild: async (buildId) => builds.get(buildId),
    getReports: async (arns) => arns.flatMap((arn) => reports.get(arn) ?? []),
    getUtilizationMetrics: async (query) => recorded.metrics[query.buildId] ?? {},
  };
}
