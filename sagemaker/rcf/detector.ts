import { ForestOptions, RandomCutForest } from './forest';

/** The detector's product configuration (also `pipemend detect`'s defaults). */
export const DETECTOR_DEFAULTS = { numTrees: 50, sampleSize: 256, shingleSize: 1 } as const;

export interface DetectorOptions extends Omit<ForestOptions, 'dimensions'> {
  /** Raw scores the likelihood's reference distribution is estimated from. @default 1000 */
  readonly historySize?: number;
  /** Recent raw scores averaged before they are compared with the history. @default 3 */
  readonly recentSize?: number;
}

/**
 * Streaming detector: score each row with a Random Cut Forest, then update it; turn the raw score
 * into a calibrated anomaly score in [0, 1] from how unlikely the recent scores are under the
 * distribution of the stream's own past scores (in the spirit of HTM's anomaly likelihood).
 */
export class StreamingDetector {
  readonly forest: RandomCutForest;
  private readonly history: Float64Array;
  private readonly recent: Float64Array;
  private seen = 0;

  constructor(dimensions: number, options: DetectorOptions = {}) {
    const { historySize = 1000, recentSize = 3, ...forestOptions } = options;
    if (!Number.isInteger(historySize) || historySize < 10) {
      throw new RangeError(`historySize must be an integer of at least 10, got ${historySize}`);
    }
    if (!Number.isInteger(recentSize) || recentSize < 1 || recentSize >= historySize) {
      throw new RangeError(`recentSize must be an integer in [1, historySize), got ${recentSize}`);
    }
    this.forest = new RandomCutForest({ ...DETECTOR_DEFAULTS, ...forestOptions, dimensions });
    this.history = new Float64Array(historySize);
    this.recent = new Float64Array(recentSize);
  }

  /** Scores a row then learns it; returns the anomaly score in [0, 1]. */
  process(row: readonly number[]): number {
    const ready = this.forest.isReady;
    const raw = this.forest.score(row);
    this.forest.update(row);
    if (!ready) return 0;
    const result = this.calibrate(raw);
    this.history[this.seen % this.history.length] = raw;
    this.recent[this.seen % this.recent.length] = raw;
    this.seen++;
    return result;
  }

  private calibrate(raw: number): number {
    const filled = Math.min(this.seen, this.history.length);
    if (filled < this.recent.length * 10) return 0;
    let sum = 0;
    let squares = 0;
    for (let i = 0; i < filled; i++) sum += this.history[i] as number;
    const mean = sum / filled;
    for (let i = 0; i < filled; i++) squares += ((this.history[i] as number) - mean) ** 2;
    const std = Math.max(Math.sqrt(squares / filled), 1e-6);
    let recentSum = raw;
    for (let i = 1; i < this.recent.length; i++)
      recentSum += this.recent[(this.seen - i + this.recent.length) % this.recent.length] as number;
    const recentMean = recentSum / this.recent.length;
    const tail = normalTail((recentMean - mean) / std);
    // HTM's log scale: a tail probability of 1e-10 or less is a certain anomaly.
    return Math.min(1, Math.max(0, Math.log(tail) / Math.log(1e-10)));
  }
}

/** Streams every row through a fresh detector and returns the anomaly scores in [0, 1]. */
export function detect(rows: readonly (readonly number[])[], options: DetectorOptions = {}): number[] {
  const first = rows[0];
  if (first === undefined) return [];
  const detector = new StreamingDetector(first.length, options);
  return rows.map((row) => detector.process(row));
}

/** P(Z > z) for a standard normal Z (Abramowitz–Stegun 7.1.26 via erfc, error < 1.5e-7). */
export function normalTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erfc =
    t *
    (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) *
    Math.exp(-x * x);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}
