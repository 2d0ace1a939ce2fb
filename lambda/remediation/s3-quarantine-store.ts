/**
 * The flaky-test quarantine in the data lake: one JSON object per project at
 * `quarantine/project=<project>/quarantine.json` (the project name URI-encoded), the file a buildspec
 * fetches to skip the tests it lists (docs/remediation.md, "Quarantine").
 *
 * Every write is a read-modify-write made safe with S3 conditional writes: `If-Match: <ETag read>` to
 * replace the file, `If-None-Match: *` to create it. When another writer got there first, S3 answers 412
 * Precondition Failed (or 409 ConditionalRequestConflict for a concurrent create, or 404 when the file
 * was deleted meanwhile): the store reads the file again and reapplies the change, a bounded number of
 * times, so two concurrent `pipemend flaky quarantine` calls never lose an entry.
 */
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';

import { isMissing, lostRace, putIfUnchanged } from './s3-conditional-write';
import {
  emptyQuarantineFile,
  parseQuarantineFile,
  QuarantineEntry,
  QuarantineError,
  QuarantineFile,
} from '../../core/remediation/quarantine';

export const QUARANTINE_PREFIX = 'quarantine/';

export function quarantineKey(projectName: string): string {
  return `${QUARANTINE_PREFIX}project=${encodeURIComponent(projectName)}/quarantine.json`;
}

/** The file as stored, with the ETag a conditional write must match; no ETag when there is no file yet. */
export interface StoredQuarantine {
  readonly file: QuarantineFile;
  readonly etag?: string;
}

/** Other writers kept changing the file: every conditional write of `attempts` lost the race. */
export class QuarantineConflictError extends Error {
  override readonly name = 'QuarantineConflictError';
}

export class S3QuarantineStore {
  constructor(
    private readonly bucketName: string,
    private readonly s3: Pick<S3Client, 'send'>,
    /** Conditional writes tried per update before giving up. */
    private readonly maxAttempts = 5,
  ) {}

  /** The project's file, or an empty one (no ETag) when none is stored. */
  async read(projectName: string, now: Date): Promise<StoredQuarantine> {
    try {
      const object = await this.s3.send(
        new GetObjectCommand({ Bucket: this.bucketName, Key: quarantineKey(projectName) }),
      );
      const text = (await object.Body?.transformToString()) ?? '';
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new QuarantineError(
          `s3://${this.bucketName}/${quarantineKey(projectName)} is not JSON: fix or delete it`,
        );
      }
      return {
        file: parseQuarantineFile(json),
        ...(object.ETag !== undefined ? { etag: object.ETag } : {}),
      };
    } catch (error) {
      if (isMissing(error)) return { file: emptyQuarantineFile(projectName, now) };
      throw error;
    }
  }

  /**
   * Reads the project's file, applies `change` and writes the result only if nobody wrote in between;
   * otherwise reads again and reapplies `change` (so it must be a pure function of the file it gets).
   * Errors thrown by `change` (a refused quarantine) end the update with nothing written.
   */
  async update<T>(
    projectName: string,
    now: Date,
    change: (file: QuarantineFile) => { readonly file: QuarantineFile; readonly result: T },
  ): Promise<T> {
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const stored = await this.read(projectName, now);
      const { file, result } = change(stored.file);
      try {
        await putIfUnchanged(
          this.s3,
          {
            Bucket: this.bucketName,
            Key: quarantineKey(projectName),
            Body: `${JSON.stringify(file, null, 2)}\n`,
            ContentType: 'application/json',
          },
          stored.etag,
        );
        return result;
      } catch (error) {
        // Another writer changed (or removed) the file between the read and the write: read again.
        if (!lostRace(error) && !isMissing(error)) throw error;
      }
    }
    throw new QuarantineConflictError(
      `the quarantine file of project ${projectName} changed under every one of ${this.maxAttempts} writes: another writer is busy with it; try again`,
    );
  }

  /** Projects with a quarantine file. */
  async projects(): Promise<string[]> {
    const projects: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({
          Bucket: this.bucketName,
          Prefix: `${QUARANTINE_PREFIX}project=`,
          Delimiter: '/',
          ContinuationToken: token,
        }),
      );
      for (const prefix of page.CommonPrefixes ?? []) {
        const match = /^quarantine\/project=([^/]+)\/$/.exec(prefix.Prefix ?? '');
        if (match) projects.push(decodeURIComponent(match[1]!));
      }
      token = page.NextContinuationToken;
    } while (token);
    return projects;
  }
}

/** Where a reader says what it could not read. */
export type QuarantineWarn = (message: string, details: Record<string, unknown>) => void;

/**
 * The quarantine as classify reads it (its QuarantineSource): the entries of the project's file, expired
 * ones included (the policy judges them with its clock). No file means no quarantine. A file that cannot
 * be read or parsed, or any error reading it, also means no quarantine, with a warning naming the key:
 * the failure is then judged on its evidence, never retried in a loop on a bad file.
 *
 * It lists the key before reading it: a role without `s3:ListBucket` gets 403, not 404, for a missing
 * key, and most projects have no file, so the listing (allowed on `quarantine/*`) tells "none" apart from
 * "denied" in one request.
 */
export class S3QuarantineSource {
  constructor(
    private readonly bucketName: string,
    private readonly s3: Pick<S3Client, 'send'>,
    private readonly warn: QuarantineWarn,
  ) {}

  async quarantinedTests(projectName: string): Promise<readonly QuarantineEntry[]> {
    const key = quarantineKey(projectName);
    try {
      const { Contents = [] } = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucketName, Prefix: key, MaxKeys: 1 }),
      );
      if (!Contents.some((object) => object.Key === key)) return [];
      // The time only names the empty file of a project whose file was deleted meanwhile.
      const { file } = await new S3QuarantineStore(this.bucketName, this.s3).read(projectName, new Date(0));
      return file.tests;
    } catch (error) {
      this.warn('Quarantine file unreadable: its tests are judged as if not quarantined', {
        bucket: this.bucketName,
        key,
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      });
      return [];
    }
  }
}
