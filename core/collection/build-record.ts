/**
 * The build record: one finished build, normalised from CodeBuild / CodePipeline, and the numeric
 * feature vector derived from it. Training, scoring and the local replay all use this one module, so
 * the feature order and the schema version exist exactly once.
 */

/** Bumped whenever FEATURE_NAMES or their meaning changes; models record the version they were trained on. */
export const FEATURE_SCHEMA_VERSION = 1;

/** CodeBuild phase types whose durations become features (in this order). */
export const PHASE_FEATURES = {
  QUEUED: 'queuedSeconds',
  PROVISIONING: 'provisioningSeconds',
  DOWNLOAD_SOURCE: 'downloadSourceSeconds',
  INSTALL: 'installSeconds',
  PRE_BUILD: 'preBuildSeconds',
  BUILD: 'buildSeconds',
  POST_BUILD: 'postBuildSeconds',
  UPLOAD_ARTIFACTS: 'uploadArtifactsSeconds',
} as const;

export type PhaseType = keyof typeof PHASE_FEATURES;

/** The feature order shared by training (CSV columns) and scoring (endpoint input). Never reorder. */
export const FEATURE_NAMES = [
  'durationSeconds',
  'queuedSeconds',
  'provisioningSeconds',
  'downloadSourceSeconds',
  'installSeconds',
  'preBuildSeconds',
  'buildSeconds',
  'postBuildSeconds',
  'uploadArtifactsSeconds',
  'testFailureRate',
  'cpuUtilizedPercent',
  'memoryUtilizedPercent',
] as const;

export type FeatureName = (typeof FEATURE_NAMES)[number];

export const FEATURE_DIMENSION = FEATURE_NAMES.length;

export type BuildStatus = 'SUCCEEDED' | 'FAILED' | 'FAULT' | 'STOPPED' | 'TIMED_OUT';

export const TERMINAL_BUILD_STATUSES: readonly BuildStatus[] = [
  'SUCCEEDED',
  'FAILED',
  'FAULT',
  'STOPPED',
  'TIMED_OUT',
];

export interface TestSummary {
  readonly total: number;
  readonly failed: number;
  readonly error: number;
  readonly skipped: number;
}

export interface Utilization {
  /** Peak CPU utilisation of the build container, percent of the compute type's vCPUs. */
  readonly cpuUtilizedPercent: number;
  /** Peak memory utilisation of the build container, percent of the compute type's memory. */
  readonly memoryUtilizedPercent: number;
  /** Peak CPU units used (CodeBuild `CPUUtilized`), when reported. */
  readonly cpuUtilized?: number;
  /** Peak memory used in MB (CodeBuild `MemoryUtilized`), when reported. */
  readonly memoryUtilizedMb?: number;
}

/** Where the build came from when CodePipeline ran it. */
export interface PipelineContext {
  readonly pipelineName: string;
  readonly stageName?: string;
  readonly actionName?: string;
  readonly executionId?: string;
}

export interface BuildRecord {
  readonly schemaVersion: typeof FEATURE_SCHEMA_VERSION;
  /** The build's ARN, unique across projects. */
  readonly buildArn: string;
  /** `<project>:<uuid>`, CodeBuild's build id. */
  readonly buildId: string;
  readonly buildNumber?: number;
  readonly projectName: string;
  readonly status: BuildStatus;
  /** ISO-8601 timestamps. */
  readonly startTime: string;
  readonly endTime: string;
  /** Wall-clock duration from start to end, seconds. */
  readonly durationSeconds: number;
  /** Seconds per phase type that ran (missing phases are absent). */
  readonly phases: Partial<Record<PhaseType, number>>;
  /** The first phase that did not succeed, if any. */
  readonly failedPhase?: string;
  readonly sourceVersion?: string;
  readonly resolvedSourceVersion?: string;
  readonly initiator?: string;
  readonly computeType?: string;
  readonly image?: string;
  readonly logs?: { readonly groupName?: string; readonly streamName?: string; readonly s3Location?: string };
  readonly pipeline?: PipelineContext;
  /** `null` when the build produced no test report. */
  readonly tests: TestSummary | null;
  /** `null` when CodeBuild reported no utilisation metrics (regions without them, very short builds). */
  readonly utilization: Utilization | null;
  /** Explicit flags for what could not be collected, so consumers never guess from zeros. */
  readonly missing: { readonly tests: boolean; readonly utilization: boolean };
}

export interface FeatureVector {
  readonly schemaVersion: typeof FEATURE_SCHEMA_VERSION;
  /** Values in FEATURE_NAMES order; missing inputs are imputed (see `missing`). */
  readonly values: number[];
  /** Per-feature flag: true where the value was imputed rather than observed. */
  readonly missing: boolean[];
}

/** Fills a feature that the record lacks; the default imputes 0. */
export type Imputer = (feature: FeatureName) => number;

const imputeZero: Imputer = () => 0;

/** Share of executed tests that failed or errored; `undefined` without tests. */
export function testFailureRate(tests: TestSummary | null): number | undefined {
  if (!tests) return undefined;
  const executed = tests.total - tests.skipped;
  if (executed <= 0) return undefined;
  return (tests.failed + tests.error) / executed;
}

/** The raw (possibly missing) value of every feature for a record. */
export function rawFeatures(record: BuildRecord): Record<FeatureName, number | undefined> {
  return {
    durationSeconds: record.durationSeconds,
    queuedSeconds: record.phases.QUEUED,
    provisioningSeconds: record.phases.PROVISIONING,
    downloadSourceSeconds: record.phases.DOWNLOAD_SOURCE,
    installSeconds: record.phases.INSTALL,
    preBuildSeconds: record.phases.PRE_BUILD,
    buildSeconds: record.phases.BUILD,
    postBuildSeconds: record.phases.POST_BUILD,
    uploadArtifactsSeconds: record.phases.UPLOAD_ARTIFACTS,
    testFailureRate: testFailureRate(record.tests),
    cpuUtilizedPercent: record.utilization?.cpuUtilizedPercent,
    memoryUtilizedPercent: record.utilization?.memoryUtilizedPercent,
  };
}

/** The numeric feature vector used for training and scoring, in FEATURE_NAMES order. */
export function toFeatureVector(record: BuildRecord, impute: Imputer = imputeZero): FeatureVector {
  const raw = rawFeatures(record);
  const values: number[] = [];
  const missing: boolean[] = [];
  for (const name of FEATURE_NAMES) {
    const value = raw[name];
    const absent = value === undefined || !Number.isFinite(value);
    values.push(absent ? impute(name) : value);
    missing.push(absent);
  }
  return { schemaVersion: FEATURE_SCHEMA_VERSION, values, missing };
}

/** One CSV row (no header, no label) in FEATURE_NAMES order: the format SageMaker RCF trains and infers on. */
export function toCsvRow(vector: FeatureVector): string {
  return vector.values.map(formatNumber).join(',');
}

/** The CSV header naming the columns of `toCsvRow`, for humans and Athena. */
export const FEATURE_CSV_HEADER = FEATURE_NAMES.join(',');

function formatNumber(value: number): string {
  // Round to 6 significant decimals: enough for seconds and ratios, stable across platforms.
  return Number.isInteger(value) ? String(value) : String(Math.round(value * 1e6) / 1e6);
}

/** Deterministic data-lake key of a build's record; a redelivered event overwrites the same object. */
export function buildRecordKey(record: Pick<BuildRecord, 'projectName' | 'endTime' | 'buildId'>): string {
  return `${buildPrefix(record)}.json`;
}

/** Deterministic data-lake key of a build's feature row, beside its record. */
export function featureRowKey(record: Pick<BuildRecord, 'projectName' | 'endTime' | 'buildId'>): string {
  return `features/project=${encodeKeyPart(record.projectName)}/date=${record.endTime.slice(0, 10)}/${encodeKeyPart(record.buildId)}.csv`;
}

function buildPrefix(record: Pick<BuildRecord, 'projectName' | 'endTime' | 'buildId'>): string {
  return `builds/project=${encodeKeyPart(record.projectName)}/date=${record.endTime.slice(0, 10)}/${encodeKeyPart(record.buildId)}`;
}

/** S3 keys must not contain `/` inside a partition value; `:` in build ids is kept (valid in keys). */
function encodeKeyPart(value: string): string {
  return value.replace(/\//g, '%2F');
}
