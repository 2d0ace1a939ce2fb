/**
 * Records how a remediation ended: the decision record (state and history), the circuit breaker fed
 * with the result of every action taken, the outcome label, and the notification a human should get.
 */
import { FlakyTestHistory } from '../../core/remediation/flaky-tests';
import { BreakerState, GuardStore } from '../../core/remediation/guards';
import {
  buildDecisionRecord,
  DecisionRecordSink,
  isActionResult,
  Notification,
  notificationFor,
  OutcomeReport,
} from '../../core/remediation/remediation-record';

export interface RecordOutcomeDependencies {
  readonly guardStore: GuardStore;
  readonly sink: DecisionRecordSink;
  /** Where tests a rerun rescued are recorded as flaky (classify reads them back). */
  readonly flakyTests?: FlakyTestHistory;
  readonly now: () => Date;
}

export interface RecordedOutcome extends Notification {
  readonly remediationId: string;
  readonly status: OutcomeReport['status'];
  readonly labelKind?: string;
  readonly testOutcome?: string;
  /** The breaker after this result, when the result came from an action. */
  readonly breaker?: BreakerState;
}

export async function recordOutcome(
  report: OutcomeReport,
  deps: RecordOutcomeDependencies,
): Promise<RecordedOutcome> {
  const now = deps.now();
  const record = buildDecisionRecord(report, now.toISOString());
  // Keyed by the remediation, so a retried record (say, the save below failed) counts its result once.
  const breaker =
    record.scope !== null && report.guard?.outcome === 'PROCEED' && isActionResult(report.status)
      ? await deps.guardStore.recordResult(
          record.scope,
          report.status === 'SUCCEEDED',
          Math.floor(now.getTime() / 1000),
          record.remediationId,
        )
      : undefined;
  await deps.sink.save(record);
  const tests = report.classification?.tests;
  if (record.testOutcome === 'rescued-by-rerun' && tests && deps.flakyTests) {
    // The tests failed and then passed on the same revision: flaky, with evidence.
    const target = report.classification?.target;
    await deps.flakyTests.recordFlaky(tests.projectName, tests.failed, {
      ...(target?.buildId !== undefined ? { failedBuildId: target.buildId } : {}),
      ...(target?.revision !== undefined ? { revision: target.revision } : {}),
      remediationId: record.remediationId,
      recordedAt: record.recordedAt,
    });
  }
  return {
    ...notificationFor(record),
    remediationId: record.remediationId,
    status: record.status,
    ...(record.label ? { labelKind: record.label.kind } : {}),
    ...(record.testOutcome ? { testOutcome: record.testOutcome } : {}),
    ...(breaker ? { breaker } : {}),
  };
}
