/**
 * FlakyTestHistory in the data lake: one object per flaky test of a project, under
 * `test-history/flaky/project=<project>/<test>.json`, written by record-outcome when a rerun of the same
 * revision passed after the test failed, and listed by classify so that the next failure of that test is
 * rerun as a known flake.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

import { FlakyEvidenceRun, FlakyTestHistory } from '../../core/remediation/flaky-tests';

export function flakyTestPrefix(projectName: string): string {
  return `test-history/flaky/project=${encodeURIComponent(projectName)}/`;
}

export function flakyTestKey(projectName: string, testName: string): string {
  return `${flakyTestPrefix(projectName)}${encodeURIComponent(testName)}.json`;
}

/** What one flaky-test object holds. */
export interface FlakyTestObject extends FlakyEvidenceRun {
  readonly projectName: string;
  readonly name: string;
}

export class S3FlakyTestHistory implements FlakyTestHistory {
  constructor(
    private readonly bucketName: string,
    private readonly s3: Pick<S3Client, 'send'>,
    /** Flaky tests listed per project at most. */
    private readonly maxTests = 1000,
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
    await Promise.all(
      tests.map((name) =>
        this.s3.send(
          new PutObjectCommand({
            Bucket: this.bucketName,
            Key: flakyTestKey(projectName, name),
            Body: JSON.stringify({ projectName, name, ...evidence } satisfies FlakyTestObject),
            ContentType: 'application/json',
          }),
        ),
      ),
    );
  }

  /** The evidence recorded for one test, if any. */
  async evidence(projectName: string, testName: string): Promise<FlakyTestObject | undefined> {
    try {
      const { Body } = await this.s3.send(
        new GetObjectCommand({ Bucket: this.bucketName, Key: flakyTestKey(projectName, testName) }),
      );
      return JSON.parse((await Body?.transformToString()) ?? 'null') as FlakyTestObject;
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }
}

/** FlakyTestHistory in memory (the local replay and tests). */
export class MemoryFlakyTestHistory implements FlakyTestHistory {
  readonly tests = new Map<string, Map<string, FlakyEvidenceRun>>();

  knownFlaky(projectName: string): Promise<string[]> {
    return Promise.resolve([...(this.tests.get(projectName)?.keys() ?? [])]);
  }

  recordFlaky(projectName: string, tests: readonly string[], evidence: FlakyEvidenceRun): Promise<void> {
    const project = this.tests.get(projectName) ?? new Map<string, FlakyEvidenceRun>();
    for (const name of tests) project.set(name, evidence);
    this.tests.set(projectName, project);
    return Promise.resolve();
  }
}
