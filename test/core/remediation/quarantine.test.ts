import { TestRun } from '../../../core/remediation/flaky-tests';
import {
  emptyQuarantineFile,
  FlakyTestStats,
  flakyTestStats,
  parseQuarantineFile,
  pruneExpired,
  QuarantineError,
  QuarantineFile,
  quarantineTest,
  quarantineTimestamp,
  releaseTest,
} from '../../../core/remediation/quarantine';

const NOW = new Date('2026-12-06T10:30:15.250Z');
const later = (days: number) => new Date(NOW.getTime() + days * 86_400_000);

const run = (buildId: string, revision: string, outcomes: Record<string, 'PASSED' | 'FAILED'>): TestRun => ({
  buildId,
  revision,
  results: Object.entries(outcomes).map(([name, outcome]) => ({ name, outcome })),
});

const stats = (overrides: Partial<FlakyTestStats> = {}): FlakyTestStats => ({
  name: 'cart debounces',
  runs: 6,
  failures: 3,
  flips: 4,
  rescues: 2,
  brokenRevisions: [],
  verdict: 'flaky',
  ...overrides,
});

const manual = {
  name: 'cart debounces',
  owner: 'team-cart',
  reason: 'timing-dependent',
  origin: 'manual' as const,
};

function withEntry(): QuarantineFile {
  return quarantineTest(emptyQuarantineFile('app', NOW), manual, NOW).file;
}

describe('quarantineTest', () => {
  test('adds an entry with owner, reason, and a 14-day expiry by default, in whole seconds', () => {
    const { entry, renewed, warnings } = quarantineTest(emptyQuarantineFile('app', NOW), manual, NOW);
    expect(entry).toEqual({
      name: 'cart debounces',
      owner: 'team-cart',
      reason: 'timing-dependent',
      quarantinedAt: '2026-12-06T10:30:15Z',
      expiresAt: '2026-12-20T10:30:15Z',
      origin: 'manual',
    });
    expect(renewed).toBe(false);
    expect(warnings).toEqual([]);
  });

  test('the file it returns passes its own schema', () => {
    const { file } = quarantineTest(emptyQuarantineFile('app', NOW), { ...manual, evidence: stats() }, NOW);
    expect(parseQuarantineFile(JSON.parse(JSON.stringify(file)))).toEqual(file);
  });

  test('is refused without an owner', () => {
    expect(() => quarantineTest(emptyQuarantineFile('app', NOW), { ...manual, owner: '  ' }, NOW)).toThrow(
      new QuarantineError(
        "a quarantine needs an owner who will fix or release 'cart debounces': give --owner <team or person>",
      ),
    );
  });

  test('is refused without a reason', () => {
    expect(() =>
      quarantineTest(emptyQuarantineFile('app', NOW), { ...manual, reason: undefined }, NOW),
    ).toThrow("a quarantine needs a reason: give --reason <text> for 'cart debounces'");
  });

  test('is refused for more than 90 days', () => {
    expect(() => quarantineTest(emptyQuarantineFile('app', NOW), { ...manual, days: 91 }, NOW)).toThrow(
      'a quarantine lasts 1 to 90 days (whole days), not 91',
    );
  });

  test('accepts exactly 90 days', () => {
    const { entry } = quarantineTest(emptyQuarantineFile('app', NOW), { ...manual, days: 90 }, NOW);
    expect(entry.expiresAt).toBe(quarantineTimestamp(later(90)));
  });

  test('renews an existing entry instead of listing the test twice', () => {
    const { file, renewed } = quarantineTest(withEntry(), { ...manual, owner: 'team-b', days: 3 }, later(1));
    expect(renewed).toBe(true);
    expect(file.tests).toEqual([
      expect.objectContaining({
        name: 'cart debounces',
        owner: 'team-b',
        expiresAt: quarantineTimestamp(later(4)),
      }),
    ]);
  });

  test('drops expired entries when it writes', () => {
    const { file } = quarantineTest(withEntry(), { ...manual, name: 'login' }, later(15));
    expect(file.tests.map((test) => test.name)).toEqual(['login']);
  });

  test('automatically, quarantines a test with flaky evidence and keeps the evidence', () => {
    const { entry } = quarantineTest(
      emptyQuarantineFile('app', NOW),
      { ...manual, origin: 'automatic', evidence: stats() },
      NOW,
    );
    expect(entry).toMatchObject({
      origin: 'automatic',
      evidence: { verdict: 'flaky', runs: 6, failures: 3, flips: 4, rescues: 2 },
    });
  });

  test('automatically, never quarantines a broken test', () => {
    const broken = stats({ verdict: 'broken', rescues: 0, brokenRevisions: ['abc123'] });
    expect(() =>
      quarantineTest(
        emptyQuarantineFile('app', NOW),
        { ...manual, origin: 'automatic', evidence: broken },
        NOW,
      ),
    ).toThrow(
      "'cart debounces' is broken, not flaky (it failed on every run of revision abc123 and never passed on it): it is never quarantined automatically",
    );
  });

  test('automatically, never quarantines a test without evidence of flakiness', () => {
    expect(() =>
      quarantineTest(emptyQuarantineFile('app', NOW), { ...manual, origin: 'automatic' }, NOW),
    ).toThrow("'cart debounces' has no evidence of flakiness");
  });

  test('manually, quarantines a broken test but says it hides a regression and who asked', () => {
    const broken = stats({ verdict: 'broken', rescues: 0, brokenRevisions: ['abc123'] });
    const { entry, warnings } = quarantineTest(
      emptyQuarantineFile('app', NOW),
      { ...manual, evidence: broken },
      NOW,
    );
    expect(entry.evidence).toMatchObject({ verdict: 'broken', brokenRevisions: ['abc123'] });
    expect(warnings).toEqual([
      "'cart debounces' looks broken, not flaky: it failed on every run of revision abc123 and never passed on it. Quarantining it hides a regression; quarantined only because team-cart asked explicitly.",
    ]);
  });
});

describe('releaseTest', () => {
  test('removes the entry and returns it', () => {
    const { file, released } = releaseTest(withEntry(), 'cart debounces', later(1));
    expect(file.tests).toEqual([]);
    expect(released.owner).toBe('team-cart');
  });

  test('refuses a test that is not quarantined, naming the ones that are', () => {
    expect(() => releaseTest(withEntry(), 'login', later(1))).toThrow(
      "'login' is not quarantined in project app (quarantined: 'cart debounces')",
    );
  });

  test('refuses a test whose quarantine expired, saying it is released already', () => {
    expect(() => releaseTest(withEntry(), 'cart debounces', later(14))).toThrow(
      "'cart debounces' is not quarantined in project app: its quarantine expired at 2026-12-20T10:30:15Z and is released already",
    );
  });
});

describe('pruneExpired', () => {
  test('an entry is active until the second before its expiry and released at it', () => {
    const file = withEntry();
    expect(pruneExpired(file, new Date('2026-12-20T10:30:14Z')).file.tests).toHaveLength(1);
    expect(pruneExpired(file, new Date('2026-12-20T10:30:15Z'))).toEqual({
      file: { ...file, updatedAt: '2026-12-20T10:30:15Z', tests: [] },
      expired: file.tests,
    });
  });
});

describe('parseQuarantineFile', () => {
  test('refuses another version', () => {
    expect(() => parseQuarantineFile({ version: 2, project: 'app', tests: [] })).toThrow(
      'quarantine file version 2 is not supported (this Pipemend reads version 1)',
    );
  });

  test('refuses an entry without an owner, naming where', () => {
    const file = JSON.parse(JSON.stringify(withEntry())) as { tests: Record<string, unknown>[] };
    delete file.tests[0]!.owner;
    expect(() => parseQuarantineFile(file)).toThrow('quarantine file is malformed at tests.0.owner');
  });

  test('refuses a timestamp with fractional seconds, which jq cannot compare', () => {
    const file = { ...withEntry(), updatedAt: '2026-12-06T10:30:15.250Z' };
    expect(() => parseQuarantineFile(file)).toThrow('quarantine file is malformed at updatedAt');
  });
});

describe('flakyTestStats', () => {
  test('counts runs, failures and flips of each test that failed', () => {
    const runs = [
      run('b1', 'r1', { cart: 'PASSED', login: 'PASSED' }),
      run('b2', 'r2', { cart: 'FAILED', login: 'PASSED' }),
      run('b3', 'r3', { cart: 'PASSED', login: 'PASSED' }),
      run('b4', 'r4', { cart: 'FAILED', login: 'PASSED' }),
    ];
    expect(flakyTestStats(runs, [])).toEqual([
      { name: 'cart', runs: 4, failures: 2, flips: 3, rescues: 0, brokenRevisions: [], verdict: 'flaky' },
    ]);
  });

  test('a failure then a pass on one revision is a rescue', () => {
    const runs = [run('b1', 'r1', { cart: 'FAILED' }), run('b2', 'r1', { cart: 'PASSED' })];
    expect(flakyTestStats(runs, [])[0]).toMatchObject({ rescues: 1, verdict: 'flaky' });
  });

  test('a recorded rescue of a revision already seen in the runs counts once', () => {
    const runs = [run('b1', 'r1', { cart: 'FAILED' }), run('b2', 'r1', { cart: 'PASSED' })];
    const rescue = {
      name: 'cart',
      revision: 'r1',
      remediationId: 'rem-1',
      recordedAt: '2026-12-01T00:00:00.000Z',
    };
    expect(flakyTestStats(runs, [rescue])[0]).toMatchObject({
      rescues: 1,
      lastRescuedAt: '2026-12-01T00:00:00.000Z',
    });
  });

  test('a recorded rescue alone makes a test flaky, without any run', () => {
    const rescue = {
      name: 'cart',
      revision: 'r9',
      remediationId: 'rem-1',
      recordedAt: '2026-12-01T00:00:00.000Z',
    };
    expect(flakyTestStats([], [rescue])).toEqual([
      {
        name: 'cart',
        runs: 0,
        failures: 0,
        flips: 0,
        rescues: 1,
        brokenRevisions: [],
        verdict: 'flaky',
        lastRescuedAt: '2026-12-01T00:00:00.000Z',
      },
    ]);
  });

  test('rescues recorded beyond those listed count on top of the listed ones', () => {
    const rescue = {
      name: 'cart',
      revision: 'r9',
      remediationId: 'rem-1',
      recordedAt: '2026-12-01T00:00:00.000Z',
    };
    expect(flakyTestStats([], [rescue], { unlistedRescues: new Map([['cart', 49]]) })[0]).toMatchObject({
      rescues: 50,
      verdict: 'flaky',
    });
  });

  test('a test that failed on every run of its latest revision is broken, whatever it flipped before', () => {
    const runs = [
      run('b1', 'r1', { pay: 'FAILED' }),
      run('b2', 'r1', { pay: 'PASSED' }),
      run('b3', 'r2', { pay: 'FAILED' }),
      run('b4', 'r2', { pay: 'FAILED' }),
    ];
    expect(flakyTestStats(runs, [])[0]).toMatchObject({
      verdict: 'broken',
      brokenRevisions: ['r2'],
      rescues: 1,
    });
  });

  test('a revision that failed twice and was later rescued by a rerun is not broken', () => {
    const runs = [run('b1', 'r2', { pay: 'FAILED' }), run('b2', 'r2', { pay: 'FAILED' })];
    const rescue = {
      name: 'pay',
      revision: 'r2',
      remediationId: 'rem-2',
      recordedAt: '2026-12-02T00:00:00.000Z',
    };
    expect(flakyTestStats(runs, [rescue])[0]).toMatchObject({ verdict: 'flaky', brokenRevisions: [] });
  });

  test('a single failure without flips or rescue is failing, not flaky', () => {
    expect(flakyTestStats([run('b1', 'r1', { pay: 'FAILED' })], [])[0]?.verdict).toBe('failing');
  });

  test('lists the most rescued tests first', () => {
    const runs = [
      run('b1', 'r1', { a: 'FAILED', b: 'FAILED' }),
      run('b2', 'r1', { a: 'FAILED', b: 'PASSED' }),
    ];
    expect(flakyTestStats(runs, []).map((test) => test.name)).toEqual(['b', 'a']);
  });
});
