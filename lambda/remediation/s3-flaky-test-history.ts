/**
 * FlakyTestHistory in the data lake: one object per flaky test of a project, under
 * `test-history/flaky/project=<project>/<test>.json`, written by record-outcome when a rerun of the same
 * revision passed after the test failed, and listed by classify so that the next failure of that test is
 * rerun as a known flake.
 *
 * The object keeps every rescue: a count of all rescues ever recorded and the latest MAX_RESCUES of them
 * (oldest first), plus the latest rescue's fields at the top level as the first format had them. Objects
 * written in that first format (one rescue, no list) are read as one rescue. Each rescue is added with a
 * read-modify-write made safe by S3 conditional writes: `If-None-Match: *` creates the object (no read
 * needed for a test's first rescue), and when it exists (412, or 409 for a concurrent create) the object
 * is read and written back with `If-Match: <ETag read>`; when another writer got there first, it reads
 * again, a bounded number of times. A rescue already recorded (the same remediation, e.g. a retried
 * record step) is not counted twice.
 */
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';

import { isMissing, lostRace, putIfUnchanged } from './s3-conditional-write';
import { FlakyEvidenceRun, FlakyTestHistory } from '../../core/remediation/flaky-tests';

/** Rescues listed per test at most (all of them are counted). */
export const MAX_RESCUES = 50;

export function flakyTestPrefix(projectName: string): string {
  return `test-history/flaky/project=${encodeURIComponent(projectName)}/`;
}

export function flakyTestKey(projectName: string, testName: string): string {
  return `${flakyTestPrefix(projectName)}${encodeURIComponent(testName)}.json`;
}

/** What one flaky-test object holds: the latest rescue at the top level, as the first format had it. */
export interface FlakyTestObject extends FlakyEvidenceRun {
  readonly projectName: string;
  readonly name: string;
  /** Rescues ever recorded, including those no longer listed. */
  readonly rescueCount: number;
  /** The latest rescues, oldest first, at most MAX_RESCUES. */
  readonly rescues: readonly FlakyEvidenceRun[];
}

/** Other writers kept changing the object: every conditional write of `attempts` lost the race. */
export class FlakyTestHistoryConflictError extends Error {
  override readonly name = 'FlakyTestHistoryConflictError';
}

function rescueOf(value: Partial<FlakyEvidenceRun>): FlakyEvidenceRun | undefined {
  if (typeof value.remediationId !== 'string' || typeof value.recordedAt !== 'string') return undefined;
  return {
    ...(typeof value.failedBuildId === 'string' ? { failedBuildId: value.failedBuildId } : {}),
    ...(typeof value.revision === 'string' ? { revision: value.revision } : {}),
    remediationId: value.remediationId,
    recordedAt: value.recordedAt,
  };
}

/**
 * A stored object in either format: the first (one rescue at the top level) or the current one (a count
 * and a list). Rescues without a remediation id or a time are left out.
 */
export function parseFlakyTestObject(
  value: unknown,
  projectName: string,
  testName: string,
): FlakyTestObject | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const stored = value as Partial<FlakyTestObject> & { rescues?: unknown; rescueCount?: unknown };
  const listed = Array.isArray(stored.rescues)
    ? (stored.rescues as Partial<FlakyEvidenceRun>[]).flatMap((rescue) => {
        const parsed = rescue !== null && typeof rescue === 'object' ? rescueOf(rescue) : undefined;
        return parsed ? [parsed] : [];
      })
    : [rescueOf(stored)].flatMap((rescue) => (rescue ? [rescue] : []));
  const latest = listed.at(-1);
  if (!latest) return undefined;
  const count =
    typeof stored.rescueCount === 'number' && Number.isInteger(stored.rescueCount) ? stored.rescueCount : 0;
  return {
    projectName,
    name: testName,
    ...latest,
    rescueCount: Math.max(count, listed.length),
    rescues: listed,
  };
}

/** The object with one more rescue, unless that remediation's rescue is recorded already. */
export function withRescue(
  stored: FlakyTestObject | undefined,
  projectName: string,
  testName: string,
  rescue: FlakyEvidenceRun,
  maxRescues = MAX_RESCUES,
): FlakyTestObject | undefined {
  const previous = stored?.rescues ?? [];
  if (previous.some((known) => known.remediationId === rescue.remediationId)) return undefined;
  return {
    projectName,
    name: testName,
    ...rescue,
    rescueCount: (stored?.rescueCount ?? 0) + 1,
    rescues: [...previous, rescue].slice(-maxRescues),
  };
}

export class S3FlakyTestHistory implements FlakyTestHistory {
  constructor(
    private readonly bucketName: string,
    private readonly s3: Pick<S3Client, 'send'>,
    /** Flaky tests listed per project at most. */
    private readonly maxTests = 1000,
    /** Conditional writes tried per test before giving up. */
    private readonly maxAttempts = 5,
  ) {}

  async knownFlaky(projectName: string): Promise<string[]> {
    const prefix = flakyTestPrefix(projectName);
    const { Contents = [] } = await this.s3.send(
      new ListObjectsV2Command({ Bucket: this.bucketName, Prefix: prefix, MaxKeys: this.maxTests }),
    );
    return Contents.flatMap((object) =>
      object.Key?.endsWith('.json')
        ? [decodeURIComponent(object.Key.slice(prefix.length, -'.json'.length))]
        : [],
    );
  }

  async recordFlaky(
    projectName: string,
    tests: readonly string[],
    evidence: FlakyEvidenceRun,
  ): Promise<void> {
    await Promise.all(tests.map((name) => this.addRescue(projectName, name, evidence)));
  }

  /** The evidence recorded for one test, if any (either format). */
  async evidence(projectName: string, testName: string): Promise<FlakyTestObject | undefined> {
    return (await this.read(projectName, testName))?.object;
  }

  private async addRescue(projectName: string, name: string, rescue: FlakyEvidenceRun): Promise<void> {
    const Key = flakyTestKey(projectName, name);
    // The first rescue of a test creates its object without reading it (nothing to lose).
    let stored: { object?: FlakyTestObject; etag?: string } = {};
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const object = withRescue(stored.object, projectName, name, rescue);
      if (!object) return;
      try {
        await putIfUnchanged(
          this.s3,
          { Bucket: this.bucketName, Key, Body: JSON.stringify(object), ContentType: 'application/json' },
          stored.etag,
        );
        return;
      } catch (error) {
        // 404 on If-Match: the object was deleted since it was read; create it again.
        if (!lostRace(error) && !isMissing(error)) throw error;
      }
      stored = (await this.read(projectName, name)) ?? {};
    }
    throw new FlakyTestHistoryConflictError(
      `s3://${this.bucketName}/${Key} changed under every one of ${this.maxAttempts} writes: the rescue of ${rescue.remediationId} is not recorded`,
    );
  }

  private async read(
    projectName: string,
    testName: string,
  ): Promise<{ object?: FlakyTestObject; etag?: string } | undefined> {
    try {
      const { Body, ETag } = await this.s3.send(
        new GetObjectCommand({ Bucket: this.bucketName, Key: flakyTestKey(projectName, testName) }),
      );
      const text = (await Body?.transformToString()) ?? '';
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      // An unreadable object is replaced (If-Match on its ETag): its rescues are lost, not the new one.
      const object = parseFlakyTestObject(json, projectName, testName);
      return { ...(object ? { object } : {}), ...(ETag !== undefined ? { etag: ETag } : {}) };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }
}

/** FlakyTestHistory in memory (the local replay and tests): every rescue per test, oldest first. */
export class MemoryFlakyTestHistory implements FlakyTestHistory {
  readonly tests = new Map<string, Map<string, FlakyEvidenceRun[]>>();

  knownFlaky(projectName: string): Promise<string[]> {
    return Promise.resolve([...(this.tests.get(projectName)?.keys() ?? [])]);
  }

  recordFlaky(projectName: string, tests: readonly string[], evidence: FlakyEvidenceRun): Promise<void> {
    const project = this.tests.get(projectName) ?? new Map<string, FlakyEvidenceRun[]>();
    for (const name of tests) {
      const rescues = project.get(name) ?? [];
      if (!rescues.some((rescue) => rescue.remediationId === evidence.remediationId))
        project.set(name, [...rescues, evidence]);
    }
    this.tests.set(projectName, project);
    return Promise.resolve();
  }
}
