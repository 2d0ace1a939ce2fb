/**
 * Maps what CodeBuild reports about a finished build (the `BatchGetBuilds` Build shape, its test
 * reports' summaries and its utilisation metrics) into a BuildRecord. Structural types only: the SDK's
 * objects satisfy them, and so do the JSON files the local replay reads.
 */
import {
  BuildRecord,
  BuildStatus,
  FEATURE_SCHEMA_VERSION,
  PHASE_FEATURES,
  PhaseType,
  PipelineContext,
  TERMINAL_BUILD_STATUSES,
  TestSummary,
  Utilization,
} from './build-record';

/**
 * SDK timestamps are Dates; JSON files carry ISO strings, epoch milliseconds, or epoch seconds (the AWS
 * CLI's `--output json` of BatchGetBuilds prints seconds with a fraction).
 */
export type Timestamp = Date | string | number;

export interface CodeBuildPhase {
  readonly phaseType?: string;
  readonly phaseStatus?: string;
  readonly startTime?: Timestamp;
  readonly endTime?: Timestamp;
  readonly durationInSeconds?: number;
}

/** The fields of CodeBuild's `Build` (BatchGetBuilds) that Pipemend reads. */
export interface CodeBuildBuild {
  readonly id?: string;
  readonly arn?: string;
  readonly buildNumber?: number;
  readonly startTime?: Timestamp;
  readonly endTime?: Timestamp;
  readonly buildStatus?: string;
  readonly buildComplete?: boolean;
  readonly projectName?: string;
  readonly sourceVersion?: string;
  readonly resolvedSourceVersion?: string;
  readonly initiator?: string;
  readonly phases?: readonly CodeBuildPhase[];
  readonly environment?: { readonly computeType?: string; readonly image?: string };
  readonly logs?: { readonly groupName?: string; readonly streamName?: string; readonly s3LogsArn?: string };
  readonly reportArns?: readonly string[];
}

/** The fields of CodeBuild's `Report` (BatchGetReports) that Pipemend reads. */
export interface CodeBuildReport {
  readonly arn?: string;
  readonly type?: string;
  readonly status?: string;
  readonly testSummary?: {
    readonly total?: number;
    readonly statusCounts?: Readonly<Record<string, number>>;
  };
}

/** A build that cannot become a record: missing identity or timestamps. Not retryable. */
export class InvalidBuildError extends Error {
  override readonly name = 'InvalidBuildError';
}

/** CodeBuild has not finished the build yet (its API lags the event): retry later. */
export class BuildNotFinishedError extends Error {
  override readonly name = 'BuildNotFinishedError';
}

export interface BuildRecordInputs {
  readonly build: CodeBuildBuild;
  /** `null` when the build has no test report. */
  readonly tests: TestSummary | null;
  /** `null` when CodeBuild reported no utilisation metrics. */
  readonly utilization: Utilization | null;
  /** Pipeline context from a CodePipeline action event, when known. */
  readonly pipeline?: PipelineContext;
}

export function toBuildRecord(inputs: BuildRecordInputs): BuildRecord {
  const { build } = inputs;
  const label = build.id ?? build.arn ?? '(unknown build)';
  if (!build.id || !build.arn || !build.projectName) {
    throw new InvalidBuildError(`build ${label} lacks its id, arn or projectName`);
  }
  if (!isTerminal(build.buildStatus)) {
    throw new BuildNotFinishedError(
      `build ${build.id} is ${build.buildStatus ?? 'without status'}, not finished`,
    );
  }
  const startTime = toIso(build.startTime);
  const endTime = toIso(build.endTime);
  if (!startTime || !endTime) {
    throw new InvalidBuildError(`build ${build.id} lacks a valid startTime or endTime`);
  }
  const durationSeconds = (Date.parse(endTime) - Date.parse(startTime)) / 1000;
  if (durationSeconds < 0) {
    throw new InvalidBuildError(`build ${build.id} ends (${endTime}) before it starts (${startTime})`);
  }
  const logs = compact({
    groupName: build.logs?.groupName,
    streamName: build.logs?.streamName,
    s3Location: build.logs?.s3LogsArn,
  });
  const record: BuildRecord = {
    schemaVersion: FEATURE_SCHEMA_VERSION,
    buildArn: build.arn,
    buildId: build.id,
    projectName: build.projectName,
    status: build.buildStatus,
    startTime,
    endTime,
    durationSeconds,
    phases: phaseDurations(build.phases ?? []),
    tests: inputs.tests,
    utilization: inputs.utilization,
    missing: { tests: inputs.tests === null, utilization: inputs.utilization === null },
    ...compact({
      buildNumber: build.buildNumber,
      failedPhase: failedPhase(build.phases ?? []),
      sourceVersion: build.sourceVersion,
      resolvedSourceVersion: build.resolvedSourceVersion,
      initiator: build.initiator,
      computeType: build.environment?.computeType,
      image: build.environment?.image,
      logs: Object.keys(logs).length > 0 ? logs : undefined,
      pipeline: inputs.pipeline ?? pipelineFromInitiator(build.initiator),
    }),
  };
  return record;
}

/**
 * Builds started by CodePipeline have the initiator `codepipeline/<pipeline>`; that names the pipeline
 * even when no action event links the build.
 */
export function pipelineFromInitiator(initiator: string | undefined): PipelineContext | undefined {
  const match = /^codepipeline\/(.+)$/.exec(initiator ?? '');
  return match?.[1] ? { pipelineName: match[1] } : undefined;
}

/** Sums the test reports of a build (code-coverage reports have no test summary and are skipped). */
export function summarizeTestReports(reports: readonly CodeBuildReport[]): TestSummary | null {
  const summaries = reports.filter((report) => report.type !== 'CODE_COVERAGE' && report.testSummary);
  if (summaries.length === 0) return null;
  return summaries.reduce<TestSummary>(
    (sum, report) => {
      const counts = report.testSummary?.statusCounts ?? {};
      return {
        total: sum.total + (report.testSummary?.total ?? 0),
        failed: sum.failed + (counts.FAILED ?? 0),
        error: sum.error + (counts.ERROR ?? 0),
        skipped: sum.skipped + (counts.SKIPPED ?? 0),
      };
    },
    { total: 0, failed: 0, error: 0, skipped: 0 },
  );
}

/** CodeBuild's utilisation metric names, as published in `AWS/CodeBuild`. */
export const UTILIZATION_METRICS = [
  'CPUUtilized',
  'CPUUtilizedPercent',
  'MemoryUtilized',
  'MemoryUtilizedPercent',
] as const;
export type UtilizationMetric = (typeof UTILIZATION_METRICS)[number];

/**
 * Peak utilisation from the metric datapoints of one build. Both percentages are needed for the
 * features; without them the build has no utilisation (`null`), never zeros.
 */
export function toUtilization(
  values: Partial<Record<UtilizationMetric, readonly number[]>>,
): Utilization | null {
  const peak = (metric: UtilizationMetric): number | undefined => {
    const points = (values[metric] ?? []).filter(Number.isFinite);
    return points.length > 0 ? Math.max(...points) : undefined;
  };
  const cpuUtilizedPercent = peak('CPUUtilizedPercent');
  const memoryUtilizedPercent = peak('MemoryUtilizedPercent');
  if (cpuUtilizedPercent === undefined || memoryUtilizedPercent === undefined) return null;
  return {
    cpuUtilizedPercent,
    memoryUtilizedPercent,
    ...compact({ cpuUtilized: peak('CPUUtilized'), memoryUtilizedMb: peak('MemoryUtilized') }),
  };
}

function isTerminal(status: string | undefined): status is BuildStatus {
  return (TERMINAL_BUILD_STATUSES as readonly string[]).includes(status ?? '');
}

function phaseDurations(phases: readonly CodeBuildPhase[]): Partial<Record<PhaseType, number>> {
  const durations: Partial<Record<PhaseType, number>> = {};
  for (const phase of phases) {
    if (!phase.phaseType || !(phase.phaseType in PHASE_FEATURES)) continue;
    const seconds = phase.durationInSeconds ?? secondsBetween(phase.startTime, phase.endTime);
    if (seconds !== undefined && seconds >= 0) durations[phase.phaseType as PhaseType] = seconds;
  }
  return durations;
}

function failedPhase(phases: readonly CodeBuildPhase[]): string | undefined {
  const failed = phases.find((phase) => phase.phaseStatus !== undefined && phase.phaseStatus !== 'SUCCEEDED');
  return failed?.phaseType;
}

function secondsBetween(start: Timestamp | undefined, end: Timestamp | undefined): number | undefined {
  const from = toIso(start);
  const to = toIso(end);
  return from && to ? (Date.parse(to) - Date.parse(from)) / 1000 : undefined;
}

/**
 * Below this, a number is epoch seconds: 1e11 seconds is the year 5138, 1e11 milliseconds is 1973, long
 * before any CodeBuild build.
 */
const EPOCH_SECONDS_LIMIT = 1e11;

/** ISO-8601 of a Date, ISO string, epoch milliseconds or epoch seconds; `undefined` if absent or invalid. */
export function toIso(value: Timestamp | undefined): string | undefined {
  if (value === undefined) return undefined;
  const date =
    value instanceof Date
      ? value
      : new Date(typeof value === 'number' && Math.abs(value) < EPOCH_SECONDS_LIMIT ? value * 1000 : value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** Drops undefined properties so records serialise the same whether built from the SDK or JSON. */
function compact<T extends Record<string, unknown>>(value: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}
