/**
 * The `embedded` alternative to the SageMaker pipeline: the same training window trained with Pipemend's
 * own RCF engine, evaluated the same way, stored in the data lake. No endpoint, no training instance.
 *
 * Rows are inserted in time order and every row is scored just before it is inserted, so the recent
 * builds' scores are out-of-sample scores of the model being built: the honest analogue of the pipeline's
 * batch transform. Runs on any `TrainingStore` (S3 in the Lambda, files in the local replay).
 */
import { FEATURE_SCHEMA_VERSION } from '../../core/collection/build-record';
import {
  CURRENT_MODEL_MANIFEST_KEY,
  MODEL_INPUT_VERSION,
  ModelManifest,
  modelArtifactKey,
  modelManifestKey,
} from '../../core/scoring/model-manifest';
import { RandomCutForest, SerializedForest, trainForest } from '../rcf';
import {
  compareWithApproved,
  evaluateScores,
  LabelledMetrics,
  labelledMetrics,
  parseLabels,
  RecordedQuality,
  ScoredBuild,
} from './evaluation';
import { embeddedModelVersion } from './model-version';
import type { WindowSample } from './parquet-window';
import { assembleTrainingWindow, FeatureRow, windowStartDate } from './window';
import { normalize } from '../../core/scoring/baseline';

/** What embedded training reads from and writes to (the data lake, or a local directory). */
export interface TrainingStore {
  readFeatureRows(fromDate: string): Promise<{ rows: FeatureRow[]; malformed: string[] }>;
  /**
   * The compacted lake's stratified sample of the window (forest rows + baselines from a larger sample);
   * when present it replaces `readFeatureRows`, so training time and memory do not grow with the window.
   */
  readWindowSample?(fromDate: string, minBuildsPerProject: number): Promise<WindowSample>;
  readLabelTexts(): Promise<string[]>;
  /** The object's JSON, or `null` when absent. */
  readJson(key: string): Promise<unknown>;
  writeJson(key: string, value: unknown): Promise<void>;
}

export interface EmbeddedTrainingSettings {
  readonly windowDays: number;
  readonly evaluationDays: number;
  readonly minTrainingRows: number;
  readonly minBuildsPerProject: number;
  readonly numTrees: number;
  readonly sampleSize: number;
  readonly seed: number;
  /** How much lower (in F1) than the current model's a new model may be and still replace it. */
  readonly noWorseTolerance: number;
}

export interface EmbeddedTrainingResult {
  readonly modelVersion: string;
  readonly trainingRows: number;
  readonly evaluationRows: number;
  readonly threshold: number;
  /** Whether the new model became `models/current.json`. */
  readonly promoted: boolean;
  readonly reason: string;
  readonly malformedRows: number;
}

export function evaluationKey(modelVersion: string): string {
  return `models/${modelVersion}/evaluation.json`;
}

export async function trainEmbeddedModel(
  store: TrainingStore,
  settings: EmbeddedTrainingSettings,
  now: Date,
): Promise<EmbeddedTrainingResult> {
  const modelVersion = embeddedModelVersion(now);
  const evaluationFrom = windowStartDate(now, settings.evaluationDays);
  const windowFrom = windowStartDate(now, settings.windowDays);
  const sample = await store.readWindowSample?.(windowFrom, settings.minBuildsPerProject);
  const { rows, malformed } = sample ?? (await store.readFeatureRows(windowFrom));
  const window = assembleTrainingWindow(rows, {
    minTrainingRows: settings.minTrainingRows,
    minBuildsPerProject: settings.minBuildsPerProject,
    evaluationFrom,
    baselines: sample?.baselines,
    projectBuilds: sample?.projectBuilds,
  });
  const ordered = [...window.training].sort(
    (a, b) => a.date.localeCompare(b.date) || a.buildId.localeCompare(b.buildId),
  );
  const trained = trainForest(
    ordered.map((row) => row.normalized),
    { numTrees: settings.numTrees, sampleSize: settings.sampleSize, seed: settings.seed },
  );
  const recent: ScoredBuild[] = [];
  ordered.forEach((row, index) => {
    const score = trained.scores[index - trained.warmup];
    if (row.date >= evaluationFrom && score !== undefined) recent.push({ buildId: row.buildId, score });
  });
  if (recent.length === 0) {
    throw new Error(
      `None of the ${ordered.length} rows since ${evaluationFrom} was scored (the forest warms up on ${trained.warmup} rows); add history or lengthen the evaluation period`,
    );
  }
  const { labels } = parseLabels(await store.readLabelTexts());
  const quality = evaluateScores(recent, labels, trained.scores);
  const candidate = recordedQuality(quality.labelled);
  const recentIds = new Set(recent.map((r) => r.buildId));
  const current = await currentQuality(
    store,
    rows.filter((row) => recentIds.has(row.buildId)),
    labels,
  );
  const comparison = compareWithApproved(candidate, current, settings.noWorseTolerance);

  const manifest: ModelManifest = {
    modelVersion,
    featureSchemaVersion: FEATURE_SCHEMA_VERSION,
    inputVersion: MODEL_INPUT_VERSION,
    kind: 'embedded',
    artifactKey: modelArtifactKey(modelVersion),
    threshold: quality.distribution.threshold,
    scoreMean: quality.distribution.mean,
    scoreStd: quality.distribution.std,
    trainedAt: now.toISOString(),
    trainingRows: ordered.length,
    minBuildsPerProject: settings.minBuildsPerProject,
    baselines: window.baselines,
  };
  await store.writeJson(modelArtifactKey(modelVersion), trained.forest.toJSON());
  await store.writeJson(evaluationKey(modelVersion), {
    modelVersion,
    scoreDistribution: quality.distribution,
    labelled: quality.labelled,
    current: current ?? null,
    comparison,
    excludedProjects: window.excludedProjects,
    malformedRows: malformed,
  });
  await store.writeJson(modelManifestKey(modelVersion), manifest);
  // Last: the scorer switches only once the forest and manifest it points to are in place.
  if (comparison.noWorse) await store.writeJson(CURRENT_MODEL_MANIFEST_KEY, manifest);
  return {
    modelVersion,
    trainingRows: ordered.length,
    evaluationRows: recent.length,
    threshold: manifest.threshold,
    promoted: comparison.noWorse,
    reason: comparison.reason,
    malformedRows: malformed.length,
  };
}

function recordedQuality(labelled: LabelledMetrics): RecordedQuality {
  const { precision, recall, labelledBuilds } = labelled;
  return { precision, recall, labelledBuilds };
}

/**
 * The current model's quality, or undefined when there is no current model. An embedded forest of this
 * input version is scored on the candidate's own recent builds: its recorded figures come from another
 * week, and comparing with them turned down fresh models because the weeks differed (leaving projects
 * scored against weeks-old baselines). Any other model: its recorded quality.
 */
async function currentQuality(
  store: TrainingStore,
  recentRows: readonly FeatureRow[],
  labels: ReadonlyMap<string, boolean>,
): Promise<RecordedQuality | undefined> {
  const current = (await store.readJson(CURRENT_MODEL_MANIFEST_KEY)) as Partial<ModelManifest> | null;
  if (!current || typeof current.modelVersion !== 'string') return undefined;
  const rescored = await currentForestQuality(store, current, recentRows, labels);
  if (rescored) return rescored;
  const evaluation = (await store.readJson(evaluationKey(current.modelVersion))) as {
    labelled?: { precision?: number | null; recall?: number | null; labelledBuilds?: number };
  } | null;
  if (!evaluation?.labelled) return { precision: null, recall: null, labelledBuilds: 0 };
  return {
    precision: evaluation.labelled.precision ?? null,
    recall: evaluation.labelled.recall ?? null,
    labelledBuilds: evaluation.labelled.labelledBuilds ?? 0,
  };
}

/** The current embedded forest's quality on the recent builds, or undefined when it cannot score them. */
async function currentForestQuality(
  store: TrainingStore,
  current: Partial<ModelManifest>,
  recentRows: readonly FeatureRow[],
  labels: ReadonlyMap<string, boolean>,
): Promise<RecordedQuality | undefined> {
  const { baselines, artifactKey, threshold } = current;
  const comparable =
    current.kind === 'embedded' &&
    current.featureSchemaVersion === FEATURE_SCHEMA_VERSION &&
    current.inputVersion === MODEL_INPUT_VERSION &&
    typeof threshold === 'number' &&
    baselines !== undefined &&
    artifactKey !== undefined;
  if (!comparable) return undefined;
  const serialized = (await store.readJson(artifactKey)) as SerializedForest | null;
  if (!serialized) return undefined;
  const forest = RandomCutForest.fromJSON(serialized);
  const scored: ScoredBuild[] = recentRows.flatMap((row) => {
    const baseline = baselines[row.projectName];
    return baseline ? [{ buildId: row.buildId, score: forest.score(normalize(row.values, baseline)) }] : [];
  });
  return recordedQuality(labelledMetrics(scored, labels, threshold));
}
