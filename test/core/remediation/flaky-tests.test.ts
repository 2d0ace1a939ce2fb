import { analyzeFlakyTests, TestRun } from '../../../core/remediation/flaky-tests';

const run = (buildId: string, revision: string, outcomes: Record<string, 'PASSED' | 'FAILED'>): TestRun => ({
  buildId,
  revision,
  results: Object.entries(outcomes).map(([name, outcome]) => ({ name, outcome })),
});

describe('analyzeFlakyTests', () => {
  test('a test that passed on the same revision is flaky', () => {
    const analysis = analyzeFlakyTests(run('b3', 'r2', { login: 'FAILED' }), [
      run('b2', 'r2', { login: 'PASSED' }),
    ]);
    expect(analysis.flaky).toEqual([{ name: 'login', passedOnSameRevision: true, flips: 1 }]);
    expect(analysis.consistent).toEqual([]);
  });

  test('a test that flip-flops across revisions is flaky', () => {
    const history = [
      run('b1', 'r1', { cart: 'PASSED' }),
      run('b2', 'r2', { cart: 'FAILED' }),
      run('b3', 'r3', { cart: 'PASSED' }),
    ];
    expect(analyzeFlakyTests(run('b4', 'r4', { cart: 'FAILED' }), history).flaky).toEqual([
      { name: 'cart', passedOnSameRevision: false, flips: 3 },
    ]);
  });

  test('a test that started failing with this revision and never passed on it is a real failure', () => {
    const history = [run('b1', 'r1', { pay: 'PASSED' }), run('b2', 'r1', { pay: 'PASSED' })];
    const analysis = analyzeFlakyTests(run('b3', 'r2', { pay: 'FAILED', other: 'PASSED' }), history);
    expect(analysis).toEqual({
      failedTests: ['pay'],
      flaky: [],
      consistent: ['pay'],
      firstFailures: ['pay'],
      broken: [],
    });
  });
});

describe('analyzeFlakyTests: first failures, broken tests and the flaky-test history', () => {
  test('a test that never failed in the window fails for the first time', () => {
    const history = [run('b1', 'r1', { pay: 'PASSED' })];
    const analysis = analyzeFlakyTests(run('b2', 'r2', { pay: 'FAILED', fresh: 'FAILED' }), history);
    expect(analysis.firstFailures).toEqual(['pay', 'fresh']);
  });

  test('a test that failed before is not a first failure', () => {
    const history = [run('b1', 'r1', { pay: 'FAILED' })];
    expect(analyzeFlakyTests(run('b2', 'r2', { pay: 'FAILED' }), history).firstFailures).toEqual([]);
  });

  test('a test that failed again on the revision it failed on is broken, never flaky, whatever its flips', () => {
    const history = [
      run('b1', 'r1', { pay: 'FAILED' }),
      run('b2', 'r2', { pay: 'PASSED' }),
      run('b3', 'r3', { pay: 'FAILED' }),
    ];
    const analysis = analyzeFlakyTests(run('b4', 'r3', { pay: 'FAILED' }), history);
    expect(analysis.flaky).toEqual([]);
    expect(analysis.broken).toEqual(['pay']);
    expect(analysis.firstFailures).toEqual([]);
  });

  test('a test recorded as flaky is flaky without any history in the window', () => {
    const analysis = analyzeFlakyTests(run('b9', 'r9', { cart: 'FAILED' }), [], {
      knownFlaky: new Set(['cart']),
    });
    expect(analysis.flaky).toEqual([{ name: 'cart', passedOnSameRevision: false, flips: 0, known: true }]);
    expect(analysis.consistent).toEqual([]);
  });
});
