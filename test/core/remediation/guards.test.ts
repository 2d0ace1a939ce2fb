import {
  budgetClaims,
  DEFAULT_GUARD_LIMITS,
  GuardContext,
  guardDecision,
  isBreakerOpen,
  loopPreventionReason,
  validateGuardLimits,
} from '../../../core/remediation/guards';
import { Classification } from '../../../core/remediation/remediation';
import { MemoryGuardStore } from '../../../local/memory-guard-store';

const classification = (
  revision: string,
  action: Classification['decision']['action'] = 'RERUN_CLEAN',
): Classification => ({
  eventId: `e-${revision}`,
  claimKey: `build:app:${revision}`,
  target: { kind: 'codebuild-project', projectName: 'app', buildId: `app:${revision}`, revision },
  decision: { action, reasons: ['why'], confidence: 0.8 },
  classifiedAt: '2026-11-21T12:00:00Z',
});

function context(store = new MemoryGuardStore(), nowSeconds = 1_000_000): GuardContext {
  return { store, limits: DEFAULT_GUARD_LIMITS, defaultMode: 'enforce', nowSeconds };
}

describe('loopPreventionReason', () => {
  test.each([
    [
      { environmentVariables: [{ name: 'PIPEMEND_REMEDIATION_ID', value: 'r1' }] },
      "Pipemend's own rerun (remediation r1)",
    ],
    [{ initiator: 'Pipemend-RemediationRole/abc' }, "started by Pipemend's remediation role"],
    [{ pipelineState: 'RESUMED' }, 'resumed by a retry'],
    [{ executionType: 'ROLLBACK' }, 'is a rollback'],
    [{ triggerType: 'AutomatedRollback' }, 'is a rollback'],
  ])('ignores %j', (origin, reason) => {
    expect(loopPreventionReason(origin, ['Pipemend-RemediationRole/'])).toContain(reason);
  });

  test('lets an ordinary failed build through', () => {
    expect(
      loopPreventionReason({ initiator: 'alice', pipelineState: 'FAILED' }, ['Pipemend-RemediationRole/']),
    ).toBeUndefined();
  });
});

describe('guardDecision', () => {
  test('NONE is skipped without touching any budget', async () => {
    const store = new MemoryGuardStore();
    expect((await guardDecision(classification('r1', 'NONE'), context(store))).outcome).toBe('SKIP');
    expect(store.budgets.size).toBe(0);
  });

  test('shadow mode (the default for a new installation) records only and spends nothing', async () => {
    const store = new MemoryGuardStore();
    const decision = await guardDecision(classification('r1'), { ...context(store), defaultMode: 'shadow' });
    expect(decision).toEqual({
      outcome: 'SHADOW',
      mode: 'shadow',
      reasons: ['project:app is in shadow mode: the decision is recorded only.'],
    });
    expect(store.budgets.size).toBe(0);
  });

  test('a mode set for the scope overrides the default', async () => {
    const store = new MemoryGuardStore();
    store.modes.set('project:app', 'suggest');
    expect((await guardDecision(classification('r1'), context(store))).outcome).toBe('SUGGEST');
  });

  test('the window budget stops the fourth action in an hour and escalates once, then suppresses', async () => {
    const store = new MemoryGuardStore();
    const outcomes = [];
    for (const revision of ['r1', 'r2', 'r3', 'r4', 'r5']) {
      outcomes.push((await guardDecision(classification(revision), context(store))).outcome);
    }
    expect(outcomes).toEqual(['PROCEED', 'PROCEED', 'PROCEED', 'ESCALATE', 'SUPPRESS']);
  });

  test('a first-failure rerun spends the revision budget: a second failure of that revision is never rerun', async () => {
    const store = new MemoryGuardStore();
    const first: Classification = {
      ...classification('r1'),
      decision: {
        action: 'RERUN_CLEAN',
        reasons: ['first failure of these tests: one rerun to tell a flake from a regression (pay).'],
        confidence: 0.5,
      },
      tests: { projectName: 'app', failed: ['pay'], basis: 'first-failure' },
    };
    // The same revision fails again (a new build of it): any further rerun is refused and escalated.
    const again: Classification = {
      ...first,
      eventId: 'e-r1-again',
      claimKey: 'build:app:r1-again',
      target: { kind: 'codebuild-project', projectName: 'app', buildId: 'app:r1-again', revision: 'r1' },
    };
    const outcomes = [];
    for (const decision of [first, again, again]) {
      outcomes.push((await guardDecision(decision, context(store, 1_000_000 + 4 * 3600))).outcome);
    }
    expect(outcomes).toEqual(['PROCEED', 'ESCALATE', 'SUPPRESS']);
    expect(DEFAULT_GUARD_LIMITS.maxActionsPerRevision).toBe(1);
  });

  describe('a failure of quarantined tests only', () => {
    const quarantined = (action: Classification['decision']['action']): Classification => ({
      ...classification('r1', action),
      quarantined: { tests: ['cart'], owners: ['team-cart'] },
    });

    test('to notify is suppressed without spending budget', async () => {
      const store = new MemoryGuardStore();
      const decision = await guardDecision(quarantined('NOTIFY'), context(store));
      expect(decision).toEqual({
        outcome: 'SUPPRESS',
        mode: 'enforce',
        reasons: ['Every failed test is quarantined (owner team-cart): recorded without a notification.'],
      });
      expect(store.budgets.size).toBe(0);
    });

    test('to notify in suggest mode is suppressed too: no suggestion is sent', async () => {
      const store = new MemoryGuardStore();
      store.modes.set('project:app', 'suggest');
      expect((await guardDecision(quarantined('NOTIFY'), context(store))).outcome).toBe('SUPPRESS');
    });

    test('to notify with an open breaker is suppressed, not escalated', async () => {
      const store = new MemoryGuardStore();
      for (let index = 0; index < 3; index += 1) await store.recordResult('project:app', false, 999_000);
      expect((await guardDecision(quarantined('NOTIFY'), context(store))).outcome).toBe('SUPPRESS');
      expect(store.breakers.get('project:app')?.escalatedAt).toBeUndefined();
    });

    test('to rerun proceeds on the budget as any flaky test', async () => {
      const store = new MemoryGuardStore();
      expect((await guardDecision(quarantined('RERUN_CLEAN'), context(store))).outcome).toBe('PROCEED');
      expect(store.budgets.size).toBeGreaterThan(0);
    });
  });

  test('an open breaker escalates without spending budget', async () => {
    const store = new MemoryGuardStore();
    for (let index = 0; index < 3; index += 1) await store.recordResult('project:app', false, 999_000);
    const decision = await guardDecision(classification('r9'), context(store));
    expect(decision.outcome).toBe('ESCALATE');
    expect(decision.reasons[0]).toContain(
      'circuit breaker for project:app is open after 3 consecutive failed remediations',
    );
    expect(store.budgets.size).toBe(0);
  });

  test('the breaker closes after its cooldown', () => {
    const state = { consecutiveFailures: 3, lastFailureAt: 0 };
    expect(isBreakerOpen(state, DEFAULT_GUARD_LIMITS, DEFAULT_GUARD_LIMITS.breakerCooldownSeconds - 1)).toBe(
      true,
    );
    expect(isBreakerOpen(state, DEFAULT_GUARD_LIMITS, DEFAULT_GUARD_LIMITS.breakerCooldownSeconds)).toBe(
      false,
    );
  });

  test('budgets are per pipeline/stage/revision and per window', () => {
    const claims = budgetClaims(
      {
        kind: 'pipeline-stage',
        pipelineName: 'app',
        stageName: 'Test',
        pipelineExecutionId: 'x',
        revision: 'r1',
      },
      DEFAULT_GUARD_LIMITS,
      7200,
    );
    expect(claims.map((claim) => claim.key)).toEqual([
      'budget#pipeline:app#window#2',
      'budget#pipeline:app#stage#Test#revision#r1',
    ]);
  });

  test('limits must be positive integers', () => {
    expect(() => validateGuardLimits({ ...DEFAULT_GUARD_LIMITS, maxActionsPerWindow: 0 })).toThrow(
      'Guard limit maxActionsPerWindow must be a positive integer, got 0',
    );
  });
});
