/**
 * Records how a remediation ended: the decision record (state and history), the circuit breaker fed
 * with the result of every action taken, the outcome label, and the notification a human should get.
 */
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
  readonly now: () => Date;
}

export interface RecordedOutcome extends Notification {
  readonly remediationId: string;
  readonly status: OutcomeReport['status'];
  readonly labelKind?: string;
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
  return {
    ...notificationFor(record),
    remediationId: record.remediationId,
    status: record.status,
    ...(record.label ? { labelKind: record.label.kind } : {}),
    ...(breaker ? { breaker } : {}),
  };
}
