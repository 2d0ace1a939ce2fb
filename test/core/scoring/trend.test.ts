import { FEATURE_NAMES, toFeatureVector } from '../../../core/collection/build-record';
import {
  assessTrend,
  mannKendallS,
  mannKendallZ,
  pooledScale,
  selectTrendHistory,
  theilSen,
  TREND_HISTORY,
  TrendPoint,
  trendPointOf,
} from '../../../core/scoring/trend';
import { SeededRandom } from '../../../sagemaker/rcf';
import { buildRecord } from '../../lambda/scorer/fixtures';

const HOUR = 3_600_000;
const MEMORY = FEATURE_NAMES.indexOf('memoryUtilizedPercent');
const BUILD = FEATURE_NAMES.indexOf('buildSeconds');

/** A build every `everyHours` for `days`: memory 50 with noise of sd 2, build time growing 1% a day. */
function history(
  days: number,
  everyHours: number,
  memory: (hour: number) => number = () => 0,
  succeeded = true,
  seed = 1,
): TrendPoint[] {
  const random = new SeededRandom(seed);
  const gaussian = (): number =>
    Math.sqrt(-2 * Math.log(random.nextOpen())) * Math.cos(2 * Math.PI * random.next());
  const points: TrendPoint[] = [];
  for (let hour = 0; hour < days * 24; hour += everyHours) {
    const values = FEATURE_NAMES.map(() => 1);
    values[MEMORY] = 50 + 2 * gaussian() + memory(hour);
    values[BUILD] = 300 * (1 + (0.01 * hour) / 24) + 8 * gaussian();
    points.push({ at: hour * HOUR, values, succeeded });
  }
  return points;
}

describe('theilSen', () => {
  test('recovers a line through outliers', () => {
    const xs = Array.from({ length: 21 }, (_, i) => i);
    const ys = xs.map((x) => 2 * x + 1);
    ys[3] = 100;
    ys[17] = -50;
    expect(theilSen(xs, ys)).toEqual({ slope: 2, intercept: 1 });
  });
});

describe('mannKendallS', () => {
  test('counts concordant minus discordant pairs', () => {
    expect(mannKendallS([1, 2, 3, 4])).toBe(6);
    expect(mannKendallS([4, 3, 2, 1])).toBe(-6);
    expect(mannKendallS([1, 3, 2])).toBe(1);
  });

  test('has the normal approximation with continuity correction', () => {
    // n = 10: variance 10 × 9 × 25 / 18 = 125.
    expect(mannKendallZ(21, 10)).toBeCloseTo(20 / Math.sqrt(125), 12);
    expect(mannKendallZ(-21, 10)).toBeCloseTo(-20 / Math.sqrt(125), 12);
    expect(mannKendallZ(0, 10)).toBe(0);
  });
});

describe('assessTrend', () => {
  test('finds a memory creep within a day of its start', () => {
    // Memory rises 0.4 points an hour from day 20 (about 10 points after a day: a leak's early days).
    const points = history(21, 2, (hour) => (hour >= 20 * 24 ? 0.4 * (hour - 20 * 24) : 0));
    const creepStart = points.findIndex((p) => p.at >= 20 * 24 * HOUR);
    const firstFlag = points.findIndex(
      (p, i) => i >= creepStart && assessTrend(points.slice(0, i), p).length > 0,
    );
    expect(firstFlag).toBeGreaterThan(creepStart);
    expect(points[firstFlag]!.at - points[creepStart]!.at).toBeLessThanOrEqual(24 * HOUR);
    const [finding] = assessTrend(points.slice(0, firstFlag), points[firstFlag]!);
    expect(finding).toMatchObject({ feature: 'memoryUtilizedPercent' });
    expect(finding!.kendallS).toBeGreaterThan(0);
  });

  test('stays quiet on noise and on steady growth (a growing test suite)', () => {
    const options = { features: ['memoryUtilizedPercent', 'buildSeconds'] as const };
    let flagged = 0;
    let tested = 0;
    for (const seed of [1, 2]) {
      const points = history(30, 2, () => 0, true, seed);
      points.forEach((p, i) => {
        tested++;
        if (assessTrend(points.slice(0, i), p, options).length > 0) flagged++;
      });
    }
    expect(tested).toBe(720);
    expect(flagged).toBe(0);
  });

  test('a fall is not a creep', () => {
    const points = history(21, 2, (hour) => (hour >= 20 * 24 ? -0.4 * (hour - 20 * 24) : 0));
    const last = points[points.length - 1]!;
    expect(assessTrend(points.slice(0, -1), last)).toEqual([]);
  });

  test('a level that fell and comes back is not a creep: a falling reference is never extrapolated', () => {
    // Memory falls 0.5 points a day for a fortnight (a significant downward slope), then is back at 50.
    const points = history(15, 2, (hour) => (hour < 14 * 24 ? -0.5 * (hour / 24) : 0));
    const last = points[points.length - 1]!;
    expect(assessTrend(points.slice(0, -1), last)).toEqual([]);
  });

  test('needs a week of reference and enough recent builds', () => {
    const young = history(5, 2, (hour) => (hour >= 4 * 24 ? 1 * (hour - 4 * 24) : 0));
    expect(assessTrend(young.slice(0, -1), young[young.length - 1]!)).toEqual([]);
    const points = history(21, 2, (hour) => (hour >= 20 * 24 ? 1 * (hour - 20 * 24) : 0));
    const last = points[points.length - 1]!;
    expect(assessTrend(points.slice(0, -1), last, { minRecent: 50 })).toEqual([]);
  });

  test('a creep a resize ended is not flagged: the newest build must be above the line', () => {
    const points = history(21, 2, (hour) => (hour >= 20 * 24 ? 0.6 * (hour - 20 * 24) : 0));
    const resized = { ...points[points.length - 1]!, values: points[points.length - 1]!.values.slice() };
    resized.values[MEMORY] = 40;
    expect(assessTrend(points.slice(0, -1), resized, { newestAboveLine: false })).not.toEqual([]);
    expect(assessTrend(points.slice(0, -1), resized)).toEqual([]);
  });

  test('the day before the recent window stays out of the reference', () => {
    // A build every 12 h for 12 days, the last two 12 points up: 20 reference builds only if the gap's
    // day counted.
    const points = history(12, 12, (hour) => (hour >= 11 * 24 ? 12 : 0));
    const last = points[points.length - 1]!;
    const options = { minReference: 20, minReferenceDays: 7, minRecent: 2, minZ: 2, minShift: 1 };
    expect(assessTrend(points.slice(0, -1), last, { ...options, referenceGapHours: 0 })).not.toEqual([]);
    expect(assessTrend(points.slice(0, -1), last, options)).toEqual([]);
  });

  test('ignores failed builds, whose metrics stop early', () => {
    const points = history(21, 2, (hour) => (hour >= 20 * 24 ? 0.6 * (hour - 20 * 24) : 0));
    const failedRecent = points.map((p) => (p.at >= 20 * 24 * HOUR ? { ...p, succeeded: false } : p));
    const last = failedRecent[failedRecent.length - 1]!;
    expect(assessTrend(failedRecent.slice(0, -1), last)).toEqual([]);
  });
});

describe('pooledScale', () => {
  test("widens a reference scale that the recent builds' spread contradicts", () => {
    // 20 reference builds at scale 1; recent deviations spread with sd about 5.
    const pooled = pooledScale(1, 20, [0, 10, -5, 5, 0]);
    expect(pooled).toBeCloseTo(Math.sqrt((19 * 1 + 130) / 23), 12);
  });

  test('keeps the reference scale when the recent builds are as tight or tighter, whatever their level', () => {
    expect(pooledScale(3, 20, [8, 8.5, 9, 9.5, 10])).toBe(3);
  });
});

describe('selectTrendHistory', () => {
  const DAY = 24 * HOUR;
  const at = 30 * DAY + 12 * HOUR;
  /** `perDay` builds a day, one an hour, for the 30 days before `at` (and `at`'s own day up to it). */
  const busy = (perDay: number): TrendPoint[] =>
    Array.from({ length: 31 }, (_, d) =>
      Array.from({ length: perDay }, (_, h) => ({ at: d * DAY + h * HOUR, values: [], succeeded: true })),
    )
      .flat()
      .filter((p) => p.at <= at);

  test('keeps every build of the days a recent window reaches and a dozen spread over each older day', () => {
    const kept = selectTrendHistory(busy(20), at);
    const perDay = (daysAgo: number) => kept.filter((p) => Math.floor(p.at / DAY) === 30 - daysAgo);
    expect(perDay(0)).toHaveLength(13); // hours 0–12 of the scored build's day
    expect(perDay(TREND_HISTORY.recentDays)).toHaveLength(20);
    expect(perDay(TREND_HISTORY.recentDays + 1).map((p) => (p.at % DAY) / HOUR)).toEqual([
      19, 17, 15, 14, 12, 10, 9, 7, 5, 4, 2, 0,
    ]);
    expect(perDay(TREND_HISTORY.days)).toHaveLength(12);
    expect(perDay(TREND_HISTORY.days + 1)).toEqual([]);
  });

  test('keeps everything the test can use of a project that builds a few times a day', () => {
    const points = busy(3).filter((p) => p.at >= at - TREND_HISTORY.days * DAY);
    expect(selectTrendHistory(points, at)).toHaveLength(points.length);
  });

  test('a busy project whose build time follows the time of day raises no creep on an ordinary day', () => {
    // 48 builds a day, build time 300 s ± 30 over the day (fastest at 21:00), the same every day: the
    // newest dozen of each reference day would be its evening builds, faster than the day's average.
    const points = Array.from({ length: 20 * 48 }, (_, i) => {
      const hour = i / 2;
      const values = FEATURE_NAMES.map(() => 1);
      values[BUILD] = 300 - 30 * Math.cos(((hour - 21) / 24) * 2 * Math.PI) + ((i * 7) % 5) - 2;
      return { at: hour * HOUR, values, succeeded: true };
    });
    const lastDay = points.slice(-48).filter((_, i) => i % 4 === 3);
    const flagged = lastDay.filter((current) => {
      const earlier = points.filter((p) => p.at < current.at);
      return (
        assessTrend(selectTrendHistory(earlier, current.at), current, { features: ['buildSeconds'] }).length >
        0
      );
    });
    expect(flagged).toEqual([]);
  });

  test('never gives builds that ended after the scored one', () => {
    expect(selectTrendHistory([{ at: at + 1, values: [], succeeded: true }], at)).toEqual([]);
  });
});

describe('trendPointOf', () => {
  test("is the build's end time, its feature values and whether it succeeded", () => {
    const record = buildRecord({ status: 'FAILED' });
    expect(trendPointOf(record)).toEqual({
      at: Date.parse(record.endTime),
      values: toFeatureVector(record).values,
      succeeded: false,
    });
    expect(trendPointOf(buildRecord()).succeeded).toBe(true);
  });
});
