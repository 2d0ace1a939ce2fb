/**
 * Reads the build record the collector wrote to the data lake (deterministic key `buildRecordKey`). The
 * scorer can run moments before the collector has written it (the pipeline moves on as soon as the build
 * ends), so a missing record is re-read with backoff for a bounded time before giving up.
 */
import { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod/mini';

import { getJsonOrNull } from './s3-objects';
import { BuildRecord, buildRecordKey, TERMINAL_BUILD_STATUSES } from '../../core/collection/build-record';
import { BuildRecordNotFoundError } from '../../core/scoring/scoring-errors';

const DAY_MILLIS = 86_400_000;

const seconds = z.number().check(z.nonnegative());
const nonEmpty = z.string().check(z.minLength(1));

/** The fields scoring relies on; the rest of the record is carried through untouched. */
const buildRecordSchema = z.looseObject({
  schemaVersion: z.literal(1),
  buildArn: nonEmpty,
  buildId: nonEmpty,
  projectName: nonEmpty,
  status: z.enum(TERMINAL_BUILD_STATUSES as unknown as [string, ...string[]]),
  startTime: z.string(),
  endTime: z.string(),
  durationSeconds: seconds,
  phases: z.record(z.string(), seconds),
  tests: z.nullable(
    z.object({ total: z.number(), failed: z.number(), error: z.number(), skipped: z.number() }),
  ),
  utilization: z.nullable(
    z.looseObject({ cpuUtilizedPercent: z.number(), memoryUtilizedPercent: z.number() }),
  ),
  missing: z.object({ tests: z.boolean(), utilization: z.boolean() }),
});

export interface S3BuildRecordsOptions {
  /**
   * Reads of a missing record before giving up (the first one included).
   * @default 6
   */
  readonly attempts?: number;
  /**
   * Wait before the second read; it doubles on each further read (1 + 2 + 4 + 8 + 16 s by default).
   * @default 1000
   */
  readonly initialDelayMillis?: number;
  readonly sleep?: (millis: number) => Promise<void>;
}

export class S3BuildRecords {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly options: S3BuildRecordsOptions = {},
  ) {}

  /**
   * The record of `buildId` (`<project>:<uuid>`) that ended around `endedAround`: the record's key is
   * partitioned by its end date, so that day and its neighbours are tried (builds ending near midnight).
   */
  async load(buildId: string, endedAround: Date): Promise<BuildRecord> {
    const projectName = projectOf(buildId);
    const keys = [0, -1, 1].map((offsetDays) =>
      buildRecordKey({
        projectName,
        buildId,
        endTime: new Date(endedAround.getTime() + offsetDays * DAY_MILLIS).toISOString(),
      }),
    );
    const attempts = this.options.attempts ?? 6;
    const sleep = this.options.sleep ?? ((millis) => new Promise((resolve) => setTimeout(resolve, millis)));
    let delay = this.options.initialDelayMillis ?? 1000;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      for (const key of keys) {
        const raw = await getJsonOrNull(this.s3, this.bucket, key);
        if (raw !== null) return parseBuildRecord(raw, `s3://${this.bucket}/${key}`, buildId);
      }
      if (attempt < attempts) {
        await sleep(delay);
        delay *= 2;
      }
    }
    throw new BuildRecordNotFoundError(
      `no build record for ${buildId} in s3://${this.bucket} after ${attempts} reads (tried ${keys.join(', ')}); is the collector deployed for project ${projectName}?`,
    );
  }
}

/** `<project>:<uuid>` → `<project>`; anything else is not a CodeBuild build id. */
export function projectOf(buildId: string): string {
  const colon = buildId.lastIndexOf(':');
  if (colon <= 0 || colon === buildId.length - 1) {
    throw new Error(`'${buildId}' is not a CodeBuild build id (<project>:<uuid>)`);
  }
  return buildId.slice(0, colon);
}

/** A stored build record, checked; `buildId`, when given, must be the record's own. */
export function parseBuildRecord(raw: unknown, source: string, buildId?: string): BuildRecord {
  const result = buildRecordSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new Error(`build record ${source} is invalid: ${problems.join('; ')}`);
  }
  if (buildId !== undefined && result.data.buildId !== buildId) {
    throw new Error(`build record ${source} is of build ${result.data.buildId}, not ${buildId}`);
  }
  return result.data as unknown as BuildRecord;
}
