/**
 * The `embedded` alternative to the SageMaker pipeline: the same training window trained with Pipemend's
 * own RCF engine, evaluated the same way, stored in the data lake. No endpoint, no training instance.
 *
 * Rows are inserted in time order and every row is scored just before it is inserted, so the recent
 * builds' scores are out-of-sample scores of the model being built: the honest analogue of the pipeline's
 * batch transform. Runs on any `TrainingStore` (S3 in the Lambda, files in the local replay).
 */
import { FEATURE_SCHEMA_VERSION } from '../../lambda/core/build-record';
import {
  CURRENT_MODEL_MANIFEST_KEY,
  ModelManifest,
  modelArtifactKey,
  modelManifestKey,
} from '../../lambda/core/model-manifest';
import { trainForest } from '../rcf';
import {
  compareWithApproved,
  evaluateScores,
  ModelQuality,
  parseLabels,
  RecordedQuality,
  ScoredBuild,
} from './evaluation';
import { embeddedModelVersion } from './model-version';
import { assembleTrainingWindow, FeatureRow, windowStartDate } from './window';

/** What embedded training reads from and writes to (the data lake, or a local directory). */
export interface TrainingStore {
  readFeatureRows(fromDate: string): Promise<{ rows: FeatureRow[]; malformed: string[] }>;
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
  const { rows, malformed } = await store.readFeatureRows(windowStartDate(now, settings.windowDays));
  const window = assembleTrainingWindow(rows, {
    minTrainingRows: settings.minTrainingRows,
    minBuildsPerProject: settings.minBuildsPerProject,
    evaluationFrom,
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
  const quality = evaluateScores(recent, labels);
  const candidate = recordedQuality(quality);
  const current = await currentQuality(store);
  const comparison = compareWithApproved(candidate, current, settings.noWorseTolerance);

  const manifest: ModelManifest = {
    modelVersion,
    featureSchemaVersion: FEATURE_SCHEMA_VERSION,
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

function recordedQuality(quality: ModelQuality): RecordedQuality {
  const { precision, recall, labelledBuilds } = quality.labelled;
  return { precision, recall, labelledBuilds };
}

/** The current model's recorded quality, or undefined when there is no current model (or no evaluation). */
async function currentQuality(store: TrainingStore): Promise<RecordedQuality | undefined> {
  const current = (await store.readJson(CURRENT_MODEL_MANIFEST_KEY)) as { modelVersion?: unknown } | null;
  if (!current || typeof current.modelVersion !== 'string') return undefined;
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
