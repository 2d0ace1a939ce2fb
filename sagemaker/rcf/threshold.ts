export interface SagemakerThreshold {
  readonly mean: number;
  readonly std: number;
  readonly threshold: number;
}

/** SageMaker convention: threshold = mean + 3 * std (population) of the training scores. */
export function sagemakerThreshold(scores: readonly number[]): SagemakerThreshold {
  if (scores.length === 0) {
    throw new RangeError('Cannot derive a threshold from zero training scores');
  }
  let sum = 0;
  for (const score of scores) {
    if (!Number.isFinite(score))
      throw new RangeError(`Training score ${String(score)} is not a finite number`);
    sum += score;
  }
  const mean = sum / scores.length;
  let squares = 0;
  for (const score of scores) squares += (score - mean) ** 2;
  const std = Math.sqrt(squares / scores.length);
  return { mean, std, threshold: mean + 3 * std };
}

export interface ThresholderOptions {
  /** Standard deviations above the running mean where the grade starts to rise. @default 3 */
  readonly zFactor?: number;
  /** Scores below this are never anomalous, however quiet the stream (RCF scores hover near 1). @default 1 */
  readonly minimumScore?: number;
  /** Weight of a new score in the running mean and variance once warmed up. @default 0.005 */
  readonly decay?: number;
  /** Scores observed before any grade is given. @default 32 */
  readonly warmup?: number;
}

export interface ThresholdedScore {
  /** 0 for ordinary, rising to 1 at twice the threshold's distance from the mean. */
  readonly grade: number;
  readonly threshold: number;
}

/**
 * Self-calibrating threshold over a stream of raw scores: a running (exponentially weighted) mean
 * and variance, threshold = max(minimumScore, mean + zFactor * std). Scores feed the statistics
 * clipped at twice the threshold's distance from the mean, so a burst of anomalies does not raise the bar for the next one, yet
 * a lasting change in the score level is learnt.
 */
export class StreamingThresholder {
  private readonly zFactor: number;
  private readonly minimumScore: number;
  private readonly decay: number;
  private readonly warmup: number;
  private count = 0;
  private mean = 0;
  private variance = 0;

  constructor(options: ThresholderOptions = {}) {
    this.zFactor = options.zFactor ?? 3;
    this.minimumScore = options.minimumScore ?? 1;
    this.decay = options.decay ?? 0.005;
    this.warmup = options.warmup ?? 32;
    if (!(this.zFactor > 0)) throw new RangeError(`zFactor must be positive, got ${this.zFactor}`);
    if (!(this.decay > 0 && this.decay < 1))
      throw new RangeError(`decay must be in (0, 1), got ${this.decay}`);
    if (!Number.isInteger(this.warmup) || this.warmup < 2)
      throw new RangeError(`warmup must be an integer of at least 2, got ${this.warmup}`);
  }

  /** The current threshold (Infinity during warm-up). */
  get threshold(): number {
    if (this.count < this.warmup) return Infinity;
    return Math.max(this.minimumScore, this.mean + this.zFactor * Math.sqrt(this.variance));
  }

  /** Grades a score against the current threshold, then learns from it. */
  process(score: number): ThresholdedScore {
    if (!Number.isFinite(score)) throw new RangeError(`Score ${String(score)} is not a finite number`);
    const threshold = this.threshold;
    let grade = 0;
    if (score > threshold) {
      const spread = Math.max(threshold - this.mean, Number.EPSILON);
      grade = Math.min(1, (score - threshold) / spread);
    }
    // Clip what is learnt at twice the threshold's distance: spikes barely move the statistics.
    const ceiling = Number.isFinite(threshold) ? this.mean + 2 * (threshold - this.mean) : score;
    this.learn(Math.min(score, ceiling));
    return { grade, threshold };
  }

  private learn(score: number): void {
    this.count++;
    const weight = Math.max(1 / this.count, this.decay);
    const delta = score - this.mean;
    this.mean += weight * delta;
    this.variance = (1 - weight) * (this.variance + weight * delta * delta);
  }
}
