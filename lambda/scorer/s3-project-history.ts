/**
 * A project's recent builds from the data lake, bounded to the last `maxDays` days:
 * - the cold-start baseline, from its most recent `maxBuilds` feature rows
 *   (`features/project=<p>/date=<d>/<build>.csv`), cached twice so a burst of builds does not re-read
 *   history: in the container's memory and as one S3 object per project
 *   (`scoring/baselines/project=<p>.json`), each for `maxAgeMillis`;
 * - the trend test's points, from its most recent `trendBuilds` build records of the last 17 days at most
 *   (the test's reference and longest window; `builds/project=<p>/date=<d>/<build>.json`: end time and
 *   status, which the feature rows lack). The
 *   trend needs the builds of the last hours, so nothing is cached but the records themselves, which never
 *   change once written: a warm container reads only the records it has not seen.
 */
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod/mini';

import { parseBuildRecord } from './s3-build-records';
import { getJsonOrNull, getTextOrNull } from './s3-objects';
import { FEATURE_DIMENSION, toFeatureVector } from '../../core/collection/build-record';
import { computeBaseline, ProjectBaseline } from '../../core/scoring/baseline';
import { ProjectHistory } from '../../core/scoring/score-build';
import { TREND_DEFAULTS, TREND_HISTORY_BUILDS, TrendPoint } from '../../core/scoring/trend';
import { logger } from '../shared/powertools';

const DAY_MILLIS = 86_400_000;

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
   * Most recent build records the trend test is given.
   * @default TREND_HISTORY_BUILDS (100)
   */
  readonly trendBuilds?: number;
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

  async recent(projectName: string, excludingBuildId: string): Promise<TrendPoint[]> {
    const now = (this.options.now ?? Date.now)();
    const maxBuilds = this.options.trendBuilds ?? TREND_HISTORY_BUILDS;
    // The trend test looks back at most its reference and its longest recent window: older days are not listed.
    const days = Math.min(
      this.maxDays,
      TREND_DEFAULTS.referenceDays + Math.ceil(TREND_DEFAULTS.maxWindowHours / 24),
    );
    const keys = await this.newestKeys(
      'builds',
      projectName,
      excludingBuildId,
      '.json',
      maxBuilds,
      now,
      days,
    );
    const unseen = keys.filter((key) => !this.points.has(key));
    await this.mapInParallel(unseen, async (key) => {
      // A record deleted since the listing is gone; an invalid one is skipped, and said so. Read errors
      // (throttling, access) propagate: a verdict must not silently lose its trend test.
      const text = await getTextOrNull(this.s3, this.bucket, key);
      if (text === null) return;
      try {
        const record = parseBuildRecord(JSON.parse(text), `s3://${this.bucket}/${key}`);
        this.remember(key, {
          at: Date.parse(record.endTime),
          values: toFeatureVector(record).values,
          succeeded: record.status === 'SUCCEEDED',
        });
      } catch (error) {
        logger.warn('build record skipped for the trend test', { key, error: (error as Error).message });
      }
    });
    return keys.flatMap((key) => {
      const point = this.points.get(key);
      return point ? [point] : [];
    });
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
      maxBuilds,
      now,
      this.maxDays,
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

  /** The project's newest `max` keys of one kind in the last `days` days, newest first, without the scored build's. */
  private async newestKeys(
    kind: 'builds' | 'features',
    projectName: string,
    excludingBuildId: string,
    extension: string,
    max: number,
    now: number,
    days: number,
  ): Promise<string[]> {
    const excluded = `/${encodeKeyPart(excludingBuildId)}${extension}`;
    const keys: string[] = [];
    for (let day = 0; day < days && keys.length < max; day++) {
      const date = new Date(now - day * DAY_MILLIS).toISOString().slice(0, 10);
      const dayKeys = await this.listNewestFirst(
        `${kind}/project=${encodeKeyPart(projectName)}/date=${date}/`,
      );
      keys.push(
        ...dayKeys
          .filter((key) => key.endsWith(extension) && !key.endsWith(excluded))
          .slice(0, max - keys.length),
      );
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
