/** What the detector's two daily channels share: the length of a day, their day-window options, medians. */

export const DAY_MS = 86_400_000;
export const WEEK_MS = 7 * DAY_MS;

/**
 * Where a row's time stands against the last row's: `late` when it is earlier by less than a day (a
 * clock set back for daylight saving, a row that arrived late), which the daily channels skip;
 * `restart` when it is a day or more earlier (the series started over), which makes them forget.
 */
export function timeOrder(time: number, last: number | undefined): 'in-order' | 'late' | 'restart' {
  if (last === undefined || time >= last) return 'in-order';
  return last - time < DAY_MS ? 'late' : 'restart';
}

/** Checks the options both daily channels take: how many earlier days, how many must agree, how near. */
export function validateDayWindow({
  days,
  minDays,
  toleranceMinutes,
}: {
  readonly days: number;
  readonly minDays: number;
  readonly toleranceMinutes: number;
}): void {
  if (!Number.isInteger(days) || days < 1)
    throw new RangeError(`days must be a positive integer, got ${days}`);
  if (!Number.isInteger(minDays) || minDays < 1 || minDays > days) {
    throw new RangeError(`minDays must be an integer in [1, days], got ${minDays}`);
  }
  if (!(toleranceMinutes >= 0 && toleranceMinutes < 720)) {
    throw new RangeError(`toleranceMinutes must be in [0, 720), got ${toleranceMinutes}`);
  }
}

/** The median of `values` (the mean of the middle two for an even count); sorts `values` in place. */
export function medianInPlace(values: number[]): number {
  values.sort((a, b) => a - b);
  const middle = values.length >> 1;
  return values.length % 2 === 1
    ? (values[middle] as number)
    : ((values[middle - 1] as number) + (values[middle] as number)) / 2;
}
