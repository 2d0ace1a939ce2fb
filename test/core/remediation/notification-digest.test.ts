import {
  DigestEntry,
  digestExpiresAt,
  digestMessages,
  DigestOccurrence,
  foldOccurrences,
  previousUtcDay,
} from '../../../core/remediation/notification-digest';

const MAIN = 'arn:aws:sns:eu-west-1:123456789012:main';
const TEAM = 'arn:aws:sns:eu-west-1:123456789012:team';

/** The failure both an occurrence and its day's entry name: its day, fingerprint and topic. */
const FAILURE = {
  day: '2026-12-05',
  fingerprint: 'aaaaaaaaaaaaaaaa',
  where: 'project:app',
  cause: "error TS<n>: Cannot find name 'x'",
  topicArn: MAIN,
};

function occurrence(overrides: Partial<DigestOccurrence>): DigestOccurrence {
  return {
    ...FAILURE,
    sent: false,
    at: '2026-12-05T10:00:00.000Z',
    remediationId: 'rem-1',
    ...overrides,
  };
}

function entry(overrides: Partial<DigestEntry>): DigestEntry {
  return {
    ...FAILURE,
    occurrences: 3,
    repeats: 2,
    firstSeen: '2026-12-05T08:14:00.000Z',
    lastSeen: '2026-12-05T17:52:00.000Z',
    ...overrides,
  };
}

describe('previousUtcDay', () => {
  test('is the UTC day before the one the clock is in, across a month end', () => {
    expect(previousUtcDay(new Date('2026-12-01T08:00:00Z'))).toBe('2026-11-30');
  });

  test('just after midnight UTC it is the day that just ended', () => {
    expect(previousUtcDay(new Date('2026-12-06T00:00:01Z'))).toBe('2026-12-05');
  });
});

describe('digestExpiresAt', () => {
  test('is three days after the end of the day', () => {
    expect(digestExpiresAt('2026-12-05')).toBe(Date.parse('2026-12-09T00:00:00Z') / 1000);
  });
});

describe('foldOccurrences', () => {
  test('folds one fingerprint of one day into counts and the first and last time seen', () => {
    expect(
      foldOccurrences([
        occurrence({ sent: true, at: '2026-12-05T09:00:00.000Z', remediationId: 'r1' }),
        occurrence({ at: '2026-12-05T15:00:00.000Z', remediationId: 'r2' }),
        occurrence({ at: '2026-12-05T11:00:00.000Z', remediationId: 'r3' }),
      ]),
    ).toEqual([
      entry({
        occurrences: 3,
        repeats: 2,
        firstSeen: '2026-12-05T09:00:00.000Z',
        lastSeen: '2026-12-05T15:00:00.000Z',
      }),
    ]);
  });

  test("a remediation's occurrence counted twice (a retried record step) counts once", () => {
    const [folded] = foldOccurrences([occurrence({}), occurrence({})]);
    expect(folded?.occurrences).toBe(1);
  });

  test('the same fingerprint on two days makes two entries', () => {
    expect(
      foldOccurrences([occurrence({}), occurrence({ day: '2026-12-06', remediationId: 'r2' })]),
    ).toHaveLength(2);
  });
});

describe('digestMessages', () => {
  test('a day without repeats sends nothing', () => {
    expect(digestMessages('2026-12-05', [entry({ occurrences: 1, repeats: 0 })])).toEqual([]);
  });

  test('one message per topic, each listing only its own repeated failures', () => {
    const messages = digestMessages('2026-12-05', [
      entry({ fingerprint: 'a1', topicArn: MAIN }),
      entry({ fingerprint: 't1', topicArn: TEAM, where: 'pipeline:payments' }),
      entry({ fingerprint: 't2', topicArn: TEAM, where: 'pipeline:payments', repeats: 0 }),
    ]);
    expect(messages.map((m) => [m.topicArn, m.fingerprints])).toEqual([
      [MAIN, ['a1']],
      [TEAM, ['t1']],
    ]);
  });

  test('entries of another day are left out', () => {
    expect(digestMessages('2026-12-05', [entry({ day: '2026-12-04' })])).toEqual([]);
  });

  test('the most repeated failure comes first', () => {
    const [message] = digestMessages('2026-12-05', [
      entry({ fingerprint: 'few', repeats: 1 }),
      entry({ fingerprint: 'many', repeats: 9 }),
    ]);
    expect(message?.fingerprints).toEqual(['many', 'few']);
  });

  test('a failure is one folded line with its count, repeats, first and last time seen and cause', () => {
    const [message] = digestMessages('2026-12-05', [entry({})]);
    expect(message?.subject).toBe('Pipemend digest 2026-12-05: 1 repeated failure');
    expect(message?.message).toBe(
      [
        'Pipemend daily digest for 2026-12-05 (UTC): 1 failure repeated after the first notification, 2 repeats counted instead of sent.',
        'Each failure was notified when first seen in its 24-hour window; its repeats are folded here.',
        '',
        '1. project:app: 3 occurrences (2 not sent), first 08:14, last 17:52 UTC',
        "   cause: error TS<n>: Cannot find name 'x'",
        '   fingerprint: aaaaaaaaaaaaaaaa',
        '',
      ].join('\n'),
    );
  });

  test('past the size limit the digest is split into numbered parts, no failure dropped', () => {
    const entries = Array.from({ length: 30 }, (_, i) =>
      entry({ fingerprint: `f${String(i).padStart(2, '0')}`, cause: 'x'.repeat(200) }),
    );
    const messages = digestMessages('2026-12-05', entries, 2_000);
    expect(messages.length).toBeGreaterThan(1);
    expect(messages.every((m) => Buffer.byteLength(m.message, 'utf8') <= 2_000)).toBe(true);
    expect(messages.flatMap((m) => m.fingerprints).sort()).toEqual(entries.map((e) => e.fingerprint));
    expect(messages[0]?.subject).toBe(
      `Pipemend digest 2026-12-05: 30 repeated failures (part 1 of ${messages.length})`,
    );
  });
});
