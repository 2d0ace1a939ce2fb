/**
 * Records how a remediation ended: the decision record (state and history), the circuit breaker fed
 * with the result of every action taken, the outcome label, and the notification a human should get.
 */
import {
  DEFAULT_NOTIFICATION_WINDOW_SECONDS,
  isGroupable,
  NotificationDedupStore,
} from '../../core/remediation/failure-fingerprint';
import { FlakyTestHistory } from '../../core/remediation/flaky-tests';
import { BreakerState, GuardStore } from '../../core/remediation/guards';
import { NotificationDigestStore, utcDay } from '../../core/remediation/notification-digest';
import { notificationTopicFor, NotificationRoutes } from '../../core/remediation/notification-routes';
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
  /** Counts each failure fingerprint's occurrences: repeats within the window are not sent again. */
  readonly notificationDedup?: NotificationDedupStore;
  /** @default DEFAULT_NOTIFICATION_WINDOW_SECONDS (24 h) */
  readonly notificationWindowSeconds?: number;
  /** Counts every occurrence of a grouped failure per day, for the daily digest of the repeats. */
  readonly digest?: NotificationDigestStore;
  /** The owner topics by scope and the main topic: where this record's notification goes. */
  readonly routes: NotificationRoutes;
  readonly now: () => Date;
}

export interface RecordedOutcome extends Notification {
  readonly remediationId: string;
  readonly status: OutcomeReport['status'];
  readonly labelKind?: string;
  readonly testOutcome?: string;
  /** The topic the notification goes to: the owner's of the project or pipeline, else the main topic. */
  readonly topicArn: string;
  /** Set when the notification is a repeat of a failure already notified in the window (not sent). */
  readonly repeatOf?: { readonly fingerprint: string; readonly occurrence: number };
  /** The breaker after this result, when the result came from an action. */
  readonly breaker?: BreakerState;
}

export async function recordOutcome(
  report: OutcomeReport,
  deps: RecordOutcomeDependencies,
): Promise<RecordedOutcome> {
  const now = deps.now();
  const built = buildDecisionRecord(report, now.toISOString());
  const fingerprint = report.classification?.fingerprint;
  const wanted = notificationFor(built).notify;
  // Before the record is saved, so that it says whether its notification was sent or only counted.
  const occurrence =
    wanted &&
    fingerprint &&
    deps.notificationDedup &&
    isGroupable(built.status, built.testOutcome === 'failed-again')
      ? await deps.notificationDedup.noteOccurrence(
          fingerprint.hash,
          built.remediationId,
          Math.floor(now.getTime() / 1000),
          deps.notificationWindowSeconds ?? DEFAULT_NOTIFICATION_WINDOW_SECONDS,
        )
      : undefined;
  const record = occurrence
    ? {
        ...built,
        notification: {
          fingerprint: fingerprint!.hash,
          occurrence: occurrence.count,
          sent: occurrence.first,
        },
      }
    : built;
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
  const topicArn = notificationTopicFor(record.scope, deps.routes);
  if (occurrence && deps.digest) {
    await deps.digest.countOccurrence({
      day: utcDay(now),
      fingerprint: fingerprint!.hash,
      where: fingerprint!.where,
      cause: fingerprint!.cause,
      topicArn,
      sent: occurrence.first,
      at: now.toISOString(),
      remediationId: record.remediationId,
    });
  }
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
  const notification = notificationFor(record);
  return {
    ...notification,
    notify: notification.notify && (occurrence?.first ?? true),
    topicArn,
    ...(occurrence && !occurrence.first
      ? { repeatOf: { fingerprint: fingerprint!.hash, occurrence: occurrence.count } }
      : {}),
    remediationId: record.remediationId,
    status: record.status,
    ...(record.label ? { labelKind: record.label.kind } : {}),
    ...(record.testOutcome ? { testOutcome: record.testOutcome } : {}),
    ...(breaker ? { breaker } : {}),
  };
}
