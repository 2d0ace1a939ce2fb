/**
 * Post-build scoring, pure: which scorer decides a build, the median/MAD baseline scorer used until a
 * model covers the project, the explanations (RCF attribution or per-feature deviation) and the verdict.
 */
import { normalize, ProjectBaseline, robustDeviations } from './baseline';
import { MODEL_INPUT_VERSION, ModelManifest } from './model-manifest';
import { TrendFinding } from './trend';
import { BuildVerdict, FeatureContribution, ScorerUsed, VerdictDismissal } from './verdict';
import {
  BuildRecord,
  FEATURE_NAMES,
  FEATURE_SCHEMA_VERSION,
  FeatureName,
  FeatureVector,
} from '../collection/build-record';

/** Builds of history the baseline scorer needs before it may call a build anomalous. */
export const BASELINE_MIN_BUILDS = 5;

/** A robust z-score beyond this counts as this much and no more: one wild feature cannot swamp the rest. */
export const BASELINE_Z_CAP = 10;

/** Tail probability of the baseline threshold: about one false alarm per thousand normal builds. */
export const BASELINE_TAIL_PROBABILITY = 0.001;

/** Relative floor of a feature's scale: CI durations vary in proportion to their size. */
const RELATIVE_SCALE_FLOOR = 0.05;

/** Contributions smaller than this share of the score are left out of an explanation. */
const MIN_EXPLAINED_SHARE = 0.01;

/** The standard normal quantile of 1 - BASELINE_TAIL_PROBABILITY. */
const Z_QUANTILE = 3.090232;

export type ModelKind = 'endpoint' | 'embedded';

/** Why the baseline scorer decided instead of the model (recorded in logs, shown in the replay). */
export type BaselineReason =
  'no-model' | 'schema-mismatch' | 'project-not-in-model' | 'too-few-project-builds' | 'model-kind-mismatch';

export type ScorerChoice =
  | { readonly scorer: ModelKind; readonly manifest: ModelManifest; readonly modelBaseline: ProjectBaseline }
  | { readonly scorer: 'baseline'; readonly reason: BaselineReason };

/**
 * The model decides when a manifest exists, was trained on this feature schema and input version, is of
 * the configured kind and knows the project from at least `minBuildsPerProject` builds; otherwise the
 * baseline scorer.
 */
export function chooseScorer(
  projectName: string,
  manifest: ModelManifest | null,
  configuredKind: ModelKind,
): ScorerChoice {
  if (!manifest) return { scorer: 'baseline', reason: 'no-model' };
  if (
    manifest.featureSchemaVersion !== FEATURE_SCHEMA_VERSION ||
    (manifest.inputVersion ?? 1) !== MODEL_INPUT_VERSION
  ) {
    return { scorer: 'baseline', reason: 'schema-mismatch' };
  }
  if (manifest.kind !== configuredKind) return { scorer: 'baseline', reason: 'model-kind-mismatch' };
  const modelBaseline = manifest.baselines[projectName];
  if (!modelBaseline) return { scorer: 'baseline', reason: 'project-not-in-model' };
  if (modelBaseline.count < manifest.minBuildsPerProject) {
    return { scorer: 'baseline', reason: 'too-few-project-builds' };
  }
  return { scorer: configuredKind, manifest, modelBaseline };
}

/** The model's input for a build: its features normalised with the project's baseline, as in training. */
export function modelInput(vector: FeatureVector, modelBaseline: ProjectBaseline): number[] {
  return normalize(vector.values, modelBaseline);
}

export interface ScoreResult {
  readonly score: number;
  readonly threshold: number;
  /** Top contributors first. */
  readonly explanation: FeatureContribution[];
}

/**
 * Quantile of the chi-square distribution (Wilson–Hilferty approximation, within 1% for 1+ degrees of
 * freedom at the tail probabilities used here).
 */
export function chiSquareQuantile(degreesOfFreedom: number, z: number = Z_QUANTILE): number {
  const k = degreesOfFreedom;
  const a = 2 / (9 * k);
  return k * Math.pow(1 - a + z * Math.sqrt(a), 3);
}

/** Relative standard error of a MAD scale estimate from n normal samples is about this over sqrt(n). */
const MAD_RELATIVE_STANDARD_ERROR = 1.17;

/**
 * The baseline scorer's threshold for a number of observed features and the builds the baseline was
 * estimated from. The chi quantile assumes known scales; the scales are MADs of a few dozen builds, so
 * the threshold is raised by one standard error of such an estimate: a scale that came out low by
 * chance must not turn a project's ordinary builds into alarms.
 */
export function baselineThreshold(observedFeatures: number, baselineBuilds: number): number {
  const builds = Math.max(BASELINE_MIN_BUILDS, baselineBuilds);
  const scaleUncertainty = 1 + MAD_RELATIVE_STANDARD_ERROR / Math.sqrt(builds);
  return Math.sqrt(chiSquareQuantile(Math.max(1, observedFeatures))) * scaleUncertainty;
}

/** Per-feature robust z-scores against a project baseline, with a floor relative to the typical value. */
export function deviations(values: readonly number[], baseline: ProjectBaseline): number[] {
  return robustDeviations(values, baseline, RELATIVE_SCALE_FLOOR);
}

/**
 * The cold-start scorer: the root sum of squares of the observed features' capped robust z-scores (a
 * Mahalanobis distance with a diagonal, MAD-estimated covariance), against the chi distribution's
 * 1 - 0.1% quantile for that many features, raised for the scales' estimation error. Imputed features
 * neither score nor explain. With fewer than BASELINE_MIN_BUILDS builds of history the baseline is not
 * trusted: the score is 0 (normal, unexplained).
 */
export function scoreAgainstBaseline(vector: FeatureVector, baseline: ProjectBaseline | null): ScoreResult {
  const observed = vector.missing.filter((missing) => !missing).length;
  const threshold = baselineThreshold(observed, baseline?.count ?? 0);
  if (!baseline || baseline.count < BASELINE_MIN_BUILDS || observed === 0) {
    return { score: 0, threshold, explanation: [] };
  }
  const z = deviations(vector.values, baseline).map((value, f) =>
    vector.missing[f] ? 0 : Math.max(-BASELINE_Z_CAP, Math.min(BASELINE_Z_CAP, value)),
  );
  const squares = z.map((value) => value * value);
  const total = squares.reduce((sum, value) => sum + value, 0);
  return {
    score: Math.sqrt(total),
    threshold,
    explanation: explain(vector, baseline, squares, z),
  };
}

/**
 * Explanation from a model's per-feature attribution (RCF: non-negative, summing to the score). The
 * direction comes from the normalised input: above the project's median is `high`.
 */
export function explainAttribution(
  vector: FeatureVector,
  modelBaseline: ProjectBaseline,
  attribution: readonly number[],
): FeatureContribution[] {
  if (attribution.length !== FEATURE_NAMES.length) {
    throw new Error(
      `attribution has ${attribution.length} values, expected ${FEATURE_NAMES.length} (one per feature)`,
    );
  }
  const weights = attribution.map((value, f) => (vector.missing[f] ? 0 : Math.max(0, value)));
  return explain(vector, modelBaseline, weights, modelInput(vector, modelBaseline));
}

/** Explanation by deviation from the project's baseline, for scorers without attribution (the endpoint). */
export function explainDeviation(vector: FeatureVector, baseline: ProjectBaseline): FeatureContribution[] {
  const z = deviations(vector.values, baseline).map((value, f) =>
    vector.missing[f] ? 0 : Math.max(-BASELINE_Z_CAP, Math.min(BASELINE_Z_CAP, value)),
  );
  return explain(
    vector,
    baseline,
    z.map((value) => value * value),
    z,
  );
}

function explain(
  vector: FeatureVector,
  baseline: ProjectBaseline,
  weights: readonly number[],
  signed: readonly number[],
): FeatureContribution[] {
  const total = weights.reduce((sum, value) => sum + value, 0);
  if (!(total > 0)) return [];
  const contributions: FeatureContribution[] = [];
  FEATURE_NAMES.forEach((feature, f) => {
    const share = weights[f]! / total;
    if (share < MIN_EXPLAINED_SHARE) return;
    contributions.push({
      feature,
      value: vector.values[f]!,
      typical: baseline.median[f],
      share: Math.round(share * 1e4) / 1e4,
      direction: (signed[f] ?? 0) < 0 ? 'low' : 'high',
    });
  });
  return contributions.sort((a, b) => b.share - a.share);
}

export interface VerdictInput {
  readonly record: BuildRecord;
  readonly vector: FeatureVector;
  readonly result: ScoreResult;
  readonly scorer: ScorerUsed;
  readonly modelVersion: string | null;
  readonly decidedAt: Date;
  /**
   * Creeps the trend test (`assessTrend` over the project's recent builds) found for this build. Any
   * finding makes the build anomalous, whatever its own score, and leads the explanation.
   */
  readonly trend?: readonly TrendFinding[];
  /**
   * The project's previous build scored now by the same scorer (`null`: the project has none), for a
   * successful build over the threshold: see `corroborated`. Left out, the rule is not applied.
   */
  readonly previous?: Pick<ScoreResult, 'score' | 'threshold'> | null;
}

/** Contributions for trend findings: the creeping features first, sharing the explanation's first half. */
export function explainTrend(
  vector: FeatureVector,
  trend: readonly TrendFinding[],
  explanation: readonly FeatureContribution[],
): FeatureContribution[] {
  if (trend.length === 0) return [...explanation];
  const total = trend.reduce((sum, finding) => sum + finding.z, 0);
  const creeping: FeatureContribution[] = trend.map((finding) => ({
    feature: finding.feature,
    value: vector.values[FEATURE_NAMES.indexOf(finding.feature)]!,
    typical: Math.round(finding.expected * 1e4) / 1e4,
    share: Math.round(((0.5 * finding.z) / total) * 1e4) / 1e4,
    direction: 'high',
  }));
  const names = new Set<string>(trend.map((finding) => finding.feature));
  const rest = explanation
    .filter((contribution) => !names.has(contribution.feature))
    .map((contribution) => ({ ...contribution, share: Math.round(contribution.share * 0.5 * 1e4) / 1e4 }));
  return [...creeping, ...rest];
}

/**
 * How far a successful build's score must exceed the threshold to be anomalous. A failed build is
 * already someone's problem, and its score only says how unusual the failure was; a successful build
 * flagged ANOMALOUS pages someone about a build that worked, so it needs clearer evidence than one at
 * the threshold's edge, where the threshold's own calibration error lies. Chosen on the replay's four
 * histories (docs/detection.md).
 */
export const SUCCESS_MARGIN = 1.05;

/**
 * Whether the project's previous build corroborates a successful build over the threshold: the product
 * of the two builds' score-to-threshold ratios exceeds 1 (their geometric mean is over the threshold).
 * A build that worked is paged for when what makes it unusual persists (a creep, a slowdown that
 * stays), not for one odd build after an ordinary one: on the replay's histories, successful builds
 * flagged on their score were mostly isolated (previous build at 0.4–0.9 of the threshold) and most of
 * the false alarms, while a real incident's successful builds follow builds that were already unusual.
 * Without a previous build (`null`) the build's own score decides. Failed builds need no corroboration.
 */
export function corroborated(
  result: Pick<ScoreResult, 'score' | 'threshold'>,
  previous: Pick<ScoreResult, 'score' | 'threshold'> | null,
): boolean {
  // No previous build (a project's first, or none in the history's weeks): nothing to weigh the build
  // against, so its own score decides, as before this rule.
  if (previous === null) return true;
  if (!(previous.threshold > 0) || !(result.threshold > 0)) return false;
  return (result.score / result.threshold) * (previous.score / previous.threshold) > 1;
}

/** Whether a successful build's score alone would make it anomalous, before corroboration. */
export function needsCorroboration(record: BuildRecord, result: ScoreResult): boolean {
  return (
    record.status === 'SUCCEEDED' &&
    dismissal(record, result) === undefined &&
    result.score > result.threshold
  );
}

/** Why a successful build over the threshold is not anomalous, if it is not. */
function dismissal(
  record: BuildRecord,
  result: ScoreResult,
  previous?: Pick<ScoreResult, 'score' | 'threshold'> | null,
): VerdictDismissal | undefined {
  if (record.status !== 'SUCCEEDED' || !(result.score > result.threshold)) return undefined;
  // Faster, leaner or less queued than usual, and it worked: good news, not an alarm.
  if (result.explanation[0]?.direction === 'low') return 'success-lower-than-usual';
  if (result.score <= SUCCESS_MARGIN * result.threshold) return 'success-within-margin';
  if (previous !== undefined && !corroborated(result, previous)) return 'success-not-corroborated';
  return undefined;
}

/**
 * The decision record: anomalous when the score exceeds the threshold stored with the scorer (a
 * successful build: clearly, not only for being faster or leaner than usual, and corroborated by the
 * project's previous build when `previous` is given), or when the trend test found a creep.
 */
export function buildVerdict(input: VerdictInput): BuildVerdict {
  const { record, vector } = input;
  const trend = input.trend ?? [];
  const result =
    trend.length > 0
      ? { ...input.result, explanation: explainTrend(vector, trend, input.result.explanation) }
      : input.result;
  if (!Number.isFinite(result.score)) {
    throw new Error(`score of build ${record.buildId} is not a finite number: ${result.score}`);
  }
  const features = {} as Record<FeatureName, number>;
  const missingFeatures: FeatureName[] = [];
  FEATURE_NAMES.forEach((name, f) => {
    features[name] = vector.values[f]!;
    if (vector.missing[f]) missingFeatures.push(name);
  });
  const dismissed = trend.length > 0 ? undefined : dismissal(record, input.result, input.previous);
  const anomalous = (result.score > result.threshold && !dismissed) || trend.length > 0;
  return {
    schemaVersion: 1,
    buildArn: record.buildArn,
    buildId: record.buildId,
    projectName: record.projectName,
    ...(record.pipeline ? { pipeline: record.pipeline } : {}),
    status: record.status,
    ...(record.failedPhase ? { failedPhase: record.failedPhase } : {}),
    ...(record.sourceVersion ? { sourceVersion: record.sourceVersion } : {}),
    features,
    missingFeatures,
    score: result.score,
    threshold: result.threshold,
    anomalous,
    scorer: input.scorer,
    modelVersion: input.modelVersion,
    explanation: result.explanation,
    verdict: anomalous ? 'ANOMALOUS' : 'NORMAL',
    ...(dismissed ? { dismissed } : {}),
    decidedAt: input.decidedAt.toISOString(),
    build: record,
  };
}
