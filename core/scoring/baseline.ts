/**
 * Per-project robust baselines (median and MAD per feature). They serve twice: as the cold-start scorer
 * before a model exists, and to put every project's features on one scale so that a single model
 * (one SageMaker endpoint, one embedded forest) serves all projects of an installation.
 */
import { FEATURE_DIMENSION, FEATURE_NAMES, FeatureName } from '../collection/build-record';

export interface ProjectBaseline {
  readonly projectName: string;
  /** Builds the baseline was computed from. */
  readonly count: number;
  /** Per feature, in FEATURE_NAMES order. */
  readonly median: number[];
  /** Per feature median absolute deviation (unscaled), in FEATURE_NAMES order. */
  readonly mad: number[];
}

/** MAD × 1.4826 estimates a normal distribution's standard deviation. */
export const MAD_TO_SIGMA = 1.4826;

/** Floors so that a constant feature (e.g. a 0 failure rate) does not make every change infinite. */
const MIN_SCALE: Record<FeatureName, number> = {
  durationSeconds: 5,
  queuedSeconds: 2,
  provisioningSeconds: 2,
  downloadSourceSeconds: 2,
  installSeconds: 2,
  preBuildSeconds: 2,
  buildSeconds: 5,
  postBuildSeconds: 2,
  uploadArtifactsSeconds: 2,
  testFailureRate: 0.01,
  cpuUtilizedPercent: 2,
  memoryUtilizedPercent: 2,
};

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median and MAD per feature over a project's feature vectors (values in FEATURE_NAMES order). */
export function computeBaseline(
  projectName: string,
  vectors: readonly (readonly number[])[],
): ProjectBaseline {
  if (vectors.length === 0) throw new Error(`cannot compute a baseline for ${projectName} from no builds`);
  const med: number[] = [];
  const mad: number[] = [];
  for (let f = 0; f < FEATURE_DIMENSION; f++) {
    const column = vectors.map((v) => v[f] ?? 0);
    const m = median(column);
    med.push(m);
    mad.push(median(column.map((x) => Math.abs(x - m))));
  }
  return { projectName, count: vectors.length, median: med, mad };
}

/** Robust scale of each feature: MAD as a standard deviation, never below the feature's floor. */
export function robustScale(baseline: ProjectBaseline): number[] {
  return FEATURE_NAMES.map((name, f) => Math.max((baseline.mad[f] ?? 0) * MAD_TO_SIGMA, MIN_SCALE[name]));
}

/**
 * Features where only a rise is a symptom. A build that uses less CPU or memory than usual is healthy: it
 * is what moving a project to a larger compute type looks like, and it must not alarm for weeks until the
 * baseline catches up. (A build that failed early also uses little, but its missing phases show that.)
 */
export const RISE_ONLY_FEATURES: readonly FeatureName[] = ['cpuUtilizedPercent', 'memoryUtilizedPercent'];

const RISE_ONLY = FEATURE_NAMES.map((name) => RISE_ONLY_FEATURES.includes(name));

/**
 * Durations deviate on a log scale: they vary in proportion to their size, with a long right tail (a
 * phase that takes twice its usual time now and then is ordinary; one that takes half is rare).
 */
const LOG_SCALE = FEATURE_NAMES.map((name) => name.endsWith('Seconds'));

/**
 * Robust z-scores of a feature vector against its project's baseline; `relativeFloor` keeps each scale at
 * least that share of the typical value. Durations: log((1 + x) / (1 + typical)) over the relative scale
 * scale / (1 + typical), the delta method's log-scale z (equal to the plain z for small deviations; a
 * phase that did not run, 0, is a large but finite fall). Falls of rise-only features are 0.
 */
export function robustDeviations(
  values: readonly number[],
  baseline: ProjectBaseline,
  relativeFloor = 0,
): number[] {
  const scale = robustScale(baseline);
  const deviations = values.map((x, f) => {
    const typical = baseline.median[f] ?? 0;
    const s = Math.max(scale[f]!, Math.abs(typical) * relativeFloor);
    if (!LOG_SCALE[f]) return (x - typical) / s;
    const base = 1 + Math.max(0, typical);
    return Math.log((1 + Math.max(0, x)) / base) / (s / base);
  });
  return deviations.map((z, f) => (RISE_ONLY[f] ? Math.max(0, z) : z));
}

/** The model's input: robust z-scores of a feature vector against its project's baseline. */
export function normalize(values: readonly number[], baseline: ProjectBaseline): number[] {
  return robustDeviations(values, baseline);
}
