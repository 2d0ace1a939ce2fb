import { labelKey } from '../../../core/remediation/labels';
import {
  buildDecisionRecord,
  decisionRecordKey,
  notificationFor,
} from '../../../core/remediation/remediation-record';
import { dnsFailureRerun, enforcedProceed } from '../../helpers/remediation-fixtures';

describe('decision records and labels', () => {
  test('a rerun that passed labels the original build an environment fault', () => {
    const record = buildDecisionRecord(
      {
        classification: dnsFailureRerun,
        guard: enforcedProceed,
        status: 'SUCCEEDED',
        detail: 'rerun app:2 passed',
      },
      '2026-11-21T12:30:00.000Z',
    );
    expect(record.label).toEqual({
      schemaVersion: 1,
      kind: 'environment-fault',
      anomalous: true,
      projectName: 'app',
      buildId: 'app:1',
      remediationId: 'rem-1',
      evidence: 'rerun app:2 passed',
      labelledAt: '2026-11-21T12:30:00.000Z',
    });
    expect(labelKey(record.label!)).toBe('labels/kind=environment-fault/date=2026-11-21/rem-1.json');
    expect(decisionRecordKey(record)).toBe('remediations/date=2026-11-21/scope=project%3Aapp/rem-1.json');
  });

  test('shadow, failed and suggested outcomes teach nothing', () => {
    for (const [status, outcome] of [
      ['SHADOWED', 'SHADOW'],
      ['FAILED', 'PROCEED'],
      ['SUGGESTED', 'SUGGEST'],
    ] as const) {
      expect(
        buildDecisionRecord(
          { classification: dnsFailureRerun, guard: { ...enforcedProceed, outcome }, status },
          '2026-11-21T12:30:00Z',
        ).label,
      ).toBeUndefined();
    }
  });

  test('notifications are silent for shadowed and suppressed records, and subjects fit SNS', () => {
    const shadowed = buildDecisionRecord(
      {
        classification: dnsFailureRerun,
        guard: { ...enforcedProceed, outcome: 'SHADOW' },
        status: 'SHADOWED',
      },
      '2026-11-21T12:30:00Z',
    );
    expect(notificationFor(shadowed).notify).toBe(false);
    const escalated = notificationFor(
      buildDecisionRecord(
        { classification: dnsFailureRerun, guard: enforcedProceed, status: 'ESCALATED' },
        '2026-11-21T12:30:00Z',
      ),
    );
    expect(escalated.notify).toBe(true);
    expect(escalated.subject).toBe('Pipemend: Escalation: automatic remediation stopped for project:app');
    expect(escalated.subject.length).toBeLessThanOrEqual(100);
    expect(escalated.message).toContain('- DNS failure');
  });
});
