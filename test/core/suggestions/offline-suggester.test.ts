import { readFileSync } from 'node:fs';
import * as path from 'node:path';

import { suggestFix } from '../../../core/suggestions/offline-suggester';

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

describe('suggestFix agrees with the decision and names the cause', () => {
  test('a deployment rolled back for 503s is not "a remote service was unreachable ... rerun"', () => {
    const suggestion = suggestFix({
      failLog: [
        '$ ./smoke-test.sh https://api.example.com',
        'GET /orders -> 503 Service Unavailable',
        'smoke test failed: 3 of 3 requests returned 503',
      ].join('\n'),
      decision: {
        action: 'ROLLBACK',
        reasons: ['Health alarm api-5xx is in ALARM after the deployment.'],
      },
      now,
    });
    expect(suggestion.summary).toContain('rolled back');
    expect(suggestion.rootCause).toContain('Health alarm api-5xx is in ALARM');
    expect(suggestion.suggestedFix).toContain('fix it and deploy again');
    expect(suggestion.suggestedFix).not.toMatch(/^A transient outage|: rerun/);
  });

  test('a pip ReadTimeout is a network timeout, not "an exception was thrown"', () => {
    const suggestion = suggestFix({
      failLog: [
        '$ pip install -r requirements.txt',
        "pip._vendor.urllib3.exceptions.ReadTimeoutError: HTTPSConnectionPool(host='files.pythonhosted.org', port=443): Read timed out.",
      ].join('\n'),
      now,
    });
    expect(suggestion).toMatchObject({ category: 'network', summary: 'A network call timed out' });
    expect(suggestion.confidence).toBeGreaterThan(0.3);
  });

  test('npm ETIMEDOUT is the network, not a dependency', () => {
    const suggestion = suggestFix({
      failLog: [
        'npm ERR! code ETIMEDOUT',
        'npm ERR! errno ETIMEDOUT',
        'npm ERR! network request to https://registry.npmjs.org/left-pad failed, reason: connect ETIMEDOUT 104.16.0.35:443',
      ].join('\n'),
      now,
    });
    expect(suggestion.category).toBe('network');
  });

  test('a registry rate limit is not "fix the Dockerfile step"', () => {
    const suggestion = suggestFix({
      failLog:
        'ERROR: toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating',
      now,
    });
    expect(suggestion.category).toBe('throttling');
    expect(suggestion.suggestedFix).not.toContain('Dockerfile');
  });

  test('a Jest failure names the failing test and its assertion', () => {
    const suggestion = suggestFix({
      failLog: [
        '> jest',
        'FAIL src/users.test.ts',
        '  ● users › fetches the user',
        '',
        '    expect(received).toBe(expected) // Object.is equality',
        '    Expected: 200',
        '    Received: 500',
        'Tests:       1 failed, 41 passed, 42 total',
      ].join('\n'),
      now,
    });
    expect(suggestion.summary).toBe('Tests failed: users › fetches the user');
    expect(suggestion.rootCause).toContain('Expected: 200');
  });

  test.each([
    [
      'Surefire 2',
      '[ERROR] testTotal(com.acme.CheckoutTest)  Time elapsed: 0.12 s  <<< FAILURE!',
      'testTotal(com.acme.CheckoutTest)',
    ],
    [
      'Surefire 3',
      '[ERROR] com.acme.CheckoutTest.testTotal -- Time elapsed: 0.12 s <<< ERROR!',
      'com.acme.CheckoutTest.testTotal',
    ],
  ])('a Maven %s failure names the failing test', (_format, line, name) => {
    const suggestion = suggestFix({
      failLog: [
        '[INFO] Running com.acme.CheckoutTest',
        line,
        'org.opentest4j.AssertionFailedError: expected: <32.00> but was: <31.99>',
        '[ERROR] Tests run: 12, Failures: 1, Errors: 0, Skipped: 0',
        '[INFO] BUILD FAILURE',
      ].join('\n'),
      now,
    });
    expect(suggestion.summary).toBe(`Tests failed: ${name}`);
    expect(suggestion.rootCause).toContain('expected: <32.00> but was: <31.99>');
  });

  test('says "inconclusive" when the log only reports that the build failed', () => {
    const suggestion = suggestFix({ failLog: 'compiling\nBUILD FAILED', now });
    expect(suggestion.summary).toMatch(/^Inconclusive/);
    expect(suggestion.confidence).toBeLessThanOrEqual(0.2);
  });

  test('does not advise a rerun that remediation decided against', () => {
    const suggestion = suggestFix({
      failLog: 'curl: (7) Failed to connect to api.example.com port 443: Connection refused',
      decision: { action: 'NOTIFY', reasons: ['The failing step reports 2 code error(s).'] },
      now,
    });
    expect(suggestion.suggestedFix).toMatch(/^Pipemend did not rerun this build \(NOTIFY/);
  });
});
