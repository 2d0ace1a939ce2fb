/**
 * The decision record of one remediation: what was decided, what the guard let through, what was done
 * and how it ended. Kept as state in DynamoDB and as history in the data lake under `remediations/`.
 */
import { labelForSuccess, OutcomeLabel } from './labels';
import { Classification, GuardResult, RemediationStatus, remediationScope } from './remediation';

export const DECISION_RECORD_SCHEMA_VERSION = 1;

export interface DecisionRecord {
  readonly schemaVersion: typeof DECISION_RECORD_SCHEMA_VERSION;
  readonly remediationId: string;
  readonly eventId: string;
  readonly executionId: string;
  readonly scope: string | null;
  readonly classification: Classification;
  readonly guard: GuardResult;
  readonly status: RemediationStatus;
  /** What the action produced or why it failed (rerun build id, error cause), for humans. */
  readonly detail?: string;
  readonly recordedAt: string;
  readonly label?: OutcomeLabel;
}

export interface OutcomeReport {
  readonly classification: Classification;
  readonly guard: GuardResult;
  readonly status: RemediationStatus;
  readonly detail?: string;
}

export function buildDecisionRecord(report: OutcomeReport, recordedAt: string): DecisionRecord {
  const { classification, guard, status, detail } = report;
  const target = classification.target;
  const label =
    status === 'SUCCEEDED' && target && guard.outcome === 'PROCEED'
      ? labelForSuccess({
          remediationId: guard.remediationId,
          action: classification.decision.action,
          target,
          evidence: detail ?? `${classification.decision.action} succeeded`,
          at: recordedAt,
        })
      : undefined;
  return {
    schemaVersion: DECISION_RECORD_SCHEMA_VERSION,
    remediationId: guard.remediationId,
    eventId: classification.eventId,
    executionId: guard.executionId,
    scope: target ? remediationScope(target) : null,
    classification,
    guard,
    status,
    ...(detail !== undefined ? { detail } : {}),
    recordedAt,
    ...(label ? { label } : {}),
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
  const { classification, status } = record;
  const action = classification.decision.action;
  const where = record.scope ?? 'an unknown target';
  const headline: Record<RemediationStatus, string> = {
    SUCCEEDED: `${action} of ${where} succeeded`,
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
    `Decision: ${action} (confidence ${classification.decision.confidence.toFixed(2)})`,
    ...classification.decision.reasons.map((reason) => `- ${reason}`),
    `Guard: ${record.guard.outcome} in ${record.guard.mode} mode`,
    ...record.guard.reasons.map((reason) => `- ${reason}`),
    ...(record.detail ? [`Detail: ${record.detail}`] : []),
    ...(record.label ? [`Label: ${record.label.kind}`] : []),
    '',
    JSON.stringify(record, null, 2),
  ];
  return {
    notify: !SILENT_STATUSES.has(status),
    subject: `Pipemend: ${headline[status]}`.replace(/[^\x20-\x7e]/g, '?').slice(0, 100),
    message: lines.join('\n'),
  };
}
