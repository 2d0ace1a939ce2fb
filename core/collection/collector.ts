/**
 * The collection use case: from a CodeBuild / CodePipeline event to a stored BuildRecord, its feature
 * row and its metrics. All I/O goes through ports, so the Lambda (AWS adapters), the backfill command
 * and the local replay (file adapters) run this same code.
 */
import {
  BuildRecord,
  buildRecordKey,
  featureRowKey,
  PipelineContext,
  testFailureRate,
  toCsvRow,
  toFeatureVector,
} from './build-record';
import { buildIdFromArn, parseCiEvent, TERMINAL_EVENT_BUILD_STATUSES } from './ci-events';
import {
  CodeBuildBuild,
  CodeBuildReport,
  InvalidBuildError,
  summarizeTestReports,
  toBuildRecord,
  toIso,
  toUtilization,
  UtilizationMetric,
} from './codebuild-build';
import { CompactedFeatureRow, compactedFeatureRow } from './compacted-feature-row';
import {
  PipelineLink,
  pipelineLinkKey,
  pipelineLinkOf,
  pipelineTransitionKey,
  toPipelineTransition,
} from '../remediation/pipeline-transition';

/** The build a utilisation query is about (CodeBuild's per-build metric dimensions and its time span). */
export interface UtilizationQuery {
  readonly buildId: string;
  readonly buildNumber: number;
  readonly projectName: string;
  readonly startTime: string;
  readonly endTime: string;
}

/** A key-value view of the data lake: S3 in AWS, a directory locally. Same keys either way. */
export interface DataLakeStore {
  put(key: string, body: string, contentType: string): Promise<void>;
  /** The object's text, or `undefined` when there is none. */
  get(key: string): Promise<string | undefined>;
}

/**
 * Where feature rows go for the compacted data lake (Amazon Data Firehose in AWS). `send` resolves once
 * every row is accepted and throws otherwise: a row is never dropped silently.
 */
export interface FeatureRowSink {
  send(rows: readonly CompactedFeatureRow[]): Promise<void>;
}

export interface BuildMetric {
  readonly name: string;
  readonly unit: 'Seconds' | 'Percent' | 'Count';
  readonly value: number;
}

export interface CollectorPorts {
  /** CodeBuild `BatchGetBuilds` for one build; `undefined` when CodeBuild does not know it. */
  getBuild(buildId: string): Promise<CodeBuildBuild | undefined>;
  /** CodeBuild `BatchGetReports`; reports that no longer exist are simply absent. */
  getReports(reportArns: readonly string[]): Promise<CodeBuildReport[]>;
  /** Datapoints of CodeBuild's utilisation metrics for the build; absent metrics are absent keys. */
  getUtilizationMetrics(query: UtilizationQuery): Promise<Partial<Record<UtilizationMetric, number[]>>>;
  readonly store: DataLakeStore;
  /**
   * The compacted data lake's intake: each collected build's feature row is sent to it, beside the
   * per-build CSV (which the readers of `features/` still use).
   * @default - none (the row is only written as the per-build CSV)
   */
  readonly featureSink?: FeatureRowSink;
  /** The clock that stamps a feature row's `ingested_at`. @default () => new Date() */
  readonly now?: () => Date;
  /** Publishes a build's metrics under its project (CloudWatch EMF in the Lambda). */
  emitMetrics(projectName: string, metrics: readonly BuildMetric[]): void;
}

export interface StoredBuild {
  readonly record: BuildRecord;
  readonly recordKey: string;
  readonly featuresKey: string;
}

export type CollectionOutcome =
  | ({ readonly status: 'stored'; readonly transitionKey?: string } & StoredBuild)
  | { readonly status: 'recorded'; readonly transitionKey: string }
  | { readonly status: 'ignored'; readonly reason: string }
  | { readonly status: 'rejected'; readonly reason: string; readonly eventId?: string };

/**
 * Handles one EventBridge event. Malformed, unknown and unusable events come back `rejected` with a
 * reason (never thrown: retrying them cannot help); transient failures of the ports throw.
 */
export async function collectEvent(raw: unknown, ports: CollectorPorts): Promise<CollectionOutcome> {
  const parsed = parseCiEvent(raw);
  if (!parsed.ok)
    return { status: 'rejected', reason: parsed.reason, ...optional('eventId', parsed.eventId) };
  const ci = parsed.value;

  if (ci.kind === 'build') {
    const status = ci.event.detail['build-status'];
    if (!(TERMINAL_EVENT_BUILD_STATUSES as readonly string[]).includes(status)) {
      return { status: 'ignored', reason: `build ${ci.event.detail['build-id']} is ${status}, not finished` };
    }
    const buildId = buildIdFromArn(ci.event.detail['build-id']);
    // Only builds a pipeline started (initiator `codepipeline/<name>`) can have a link; skip the lookup otherwise.
    const initiator = ci.event.detail['additional-information']?.initiator;
    const mayHaveLink = initiator === undefined || initiator.startsWith('codepipeline/');
    const link = mayHaveLink ? await findPipelineLink(buildId, ports.store) : undefined;
    return collectBuildById(buildId, ports, {
      pipeline: link,
      emitMetrics: true,
      sendFeatureRow: true,
      eventId: ci.event.id,
    });
  }

  const transition = toPipelineTransition(ci.event);
  const transitionKey = pipelineTransitionKey(transition);
  await ports.store.put(transitionKey, JSON.stringify(transition), 'application/json');
  const link = pipelineLinkOf(transition);
  if (!link) return { status: 'recorded', transitionKey };

  // The link is stored first so that a build event processed concurrently still finds it.
  await ports.store.put(pipelineLinkKey(link.buildId), JSON.stringify(link), 'application/json');
  // The build event already emitted this build's metrics and sent its feature row (which the pipeline
  // context does not change); rewriting the record only adds the context.
  const outcome = await collectBuildById(link.buildId, ports, {
    pipeline: contextOf(link),
    emitMetrics: false,
    sendFeatureRow: false,
    eventId: ci.event.id,
  });
  return outcome.status === 'stored' ? { ...outcome, transitionKey } : outcome;
}

interface CollectOptions {
  readonly pipeline?: PipelineContext;
  readonly emitMetrics: boolean;
  /** Send the feature row to the compacted data lake (once per build: from its build event). */
  readonly sendFeatureRow: boolean;
  readonly eventId?: string;
}

async function collectBuildById(
  buildId: string,
  ports: CollectorPorts,
  options: CollectOptions,
): Promise<CollectionOutcome> {
  const build = await ports.getBuild(buildId);
  if (!build) {
    return {
      status: 'rejected',
      reason: `CodeBuild does not know build ${buildId} (deleted, or another account's)`,
      ...optional('eventId', options.eventId),
    };
  }
  let record: BuildRecord;
  try {
    record = await recordOfBuild(build, ports, options.pipeline);
  } catch (error) {
    if (!(error instanceof InvalidBuildError)) throw error;
    return { status: 'rejected', reason: error.message, ...optional('eventId', options.eventId) };
  }
  const features =
    options.sendFeatureRow && ports.featureSink
      ? { sink: ports.featureSink, now: ports.now ?? (() => new Date()) }
      : undefined;
  const stored = await storeBuildRecord(record, ports.store, features);
  if (options.emitMetrics) ports.emitMetrics(record.projectName, buildMetrics(record));
  return { status: 'stored', ...stored };
}

/** Enriches a finished build with its test reports and utilisation metrics into a BuildRecord. */
export async function recordOfBuild(
  build: CodeBuildBuild,
  ports: Pick<CollectorPorts, 'getReports' | 'getUtilizationMetrics'>,
  pipeline?: PipelineContext,
): Promise<BuildRecord> {
  const reportArns = build.reportArns ?? [];
  const tests = reportArns.length > 0 ? summarizeTestReports(await ports.getReports(reportArns)) : null;
  const startTime = toIso(build.startTime);
  const endTime = toIso(build.endTime);
  const utilization =
    build.id && build.projectName && build.buildNumber !== undefined && startTime && endTime
      ? toUtilization(
          await ports.getUtilizationMetrics({
            buildId: build.id,
            buildNumber: build.buildNumber,
            projectName: build.projectName,
            startTime,
            endTime,
          }),
        )
      : null;
  return toBuildRecord({ build, tests, utilization, ...optional('pipeline', pipeline) });
}

/**
 * Writes the record JSON and its feature row at their deterministic keys (a rewrite overwrites), then,
 * given a sink, sends the feature row to the compacted data lake stamped with the ingestion time. The
 * sink comes last: if it fails, the event is retried and the rewrite of both objects is harmless; a
 * redelivered row is resolved by the compacted readers (the latest `ingested_at` wins).
 */
export async function storeBuildRecord(
  record: BuildRecord,
  store: DataLakeStore,
  features?: { readonly sink: FeatureRowSink; readonly now: () => Date },
): Promise<StoredBuild> {
  const recordKey = buildRecordKey(record);
  const featuresKey = featureRowKey(record);
  await store.put(recordKey, `${JSON.stringify(record)}\n`, 'application/json');
  await store.put(featuresKey, `${toCsvRow(toFeatureVector(record))}\n`, 'text/csv');
  if (features) await features.sink.send([compactedFeatureRow(record, features.now())]);
  return { record, recordKey, featuresKey };
}

/** The per-build CloudWatch metrics; what was not observed is not published (no fake zeros). */
export function buildMetrics(record: BuildRecord): BuildMetric[] {
  const metrics: BuildMetric[] = [
    { name: 'BuildsCollected', unit: 'Count', value: 1 },
    { name: 'BuildDuration', unit: 'Seconds', value: record.durationSeconds },
  ];
  if (record.phases.QUEUED !== undefined) {
    metrics.push({ name: 'QueuedDuration', unit: 'Seconds', value: record.phases.QUEUED });
  }
  const failureRate = testFailureRate(record.tests);
  if (failureRate !== undefined) {
    metrics.push({ name: 'TestFailureRate', unit: 'Percent', value: failureRate * 100 });
  }
  if (record.utilization) {
    metrics.push(
      { name: 'CPUUtilizedPercent', unit: 'Percent', value: record.utilization.cpuUtilizedPercent },
      { name: 'MemoryUtilizedPercent', unit: 'Percent', value: record.utilization.memoryUtilizedPercent },
    );
  }
  return metrics;
}

async function findPipelineLink(buildId: string, store: DataLakeStore): Promise<PipelineContext | undefined> {
  const text = await store.get(pipelineLinkKey(buildId));
  if (text === undefined) return undefined;
  try {
    return contextOf(JSON.parse(text) as PipelineLink);
  } catch {
    // A damaged link only loses the stage/action detail; the initiator still names the pipeline.
    return undefined;
  }
}

function contextOf(link: PipelineLink): PipelineContext {
  return {
    pipelineName: link.pipelineName,
    ...optional('stageName', link.stageName),
    ...optional('actionName', link.actionName),
    ...optional('executionId', link.executionId),
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
