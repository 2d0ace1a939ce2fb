import { readFileSync } from 'node:fs';
import * as path from 'node:path';

import { suggestFix } from '../../../lambda/core/offline-suggester';

const fixture = (name: string): string =>
  readFileSync(path.join(__dirname, '..', '..', 'fixtures', 'suggestions', name), 'utf8');
const now = new Date('2026-11-21T10:05:00Z');

describe('suggestFix', () => {
  test('names the compiler error as the cause, with guidance and the lines it rests on', () => {
    const suggestion = suggestFix({
      failLog: fixture('failed-build-with-secrets.log'),
      passLog: fixture('passed-build.log'),
      build: { buildId: 'app:1', projectName: 'app' },
      now,
    });
    expect(suggestion).toMatchObject({
      schemaVersion: 1,
      buildId: 'app:1',
      projectName: 'app',
      source: 'offline',
      category: 'compilation',
      summary: 'TypeScript did not compile',
      confidence: 0.6,
      evidenceLines: [16],
      createdAt: '2026-11-21T10:05:00.000Z',
      excerpt: { diffedAgainstPassingBuild: true },
    });
    expect(suggestion.rootCause).toContain("error TS2322: Type 'string' is not assignable");
    expect(suggestion.excerpt.lines).toContain(16);
  });

  test('redacts the logs before selecting the excerpt', () => {
    const suggestion = suggestFix({ failLog: fixture('failed-build-with-secrets.log'), now });
    expect(suggestion.excerpt.text).not.toMatch(/planted|PLANTED|AKIA|Pl4nTed/);
    expect(suggestion.excerpt.text).toContain('[REDACTED:url-password]');
    expect(suggestion.redactedSecrets).toBeGreaterThan(10);
  });

  test('recognises a disk that ran full', () => {
    const suggestion = suggestFix({
      failLog: 'cp: error writing out.bin: No space left on device\nBUILD FAILED',
      now,
    });
    expect(suggestion).toMatchObject({ category: 'resource-exhaustion', evidenceLines: [1] });
  });

  test('recognises AWS throttling', () => {
    const suggestion = suggestFix({
      failLog:
        'An error occurred (ThrottlingException) when calling the DescribeStacks operation: Rate exceeded',
      now,
    });
    expect(suggestion.category).toBe('throttling');
  });

  test('says so, with low confidence, when no signature matches', () => {
    const suggestion = suggestFix({ failLog: 'step one\nsomething odd', now });
    expect(suggestion).toMatchObject({ category: 'unknown', confidence: 0.1, buildId: 'unknown' });
  });

  test.each([
    ['error[E0425]: cannot find value `totl` in this scope', 'compilation'],
    ['--- FAIL: TestTotal (0.00s)', 'test-failure'],
    [
      'ERROR: failed to solve: process "/bin/sh -c npm ci" did not complete successfully: exit code: 1',
      'container',
    ],
    ['│ Error: creating S3 Bucket (acme-logs): BucketAlreadyExists', 'infrastructure-as-code'],
    [
      '[ERROR] Failed to execute goal on project x: Could not resolve dependencies for project a:b:jar:1',
      'dependency',
    ],
    [
      "fatal: unable to access 'https://github.com/a/b.git/': The requested URL returned error: 503",
      'source-control',
    ],
    ['User: arn:aws:sts::1:assumed-role/r is not authorized to perform: s3:PutObject', 'permissions'],
    [
      'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory',
      'resource-exhaustion',
    ],
  ])('categorises %s as %s', (failLog, category) => {
    expect(suggestFix({ failLog, now }).category).toBe(category);
  });
});
