/**
 * A project's recent builds from the data lake:
 * - the cold-start baseline, from its most recent `maxBuilds` feature rows of the last `maxDays` days
 *   (`features/project=<p>/date=<d>/<build>.csv`), cached twice so a burst of builds does not re-read
 *   history: in the container's memory and as one S3 object per project
 *   (`scoring/baselines/project=<p>.json`), each for `maxAgeMillis`;
 * - the trend test's points, from the build records `selectTrendHistory` keeps (every build of the last
 *   days, a dozen spread over each day of the two weeks before;
 *   `builds/project=<p>/date=<d>/<build>.json`: end time and status, which the feature rows lack). The
 *   trend needs the builds of the last hours, so nothing is cached but the records themselves, which never
 *   change once written: a warm container reads only the records it has not seen.
 */
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod/mini';

import { parseBuildRecord } from './s3-build-records';
import { getJsonOrNull, getTextOrNull } from './s3-objects';
import { FEATURE_DIMENSION } from '../../core/collection/build-record';
import { computeBaseline, ProjectBaseline } from '../../core/scoring/baseline';
import { ProjectHistory } from '../../core/scoring/score-build';
import {
  selectTrendHistory,
  TREND_HISTORY,
  trendDaySample,
  TrendPoint,
  trendPointOf,
} from '../../core/scoring/trend';
import { logger } from '../shared/powertools';

const DAY_MILLIS = 86_400_000;
/** Past days' listings kept per container: a hundred projects' eighteen days. */
const MAX_CACHED_DAY_LISTINGS = 2_000;

export const BASELINE_CACHE_PREFIX = 'scoring/baselines/';

const cachedBaselineSchema = z.object({
  computedAt: z.number(),
  baseline: z.object({
    projectName: z.string(),
    count: z.int().check(z.nonnegative()),
    median: z.array(z.number()).check(z.length(FEATURE_DIMENSION)),
    mad: z.array(z.number()).check(z.length(FEATURE_DIMENSION)),
  }),
});

export interface S3ProjectHistoryOptions {
  /**
   * Most recent builds a baseline is computed from.
   * @default 100
   */
  readonly maxBuilds?: number;
  /**
   * Days of history looked at, newest first.
   * @default 30
   */
  readonly maxDays?: number;
  /**
   * Age after which a cached baseline is recomputed.
   * @default 3_600_000 (one hour)
   */
  readonly maxAgeMillis?: number;
  /**
   * Build records kept in the container's memory between invocations.
   * @default 5000
   */
  readonly maxCachedRecords?: number;
  /**
   * Objects read in parallel.
   * @default 16
   */
  readonly concurrency?: number;
  readonly now?: () => number;
}

export class S3ProjectHistory implements ProjectHistory {
  private readonly memory = new Map<
    string,
    { readonly computedAt: number; readonly baseline: ProjectBaseline | null }
  >();

  private get maxDays(): number {
    return this.options.maxDays ?? 30;
  }

  /** Trend points by build record key, oldest first (insertion order), bounded by maxCachedRecords. */
  private readonly points = new Map<string, TrendPoint>();
  /** Listings of past days' build records by prefix (see listPastDay). */
  private readonly pastDays = new Map<string, { readonly listedAt: number; readonly keys: string[] }>();

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly options: S3ProjectHistoryOptions = {},
  ) {}

  async baseline(projectName: string, excludingBuildId: string): Promise<ProjectBaseline | null> {
    const now = (this.options.now ?? Date.now)();
    const maxAge = this.options.maxAgeMillis ?? 3_600_000;
    const inMemory = this.memory.get(projectName);
    if (inMemory && now - inMemory.computedAt < maxAge) return inMemory.baseline;

    const cacheKey = baselineCacheKey(projectName);
    const cached = cachedBaselineSchema.safeParse(await getJsonOrNull(this.s3, this.bucket, cacheKey));
    if (cached.success && now - cached.data.computedAt < maxAge) {
      this.memory.set(projectName, cached.data);
      return cached.data.baseline;
    }

    const rows = await this.recentRows(projectName, excludingBuildId, now);
    const baseline = rows.length > 0 ? computeBaseline(projectName, rows) : null;
    this.memory.set(projectName, { computedAt: now, baseline });
    if (baseline) {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: cacheKey,
          ContentType: 'application/json',
          Body: JSON.stringify({ computedAt: now, baseline }),
        }),
      );
    }
    return baseline;
  }

  async recent(projectName: string, excludingBuildId: string, endedAt: Date): Promise<TrendPoint[]> {
    // Listed by the day quota (newest objects first), then selected by end time with the same quota.
    const keys = await this.newestKeys(
      'builds',
      projectName,
      excludingBuildId,
      '.json',
      endedAt.getTime(),
      TREND_HISTORY.days + 1,
      trendDaySample,
    );
    const unseen = keys.filter((key) => !this.points.has(key));
    await this.mapInParallel(unseen, async (key) => {
      // A record deleted since the listing is gone; an invalid one is skipped, and said so. Read errors
      // (throttling, access) propagate: a verdict must not silently lose its trend test.
      const text = await getTextOrNull(this.s3, this.bucket, key);
      if (text === null) return;
      try {
        const record = parseBuildRecord(JSON.parse(text), `s3://${this.bucket}/${key}`);
        this.remember(key, trendPointOf(record));
      } catch (error) {
        logger.warn('build record skipped for the trend test', { key, error: (error as Error).message });
      }
    });
    const points = keys.flatMap((key) => {
      const point = this.points.get(key);
      return point ? [point] : [];
    });
    return selectTrendHistory(points, endedAt.getTime());
  }

  private remember(key: string, point: TrendPoint): void {
    this.points.set(key, point);
    const max = this.options.maxCachedRecords ?? 5000;
    for (const oldest of this.points.keys()) {
      if (this.points.size <= max) break;
      this.points.delete(oldest);
    }
  }

  private async recentRows(projectName: string, excludingBuildId: string, now: number): Promise<number[][]> {
    const maxBuilds = this.options.maxBuilds ?? 100;
    const keys = await this.newestKeys(
      'features',
      projectName,
      excludingBuildId,
      '.csv',
      now,
      this.maxDays,
      (_daysAgo, newestFirst) => newestFirst,
      maxBuilds,
    );
    const rows = await this.mapInParallel(keys, async (key) => {
      const text = await getTextOrNull(this.s3, this.bucket, key);
      // A row deleted since the listing is simply gone; a malformed one is skipped, and said so.
      if (text === null) return undefined;
      const row = parseFeatureRow(text);
      if (!row) logger.warn(`feature row skipped: not ${FEATURE_DIMENSION} numbers`, { key });
      return row;
    });
    return rows.filter((row): row is number[] => row !== undefined);
  }

  /**
   * The project's keys of one kind in the `days` days up to `anchor`'s, without the scored build's: of
   * each day, what `sample` takes of its keys newest first, until `maxKeys` are taken.
   */
  private async newestKeys(
    kind: 'builds' | 'features',
    projectName: string,
    excludingBuildId: string,
    extension: string,
    anchor: number,
    days: number,
    sample: (daysAgo: number, newestFirst: string[]) => string[],
    maxKeys = Infinity,
  ): Promise<string[]> {
    const excluded = `/${encodeKeyPart(excludingBuildId)}${extension}`;
    const keys: string[] = [];
    for (let daysAgo = 0; daysAgo < days && keys.length < maxKeys; daysAgo++) {
      const date = new Date(anchor - daysAgo * DAY_MILLIS).toISOString().slice(0, 10);
      const prefix = `${kind}/project=${encodeKeyPart(projectName)}/date=${date}/`;
      const dayKeys =
        kind === 'builds' && daysAgo >= 2
          ? await this.listPastDay(prefix)
          : await this.listNewestFirst(prefix);
      const usable = dayKeys.filter((key) => key.endsWith(extension) && !key.endsWith(excluded));
      keys.push(...sample(daysAgo, usable).slice(0, maxKeys - keys.length));
    }
    return keys;
  }

  /** `read` of every key, `concurrency` at a time, in the keys' order. */
  private async mapInParallel<T>(keys: readonly string[], read: (key: string) => Promise<T>): Promise<T[]> {
    const concurrency = this.options.concurrency ?? 16;
    const results: T[] = [];
    for (let start = 0; start < keys.length; start += concurrency) {
      results.push(...(await Promise.all(keys.slice(start, start + concurrency).map(read))));
    }
    return results;
  }

  /**
   * A day that ended at least a day ago gets a late build only rarely, and one more or less in a two-week
   * reference changes nothing: its listing is reused for a day, so a warm scorer lists the two days a
   * recent window changes, not all eighteen.
   */
  private async listPastDay(prefix: string): Promise<string[]> {
    const now = (this.options.now ?? Date.now)();
    const cached = this.pastDays.get(prefix);
    if (cached && now - cached.listedAt < DAY_MILLIS) return cached.keys;
    // No day's quota is above recentPerDay: the rest of a busy day's listing is never used.
    const keys = (await this.listNewestFirst(prefix)).slice(0, TREND_HISTORY.recentPerDay);
    this.pastDays.delete(prefix);
    this.pastDays.set(prefix, { listedAt: now, keys });
    for (const oldest of this.pastDays.keys()) {
      if (this.pastDays.size <= MAX_CACHED_DAY_LISTINGS) break;
      this.pastDays.delete(oldest);
    }
    return keys;
  }

  private async listNewestFirst(prefix: string): Promise<string[]> {
    const objects: { key: string; modified: number }[] = [];
    let continuationToken: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix,
          ContinuationToken: continuationToken,
        }),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key) objects.push({ key: object.Key, modified: object.LastModified?.getTime() ?? 0 });
      }
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (continuationToken);
    return objects.sort((a, b) => b.modified - a.modified).map((object) => object.key);
  }
}

export function baselineCacheKey(projectName: string): string {
  return `${BASELINE_CACHE_PREFIX}project=${encodeKeyPart(projectName)}.json`;
}

/** One feature row (`toCsvRow`); a row of the wrong width or with non-numbers is skipped, not guessed. */
export function parseFeatureRow(text: string): number[] | undefined {
  const values = text.trim().split(',').map(Number);
  return values.length === FEATURE_DIMENSION && values.every(Number.isFinite) ? values : undefined;
}

/** Same encoding as the data lake's keys (build-record.ts). */
function encodeKeyPart(value: string): string {
  return value.replace(/\//g, '%2F');
}
