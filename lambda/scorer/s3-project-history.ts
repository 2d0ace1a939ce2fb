/**
 * A project's history baseline for the cold-start scorer, from its most recent feature rows in the data
 * lake (`features/project=<p>/date=<d>/<build>.csv`). Bounded: at most `maxBuilds` rows from the last
 * `maxDays` days. Cached twice so a burst of builds does not re-read history: in the container's memory
 * and as one S3 object per project (`scoring/baselines/project=<p>.json`), each for `maxAgeMillis`.
 */
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod/mini';

import { getJsonOrNull, getTextOrNull } from './s3-objects';
import { FEATURE_DIMENSION } from '../../core/collection/build-record';
import { computeBaseline, ProjectBaseline } from '../../core/scoring/baseline';
import { ProjectHistory } from '../../core/scoring/score-build';
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
   * Feature rows read in parallel.
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

  private async recentRows(projectName: string, excludingBuildId: string, now: number): Promise<number[][]> {
    const maxBuilds = this.options.maxBuilds ?? 100;
    const excluded = `/${encodeKeyPart(excludingBuildId)}.csv`;
    const keys: string[] = [];
    for (let day = 0; day < (this.options.maxDays ?? 30) && keys.length < maxBuilds; day++) {
      const date = new Date(now - day * DAY_MILLIS).toISOString().slice(0, 10);
      const dayKeys = await this.listNewestFirst(
        `features/project=${encodeKeyPart(projectName)}/date=${date}/`,
      );
      keys.push(...dayKeys.filter((key) => !key.endsWith(excluded)).slice(0, maxBuilds - keys.length));
    }
    const rows: number[][] = [];
    const concurrency = this.options.concurrency ?? 16;
    for (let start = 0; start < keys.length; start += concurrency) {
      const texts = await Promise.all(
        keys.slice(start, start + concurrency).map((key) => getTextOrNull(this.s3, this.bucket, key)),
      );
      texts.forEach((text, offset) => {
        // A row deleted since the listing is simply gone; a malformed one is skipped, and said so.
        if (text === null) return;
        const row = parseFeatureRow(text);
        if (row) rows.push(row);
        else
          logger.warn(`feature row skipped: not ${FEATURE_DIMENSION} numbers`, { key: keys[start + offset] });
      });
    }
    return rows;
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
