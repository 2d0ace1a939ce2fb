/**
 * Evaluation of a candidate model: the score distribution, the threshold it implies, precision and recall
 * where remediation outcomes labelled builds, and whether the candidate is no worse than the approved model.
 * Pure logic; the pipeline's Evaluate step, the embedded trainer and the local replay share it.
 */
import { MAD_TO_SIGMA, median } from '../../core/scoring/baseline';

/** How many robust standard deviations above the median log score a build must be to count as anomalous. */
export const THRESHOLD_SIGMAS = 3;

export interface ScoreDistribution {
  readonly count: number;
  readonly mean: number;
  readonly std: number;
  /** exp(median + 3 × 1.4826 × MAD) of the log scores. */
  readonly threshold: number;
}

/** A build's ground truth from a remediation outcome: was it really anomalous? */
export interface BuildLabel {
  readonly buildId: string;
  readonly anomalous: boolean;
}

export interface ScoredBuild {
  readonly buildId: string;
  readonly score: number;
}

export interface LabelledMetrics {
  /** Scored builds that carry a label. */
  readonly labelledBuilds: number;
  readonly truePositives: number;
  readonly falsePositives: number;
  readonly falseNegatives: number;
  /** `null` when no labelled build was flagged (precision is undefined). */
  readonly precision: number | null;
  /** `null` when no labelled build was anomalous (recall is undefined). */
  readonly recall: number | null;
}

export interface ModelQuality {
  readonly distribution: ScoreDistribution;
  readonly labelled: LabelledMetrics;
}

/** Quality figures recorded with a registered model version (model package metadata). */
export interface RecordedQuality {
  readonly precision: number | null;
  readonly recall: number | null;
  readonly labelledBuilds: number;
}

export interface Comparison {
  readonly noWorse: boolean;
  readonly reason: string;
}

/**
 * The scores' mean and standard deviation, and the threshold: 3 standard deviations above the typical
 * score as SageMaker RCF's convention has it, but measured where it holds. RCF scores are right-skewed
 * and heavy-tailed, and the scores to calibrate on contain the anomalies of the period: mean + 3 std
 * moved with every incident in them (from 1.1 to 2.1 between weekly models of one replay). On the log
 * scale the scores are close to normal, and the median and MAD ignore the anomalies among them.
 * Scores of 0 (a forest not yet able to score) are left out of the fit.
 */
export function scoreDistribution(scores: readonly number[]): ScoreDistribution {
  if (scores.length === 0) throw new Error('cannot compute a score distribution from no scores');
  const mean = scores.reduce((sum, s) => sum + s, 0) / scores.length;
  const variance = scores.reduce((sum, s) => sum + (s - mean) ** 2, 0) / scores.length;
  const logs = scores.filter((s) => s > 0).map(Math.log);
  if (logs.length === 0) throw new Error('cannot compute a threshold from scores that are all 0');
  const typical = median(logs);
  const spread = median(logs.map((l) => Math.abs(l - typical))) * MAD_TO_SIGMA;
  return {
    count: scores.length,
    mean,
    std: Math.sqrt(variance),
    threshold: Math.exp(typical + THRESHOLD_SIGMAS * spread),
  };
}

/**
 * Confusion counts of `score > threshold` on the scored builds. Remediation outcomes only ever label
 * builds as anomalous (see core/remediation/labels.ts), so unlabelled builds count as normal: recall is exact
 * for the labelled anomalies, precision is a lower bound (a flagged unlabelled build may be a real anomaly
 * nobody remediated).
 */
export function labelledMetrics(
  scored: readonly ScoredBuild[],
  labels: ReadonlyMap<string, boolean>,
  threshold: number,
): LabelledMetrics {
  let labelledBuilds = 0;
  let truePositives = 0;
  let falsePositives = 0;
  let falseNegatives = 0;
  for (const { buildId, score } of scored) {
    const label = labels.get(buildId);
    if (label !== undefined) labelledBuilds++;
    const anomalous = label === true;
    const flagged = score > threshold;
    if (flagged && anomalous) truePositives++;
    else if (flagged) falsePositives++;
    else if (anomalous) falseNegatives++;
  }
  const flagged = truePositives + falsePositives;
  const actual = truePositives + falseNegatives;
  return {
    labelledBuilds,
    truePositives,
    falsePositives,
    falseNegatives,
    precision: actual === 0 || flagged === 0 ? null : truePositives / flagged,
    recall: actual === 0 ? null : truePositives / actual,
  };
}

/**
 * Labelled metrics of the scored builds at the threshold of a score distribution: that of
 * `calibration` when given (the embedded trainer passes every out-of-sample score of its window, a
 * steadier basis than the last week's), else that of the scored builds.
 */
export function evaluateScores(
  scored: readonly ScoredBuild[],
  labels: ReadonlyMap<string, boolean>,
  calibration: readonly number[] = scored.map((s) => s.score),
): ModelQuality {
  const distribution = scoreDistribution(calibration);
  return { distribution, labelled: labelledMetrics(scored, labels, distribution.threshold) };
}

/** F1 of precision and recall; undefined unless both are known. */
export function f1Score(quality: RecordedQuality): number | undefined {
  const { precision, recall } = quality;
  if (precision === null || recall === null) return undefined;
  return precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
}

/**
 * Whether the candidate may be registered. With labels on both sides the candidate's F1 must be at least
 * the approved model's minus `tolerance`; without labels to compare on, there is no evidence it is worse
 * (it was trained on more recent norms), so it passes and the reason says so.
 */
export function compareWithApproved(
  candidate: RecordedQuality,
  approved: RecordedQuality | undefined,
  tolerance: number,
): Comparison {
  if (!approved) return { noWorse: true, reason: 'no approved model version yet' };
  const candidateF1 = f1Score(candidate);
  const approvedF1 = f1Score(approved);
  if (candidateF1 === undefined || approvedF1 === undefined) {
    return {
      noWorse: true,
      reason: `not comparable on labels (candidate F1 ${show(candidateF1)}, approved F1 ${show(approvedF1)})`,
    };
  }
  const noWorse = candidateF1 >= approvedF1 - tolerance;
  return {
    noWorse,
    reason: `candidate F1 ${show(candidateF1)} ${noWorse ? '>=' : '<'} approved F1 ${show(approvedF1)} - tolerance ${tolerance}`,
  };
}

/**
 * Reads remediation outcome labels (`labels/...json`, format in core/remediation/labels.ts): JSON objects
 * (one per file, an array, or JSON lines) with a `buildId` and `anomalous: boolean` (or
 * `label: "anomalous" | "normal"`). Labels without a build (a pipeline-stage label) or unreadable ones
 * are counted as skipped rather than guessed; a later label for the same build wins.
 */
export function parseLabels(texts: readonly string[]): { labels: Map<string, boolean>; skipped: number } {
  const labels = new Map<string, boolean>();
  let skipped = 0;
  for (const text of texts) {
    for (const item of jsonItems(text)) {
      const label = toLabel(item);
      if (label) labels.set(label.buildId, label.anomalous);
      else skipped++;
    }
  }
  return { labels, skipped };
}

/**
 * Scores from a SageMaker RCF batch transform (`Accept: application/jsonlines`): one `{"score": x}` per
 * line; a `{"scores": [...]}` line (the `application/json` response) is accepted too.
 */
export function parseRcfScores(text: string): number[] {
  const scores: number[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new Error(`RCF output line ${index + 1} is not JSON: ${line.slice(0, 80)}`);
    }
    const items = isRecord(parsed) && Array.isArray(parsed.scores) ? parsed.scores : [parsed];
    for (const item of items) {
      const score = isRecord(item) ? item.score : undefined;
      if (typeof score !== 'number' || !Number.isFinite(score)) {
        throw new Error(`RCF output line ${index + 1} has no numeric score: ${line.slice(0, 80)}`);
      }
      scores.push(score);
    }
  });
  return scores;
}

function jsonItems(text: string): unknown[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  try {
    const parsed: unknown = JSON.parse(trimmed);
    return Array.isArray(parsed) ? parsed : [parsed];
  } catch {
    return trimmed.split(/\r?\n/).map((line) => {
      try {
        return JSON.parse(line) as unknown;
      } catch {
        return undefined;
      }
    });
  }
}

function toLabel(item: unknown): BuildLabel | undefined {
  if (!isRecord(item) || typeof item.buildId !== 'string' || item.buildId === '') return undefined;
  if (typeof item.anomalous === 'boolean') return { buildId: item.buildId, anomalous: item.anomalous };
  if (item.label === 'anomalous' || item.label === 'normal') {
    return { buildId: item.buildId, anomalous: item.label === 'anomalous' };
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: number | undefined): string {
  return value === undefined ? 'unknown' : value.toFixed(3);
}
