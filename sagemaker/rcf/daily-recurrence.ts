import { DAY_MS, medianInPlace, timeOrder, validateDayWindow, WEEK_MS } from './daily';

/** How a detection is recognised as the repeat of an event that happens at this time every day or week. */
export interface DailyRecurrenceOptions {
  /** Earlier days looked at, at the same time of day. @default 7 */
  readonly days?: number;
  /** Of those days, how many must have had a like event for this one to be expected. @default 2 */
  readonly minDays?: number;
  /** How far from the same time of day a like event may be, in minutes. @default 60 */
  readonly toleranceMinutes?: number;
  /**
   * Earlier weeks looked at, at the same time of the week (a weekly backup, a Sunday batch); 0 turns
   * the weekly check off. @default 4
   */
  readonly weeks?: number;
  /** Of those weeks, how many must have had a like event for this one to be expected. @default 2 */
  readonly minWeeks?: number;
  /** A like event departed from its local level at least this fraction as far, same side. @default 0.8 */
  readonly departureRatio?: number;
  /** A like event's raw forest score was at least this fraction of the current one. @default 0.75 */
  readonly scoreRatio?: number;
  /** Rows before a row whose median is its local level (what a departure is measured from). @default 12 */
  readonly levelRows?: number;
  /** Rows remembered at most, whatever their spacing: bounds memory for second-by-second series. @default 100000 */
  readonly maxRows?: number;
}

export const DAILY_RECURRENCE_DEFAULTS: Required<DailyRecurrenceOptions> = {
  days: 7,
  minDays: 2,
  toleranceMinutes: 60,
  weeks: 4,
  minWeeks: 2,
  departureRatio: 0.8,
  scoreRatio: 0.75,
  levelRows: 12,
  maxRows: 100_000,
};

/**
 * Remembers each row's time, departure from its local level and raw forest score for a few weeks, and
 * tells whether a row repeats what happened at the same time of day on earlier days (a nightly job's
 * CPU spike, a daily batch's traffic) or at the same time of the week on earlier weeks (a Sunday
 * backup). A forest scores any isolated point about equally high however often such points recur, so
 * without this a daily spike alarms every day and a weekly one every week. A larger departure than on
 * those days, or one at another time, is not a repeat.
 */
export class DailyRecurrence {
  private readonly options: Required<DailyRecurrenceOptions>;
  private readonly dimensions: number;
  private times: Float64Array;
  private scores: Float64Array;
  private departures: Float64Array;
  private start = 0;
  private size = 0;
  private readonly level: number[][];

  constructor(dimensions: number, options: DailyRecurrenceOptions = {}) {
    this.options = { ...DAILY_RECURRENCE_DEFAULTS, ...options };
    const { departureRatio, scoreRatio, levelRows, maxRows, weeks, minWeeks } = this.options;
    validateDayWindow(this.options);
    if (!Number.isInteger(weeks) || weeks < 0) {
      throw new RangeError(`weeks must be a non-negative integer, got ${weeks}`);
    }
    if (weeks > 0 && (!Number.isInteger(minWeeks) || minWeeks < 1 || minWeeks > weeks)) {
      throw new RangeError(`minWeeks must be an integer in [1, weeks], got ${minWeeks}`);
    }
    if (!(departureRatio > 0)) throw new RangeError(`departureRatio must be positive, got ${departureRatio}`);
    if (!(scoreRatio > 0)) throw new RangeError(`scoreRatio must be positive, got ${scoreRatio}`);
    if (!Number.isInteger(levelRows) || levelRows < 1) {
      throw new RangeError(`levelRows must be a positive integer, got ${levelRows}`);
    }
    if (!Number.isInteger(maxRows) || maxRows < 1) {
      throw new RangeError(`maxRows must be a positive integer, got ${maxRows}`);
    }
    this.dimensions = dimensions;
    const capacity = Math.min(1024, maxRows);
    this.times = new Float64Array(capacity);
    this.scores = new Float64Array(capacity);
    this.departures = new Float64Array(capacity * dimensions);
    this.level = Array.from({ length: dimensions }, () => []);
  }

  /**
   * Records a row (every row must be recorded, detected or not) and, when `ask` is set, answers
   * whether it repeats a daily event (asking costs a search of each earlier day; recording does not).
   * Rows should come in time order. A row up to a day earlier than the last one (a clock set back for
   * daylight saving, a late row) is neither recorded nor a repeat; one a day or more earlier forgets
   * everything before it (the series started over), so nothing is matched against the wrong day.
   */
  observe(time: number, values: readonly number[], rawScore: number, ask: boolean): boolean {
    const order = timeOrder(time, this.size > 0 ? this.timeAt(this.size - 1) : undefined);
    if (order === 'late') return false;
    if (order === 'restart') this.size = 0;
    const departure = values.map((value, k) => value - this.levelOf(k, value));
    const recurrent = ask && this.size > 0 && this.recurs(time, departure, rawScore);
    this.remember(time, departure, rawScore);
    values.forEach((value, k) => {
      const window = this.level[k] as number[];
      window.push(value);
      if (window.length > this.options.levelRows) window.shift();
    });
    return recurrent;
  }

  private levelOf(dimension: number, value: number): number {
    const window = this.level[dimension] as number[];
    return window.length === 0 ? value : medianInPlace([...window]);
  }

  private recurs(time: number, departure: readonly number[], rawScore: number): boolean {
    const { days, minDays, weeks, minWeeks } = this.options;
    return (
      this.matchingPeriods(time, DAY_MS, days, minDays, departure, rawScore) ||
      (weeks > 0 && this.matchingPeriods(time, WEEK_MS, weeks, minWeeks, departure, rawScore))
    );
  }

  /** Whether at least `needed` of the last `periods` periods had a like event at this time of the period. */
  private matchingPeriods(
    time: number,
    periodMs: number,
    periods: number,
    needed: number,
    departure: readonly number[],
    rawScore: number,
  ): boolean {
    const { toleranceMinutes, departureRatio, scoreRatio } = this.options;
    const tolerance = toleranceMinutes * 60_000;
    let matching = 0;
    for (let period = 1; period <= periods && matching < needed; period++) {
      // Not enough periods left to reach `needed`: stop early.
      if (matching + (periods - period + 1) < needed) break;
      const centre = time - period * periodMs;
      for (let i = this.firstAtOrAfter(centre - tolerance); i < this.size; i++) {
        if (this.timeAt(i) > centre + tolerance) break;
        if (this.scoreAt(i) >= scoreRatio * rawScore && this.departsAsFar(i, departure, departureRatio)) {
          matching++;
          break;
        }
      }
    }
    return matching >= needed;
  }

  private departsAsFar(index: number, departure: readonly number[], ratio: number): boolean {
    const slot = (this.start + index) % this.times.length;
    return departure.every((now, k) => {
      const then = this.departures[slot * this.dimensions + k] as number;
      return now >= 0 ? then >= ratio * now : then <= ratio * now;
    });
  }

  private remember(time: number, departure: readonly number[], rawScore: number): void {
    const { days, weeks, toleranceMinutes } = this.options;
    const horizon = time - Math.max(days * DAY_MS, weeks * WEEK_MS) - toleranceMinutes * 60_000;
    while (this.size > 0 && this.timeAt(0) < horizon) this.dropOldest();
    if (this.size === this.options.maxRows) this.dropOldest();
    if (this.size === this.times.length) this.grow();
    const slot = (this.start + this.size) % this.times.length;
    this.times[slot] = time;
    this.scores[slot] = rawScore;
    departure.forEach((value, k) => (this.departures[slot * this.dimensions + k] = value));
    this.size++;
  }

  private dropOldest(): void {
    this.start = (this.start + 1) % this.times.length;
    this.size--;
  }

  private grow(): void {
    const capacity = Math.min(this.times.length * 2, this.options.maxRows);
    const times = new Float64Array(capacity);
    const scores = new Float64Array(capacity);
    const departures = new Float64Array(capacity * this.dimensions);
    for (let i = 0; i < this.size; i++) {
      const slot = (this.start + i) % this.times.length;
      times[i] = this.times[slot] as number;
      scores[i] = this.scores[slot] as number;
      departures.set(
        this.departures.subarray(slot * this.dimensions, (slot + 1) * this.dimensions),
        i * this.dimensions,
      );
    }
    this.times = times;
    this.scores = scores;
    this.departures = departures;
    this.start = 0;
  }

  private timeAt(index: number): number {
    return this.times[(this.start + index) % this.times.length] as number;
  }

  private scoreAt(index: number): number {
    return this.scores[(this.start + index) % this.times.length] as number;
  }

  private firstAtOrAfter(time: number): number {
    let low = 0;
    let high = this.size;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.timeAt(middle) < time) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
