/**
 * The replay: a pipeline history run through the whole of Pipemend in time order, on the same code as in
 * AWS. Each finished build is collected into a local data lake (`out/data-lake/`, S3's key layout), scored
 * by the scoring core (the cold-start baseline until the first model, then the embedded Random Cut Forest),
 * handed to remediation (the synthesized state machine run locally) and, when the deployed rules would
 * (core/suggestions/suggestion-routing.ts), to the suggester.
 * The first model is trained after a warm-up; retraining follows the weekly schedule.
 */
import { rm } from 'node:fs/promises';

import { FileDataLake } from './file-data-lake';
import {
  LocalEmbeddedModel,
  LocalLake,
  RecentBuildsHistory,
  REPLAY_TRAINING_SETTINGS,
} from './replay/embedded-model';
import { SimulatedBuild } from './simulation/build';
import { toActionStateChangeEvent, toStateChangeEvent } from './simulation/codebuild-shapes';
import { generateHistory, IncidentTruth } from './simulation/history';
import { ScenarioConfig } from './simulation/scenario';
import { SimulatedCi } from './simulation/simulated-ci';
import { BuildRecord } from '../core/collection/build-record';
import { buildMetrics, collectEvent, CollectorPorts, storeBuildRecord } from '../core/collection/collector';
import { DigestOccurrence } from '../core/remediation/notification-digest';
import { scoreBuild } from '../core/scoring/score-build';
import { TrendSettings } from '../core/scoring/trend-settings';
import { BuildVerdict } from '../core/scoring/verdict';
import { Suggestion } from '../core/suggestions/suggestion';
import { suggestionRoute } from '../core/suggestions/suggestion-routing';
import { RemediationMode } from '../lib/config';
import { EmbeddedTrainingSettings } from '../sagemaker/training/embedded-training';
import { InsufficientTrainingDataError } from '../sagemaker/training/window';

const DAY_MS = 86_400_000;

/** What remediation made of one verdict (the state machine's decision record, summarised). */
export interface RemediationResult {
  /** The decided action: RERUN_CLEAN, ROLLBACK, NOTIFY or NONE. */
  readonly action: string;
  /** What the guard let happen: PROCEED, SUGGEST, SHADOW, ESCALATE, DUPLICATE, ... */
  readonly guard?: string;
  /** How the remediation ended (SUCCEEDED, FAILED, SHADOWED, NOTIFIED, ESCALATED, ...). */
  readonly status: string;
  readonly reasons: readonly string[];
  readonly detail?: string;
  /** Builds the action started (reruns, retried stages, rollbacks). */
  readonly startedBuildIds: readonly string[];
  readonly executionMs: number;
  readonly stateTransitions: number;
  /** Lambda task states the execution ran (classify, guard, pipeline-target, record-outcome). */
  readonly lambdaInvocations: number;
  readonly guarded: boolean;
  readonly notifications: number;
  /** For a rerun decided on failed tests: what it was decided on (known flakes, or a first failure). */
  readonly testsBasis?: 'first-failure' | 'flaky';
  /** How that rerun ended: `rescued-by-rerun` (the tests are flaky) or `failed-again` (a regression). */
  readonly testOutcome?: string;
  /** For a rerun decided on failed tests: those tests, as their test report names them. */
  readonly failedTests?: readonly string[];
  /** The failure's fingerprint (its hash), when the decision had one. */
  readonly fingerprint?: string;
  /** A repeat of a failure already notified in the window: counted, not sent. */
  readonly notificationFolded?: boolean;
  /** The occurrence record-outcome counted for the daily digest, when the failure is grouped. */
  readonly digestOccurrence?: DigestOccurrence;
  /** Simulated time the execution ended (after reruns, polls and approvals). */
  readonly endedAt: string;
}

/** The remediation stage: runs the synthesized state machine locally for a verdict. */
export interface Remediator {
  remediate(verdict: BuildVerdict, at: Date): Promise<Omit<RemediationResult, 'startedBuildIds'>>;
}

/** The suggestion stage: handed every finished build; answers a fix suggestion for a failed one. */
export type Suggester = (
  record: BuildRecord,
  now: Date,
  /** Remediation's decision on the build, so that the suggestion agrees with it. */
  decision?: { readonly action: string; readonly reasons: readonly string[] },
) => Promise<Suggestion | undefined>;

export interface ReplayOptions {
  readonly mode: RemediationMode;
  /** Directory of the local data lake; emptied first. */
  readonly dataLakeDir: string;
  /** Days of history collected before the first model is trained. @default 21 */
  readonly warmupDays?: number;
  /** @default 7 */
  readonly retrainEveryDays?: number;
  /** The embedded trainer's settings. @default REPLAY_TRAINING_SETTINGS */
  readonly training?: EmbeddedTrainingSettings;
  /** Builds the remediation stage for a simulation; without it the replay detects only (the report says so). */
  readonly remediator?: (ci: SimulatedCi, lake: LocalLake, mode: RemediationMode) => Remediator;
  /** Builds the suggestion stage for a simulation (it reads the simulated build logs). */
  readonly suggester?: (ci: SimulatedCi) => Suggester;
  readonly onProgress?: (done: number, total: number) => void;
  /** The trend test's settings, as an installation's `trend` context key. @default - the scorer's defaults */
  readonly trend?: TrendSettings;
}

export interface ReplayedBuild {
  readonly buildId: string;
  readonly buildArn: string;
  readonly projectName: string;
  readonly pipelineName?: string;
  readonly stageName?: string;
  readonly startTime: string;
  readonly endTime: string;
  /** The source revision built, when the record has one. */
  readonly revision?: string;
  readonly status: string;
  readonly failedPhase?: string;
  readonly score: number;
  readonly threshold: number;
  readonly anomalous: boolean;
  readonly scorer: string;
  readonly modelVersion: string | null;
  readonly topFeatures: readonly {
    readonly feature: string;
    readonly share: number;
    readonly direction: string;
  }[];
  /** Ground truth (simulation only). */
  readonly truth?: SimulatedBuild['truth'];
  readonly remediation?: RemediationResult;
  readonly suggestion?: Suggestion;
}

export interface TrainingSummary {
  readonly at: string;
  readonly modelVersion: string;
  readonly threshold: number;
  readonly trainingRows: number;
  readonly evaluationRows: number;
  readonly promoted: boolean;
  readonly reason: string;
  readonly wallMs: number;
}

export interface ReplayCounts {
  readonly eventsCollected: number;
  readonly eventsRejected: number;
  readonly dataLakePuts: number;
  readonly dataLakeGets: number;
  readonly dataLakeBytes: number;
  readonly metricsEmitted: number;
  /** Distinct (project, metric name) pairs: CloudWatch bills each as a custom metric. */
  readonly distinctMetrics: number;
  readonly verdicts: number;
  /** State-machine executions AWS would run: one per verdict. */
  readonly remediations: number;
  /** Of those, the executions the replay actually ran (the others cost what the first normal one did). */
  readonly remediationsRun: number;
  readonly stateTransitions: number;
  readonly remediationLambdaInvocations: number;
  readonly notifications: number;
  /** DynamoDB requests of the guard and the outcome record (idempotency, budgets, breaker). */
  readonly guardWrites: number;
  readonly guardReads: number;
  readonly suggestions: number;
  readonly trainings: number;
}

export interface ReplayResult {
  readonly source: 'simulation' | 'data';
  readonly mode: RemediationMode;
  readonly start: string;
  readonly end: string;
  readonly days: number;
  readonly builds: readonly ReplayedBuild[];
  readonly trainings: readonly TrainingSummary[];
  readonly incidents: readonly IncidentTruth[];
  readonly counts: ReplayCounts;
  /** Stages that could not run, with why (the report shows them). */
  readonly missingStages: readonly string[];
  readonly wallMs: number;
  readonly stageMs: Readonly<Record<'collect' | 'score' | 'train' | 'remediate' | 'suggest', number>>;
}

/** Replays a simulated scenario end to end. */
export async function replaySimulation(
  scenario: ScenarioConfig,
  options: ReplayOptions,
): Promise<ReplayResult> {
  const history = generateHistory(scenario);
  const ci = new SimulatedCi(history);
  const replay = new Replay(options, ci);
  return replay.run(
    history.builds.map((build) => ({ kind: 'simulated', build })),
    history.start,
    history.end,
    history.incidents,
  );
}

/** Replays the user's own history: the BuildRecords under `builds/` that `pipemend backfill --out DIR` wrote. */
export async function replayDataDirectory(dir: string, options: ReplayOptions): Promise<ReplayResult> {
  const source = new FileDataLake(dir);
  const keys = (await source.list('builds/')).filter((key) => key.endsWith('.json'));
  if (keys.length === 0) {
    throw new Error(
      `${dir} holds no build records (expected builds/project=<p>/date=<d>/<build-id>.json, as 'pipemend backfill --out' writes)`,
    );
  }
  const records: BuildRecord[] = [];
  for (const key of keys) {
    const text = (await source.get(key))!;
    try {
      records.push(JSON.parse(text) as BuildRecord);
    } catch (error) {
      throw new Error(`${dir}/${key} is not a JSON build record: ${(error as Error).message}`);
    }
  }
  records.sort((a, b) => a.endTime.localeCompare(b.endTime));
  const replay = new Replay(options, undefined);
  return replay.run(
    records.map((record) => ({ kind: 'record', record })),
    new Date(records[0]!.startTime),
    new Date(records[records.length - 1]!.endTime),
    [],
  );
}

type QueueItem =
  | { readonly kind: 'simulated'; readonly build: SimulatedBuild }
  | { readonly kind: 'record'; readonly record: BuildRecord };

class Replay {
  private readonly lake: CountingDataLake;
  private readonly model: LocalEmbeddedModel;
  private readonly recent = new RecentBuildsHistory();
  private readonly remediator: Remediator | undefined;
  private readonly suggester: Suggester | undefined;
  /** What remediation of a normal build's verdict costs, measured on the first one. */
  private normalVerdictCost: Omit<RemediationResult, 'startedBuildIds'> | undefined;
  private readonly builds: ReplayedBuild[] = [];
  private readonly trainings: TrainingSummary[] = [];
  private readonly stageMs = { collect: 0, score: 0, train: 0, remediate: 0, suggest: 0 };
  private readonly metricNames = new Set<string>();
  private readonly counts = {
    eventsCollected: 0,
    eventsRejected: 0,
    metricsEmitted: 0,
    verdicts: 0,
    remediations: 0,
    remediationsRun: 0,
    stateTransitions: 0,
    remediationLambdaInvocations: 0,
    notifications: 0,
    guardWrites: 0,
    guardReads: 0,
    suggestions: 0,
    trainings: 0,
  };

  constructor(
    private readonly options: ReplayOptions,
    private readonly ci: SimulatedCi | undefined,
  ) {
    this.lake = new CountingDataLake(new FileDataLake(options.dataLakeDir));
    this.model = new LocalEmbeddedModel(this.lake, options.training ?? REPLAY_TRAINING_SETTINGS);
    this.remediator = ci ? options.remediator?.(ci, this.lake, options.mode) : undefined;
    this.suggester = ci ? options.suggester?.(ci) : undefined;
  }

  async run(
    items: QueueItem[],
    start: Date,
    end: Date,
    incidents: readonly IncidentTruth[],
  ): Promise<ReplayResult> {
    const started = performance.now();
    await rm(this.options.dataLakeDir, { recursive: true, force: true });
    const queue = [...items];
    const warmupMs = (this.options.warmupDays ?? 21) * DAY_MS;
    const retrainMs = (this.options.retrainEveryDays ?? 7) * DAY_MS;
    let nextTraining = start.getTime() + warmupMs;
    let done = 0;
    for (let i = 0; i < queue.length; i++) {
      const item = queue[i]!;
      const endTime = endOf(item);
      while (endTime.getTime() >= nextTraining) {
        await this.train(new Date(nextTraining));
        nextTraining += retrainMs;
      }
      const added = await this.process(item);
      for (const build of added) insertByEnd(queue, { kind: 'simulated', build }, i + 1);
      done++;
      this.options.onProgress?.(done, queue.length);
    }
    const missingStages = [
      ...(this.remediator
        ? []
        : [
            this.ci
              ? 'remediation: no remediation stage was configured for this replay'
              : 'remediation and suggestions: a --data replay has no CodeBuild to rerun or logs to read, so it detects only',
          ]),
      ...(this.suggester || !this.ci ? [] : ['suggestions: no suggester was configured for this replay']),
    ];
    return {
      source: this.ci ? 'simulation' : 'data',
      mode: this.options.mode,
      start: start.toISOString(),
      end: end.toISOString(),
      days: (end.getTime() - start.getTime()) / DAY_MS,
      builds: this.builds,
      trainings: this.trainings,
      incidents,
      counts: {
        ...this.counts,
        dataLakePuts: this.lake.puts,
        dataLakeGets: this.lake.gets,
        dataLakeBytes: this.lake.bytes,
        distinctMetrics: this.metricNames.size,
      },
      missingStages,
      wallMs: performance.now() - started,
      stageMs: this.stageMs,
    };
  }

  private async process(item: QueueItem): Promise<SimulatedBuild[]> {
    const collectStart = performance.now();
    const record = item.kind === 'simulated' ? await this.collect(item.build) : await this.store(item.record);
    this.stageMs.collect += performance.now() - collectStart;
    if (!record) return [];

    const scoreStart = performance.now();
    const decidedAt = new Date(new Date(record.endTime).getTime() + 2_000);
    const { verdict } = await scoreBuild(record, {
      manifests: this.model,
      history: this.recent,
      modelKind: 'embedded',
      modelScorer: this.model,
      trend: this.options.trend,
      now: () => decidedAt,
    });
    this.recent.add(record);
    this.counts.verdicts++;
    this.stageMs.score += performance.now() - scoreStart;

    const simulated = item.kind === 'simulated' ? item.build : undefined;
    let remediation: RemediationResult | undefined;
    let started: SimulatedBuild[] = [];
    if (this.remediator && (record.status !== 'SUCCEEDED' || verdict.anomalous || !this.normalVerdictCost)) {
      const remediateStart = performance.now();
      const result = await this.remediator.remediate(verdict, new Date(decidedAt.getTime() + 30_000));
      started = this.ci?.takeStartedBuilds() ?? [];
      remediation = { ...result, startedBuildIds: started.map((b) => b.buildId) };
      this.counts.remediations++;
      this.counts.remediationsRun++;
      this.counts.stateTransitions += result.stateTransitions;
      this.counts.remediationLambdaInvocations += result.lambdaInvocations;
      this.counts.notifications += result.notifications;
      // Guard: idempotency put and update, budget update, breaker read; outcome: record and breaker writes.
      if (result.guarded) {
        this.counts.guardWrites += 5;
        this.counts.guardReads += 1;
      }
      if (record.status === 'SUCCEEDED' && !verdict.anomalous) this.normalVerdictCost = result;
      this.stageMs.remediate += performance.now() - remediateStart;
    } else if (this.remediator && this.normalVerdictCost) {
      // In AWS every verdict starts an execution that decides NONE for a normal build. The replay runs the
      // first such execution and counts the others at its measured cost (transitions, invocations, time).
      const cost = this.normalVerdictCost;
      this.counts.remediations++;
      this.counts.stateTransitions += cost.stateTransitions;
      this.counts.remediationLambdaInvocations += cost.lambdaInvocations;
    }

    const suggestion = await this.suggest(record, remediation);
    this.builds.push({
      buildId: record.buildId,
      buildArn: record.buildArn,
      projectName: record.projectName,
      ...(record.pipeline?.pipelineName ? { pipelineName: record.pipeline.pipelineName } : {}),
      ...(record.pipeline?.stageName ? { stageName: record.pipeline.stageName } : {}),
      startTime: record.startTime,
      endTime: record.endTime,
      ...((record.resolvedSourceVersion ?? record.sourceVersion)
        ? { revision: record.resolvedSourceVersion ?? record.sourceVersion }
        : {}),
      status: record.status,
      ...(record.failedPhase ? { failedPhase: record.failedPhase } : {}),
      score: verdict.score,
      threshold: verdict.threshold,
      anomalous: verdict.anomalous,
      scorer: verdict.scorer,
      modelVersion: verdict.modelVersion,
      topFeatures: verdict.explanation
        .slice(0, 3)
        .map(({ feature, share, direction }) => ({ feature, share, direction })),
      ...(simulated ? { truth: simulated.truth } : {}),
      ...(remediation ? { remediation } : {}),
      ...(suggestion ? { suggestion } : {}),
    });
    return started;
  }

  /** Collects a simulated build from its events exactly as the collector Lambda would. */
  private async collect(build: SimulatedBuild): Promise<BuildRecord | undefined> {
    const ports: CollectorPorts = {
      ...this.ci!.collectorPorts(),
      store: this.lake,
      emitMetrics: (project, metrics) => this.emitMetrics(project, metrics),
    };
    let record: BuildRecord | undefined;
    const events = build.viaPipeline
      ? [toActionStateChangeEvent(build), toStateChangeEvent(build)]
      : [toStateChangeEvent(build)];
    for (const event of events) {
      const outcome = await collectEvent(event, ports);
      if (outcome.status === 'rejected') {
        this.counts.eventsRejected++;
        throw new Error(`the collector rejected simulated event ${String(event.id)}: ${outcome.reason}`);
      }
      this.counts.eventsCollected++;
      if (outcome.status === 'stored') record = outcome.record;
    }
    return record;
  }

  /**
   * A user's record goes into the replay's data lake as the collector would have stored it, counted as the
   * collector's work would be (its events and custom metrics), so that the cost matches a simulation's.
   */
  private async store(record: BuildRecord): Promise<BuildRecord> {
    await storeBuildRecord(record, this.lake);
    // A pipeline's build reaches the collector twice: its state change and the pipeline action's.
    this.counts.eventsCollected += record.pipeline ? 2 : 1;
    this.emitMetrics(record.projectName, buildMetrics(record));
    return record;
  }

  private emitMetrics(project: string, metrics: readonly { readonly name: string }[]): void {
    this.counts.metricsEmitted += metrics.length;
    for (const metric of metrics) this.metricNames.add(`${project}/${metric.name}`);
  }

  private async train(at: Date): Promise<void> {
    const trainStart = performance.now();
    try {
      const result = await this.model.train(at);
      this.counts.trainings++;
      this.trainings.push({
        at: at.toISOString(),
        modelVersion: result.modelVersion,
        threshold: result.threshold,
        trainingRows: result.trainingRows,
        evaluationRows: result.evaluationRows,
        promoted: result.promoted,
        reason: result.reason,
        wallMs: performance.now() - trainStart,
      });
    } catch (error) {
      // Too little history is normal early on: the baseline scorer keeps deciding until a model exists.
      if (!(error instanceof InsufficientTrainingDataError)) throw error;
    }
    this.stageMs.train += performance.now() - trainStart;
  }

  private async suggest(
    record: BuildRecord,
    remediation?: { readonly action: string; readonly reasons: readonly string[] },
  ): Promise<Suggestion | undefined> {
    if (!this.suggester) return undefined;
    // Only the builds the deployed rules hand to the suggester (a verdict, or a failed pipeline build's
    // state change), so the replay's suggestion figures are the deployed stack's.
    if (!suggestionRoute(record)) return undefined;
    const suggestStart = performance.now();
    const suggestion = await this.suggester(
      record,
      new Date(new Date(record.endTime).getTime() + 60_000),
      remediation ? { action: remediation.action, reasons: remediation.reasons } : undefined,
    );
    if (suggestion) this.counts.suggestions++;
    this.stageMs.suggest += performance.now() - suggestStart;
    return suggestion;
  }
}

/** Counts what the replay writes to the data lake (S3 PUT requests and bytes in the cost estimate). */
class CountingDataLake implements LocalLake {
  puts = 0;
  gets = 0;
  bytes = 0;

  constructor(private readonly inner: FileDataLake) {}

  /** The directory: the embedded trainer compacts it to Parquet and reads its window from there. */
  get root(): string {
    return this.inner.root;
  }

  async put(key: string, body: string, contentType: string): Promise<void> {
    this.puts++;
    this.bytes += Buffer.byteLength(body);
    await this.inner.put(key, body, contentType);
  }

  get(key: string): Promise<string | undefined> {
    this.gets++;
    return this.inner.get(key);
  }

  list(prefix: string): Promise<string[]> {
    return this.inner.list(prefix);
  }
}

function endOf(item: QueueItem): Date {
  return item.kind === 'simulated' ? item.build.endTime : new Date(item.record.endTime);
}

function insertByEnd(queue: QueueItem[], item: QueueItem, from: number): void {
  const t = endOf(item).getTime();
  let i = from;
  while (i < queue.length && endOf(queue[i]!).getTime() <= t) i++;
  queue.splice(i, 0, item);
}
