import { DailyRecurrence, DailyRecurrenceOptions } from './daily-recurrence';
import { ForestOptions, RandomCutForest } from './forest';
import { normalTail } from './normal';
import { SeasonalResidual, SeasonalResidualOptions } from './seasonal-residual';

/** The detector's product configuration (also `pipemend detect`'s defaults). */
export const DETECTOR_DEFAULTS = {
  // Twice SageMaker's built-in RCF default of 100: each doubling halves the raw score's sampling
  // variance, which the likelihood otherwise reads as noise (docs/detection.md, "Session 7: 200
  // trees": fewer false positives on NAB than 100; 300 were no better).
  numTrees: 200,
  sampleSize: 256,
  shingleSize: 1,
  historySize: 8000,
  recentSize: 2,
  detectionLevel: 0.5,
  suppression: 100,
} as const;

export interface DetectorOptions extends Omit<ForestOptions, 'dimensions'> {
  /** Raw scores the likelihood's reference distribution is estimated from. @default 8000 */
  readonly historySize?: number;
  /** Recent raw scores averaged before they are compared with the history. @default 2 */
  readonly recentSize?: number;
  /** Anomaly score from which a row counts as a detection that starts a suppression. @default 0.5 */
  readonly detectionLevel?: number;
  /** Rows after a detection whose scores are reported as 0: one event, one alarm. @default 100 */
  readonly suppression?: number;
  /**
   * Repeats of an event that happens at the same time every day or every week score 0 (rows need
   * times for this);
   * `false` turns the check off. @default DAILY_RECURRENCE_DEFAULTS
   */
  readonly recurrence?: DailyRecurrenceOptions | false;
  /**
   * The daily-profile channel (rows need times; one per value column): a row far from the values at
   * the same time on earlier days scores on that, where the daily profile explains most of the
   * series' variation; `false` turns it off. @default SEASONAL_RESIDUAL_DEFAULTS
   */
  readonly seasonal?: SeasonalResidualOptions | false;
}

/** Scores the history needs before the likelihood means anything. */
const MINIMUM_HISTORY = 30;

/**
 * A row within this many of the daily-profile channel's scales of what its time of day predicts gets
 * no score from the forest (3σ: the daily top of a busy series, not a burst above it).
 */
const EXPLAINED_WITHIN = 3;

/**
 * Rows scoring below this are not checked for a daily repeat: too low to be anyone's detection, and
 * the check searches each earlier day.
 */
const RECURRENCE_CHECK_FROM = 0.3;

/**
 * Streaming detector: score each row with a Random Cut Forest, then update it, and turn the raw
 * score into an anomaly score in [0, 1] that means the same on every series:
 * 1. likelihood (after HTM's anomaly likelihood): how far the mean of the last `recentSize` raw
 *    scores lies in the tail of a normal fitted to the previous `historySize` raw scores, on a log
 *    scale where a tail probability of 1e-10 is 1;
 * 2. daily recurrence (rows with times only): a row that repeats an event seen at the same time of
 *    day on earlier days, or of the week on earlier weeks ({@link DailyRecurrence}), reports 0: a
 *    nightly job's or a weekly backup's spike is not news;
 * 3. daily profile (rows with times only), where the series has a strong daily profile: a row within
 *    3 scales of what its time of day predicts reports 0 from the forest (the daily top of a busy
 *    series is not news), and the score is the larger of that and {@link SeasonalResidual}'s, which
 *    sees a daily rise that did not come;
 * 4. suppression: once a row reaches `detectionLevel`, the next `suppression` rows report 0, so a
 *    lasting anomaly raises one alarm rather than a burst.
 */
export class StreamingDetector {
  readonly forest: RandomCutForest;
  private readonly history: Float64Array;
  private readonly recent: Float64Array;
  private readonly detectionLevel: number;
  private readonly suppression: number;
  private readonly recurrence: DailyRecurrence | undefined;
  private readonly seasonal: SeasonalResidual[] | undefined;
  private historySum = 0;
  private historySquares = 0;
  private recentSum = 0;
  private scored = 0;
  private row = 0;
  private lastDetection = -Infinity;

  constructor(dimensions: number, options: DetectorOptions = {}) {
    const {
      historySize = DETECTOR_DEFAULTS.historySize,
      recentSize = DETECTOR_DEFAULTS.recentSize,
      detectionLevel = DETECTOR_DEFAULTS.detectionLevel,
      suppression = DETECTOR_DEFAULTS.suppression,
      recurrence = {},
      seasonal = {},
      ...forestOptions
    } = options;
    if (!Number.isInteger(historySize) || historySize < MINIMUM_HISTORY) {
      throw new RangeError(
        `historySize must be an integer of at least ${MINIMUM_HISTORY}, got ${historySize}`,
      );
    }
    if (!Number.isInteger(recentSize) || recentSize < 1 || recentSize >= historySize) {
      throw new RangeError(`recentSize must be an integer in [1, historySize), got ${recentSize}`);
    }
    if (!(detectionLevel > 0 && detectionLevel <= 1)) {
      throw new RangeError(`detectionLevel must be in (0, 1], got ${detectionLevel}`);
    }
    if (!Number.isInteger(suppression) || suppression < 0) {
      throw new RangeError(`suppression must be a non-negative integer, got ${suppression}`);
    }
    this.forest = new RandomCutForest({
      numTrees: DETECTOR_DEFAULTS.numTrees,
      sampleSize: DETECTOR_DEFAULTS.sampleSize,
      shingleSize: DETECTOR_DEFAULTS.shingleSize,
      ...forestOptions,
      dimensions,
    });
    this.history = new Float64Array(historySize);
    this.recent = new Float64Array(recentSize);
    this.detectionLevel = detectionLevel;
    this.suppression = suppression;
    this.recurrence = recurrence === false ? undefined : new DailyRecurrence(dimensions, recurrence);
    this.seasonal =
      seasonal === false
        ? undefined
        : Array.from(
            { length: dimensions },
            () => new SeasonalResidual({ alarmLevel: detectionLevel, ...seasonal }),
          );
  }

  /**
   * Scores a row then learns it; returns the anomaly score in [0, 1]. `time` (epoch milliseconds)
   * enables the daily channels; rows without one are scored without them.
   */
  process(row: readonly number[], time?: number): number {
    const ready = this.forest.isReady;
    const raw = this.forest.score(row);
    this.forest.update(row);
    return this.grade(ready, raw, row, time);
  }

  /**
   * {@link process} for each row in order, with the same results, through the forest's block
   * scoring ({@link RandomCutForest.scoreAndUpdate}). An invalid row changes nothing.
   */
  processAll(rows: readonly (readonly number[])[], times?: readonly (number | undefined)[]): number[] {
    if (times !== undefined && times.length !== rows.length) {
      throw new RangeError(`times must give one time per row: ${times.length} times for ${rows.length} rows`);
    }
    const unready = this.forest.pointsUntilReady;
    const raw = this.forest.scoreAndUpdate(rows);
    return Array.from(raw, (score, i) => this.grade(i >= unready, score, rows[i] as number[], times?.[i]));
  }

  private grade(ready: boolean, raw: number, row: readonly number[], time: number | undefined): number {
    const index = this.row++;
    const likelihood = ready ? this.likelihood(raw) : 0;
    const suppressed = index - this.lastDetection <= this.suppression;
    const timed = time !== undefined && Number.isFinite(time);
    const repeat =
      timed &&
      this.recurrence !== undefined &&
      this.recurrence.observe(time, row, raw, !suppressed && likelihood >= RECURRENCE_CHECK_FROM);
    const profile =
      timed && this.seasonal !== undefined
        ? Math.max(...this.seasonal.map((channel, k) => channel.process(time, row[k] as number)))
        : 0;
    if (!ready || suppressed) return 0;
    // Where the daily profile is strong, the time of day is the better judge of a value than a forest
    // that cannot see it: a row within EXPLAINED_WITHIN scales of its time's expectation is not news.
    const explained =
      timed &&
      this.seasonal !== undefined &&
      this.seasonal.every((channel) => channel.explains(EXPLAINED_WITHIN));
    const score = Math.max(repeat || explained ? 0 : likelihood, profile);
    if (score >= this.detectionLevel) this.lastDetection = index;
    return score;
  }

  private likelihood(raw: number): number {
    const recentSlot = this.scored % this.recent.length;
    this.recentSum += raw - (this.recent[recentSlot] as number);
    this.recent[recentSlot] = raw;
    const recentMean = this.recentSum / Math.min(this.scored + 1, this.recent.length);
    const filled = Math.min(this.scored, this.history.length);
    let result = 0;
    if (filled >= MINIMUM_HISTORY) {
      const mean = this.historySum / filled;
      const std = Math.max(Math.sqrt(Math.max(this.historySquares / filled - mean * mean, 0)), 1e-6);
      // HTM's log scale: a tail probability of 1e-10 or less is a certain anomaly.
      result = Math.min(1, Math.max(0, Math.log(normalTail((recentMean - mean) / std)) / Math.log(1e-10)));
    }
    this.remember(raw);
    return result;
  }

  private remember(raw: number): void {
    const slot = this.scored % this.history.length;
    if (this.scored >= this.history.length) {
      const evicted = this.history[slot] as number;
      this.historySum -= evicted;
      this.historySquares -= evicted * evicted;
    }
    this.history[slot] = raw;
    this.historySum += raw;
    this.historySquares += raw * raw;
    this.scored++;
    // Re-add from scratch once per pass over the buffer so rounding cannot accumulate.
    if (slot === this.history.length - 1) {
      this.historySum = 0;
      this.historySquares = 0;
      for (const value of this.history) {
        this.historySum += value;
        this.historySquares += value * value;
      }
    }
  }
}

/** Streams every row (with its time, if given) through a fresh detector; returns the scores in [0, 1]. */
export function detect(
  rows: readonly (readonly number[])[],
  options: DetectorOptions = {},
  times?: readonly (number | undefined)[],
): number[] {
  const first = rows[0];
  if (first === undefined) return [];
  return new StreamingDetector(first.length, options).processAll(rows, times);
}
