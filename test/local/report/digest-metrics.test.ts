import { replayedBuild } from './replayed-build.fixtures';
import { DigestOccurrence } from '../../../core/remediation/notification-digest';
import type { ReplayedBuild } from '../../../local/replay';
import { digestsOf } from '../../../local/report/metrics';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:PipemendNotifications';

function grouped(id: string, at: string, sent: boolean, fingerprint = 'aaaa'): ReplayedBuild {
  const digestOccurrence: DigestOccurrence = {
    day: at.slice(0, 10),
    fingerprint,
    where: 'project:app-build',
    cause: 'boom',
    topicArn: TOPIC,
    sent,
    at,
    remediationId: `rem-${id}`,
  };
  return replayedBuild(id, {
    startTime: at,
    endTime: at,
    status: 'FAILED',
    remediation: {
      action: 'NOTIFY',
      status: 'NOTIFIED',
      reasons: [],
      startedBuildIds: [],
      executionMs: 1,
      stateTransitions: 5,
      lambdaInvocations: 3,
      guarded: true,
      notifications: sent ? 1 : 0,
      ...(sent ? {} : { notificationFolded: true }),
      digestOccurrence,
      endedAt: at,
    },
  });
}

describe('digestsOf (the replay’s daily digests)', () => {
  test('a day whose failures never repeated has no digest', () => {
    expect(digestsOf([grouped('b1', '2026-06-01T10:00:00.000Z', true)])).toBe(0);
  });

  test('one digest per day with repeats, however many failures repeated that day', () => {
    expect(
      digestsOf([
        grouped('b1', '2026-06-01T10:00:00.000Z', true),
        grouped('b2', '2026-06-01T11:00:00.000Z', false),
        grouped('b3', '2026-06-01T12:00:00.000Z', true, 'bbbb'),
        grouped('b4', '2026-06-01T13:00:00.000Z', false, 'bbbb'),
        grouped('b5', '2026-06-02T09:00:00.000Z', false),
      ]),
    ).toBe(2);
  });
});
