import {
  failureFingerprint,
  isGroupable,
  normaliseCauseLine,
} from '../../../core/remediation/failure-fingerprint';

describe('normaliseCauseLine', () => {
  test('numbers, hex ids, UUIDs, absolute paths and timestamps are normalised', () => {
    expect(
      normaliseCauseLine(
        '[Container] 2026-11-21T12:00:03.123Z error at /codebuild/output/src123/src/app.js:42 request 3f2a9c1e-0b7d-4c55-9a1e-2b3c4d5e6f70 commit 9fac1c5e took 12.5 s',
      ),
    ).toBe('[Container] <ts> error at <path>:<n> request <uuid> commit <hex> took <n> s');
  });

  test('log-style timestamps and clock times are normalised', () => {
    expect(normaliseCauseLine('[Container] 2024/01/01 00:00:00 Phase BUILD at 10:11:12')).toBe(
      '[Container] <ts> Phase BUILD at <ts>',
    );
  });

  test('relative paths and test names stay: they name the code', () => {
    expect(normaliseCauseLine('FAILED tests/test_ranker.py::test_boost_fields - AssertionError')).toBe(
      'FAILED tests/test_ranker.py::test_boost_fields - AssertionError',
    );
  });
});

describe('failureFingerprint', () => {
  test('two occurrences of one failure share a fingerprint; another project or cause does not', () => {
    const a = failureFingerprint('project:app', 'FAILED tests/test_tax.py::test_vat - assert 41 == 42');
    const b = failureFingerprint('project:app', 'FAILED tests/test_tax.py::test_vat - assert 17 == 18');
    expect(a.hash).toBe(b.hash);
    expect(a.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(
      failureFingerprint('project:other', 'FAILED tests/test_tax.py::test_vat - assert 41 == 42').hash,
    ).not.toBe(a.hash);
    expect(
      failureFingerprint('project:app', 'FAILED tests/test_tax.py::test_fx - assert 1 == 2').hash,
    ).not.toBe(a.hash);
  });
});

describe('isGroupable', () => {
  test('escalations, denials, timed-out approvals and failures of Pipemend itself are never folded', () => {
    for (const status of ['ESCALATED', 'DENIED', 'APPROVAL_TIMED_OUT', 'FAILED'] as const) {
      expect(isGroupable(status, false)).toBe(false);
    }
    expect(isGroupable('FAILED', true)).toBe(true);
    expect(isGroupable('NOTIFIED', false)).toBe(true);
  });
});
