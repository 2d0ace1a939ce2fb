/**
 * NAB's scoring rules (Lavin & Ahmad 2015; numenta/NAB v1.1 `sweeper.py`, `optimizer.py`,
 * `runner.py`), re-implemented: a probationary period (first 15% of a file, at most 750 rows) is not
 * scored; a detection inside a labelled window earns a scaled sigmoid of its position (earliest
 * best, only the best detection per window counts); a window without one costs fnWeight; every
 * detection outside the windows costs fpWeight times a sigmoid of its distance from the previous
 * window; the threshold is the one that maximises the summed score over the whole corpus; scores
 * are normalised so the null detector (a constant score) gets 0 and a perfect one 100.
 */

export interface CostProfile {
  readonly name: string;
  readonly tpWeight: number;
  readonly fpWeight: number;
  readonly fnWeight: number;
}

/** NAB's `config/profiles.json`. */
export const NAB_PROFILES: readonly CostProfile[] = [
  { name: 'standard', tpWeight: 1, fpWeight: 0.11, fnWeight: 1 },
  { name: 'reward_low_FP_rate', tpWeight: 1, fpWeight: 0.22, fnWeight: 1 },
  { name: 'reward_low_FN_rate', tpWeight: 1, fpWeight: 0.11, fnWeight: 2 },
];

export const PROBATION_PERCENT = 0.15;

export interface ScoredFile {
  readonly name: string;
  readonly timestamps: readonly number[];
  readonly scores: readonly number[];
  /** Labelled windows as [start, end] timestamps (inclusive). */
  readonly windows: readonly (readonly [number, number])[];
}

/** One scorable row: its anomaly score, weighted sweep score and window (undefined outside one). */
export interface SweepPoint {
  readonly anomalyScore: number;
  readonly sweepScore: number;
  readonly window: string | undefined;
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** -1 at the window's left edge is 0.98661, 0 at its right edge, FPs tend to -1 as they move away. */
export function scaledSigmoid(relativePosition: number): number {
  if (relativePosition >= 3) return -1;
  return 2 * sigmoid(-5 * relativePosition) - 1;
}

export function probationaryLength(rows: number): number {
  return Math.min(Math.floor(PROBATION_PERCENT * rows), PROBATION_PERCENT * 5000);
}

/** `Sweeper.calcSweepScore`: the weighted score each row would earn if it were a detection. */
export function sweepScores(file: ScoredFile, profile: CostProfile): SweepPoint[] {
  const { timestamps, scores } = file;
  if (timestamps.length !== scores.length) {
    throw new Error(`${file.name}: ${timestamps.length} timestamps but ${scores.length} scores`);
  }
  const maxTp = scaledSigmoid(-1);
  const probation = probationaryLength(timestamps.length);
  const windows = file.windows.map(([start, end]) => {
    const left = timestamps.findIndex((t) => t >= start);
    let right = -1;
    for (let i = timestamps.length - 1; i >= 0; i--) {
      if ((timestamps[i] as number) <= end) {
        right = i;
        break;
      }
    }
    if (left < 0 || right < left) throw new Error(`${file.name}: window [${start}, ${end}] holds no rows`);
    return { left, right, name: `${file.name}|${start}` };
  });
  const points: SweepPoint[] = [];
  let windowIndex = 0;
  let current: (typeof windows)[number] | undefined;
  let previousRight: number | undefined;
  let previousWidth = 0;
  for (let i = 0; i < timestamps.length; i++) {
    const next = windows[windowIndex];
    if (!current && next && i === next.left) {
      current = next;
      windowIndex++;
    }
    let sweepScore: number;
    if (current) {
      const width = current.right - current.left + 1;
      const position = -(current.right - i + 1) / width;
      sweepScore = (scaledSigmoid(position) * profile.tpWeight) / maxTp;
    } else {
      const position = previousRight === undefined ? 3 : Math.abs(previousRight - i) / (previousWidth - 1);
      sweepScore = scaledSigmoid(position) * profile.fpWeight;
    }
    if (i >= probation) points.push({ anomalyScore: scores[i] as number, sweepScore, window: current?.name });
    if (current && i === current.right) {
      previousRight = i;
      previousWidth = current.right - current.left + 1;
      current = undefined;
    }
  }
  return points;
}

/**
 * `Sweeper.calcScoreByThreshold` reduced to its optimum: the threshold (one of the scores, or 1.1
 * for "never detect") that maximises the summed score of these rows, and that score.
 */
export function bestThreshold(
  points: readonly SweepPoint[],
  profile: CostProfile,
): { threshold: number; score: number } {
  const sorted = [...points].sort((a, b) => b.anomalyScore - a.anomalyScore);
  const windowScores = new Map<string, number>();
  for (const point of sorted)
    if (point.window !== undefined) windowScores.set(point.window, -profile.fnWeight);
  let windowTotal = [...windowScores.values()].reduce((a, b) => a + b, 0);
  let fpTotal = 0;
  let best = { threshold: 1.1, score: windowTotal };
  let threshold = 1.1;
  for (const point of sorted) {
    if (point.anomalyScore !== threshold) {
      if (windowTotal + fpTotal > best.score) best = { threshold, score: windowTotal + fpTotal };
      threshold = point.anomalyScore;
    }
    if (point.window === undefined) {
      fpTotal += point.sweepScore;
    } else {
      const previous = windowScores.get(point.window) as number;
      if (point.sweepScore > previous) {
        windowScores.set(point.window, point.sweepScore);
        windowTotal += point.sweepScore - previous;
      }
    }
  }
  if (windowTotal + fpTotal > best.score) best = { threshold, score: windowTotal + fpTotal };
  return best;
}

export interface FileScore {
  readonly score: number;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
}

/** `Sweeper.scoreDataSet`: the file's score when every row scoring at least `threshold` is a detection. */
export function scoreAtThreshold(
  points: readonly SweepPoint[],
  profile: CostProfile,
  threshold: number,
): FileScore {
  const windowScores = new Map<string, number>();
  let fpScore = 0;
  let fp = 0;
  for (const point of points) {
    if (point.window !== undefined && !windowScores.has(point.window))
      windowScores.set(point.window, -profile.fnWeight);
  }
  for (const point of points) {
    if (point.anomalyScore < threshold) continue;
    if (point.window === undefined) {
      fpScore += point.sweepScore;
      fp++;
    } else {
      windowScores.set(point.window, Math.max(windowScores.get(point.window) as number, point.sweepScore));
    }
  }
  const windowValues = [...windowScores.values()];
  const fn = windowValues.filter((value) => value === -profile.fnWeight).length;
  return { score: fpScore + windowValues.reduce((a, b) => a + b, 0), tp: windowValues.length - fn, fp, fn };
}

export interface CorpusResult {
  readonly profile: string;
  readonly threshold: number;
  readonly rawScore: number;
  readonly nullScore: number;
  readonly perfectScore: number;
  readonly normalized: number;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  /** Normalised score per category (the folder before `/` in the file name), same threshold. */
  readonly categories: Record<string, number>;
  /** Detections per category at the corpus threshold. */
  readonly categoryStats: Record<string, CategoryStats>;
}

export interface CategoryStats {
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
}

/**
 * Scores a detector over a corpus for one profile: the threshold optimised over the whole corpus,
 * then normalised against the null detector (constant 0.5 everywhere, its own best threshold) and
 * the perfect one (tpWeight per label, as NAB's `runner.normalize`).
 */
export function scoreCorpus(
  files: readonly ScoredFile[],
  labelCount: (fileName: string) => number,
  profile: CostProfile,
): CorpusResult {
  const detector = files.map((file) => ({ file, points: sweepScores(file, profile) }));
  const nullDetector = files.map((file) => ({
    file,
    points: sweepScores({ ...file, scores: file.scores.map(() => 0.5) }, profile),
  }));
  const { threshold } = bestThreshold(
    detector.flatMap((entry) => entry.points),
    profile,
  );
  const nullThreshold = bestThreshold(
    nullDetector.flatMap((entry) => entry.points),
    profile,
  ).threshold;
  const summarize = (
    names: Set<string>,
  ): { raw: number; nul: number; perfect: number; tp: number; fp: number; fn: number } => {
    let raw = 0;
    let nul = 0;
    let perfect = 0;
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (const [index, entry] of detector.entries()) {
      if (!names.has(entry.file.name)) continue;
      const result = scoreAtThreshold(entry.points, profile, threshold);
      raw += result.score;
      tp += result.tp;
      fp += result.fp;
      fn += result.fn;
      nul += scoreAtThreshold(
        (nullDetector[index] as (typeof nullDetector)[number]).points,
        profile,
        nullThreshold,
      ).score;
      perfect += labelCount(entry.file.name) * profile.tpWeight;
    }
    return { raw, nul, perfect, tp, fp, fn };
  };
  const normalize = (s: { raw: number; nul: number; perfect: number }): number =>
    (100 * (s.raw - s.nul)) / (s.perfect - s.nul);
  const all = summarize(new Set(files.map((file) => file.name)));
  const categories: Record<string, number> = {};
  const categoryStats: Record<string, CategoryStats> = {};
  for (const category of new Set(files.map((file) => categoryOf(file.name)))) {
    const summary = summarize(
      new Set(files.filter((file) => categoryOf(file.name) === category).map((file) => file.name)),
    );
    // A category without labels has no perfect score to normalise against: report its raw score.
    categories[category] = summary.perfect === summary.nul ? summary.raw : normalize(summary);
    categoryStats[category] = { tp: summary.tp, fp: summary.fp, fn: summary.fn };
  }
  return {
    profile: profile.name,
    threshold,
    rawScore: all.raw,
    nullScore: all.nul,
    perfectScore: all.perfect,
    normalized: normalize(all),
    tp: all.tp,
    fp: all.fp,
    fn: all.fn,
    categories,
    categoryStats,
  };
}

function categoryOf(fileName: string): string {
  return fileName.split('/')[0] ?? fileName;
}
