/**
 * Trend signal for slow creeps in build metrics (memory, duration, queue time), pure: no SDK, no clock.
 *
 * A creep (memory leaking towards the limit, a build slowing down by a few percent a day) stays inside
 * one build's normal range for days, so a per-build score misses it until it is severe. This test looks
 * at the project's builds of the last day instead:
 * 1. reference: the project's successful builds from `referenceDays` before the recent window up to
 *    `referenceGapHours` before it (a creep's first day, too small to flag, must not raise the level
 *    it is then tested against); a Theil–Sen line through them (robust to outliers) is the expected
 *    level, so the slow growth a growing test suite causes is extrapolated, not alarmed on; the scale
 *    is the MAD of the reference's residuals around that line (floored), pooled with the recent
 *    builds' own spread where that is wider (a MAD from a few dozen builds can come out far too low);
 * 2. recent: the successful builds of the last `windowHours` and the current one, as residuals from
 *    the extrapolated line in units of that scale;
 * 3. a creep is a rise that is significant (mean residual × √n ≥ `minZ`), large (mean residual ≥
 *    `minShift` scales above the reference line, i.e. above the growth the project already had),
 *    rising (Mann–Kendall S > 0 over the recent builds in time order, so one odd build is not a trend)
 *    and still there: the newest build of the window is above the line (a creep a resize ended is over).
 * A project that builds rarely gets its last `minRecent` builds as the recent window, at most
 * `maxWindowHours` back; the reference must hold `minReference` builds over `minReferenceDays`.
 * Only rises count: a build that uses less memory or time than expected is not a creep.
 */
import {
  BuildRecord,
  FEATURE_NAMES,
  FeatureName,
  FeatureVector,
  toFeatureVector,
} from '../collection/build-record';

/** One build of the project as the trend test sees it. */
export interface TrendPoint {
  /** When the build ended, epoch milliseconds. */
  readonly at: number;
  /** Feature values in FEATURE_NAMES order. */
  readonly values: readonly number[];
  /** Failed builds stop early: their durations and memory are not comparable, so they are left out. */
  readonly succeeded: boolean;
}

/** A build as the trend test sees it; `vector` when the caller has it already. */
export function trendPointOf(
  record: BuildRecord,
  vector: FeatureVector = toFeatureVector(record),
): TrendPoint {
  return { at: Date.parse(record.endTime), values: vector.values, succeeded: record.status === 'SUCCEEDED' };
}

export interface TrendFinding {
  readonly feature: TrendFeature;
  /** Mean residual of the recent builds above the extrapolated level, in robust scales. */
  readonly shift: number;
  /** shift × √builds. */
  readonly z: number;
  /** Mann–Kendall S of the recent residuals (positive: rising). */
  readonly kendallS: number;
  /** Recent builds tested (the current one included). */
  readonly builds: number;
  /** Expected value at the current build's time (the reference line) and the recent mean. */
  readonly expected: number;
  readonly recentMean: number;
}

/**
 * Absolute scale floors, as in the baseline (a constant feature must not make every change infinite):
 * the features the test can follow, whose creeps are a problem (memory towards the limit, builds and
 * queues slowing down).
 */
const ABSOLUTE_FLOOR = {
  memoryUtilizedPercent: 1,
  buildSeconds: 3,
  durationSeconds: 3,
  queuedSeconds: 2,
} as const satisfies Partial<Record<FeatureName, number>>;

export type TrendFeature = keyof typeof ABSOLUTE_FLOOR;

export const TREND_FEATURES = Object.keys(ABSOLUTE_FLOOR) as [TrendFeature, ...TrendFeature[]];

export interface TrendOptions {
  /**
   * Features tested. @default memory only: on the replay's four histories, build and pipeline duration
   * add 2–8 false alarms each and queue time 12–35 (it follows the time of day), and none finds a build
   * memory misses (docs/detection.md); pass them explicitly where they creep.
   */
  readonly features?: readonly TrendFeature[];
  /** Recent window, hours. @default 24 */
  readonly windowHours?: number;
  /** Reference window, days before the recent window. @default 14 */
  readonly referenceDays?: number;
  /**
   * Hours between the reference's end and the recent window's start: a creep's first day, before it is
   * significant, stays out of the reference (where it would raise the level and, through a significant
   * slope, the extrapolated line). @default 24
   */
  readonly referenceGapHours?: number;
  /**
   * Pool the reference scale with the recent builds' own spread (around their mean) where that is wider.
   * @default true
   */
  readonly poolRecentSpread?: boolean;
  /** The newest build of the recent window must be above the line. @default true */
  readonly newestAboveLine?: boolean;
  /** Reference builds needed. @default 20 */
  readonly minReference?: number;
  /** Days the reference must span, so its line is not a day's noise extrapolated. @default 7 */
  readonly minReferenceDays?: number;
  /** Hours the recent window may stretch back to find minRecent builds of a project that builds rarely. @default 72 */
  readonly maxWindowHours?: number;
  /** Recent builds needed (the current one included). @default 5 */
  readonly minRecent?: number;
  /** Mean residual needed, in robust scales. @default 1.2 */
  readonly minShift?: number;
  /** shift × √n needed. @default 4 */
  readonly minZ?: number;
  /** Scale floor relative to the expected level (durations vary in proportion to their size). @default 0.02 */
  readonly relativeFloor?: number;
}

export const TREND_DEFAULTS = {
  features: ['memoryUtilizedPercent'] as readonly TrendFeature[],
  windowHours: 24,
  referenceDays: 14,
  referenceGapHours: 24,
  poolRecentSpread: true as boolean,
  newestAboveLine: true as boolean,
  minReference: 20,
  minReferenceDays: 7,
  maxWindowHours: 72,
  minRecent: 5,
  minShift: 1.2,
  minZ: 4,
  relativeFloor: 0.02,
} as const;

/**
 * Which of the project's builds the scorer gives the trend test, by calendar day (UTC) before the scored
 * build's: every build of the days a recent window can reach (`recentDays`, up to `recentPerDay` a day,
 * newest first) and `referencePerDay` of each older day up to `days` back, spread over the day. A busy
 * project thus keeps a full recent window and two weeks of reference at a bounded cost (at most 4 × 250 +
 * 13 × 12 builds); a project building a few times a day keeps everything the test can use.
 */
export const TREND_HISTORY = {
  days: TREND_DEFAULTS.referenceDays + Math.ceil(TREND_DEFAULTS.maxWindowHours / 24),
  recentDays: Math.ceil(TREND_DEFAULTS.maxWindowHours / 24),
  recentPerDay: 250,
  referencePerDay: 12,
} as const;

/** How many builds of the day `daysAgo` calendar days before the scored build's the trend test gets. */
export function trendDayQuota(daysAgo: number): number {
  if (daysAgo < 0 || daysAgo > TREND_HISTORY.days) return 0;
  return daysAgo <= TREND_HISTORY.recentDays ? TREND_HISTORY.recentPerDay : TREND_HISTORY.referencePerDay;
}

/** Calendar days (UTC) between two instants' days. */
export function utcDaysBetween(earlier: number, later: number): number {
  return Math.floor(later / DAY_MS) - Math.floor(earlier / DAY_MS);
}

/**
 * What the trend test keeps of one day's builds (given newest first), `trendDayQuota` of them: the newest
 * of a day a recent window can reach (it needs the last hours), and of an older day builds spread evenly
 * over it. The newest dozen of a busy project's day would all be its evening builds, and durations and
 * queues follow the time of day: a reference of evenings would make every working day look slow.
 */
export function trendDaySample<T>(daysAgo: number, newestFirst: readonly T[]): T[] {
  const quota = trendDayQuota(daysAgo);
  if (newestFirst.length <= quota || daysAgo <= TREND_HISTORY.recentDays) return newestFirst.slice(0, quota);
  return Array.from(
    { length: quota },
    (_, i) => newestFirst[Math.floor(((i + 0.5) * newestFirst.length) / quota)] as T,
  );
}

/** The builds of `points` (any order) the trend test gets for a build ending at `at`: `trendDaySample` of each day. */
export function selectTrendHistory(points: readonly TrendPoint[], at: number): TrendPoint[] {
  const days = new Map<number, TrendPoint[]>();
  for (const point of points.filter((p) => p.at <= at).sort((a, b) => b.at - a.at)) {
    const daysAgo = utcDaysBetween(point.at, at);
    const day = days.get(daysAgo);
    if (day) day.push(point);
    else days.set(daysAgo, [point]);
  }
  // Map order is insertion order: newest day first, so the result stays newest first.
  return [...days].flatMap(([daysAgo, newestFirst]) => trendDaySample(daysAgo, newestFirst));
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const MAD_TO_SIGMA = 1.4826;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Theil–Sen line through (x, y): the median of pairwise slopes and the median intercept. At most
 * `maxPairs` pairs are used (evenly strided), so a long history stays cheap.
 */
export function theilSen(
  xs: readonly number[],
  ys: readonly number[],
  maxPairs = 5000,
): { slope: number; intercept: number } {
  const n = xs.length;
  if (n === 0) return { slope: 0, intercept: 0 };
  const slopes: number[] = [];
  const pairs = (n * (n - 1)) / 2;
  const stride = Math.max(1, Math.floor(pairs / maxPairs));
  let k = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++, k++) {
      if (k % stride !== 0) continue;
      const dx = xs[j]! - xs[i]!;
      if (dx !== 0) slopes.push((ys[j]! - ys[i]!) / dx);
    }
  }
  const slope = slopes.length > 0 ? median(slopes) : 0;
  const intercept = median(ys.map((y, i) => y - slope * xs[i]!));
  return { slope, intercept };
}

/**
 * The reference scale pooled with the recent deviations' spread around their own mean (degrees of
 * freedom as weights), where that is wider: the reference's MAD of a few dozen builds can come out far
 * below the project's real noise by chance, and the recent builds then show it. A creep moves the recent
 * builds' level, not their spread, so the pooled scale stays the reference's.
 */
export function pooledScale(
  referenceScale: number,
  referenceBuilds: number,
  recentDeviations: readonly number[],
): number {
  const n = recentDeviations.length;
  if (n < 2 || referenceBuilds < 2) return referenceScale;
  const mean = recentDeviations.reduce((sum, d) => sum + d, 0) / n;
  const squares = recentDeviations.reduce((sum, d) => sum + (d - mean) ** 2, 0);
  const pooled = Math.sqrt(
    ((referenceBuilds - 1) * referenceScale * referenceScale + squares) / (referenceBuilds - 1 + n - 1),
  );
  return Math.max(referenceScale, pooled);
}

/** Mann–Kendall S: concordant minus discordant pairs of a sequence in time order. */
export function mannKendallS(values: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) {
    for (let j = i + 1; j < values.length; j++) s += Math.sign(values[j]! - values[i]!);
  }
  return s;
}

/** Normal approximation of Mann–Kendall's S (no tie correction). */
export function mannKendallZ(s: number, n: number): number {
  const variance = (n * (n - 1) * (2 * n + 5)) / 18;
  if (variance <= 0) return 0;
  return s === 0 ? 0 : (s - Math.sign(s)) / Math.sqrt(variance);
}

/**
 * The trend findings for the current build given the project's earlier builds (any order; the build
 * itself excluded). Empty when nothing creeps or the history is too short to tell.
 */
export function assessTrend(
  history: readonly TrendPoint[],
  current: TrendPoint,
  options: TrendOptions = {},
): TrendFinding[] {
  const o = { ...TREND_DEFAULTS, ...options };
  const windowStart = current.at - o.windowHours * HOUR_MS;
  const usable = history.filter((p) => p.succeeded && p.at <= current.at);
  usable.sort((a, b) => a.at - b.at);
  if (current.succeeded) usable.push(current);
  // The recent window: the last windowHours, or the last minRecent builds of a project that builds rarely.
  let first = usable.findIndex((p) => p.at >= windowStart);
  if (first < 0) first = usable.length;
  first = Math.max(0, Math.min(first, usable.length - o.minRecent));
  const recent = usable.slice(first);
  const referenceEnd = recent[0]?.at ?? windowStart;
  if (referenceEnd < current.at - o.maxWindowHours * HOUR_MS) return [];
  const gapStart = referenceEnd - o.referenceGapHours * HOUR_MS;
  const reference = usable
    .slice(0, first)
    .filter((p) => p.at >= referenceEnd - o.referenceDays * DAY_MS && p.at < gapStart);
  if (reference.length < o.minReference || recent.length < o.minRecent) return [];
  if ((reference[0]?.at ?? referenceEnd) > referenceEnd - o.minReferenceDays * DAY_MS) return [];
  const findings: TrendFinding[] = [];
  for (const feature of o.features) {
    const f = FEATURE_NAMES.indexOf(feature);
    // Time in days from the window start keeps the regression well conditioned.
    const xs = reference.map((p) => (p.at - windowStart) / DAY_MS);
    const ys = reference.map((p) => p.values[f] ?? 0);
    // The reference's own growth (a growing test suite) is extrapolated only where it is significant
    // (Mann–Kendall z ≥ 1.96): a noisy slope extrapolated over a day would invent or hide a creep. A
    // falling level is never extrapolated: only rises count, and a dip that ends would look like one.
    const fitted = theilSen(xs, ys);
    const line =
      mannKendallZ(mannKendallS(ys), ys.length) >= 1.96 && fitted.slope > 0
        ? fitted
        : { slope: 0, intercept: median(ys) };
    const expectedAt = (at: number): number => line.intercept + line.slope * ((at - windowStart) / DAY_MS);
    const referenceResiduals = ys.map((y, i) => y - (line.intercept + line.slope * xs[i]!));
    const expected = expectedAt(current.at);
    const referenceScale = Math.max(
      median(referenceResiduals.map(Math.abs)) * MAD_TO_SIGMA,
      ABSOLUTE_FLOOR[feature],
      Math.abs(expected) * o.relativeFloor,
    );
    const deviations = recent.map((p) => (p.values[f] ?? 0) - expectedAt(p.at));
    const scale = o.poolRecentSpread
      ? pooledScale(referenceScale, reference.length, deviations)
      : referenceScale;
    const residuals = deviations.map((d) => d / scale);
    const shift = residuals.reduce((sum, r) => sum + r, 0) / residuals.length;
    const z = shift * Math.sqrt(residuals.length);
    if (shift < o.minShift || z < o.minZ) continue;
    if (o.newestAboveLine && !(residuals[residuals.length - 1]! > 0)) continue;
    const kendallS = mannKendallS(recent.map((p) => p.values[f] ?? 0));
    if (kendallS <= 0) continue;
    findings.push({
      feature,
      shift,
      z,
      kendallS,
      builds: residuals.length,
      expected,
      recentMean: recent.reduce((sum, p) => sum + (p.values[f] ?? 0), 0) / recent.length,
    });
  }
  return findings.sort((a, b) => b.z - a.z);
}
