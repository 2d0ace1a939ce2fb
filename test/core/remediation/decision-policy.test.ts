import { findEnvironmentFaults } from '../../../core/logs/environment-faults';
import { analyseFailureCause } from '../../../core/logs/failure-cause';
import {
  decideRemediation,
  DecisionInput,
  FIRST_FAILURE_RERUN_REASON,
  QUARANTINED_TESTS_REASON,
} from '../../../core/remediation/decision-policy';
import { FlakyTestAnalysis } from '../../../core/remediation/flaky-tests';
import { QuarantineEntry } from '../../../core/remediation/quarantine';

const base: DecisionInput = {
  target: { kind: 'codebuild-project', projectName: 'app', buildId: 'app:1', revision: 'r1' },
  status: 'FAILED',
  failedPhase: 'BUILD',
  environmentFaults: [],
  tests: null,
  isDeployment: false,
};
/** `cart` failed and is recorded as flaky (it flipped once before). */
const knownFlakyCart: FlakyTestAnalysis = {
  failedTests: ['cart'],
  flaky: [{ name: 'cart', passedOnSameRevision: false, flips: 1, known: true }],
  consistent: [],
  firstFailures: [],
  broken: [],
};
const stage: DecisionInput['target'] = {
  kind: 'pipeline-stage',
  pipelineName: 'app',
  stageName: 'Deploy',
  pipelineExecutionId: 'e1',
};

describe('decideRemediation', () => {
  test('loop prevention wins over everything', () => {
    expect(
      decideRemediation({
        ...base,
        ignoreReason: 'own rerun',
        environmentFaults: findEnvironmentFaults(['ETIMEDOUT']),
      }),
    ).toEqual({ action: 'NONE', reasons: ['own rerun'], confidence: 1 });
  });

  test('an environment fault in the log proposes a clean rerun, quoting the line', () => {
    const decision = decideRemediation({
      ...base,
      environmentFaults: findEnvironmentFaults(['x', 'read ECONNRESET']),
    });
    expect(decision.action).toBe('RERUN_CLEAN');
    expect(decision.confidence).toBeCloseTo(0.7);
    expect(decision.reasons[0]).toBe(
      'The log shows environment faults (network-timeout), first at line 2: "read ECONNRESET".',
    );
  });

  test('a failure before any of the change ran proposes a clean rerun with high confidence', () => {
    expect(decideRemediation({ ...base, failedPhase: 'DOWNLOAD_SOURCE' })).toMatchObject({
      action: 'RERUN_CLEAN',
      confidence: 0.85,
    });
  });

  test('out of memory proposes the next larger compute type', () => {
    const decision = decideRemediation({
      ...base,
      computeType: 'BUILD_GENERAL1_MEDIUM',
      environmentFaults: findEnvironmentFaults(['JavaScript heap out of memory']),
    });
    expect(decision).toMatchObject({ action: 'RERUN_CLEAN', computeTypeOverride: 'BUILD_GENERAL1_LARGE' });
  });

  test('failures that are all flaky tests propose a clean rerun', () => {
    const decision = decideRemediation({
      ...base,
      tests: {
        failedTests: ['a'],
        flaky: [{ name: 'a', passedOnSameRevision: true, flips: 1 }],
        consistent: [],
        firstFailures: [],
        broken: [],
      },
    });
    expect(decision).toMatchObject({ action: 'RERUN_CLEAN', confidence: 0.8 });
  });

  test('a consistently failing test means a real failure: notify, even with noise in the log', () => {
    const decision = decideRemediation({
      ...base,
      environmentFaults: findEnvironmentFaults(['ETIMEDOUT']),
      tests: { failedTests: ['pay'], flaky: [], consistent: ['pay'], firstFailures: ['pay'], broken: [] },
    });
    expect(decision.action).toBe('NOTIFY');
    expect(decision.reasons[1]).toContain('no sign of flakiness (pay)');
  });

  test('a failure without environment signals notifies', () => {
    expect(decideRemediation(base)).toMatchObject({ action: 'NOTIFY', confidence: 0.6 });
  });

  test('an unhealthy deployment of a pipeline stage proposes a rollback', () => {
    expect(
      decideRemediation({
        ...base,
        target: stage,
        status: 'SUCCEEDED',
        isDeployment: true,
        health: { alarmName: 'api-5xx', state: 'ALARM' },
      }),
    ).toEqual({
      action: 'ROLLBACK',
      reasons: ['Health alarm api-5xx is in ALARM after the deployment.'],
      confidence: 0.9,
    });
  });

  test('a healthy normal success needs nothing; an anomalous success notifies with its drivers', () => {
    expect(decideRemediation({ ...base, status: 'SUCCEEDED' }).action).toBe('NONE');
    const anomalous = decideRemediation({
      ...base,
      status: 'SUCCEEDED',
      anomaly: {
        anomalous: true,
        score: 4,
        threshold: 2,
        explanation: [{ feature: 'buildSeconds', value: 900, typical: 300, share: 0.7, direction: 'high' }],
      },
    });
    expect(anomalous).toMatchObject({ action: 'NOTIFY', confidence: 0.9 });
    expect(anomalous.reasons[0]).toContain('driven by buildSeconds high (70%)');
  });

  test('a stopped build and a missing target need nothing', () => {
    expect(decideRemediation({ ...base, status: 'STOPPED' }).action).toBe('NONE');
    expect(decideRemediation({ ...base, target: null }).action).toBe('NONE');
  });
});

describe('decideRemediation with the failure cause read from the log', () => {
  const decide = (lines: string[], extra: Partial<DecisionInput> = {}) =>
    decideRemediation({
      ...base,
      environmentFaults: findEnvironmentFaults(lines),
      cause: analyseFailureCause(lines),
      ...extra,
    });

  test('compiler errors after a retried network warning are a real failure', () => {
    const decision = decide([
      '$ cargo build',
      'warning: spurious network error (2 tries remaining): Connection reset by peer',
      'error[E0425]: cannot find value `x` in this scope',
      'error[E0308]: mismatched types',
      'error[E0599]: no method named `y` found',
    ]);
    expect(decision.action).toBe('NOTIFY');
    expect(decision.reasons.join(' ')).toContain('code error(s), first at line 3');
    expect(decision.reasons.join(' ')).toContain('a warning the tool retried');
  });

  test('a runner that lost its Docker daemon is rerun, citing the line', () => {
    const decision = decide([
      '$ make',
      'ERROR: Job failed (system failure): Cannot connect to the Docker daemon',
    ]);
    expect(decision.action).toBe('RERUN_CLEAN');
    expect(decision.reasons[0]).toContain('line 2');
  });

  test('a host disk already full before the change ran is notified, not rerun', () => {
    const decision = decide(['bash: line 29: /builds/tmp/CA_FILE: No space left on device'], {
      failedPhase: 'DOWNLOAD_SOURCE',
    });
    expect(decision.action).toBe('NOTIFY');
  });

  test('the failed phase the log markers show stands in for a missing build record phase', () => {
    const decision = decideRemediation({
      ...base,
      failedPhase: undefined,
      cause: analyseFailureCause(['section_start:1:prepare_executor\r\u001b[0KPreparing', 'waiting']),
    });
    expect(decision.action).toBe('RERUN_CLEAN');
    expect(decision.reasons[0]).toContain('PROVISIONING');
  });

  describe('a first failure of tests', () => {
    const firstFailure = {
      failedTests: ['pay'],
      flaky: [],
      consistent: ['pay'],
      firstFailures: ['pay'],
      broken: [],
    };

    test('gets one budgeted rerun to tell a flake from a regression', () => {
      const decision = decideRemediation({ ...base, tests: firstFailure });
      expect(decision.action).toBe('RERUN_CLEAN');
      expect(decision.reasons[0]).toBe(`${FIRST_FAILURE_RERUN_REASON} (pay).`);
    });

    test('with a compiler error in the log notifies: a rerun cannot fix the code', () => {
      const decision = decideRemediation({
        ...base,
        tests: firstFailure,
        cause: analyseFailureCause([
          '[Container] 2024/01/01 00:00:00 Entering phase BUILD',
          '[Container] 2024/01/01 00:00:01 Running command npm test',
          "src/pay.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.",
          '[Container] 2024/01/01 00:00:02 Command did not exit successfully npm test exit status 1',
          '[Container] 2024/01/01 00:00:02 Phase complete: BUILD State: FAILED',
        ]),
      });
      expect(decision.action).toBe('NOTIFY');
    });

    test('of a test that already failed (or is broken) notifies', () => {
      for (const tests of [
        { ...firstFailure, firstFailures: [] },
        { ...firstFailure, firstFailures: [], broken: ['pay'] },
      ]) {
        expect(decideRemediation({ ...base, tests }).action).toBe('NOTIFY');
      }
    });

    test('beside a test that failed before notifies', () => {
      const tests = {
        failedTests: ['pay', 'old'],
        flaky: [],
        consistent: ['pay', 'old'],
        firstFailures: ['pay'],
        broken: [],
      };
      expect(decideRemediation({ ...base, tests }).action).toBe('NOTIFY');
    });

    test('a known flaky test is rerun as a flake', () => {
      const decision = decideRemediation({ ...base, tests: knownFlakyCart });
      expect(decision).toMatchObject({ action: 'RERUN_CLEAN', confidence: 0.8 });
      expect(decision.reasons[0]).toContain('recorded as flaky');
    });
  });
});

describe('decideRemediation with a quarantine', () => {
  const NOW = new Date('2026-12-06T10:00:00Z');
  const entry = (name: string, owner = 'team-cart', expiresAt = '2026-12-20T10:00:00Z'): QuarantineEntry => ({
    name,
    owner,
    reason: 'timing-dependent',
    quarantinedAt: '2026-12-01T10:00:00Z',
    expiresAt,
    origin: 'manual',
  });
  /** `cart` failed again on a revision it already failed on: broken, which the policy notifies. */
  const brokenCart: FlakyTestAnalysis = {
    failedTests: ['cart'],
    flaky: [],
    consistent: ['cart'],
    firstFailures: [],
    broken: ['cart'],
  };
  const quarantine = (...entries: QuarantineEntry[]) => ({ quarantine: { entries, now: NOW } });

  test('a failure of quarantined tests only is recorded with the quarantine as its first reason and marked, not paged', () => {
    const decision = decideRemediation({ ...base, tests: brokenCart, ...quarantine(entry('cart')) });

    expect(decision.action).toBe('NOTIFY');
    expect(decision.reasons[0]).toBe(
      `${QUARANTINED_TESTS_REASON}: cart, owner team-cart: recorded, nobody paged and no retry budget spent (the owner handles the test).`,
    );
    expect(decision.quarantined).toEqual({ tests: ['cart'], owners: ['team-cart'] });
  });

  test('a failure of quarantined flaky tests keeps the rerun the flaky-test policy gives, with the quarantine among its reasons', () => {
    const decision = decideRemediation({ ...base, tests: knownFlakyCart, ...quarantine(entry('cart')) });

    expect(decision).toMatchObject({ action: 'RERUN_CLEAN', confidence: 0.8 });
    expect(decision.reasons.at(-1)).toBe(
      `${QUARANTINED_TESTS_REASON}: cart, owner team-cart: rerun as any flaky test would be, nobody paged.`,
    );
    expect(decision.quarantined).toEqual({ tests: ['cart'], owners: ['team-cart'] });
  });

  test('a first failure of a quarantined test keeps its one rerun, its first-failure reason still first', () => {
    const decision = decideRemediation({
      ...base,
      tests: { failedTests: ['cart'], flaky: [], consistent: ['cart'], firstFailures: ['cart'], broken: [] },
      ...quarantine(entry('cart')),
    });

    expect(decision.action).toBe('RERUN_CLEAN');
    expect(decision.reasons[0]?.startsWith(FIRST_FAILURE_RERUN_REASON)).toBe(true);
  });

  test('a failure with any test outside the quarantine is decided as without one', () => {
    const tests: FlakyTestAnalysis = {
      ...brokenCart,
      failedTests: ['cart', 'pay'],
      consistent: ['cart', 'pay'],
    };
    const decision = decideRemediation({ ...base, tests, ...quarantine(entry('cart')) });

    expect(decision).toEqual(decideRemediation({ ...base, tests }));
    expect(decision.quarantined).toBeUndefined();
  });

  test('an expired quarantine holds nothing: the failure is decided as without one', () => {
    const decision = decideRemediation({
      ...base,
      tests: brokenCart,
      ...quarantine(entry('cart', 'team-cart', '2026-12-06T10:00:00Z')),
    });

    expect(decision).toEqual(decideRemediation({ ...base, tests: brokenCart }));
  });

  test('a failure with an environment fault besides quarantined tests is decided on the fault', () => {
    const input = { ...base, tests: brokenCart, environmentFaults: findEnvironmentFaults(['ETIMEDOUT']) };
    const decision = decideRemediation({ ...input, ...quarantine(entry('cart')) });

    expect(decision).toEqual(decideRemediation(input));
  });

  test('a build that timed out is not a test failure the quarantine covers', () => {
    const input: DecisionInput = { ...base, status: 'TIMED_OUT', tests: brokenCart };
    expect(decideRemediation({ ...input, ...quarantine(entry('cart')) })).toEqual(decideRemediation(input));
  });

  test('the reason names every owner of the quarantined tests', () => {
    const decision = decideRemediation({
      ...base,
      tests: {
        ...brokenCart,
        failedTests: ['cart', 'pay'],
        consistent: ['cart', 'pay'],
        broken: ['cart', 'pay'],
      },
      ...quarantine(entry('cart'), entry('pay', 'team-pay')),
    });

    expect(decision.reasons[0]).toContain(': cart, pay, owners team-cart, team-pay:');
  });
});
