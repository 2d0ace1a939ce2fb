import { DigestEntry } from '../../../core/remediation/notification-digest';
import { DigestSource, sendDailyDigest } from '../../../lambda/notification-digest/digest';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:pipemend';

/** A source holding one repeated failure on each given day. */
function sourceWithRepeatsOn(...days: string[]): DigestSource {
  const entries: DigestEntry[] = days.map((day) => ({
    day,
    fingerprint: `f-${day}`,
    where: 'project:app',
    cause: 'boom',
    topicArn: TOPIC,
    occurrences: 2,
    repeats: 1,
    firstSeen: `${day}T10:00:00.000Z`,
    lastSeen: `${day}T11:00:00.000Z`,
  }));
  return {
    entriesOf: (day) => Promise.resolve(entries.filter((entry) => entry.day === day)),
    isSent: () => Promise.resolve(false),
    markSent: () => Promise.resolve(),
  };
}

describe('sendDailyDigest', () => {
  test("without a day it sends the digest of the UTC day before the clock's", async () => {
    const published: string[] = [];

    const run = await sendDailyDigest({
      source: sourceWithRepeatsOn('2026-12-05', '2026-12-06'),
      publish: (message) => {
        published.push(message.day);
        return Promise.resolve();
      },
      now: () => new Date('2026-12-06T08:00:00Z'),
    });

    expect(run.day).toBe('2026-12-05');
    expect(published).toEqual(['2026-12-05']);
  });
});
