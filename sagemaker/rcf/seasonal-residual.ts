import { DAY_MS, medianInPlace, timeOrder, validateDayWindow, WEEK_MS } from './daily';
import { normalTail } from './normal';

/** How the daily-profile channel compares a row with the same time on earlier days. */
export interface SeasonalResidualOptions {
  /** Earlier days whose value at the same time forms the expectation. @default 7 */
  readonly days?: number;
  /** Of those, how many must have a row near the same time for an expectation. @default 3 */
  readonly minDays?: number;
  /** How far from the same time of day an earlier row may be, in minutes. @default 5 */
  readonly toleranceMinutes?: number;
  /**
   * Share of the series' variation the daily profile must explain (1 − mean |seasonal residual| /
   * mean |departure from the last day's median|) before the channel scores at all. @default 0.5
   */
  readonly minStrength?: number;
  /**
   * Consecutive rows weighed together: k rows (2 ≤ k ≤ this) at least z scales off score as the
   * probability (2·tail(z))^k on the scale of this many rows. A missing daily phase lasts; one row is
   * the forest's business. @default 6
   */
  readonly persistRows?: number;
  /** Rows whose residuals give the channel's scale and strength. @default 2016 */
  readonly scaleRows?: number;
  /**
   * Score from which the channel has raised an alarm (the detector passes its detection level). It
   * then scores 0 until the mean of its last `persistRows` residuals is back within 1 scale, so a
   * lasting departure (a new level, a day-long outage) alarms once, not again after every suppression.
   * @default 0.5
   */
  readonly alarmLevel?: number;
}

export const SEASONAL_RESIDUAL_DEFAULTS: Required<SeasonalResidualOptions> = {
  days: 7,
  minDays: 3,
  toleranceMinutes: 5,
  minStrength: 0.5,
  persistRows: 6,
  scaleRows: 2016,
  alarmLevel: 0.5,
};

/**
 * An alarm's episode ends when the mean of the last `persistRows` signed residuals is within this many
 * of the alarm's scales: back on the profile on average, not just at the daily trough, where a new
 * level that scales the series (a quarter less traffic) departs least.
 */
const BACK_ON_PROFILE = 1;

/** Fewer consecutive rows than this are not evidence for this channel, however far off. */
const MINIMUM_JOINT_ROWS = 2;

/** Residuals needed before the scale and strength mean anything: a day of 5-minute rows. */
const MINIMUM_RESIDUALS = 288;

/**
 * A second channel beside the forest, for series with a strong daily profile: each row's value against
 * the nearer of the median of the values at the same time on the last days (a seasonal-naive
 * forecast) and the value at the same time a week earlier (a quiet weekend). A forest sees values,
 * not when they happen, so a daily rise that does not come (a morning ramp, a nightly batch that did
 * not run) or a drop to the night level at noon is, to it, an ordinary value. The scale is the larger
 * of the residuals' spread overall and at this time of day. Series whose daily profile explains little
 * of their variation (`minStrength`) get no score from this channel, so it adds nothing to noise.
 * The score is in [0, 1] on the detector's scale: a tail probability of 1e-10 is 1.
 */
export class SeasonalResidual {
  private readonly options: Required<SeasonalResidualOptions>;
  private readonly times: number[] = [];
  private readonly values: number[] = [];
  /** Each remembered row's absolute residual (NaN where it had no expectation). */
  private readonly pastResiduals: number[] = [];
  /** Rows before `head` have left the days kept; they are cut off in blocks, not one by one. */
  private head = 0;
  private readonly lastDay: SortedWindow = new SortedWindow();
  private readonly absResiduals: SortedWindow = new SortedWindow();
  private readonly recent: { residual: number; departure: number }[] = [];
  private residualSum = 0;
  private departureSum = 0;
  private readonly zs: number[] = [];
  private readonly residuals: number[] = [];
  /** The last row's residual in scales while the channel was scoring; undefined otherwise. */
  private lastZ: number | undefined;
  /** The latest scale of the residuals. */
  private scale = 0;
  /** The scale when the channel alarmed, until the series has come back to its profile. */
  private alarmScale: number | undefined;

  constructor(options: SeasonalResidualOptions = {}) {
    this.options = { ...SEASONAL_RESIDUAL_DEFAULTS, ...options };
    const { minStrength, persistRows, scaleRows, alarmLevel } = this.options;
    validateDayWindow(this.options);
    if (!(minStrength >= 0 && minStrength < 1)) {
      throw new RangeError(`minStrength must be in [0, 1), got ${minStrength}`);
    }
    if (!Number.isInteger(persistRows) || persistRows < MINIMUM_JOINT_ROWS) {
      throw new RangeError(
        `persistRows must be an integer of at least ${MINIMUM_JOINT_ROWS}, got ${persistRows}`,
      );
    }
    if (!Number.isInteger(scaleRows) || scaleRows < MINIMUM_RESIDUALS) {
      throw new RangeError(`scaleRows must be an integer of at least ${MINIMUM_RESIDUALS}, got ${scaleRows}`);
    }
    if (!(alarmLevel > 0 && alarmLevel <= 1)) {
      throw new RangeError(`alarmLevel must be in (0, 1], got ${alarmLevel}`);
    }
  }

  /**
   * Scores a row then remembers it. Rows should come in time order: a row up to a day earlier than
   * the last one (a clock set back for daylight saving, a late row) scores 0 and is not remembered; one
   * a day or more earlier forgets everything (the series started over).
   */
  process(time: number, value: number): number {
    const order = timeOrder(time, this.times[this.times.length - 1]);
    if (order === 'late') {
      this.lastZ = undefined;
      return 0;
    }
    if (order === 'restart') this.reset();
    const { z, signed } = this.measure(time, value);
    this.zs.push(z);
    this.residuals.push(signed);
    if (this.zs.length > this.options.persistRows) {
      this.zs.shift();
      this.residuals.shift();
    }
    this.remember(time, value, Math.abs(signed));
    const full = this.zs.length === this.options.persistRows;
    if (this.alarmScale !== undefined) {
      // Measured against the scale of the alarm: a new level widens the scale as it lasts, and
      // would otherwise end its own episode before the days have caught up with it.
      if (full && Math.abs(mean(this.residuals)) < BACK_ON_PROFILE * this.alarmScale)
        this.alarmScale = undefined;
      return 0;
    }
    const score = this.jointScore();
    if (score >= this.options.alarmLevel) this.alarmScale = this.scale;
    return score;
  }

  /**
   * The evidence of the last rows together: k consecutive rows at least z scales off would all be
   * that far with probability (2·tail(z))^k, scored on the scale of `persistRows` rows, so 6 rows
   * need z ≥ 4.4 to reach 0.5, 3 rows 6.4 and 2 rows 8. One row is the forest's business.
   */
  private jointScore(): number {
    const { persistRows } = this.options;
    let best = 0;
    let lowest = Infinity;
    for (let k = 1; k <= this.zs.length; k++) {
      lowest = Math.min(lowest, this.zs[this.zs.length - k] as number);
      if (!(lowest > 0)) break;
      if (k < MINIMUM_JOINT_ROWS) continue;
      const evidence = (k * Math.log(2 * normalTail(lowest))) / (persistRows * Math.log(1e-10));
      best = Math.max(best, evidence);
    }
    return Math.min(1, best);
  }

  /**
   * Whether the channel was scoring the last row processed and found it within `scales` of what its
   * time of day (or of the week) predicts.
   */
  explains(scales: number): boolean {
    return this.lastZ !== undefined && this.lastZ < scales;
  }

  /**
   * The row's signed residual from the nearer expectation (NaN without one) and its z (0 while the
   * channel is not scoring).
   */
  private measure(time: number, value: number): { z: number; signed: number } {
    this.lastZ = undefined;
    const expectation = this.expectedAt(time);
    if (expectation === undefined || this.lastDay.size < 12) return { z: 0, signed: Number.NaN };
    const { expected, spread } = expectation;
    // A weekly rhythm (a quiet weekend) is not news: the residual is against whichever expectation
    // is nearer, the daily profile or the same time a week earlier.
    const lastWeekIndex = this.indexNear(time - WEEK_MS);
    const daily = value - expected;
    const weekly = lastWeekIndex < 0 ? Infinity : value - (this.values[lastWeekIndex] as number);
    const signed = Math.abs(weekly) < Math.abs(daily) ? weekly : daily;
    const residual = Math.abs(signed);
    const departure = Math.abs(value - this.lastDay.median());
    let z = 0;
    if (this.absResiduals.size >= MINIMUM_RESIDUALS) {
      const strength = 1 - this.residualSum / Math.max(this.departureSum, Number.MIN_VALUE);
      // The residuals' spread at this time of day too: a nightly batch varies by megabytes in a series
      // that is otherwise exactly 0, whose median residual is 0.
      this.scale = Math.max(1.4826 * this.absResiduals.median(), spread, 1e-9);
      if (strength >= this.options.minStrength) {
        z = residual / this.scale;
        this.lastZ = z;
      }
    }
    this.recent.push({ residual, departure });
    this.absResiduals.add(residual);
    this.residualSum += residual;
    this.departureSum += departure;
    if (this.recent.length > this.options.scaleRows) {
      const old = this.recent.shift() as { residual: number; departure: number };
      this.absResiduals.remove(old.residual);
      this.residualSum -= old.residual;
      this.departureSum -= old.departure;
    }
    return { z, signed };
  }

  /** The index of the remembered row nearest `target` if it is within the tolerance, else -1. */
  private indexNear(target: number): number {
    const index = nearest(this.times, target, this.head);
    if (index < 0) return -1;
    return Math.abs((this.times[index] as number) - target) <= this.options.toleranceMinutes * 60_000
      ? index
      : -1;
  }

  /**
   * The median of the values nearest the same time on each earlier day, if enough days have one, and
   * the spread of those rows' own residuals (1.4826 × their median; 0 when none had one).
   */
  private expectedAt(time: number): { expected: number; spread: number } | undefined {
    const earlier: number[] = [];
    const residuals: number[] = [];
    for (let day = 1; day <= this.options.days; day++) {
      const index = this.indexNear(time - day * DAY_MS);
      if (index < 0) continue;
      earlier.push(this.values[index] as number);
      const residual = this.pastResiduals[index] as number;
      if (!Number.isNaN(residual)) residuals.push(residual);
    }
    if (earlier.length < this.options.minDays) return undefined;
    const spread = residuals.length > 0 ? 1.4826 * medianInPlace(residuals) : 0;
    return { expected: medianInPlace(earlier), spread };
  }

  private remember(time: number, value: number, residual: number): void {
    this.times.push(time);
    this.values.push(value);
    this.pastResiduals.push(residual);
    this.lastDay.add(value);
    // Keep the days the expectation reaches back to, and the last day's values for the departure.
    const horizon =
      time - Math.max(this.options.days * DAY_MS, WEEK_MS) - this.options.toleranceMinutes * 60_000;
    while (this.head < this.times.length && (this.times[this.head] as number) < horizon) this.head++;
    if (this.head >= 4096 && 2 * this.head >= this.times.length) {
      this.times.splice(0, this.head);
      this.values.splice(0, this.head);
      this.pastResiduals.splice(0, this.head);
      this.head = 0;
    }
    this.lastDay.trimBefore(time - DAY_MS, this.times, this.values);
  }

  private reset(): void {
    this.head = 0;
    this.times.length = 0;
    this.values.length = 0;
    this.pastResiduals.length = 0;
    this.lastDay.clear();
    this.absResiduals.clear();
    this.recent.length = 0;
    this.residualSum = 0;
    this.departureSum = 0;
    this.zs.length = 0;
    this.residuals.length = 0;
    this.scale = 0;
    this.alarmScale = undefined;
  }
}

/** The mean of `values` (NaN when any is NaN). */
function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** Index of the time nearest `target` in ascending `times` from `head` on, or -1 when there are none. */
function nearest(times: readonly number[], target: number, head: number): number {
  if (head >= times.length) return -1;
  let low = head;
  let high = times.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((times[middle] as number) < target) low = middle + 1;
    else high = middle;
  }
  if (low === times.length) return times.length - 1;
  if (low > head && target - (times[low - 1] as number) <= (times[low] as number) - target) return low - 1;
  return low;
}

/** A multiset of numbers kept sorted: insert, remove and median in O(n) moves, O(log n) search. */
class SortedWindow {
  private readonly sorted: number[] = [];

  get size(): number {
    return this.sorted.length;
  }

  add(value: number): void {
    this.sorted.splice(this.lowerBound(value), 0, value);
  }

  remove(value: number): void {
    const index = this.lowerBound(value);
    if (this.sorted[index] === value) this.sorted.splice(index, 1);
  }

  /** Upper median (the value at half the size): what the channel was measured with. */
  median(): number {
    return this.sorted[this.sorted.length >> 1] as number;
  }

  /** Removes the values of rows older than `cutoff`, given the rows remembered in time order. */
  trimBefore(cutoff: number, times: readonly number[], values: readonly number[]): void {
    // The last day's window holds the newest `size` rows of `times`/`values`.
    const first = times.length - this.sorted.length;
    let index = Math.max(first, 0);
    while (index < times.length && (times[index] as number) < cutoff) {
      this.remove(values[index] as number);
      index++;
    }
  }

  clear(): void {
    this.sorted.length = 0;
  }

  private lowerBound(value: number): number {
    let low = 0;
    let high = this.sorted.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((this.sorted[middle] as number) < value) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
