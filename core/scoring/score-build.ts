/**
 * Scores one finished build through ports (manifest, history, model scorers): picks the scorer, scores,
 * explains and returns the verdict. Shared by the CodePipeline action, the EventBridge path and the
 * local replay.
 */
import { ProjectBaseline } from './baseline';
import { ModelManifest } from './model-manifest';
import {
  BaselineReason,
  buildVerdict,
  chooseScorer,
  explainAttribution,
  explainDeviation,
  ModelKind,
  modelInput,
  needsCorroboration,
  scoreAgainstBaseline,
  ScoreResult,
} from './scoring';
import { assessTrend, TrendFinding, TrendPoint, trendPointOf } from './trend';
import { TrendSettings } from './trend-settings';
import { BuildVerdict } from './verdict';
import {
  BuildRecord,
  FEATURE_SCHEMA_VERSION,
  FeatureVector,
  toFeatureVector,
} from '../collection/build-record';

/** Where the current model's manifest comes from; `null` until a model has been trained. */
export interface ModelManifestSource {
  current(): Promise<ModelManifest | null>;
}

/** The project's recent builds, without the build being scored. */
export interface ProjectHistory {
  /** As a median/MAD baseline, for the cold-start scorer. */
  baseline(projectName: string, excludingBuildId: string): Promise<ProjectBaseline | null>;
  /**
   * As points in time (end time, features, success) for the trend test on every path: the builds
   * `selectTrendHistory` keeps for a build ending at `endedAt`.
   */
  recent(projectName: string, excludingBuildId: string, endedAt: Date): Promise<TrendPoint[]>;
}

export interface ModelScore {
  readonly score: number;
  /** Per-feature attribution summing to the score, when the scorer can explain (embedded RCF). */
  readonly attribution?: readonly number[];
}

/** A trained model that scores one normalised feature vector. */
export interface ModelScorer {
  score(manifest: ModelManifest, input: readonly number[]): Promise<ModelScore>;
}

export interface ScoringPorts {
  readonly manifests: ModelManifestSource;
  readonly history: ProjectHistory;
  /** The configured model kind and its scorer. */
  readonly modelKind: ModelKind;
  readonly modelScorer: ModelScorer;
  /** The installation's choices of the trend test. @default - `TREND_DEFAULTS`: memory, 1.2 scales, z ≥ 4 */
  readonly trend?: TrendSettings;
  readonly now?: () => Date;
}

export interface ScoredBuild {
  readonly verdict: BuildVerdict;
  /** Set when the baseline scorer decided: why the model did not. */
  readonly baselineReason?: BaselineReason;
}

export async function scoreBuild(record: BuildRecord, ports: ScoringPorts): Promise<ScoredBuild> {
  const vector = toFeatureVector(record);
  // A slow creep stays inside one build's normal range for days, whichever scorer decides: the trend
  // test over the project's recent builds runs on both paths and flags the build on its own. Its reads
  // go beside the manifest's, not after them (the pipeline gate waits for both).
  const [current, { trend, history }] = await Promise.all([
    ports.manifests.current(),
    creepsUpTo(record, vector, ports.history, ports.trend),
  ]);
  // A successful build over the threshold is corroborated (or not) by the project's previous build,
  // scored now by the same scorer: rare, so the extra scoring costs next to nothing.
  const previousOf = async (
    result: ScoreResult,
    scorePrevious: (previous: FeatureVector) => Promise<Pick<ScoreResult, 'score' | 'threshold'>>,
  ): Promise<Pick<ScoreResult, 'score' | 'threshold'> | null | undefined> => {
    if (trend.length > 0 || !needsCorroboration(record, result)) return undefined;
    const previous = newest(history);
    if (!previous) return null;
    // The history keeps values, not which were imputed: the previous build counts as fully observed.
    return scorePrevious({
      schemaVersion: FEATURE_SCHEMA_VERSION,
      values: [...previous.values],
      missing: previous.values.map(() => false),
    });
  };
  const choice = chooseScorer(record.projectName, current, ports.modelKind);
  const decidedAt = (ports.now ?? (() => new Date()))();
  if (choice.scorer === 'baseline') {
    const baseline = await ports.history.baseline(record.projectName, record.buildId);
    const result = scoreAgainstBaseline(vector, baseline);
    const previous = await previousOf(result, async (prev) => scoreAgainstBaseline(prev, baseline));
    return {
      verdict: buildVerdict({
        record,
        vector,
        result,
        scorer: 'baseline',
        modelVersion: null,
        decidedAt,
        trend,
        ...(previous !== undefined ? { previous } : {}),
      }),
      baselineReason: choice.reason,
    };
  }
  const { manifest, modelBaseline } = choice;
  const modelScore = await ports.modelScorer.score(manifest, modelInput(vector, modelBaseline));
  const result: ScoreResult = {
    score: modelScore.score,
    threshold: manifest.threshold,
    explanation: modelScore.attribution
      ? explainAttribution(vector, modelBaseline, modelScore.attribution)
      : explainDeviation(vector, modelBaseline),
  };
  const previous = await previousOf(result, async (prev) => ({
    score: (await ports.modelScorer.score(manifest, modelInput(prev, modelBaseline))).score,
    threshold: manifest.threshold,
  }));
  return {
    verdict: buildVerdict({
      record,
      vector,
      result,
      scorer: choice.scorer,
      modelVersion: manifest.modelVersion,
      decidedAt,
      trend,
      ...(previous !== undefined ? { previous } : {}),
    }),
  };
}

/** The project's newest build in the history (any status), if any. */
function newest(history: readonly TrendPoint[]): TrendPoint | undefined {
  return history.reduce<TrendPoint | undefined>(
    (latest, p) => (!latest || p.at > latest.at ? p : latest),
    undefined,
  );
}

async function creepsUpTo(
  record: BuildRecord,
  vector: FeatureVector,
  projectHistory: ProjectHistory,
  settings: TrendSettings | undefined,
): Promise<{ trend: TrendFinding[]; history: TrendPoint[] }> {
  const current = trendPointOf(record, vector);
  const history = await projectHistory.recent(record.projectName, record.buildId, new Date(current.at));
  return { trend: assessTrend(history, current, settings), history };
}
