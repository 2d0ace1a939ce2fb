/**
 * The decision record of one remediation: what was decided, what the guard let through, what was done
 * and how it ended. Kept as state in DynamoDB and as history in the data lake under `remediations/`.
 */
import { labelForSuccess, OutcomeLabel } from './labels';
import { Classification, GuardResult, RemediationStatus, remediationScope } from './remediation';

export const DECISION_RECORD_SCHEMA_VERSION = 1;

/** A Step Functions error output (`{Error, Cause}`), as a Catch puts it at `$.error`. */
export interface TaskError {
  readonly error: string;
  readonly cause?: string;
}

export interface DecisionRecord {
  readonly schemaVersion: typeof DECISION_RECORD_SCHEMA_VERSION;
  readonly remediationId: string;
  readonly eventId: string;
  readonly executionId: string;
  readonly scope: string | null;
  /** `null` when the classification step itself failed. */
  readonly classification: Classification | null;
  /** `null` when the guard was never consulted (it or the classification failed). */
  readonly guard: GuardResult | null;
  readonly status: RemediationStatus;
  /** What the action produced or why it failed (rerun build id, error cause), for humans. */
  readonly detail?: string;
  /** The task error that ended the remediation, when one did. */
  readonly error?: TaskError;
  /** Source and detail type of the trigger event (never its detail, which may hold secrets). */
  readonly trigger?: { readonly source?: string; readonly detailType?: string };
  readonly recordedAt: string;
  readonly label?: OutcomeLabel;
  /**
   * For a rerun decided on failed tests: `rescued-by-rerun` when it passed (the tests flipped on the same
   * revision: flaky, with evidence), `failed-again` when it failed (a regression: never rerun again).
   */
  readonly testOutcome?: TestRerunOutcome;
  /**
   * The failure's fingerprint and its occurrence in the notification window: the first is sent, repeats
   * only count (`sent: false`).
   */
  readonly notification?: {
    readonly fingerprint: string;
    readonly occurrence: number;
    readonly sent: boolean;
  };
}

export type TestRerunOutcome = 'rescued-by-rerun' | 'failed-again';

/** How a rerun decided on failed tests ended, if the record is one. */
export function testRerunOutcome(
  classification: Classification | null,
  guard: GuardResult | null,
  status: RemediationStatus,
): TestRerunOutcome | undefined {
  if (!classification?.tests || classification.decision.action !== 'RERUN_CLEAN') return undefined;
  if (guard?.outcome !== 'PROCEED') return undefined;
  if (status === 'SUCCEEDED') return 'rescued-by-rerun';
  return status === 'FAILED' ? 'failed-again' : undefined;
}

/**
 * What the state machine knows at the end of an execution. Classification and guard are `null` when the
 * step that produces them failed; the record is written from whatever is known.
 */
export interface OutcomeReport {
  readonly classification: Classification | null;
  readonly guard: GuardResult | null;
  readonly status: RemediationStatus;
  readonly detail?: string;
  /** `$.error` of the execution: `{Error, Cause}` of the caught task failure, or null. */
  readonly error?: { readonly Error?: string; readonly Cause?: string } | null;
  /** The trigger event; only its id, source and detail type are recorded. */
  readonly event?: { readonly id?: string; readonly source?: string; readonly 'detail-type'?: string } | null;
  readonly executionId?: string;
  readonly executionName?: string;
}

export function buildDecisionRecord(report: OutcomeReport, recordedAt: string): DecisionRecord {
  const { classification, guard, status, detail } = report;
  const target = classification?.target ?? null;
  const error = report.error?.Error
    ? { error: report.error.Error, ...(report.error.Cause ? { cause: report.error.Cause } : {}) }
    : undefined;
  const trigger = report.event
    ? {
        ...(report.event.source ? { source: report.event.source } : {}),
        ...(report.event['detail-type'] ? { detailType: report.event['detail-type'] } : {}),
      }
    : undefined;
  const label =
    classification && status === 'SUCCEEDED' && target && guard?.outcome === 'PROCEED'
      ? labelForSuccess({
          remediationId: guard.remediationId,
          action: classification.decision.action,
          target,
          evidence: detail ?? `${classification.decision.action} succeeded`,
          at: recordedAt,
        })
      : undefined;
  const testOutcome = testRerunOutcome(classification, guard, status);
  return {
    schemaVersion: DECISION_RECORD_SCHEMA_VERSION,
    // Without the guard's id, the execution names the remediation (one record per execution either way).
    remediationId: guard?.remediationId ?? `execution-${report.executionName ?? 'unknown'}`,
    eventId: classification?.eventId ?? report.event?.id ?? 'unknown',
    executionId: guard?.executionId ?? report.executionId ?? 'unknown',
    scope: target ? remediationScope(target) : null,
    classification,
    guard,
    status,
    ...(detail !== undefined ? { detail } : {}),
    ...(error ? { error } : {}),
    ...(trigger && Object.keys(trigger).length > 0 ? { trigger } : {}),
    recordedAt,
    ...(label ? { label } : {}),
    ...(testOutcome ? { testOutcome } : {}),
  };
}

/** Whether the status is the result of an action that was taken (and so counts for the circuit breaker). */
export function isActionResult(status: RemediationStatus): boolean {
  return status === 'SUCCEEDED' || status === 'FAILED';
}

export function decisionRecordKey(
  record: Pick<DecisionRecord, 'recordedAt' | 'scope' | 'remediationId'>,
): string {
  const scope = encodeURIComponent(record.scope ?? 'none');
  return `remediations/date=${record.recordedAt.slice(0, 10)}/scope=${scope}/${encodeURIComponent(record.remediationId)}.json`;
}

/** Where decision records go: DynamoDB + S3 in AWS, memory or files locally. */
export interface DecisionRecordSink {
  save(record: DecisionRecord): Promise<void>;
}

export interface Notification {
  /** Whether a human should hear about this record. */
  readonly notify: boolean;
  /** SNS subjects are at most 100 ASCII characters. */
  readonly subject: string;
  readonly message: string;
}

const SILENT_STATUSES: ReadonlySet<RemediationStatus> = new Set(['SHADOWED', 'SUPPRESSED']);

/** The human-facing notification of a decision record: a readable summary, then the record as JSON. */
export function notificationFor(record: DecisionRecord): Notification {
  const { classification, guard, status } = record;
  const action = classification?.decision.action ?? 'remediation';
  const where = record.scope ?? 'an unknown target';
  const rescued = record.testOutcome === 'rescued-by-rerun';
  const headline: Record<RemediationStatus, string> = {
    SUCCEEDED: rescued ? `Flaky tests of ${where} rescued by a rerun` : `${action} of ${where} succeeded`,
    FAILED: `${action} of ${where} failed`,
    SHADOWED: `Would ${action} ${where} (shadow mode)`,
    SUGGESTED: `Proposed: ${action} for ${where}`,
    NOTIFIED: `Attention needed: ${where}`,
    ESCALATED: `Escalation: automatic remediation stopped for ${where}`,
    SUPPRESSED: `Suppressed ${action} for ${where}`,
    DENIED: `Rollback of ${where} denied`,
    APPROVAL_TIMED_OUT: `Escalation: rollback approval for ${where} timed out`,
  };
  const lines = [
    `Pipemend: ${headline[status]}.`,
    '',
    ...(classification
      ? [
          `Decision: ${action} (confidence ${classification.decision.confidence.toFixed(2)})`,
          ...classification.decision.reasons.map((reason) => `- ${reason}`),
        ]
      : ['Decision: none (the failure could not be classified)']),
    ...(guard
      ? [`Guard: ${guard.outcome} in ${guard.mode} mode`, ...guard.reasons.map((reason) => `- ${reason}`)]
      : ['Guard: not consulted']),
    ...(record.detail ? [`Detail: ${record.detail}`] : []),
    ...(record.error
      ? [`Error: ${record.error.error}${record.error.cause ? `: ${record.error.cause}` : ''}`]
      : []),
    ...(record.label ? [`Label: ${record.label.kind}`] : []),
    ...(record.testOutcome ? [`Tests: ${record.testOutcome}`] : []),
    ...(record.classification?.fingerprint
      ? [
          `Fingerprint: ${record.classification.fingerprint.hash} (${record.classification.fingerprint.where}: ${record.classification.fingerprint.cause})`,
        ]
      : []),
    '',
    JSON.stringify(record, null, 2),
  ];
  return {
    // A flake rescued by its rerun needs nobody: it is recorded (and the test as flaky), not paged.
    notify: !SILENT_STATUSES.has(status) && !rescued,
    subject: `Pipemend: ${headline[status]}`.replace(/[^\x20-\x7e]/g, '?').slice(0, 100),
    message: lines.join('\n'),
  };
}
