/**
 * The buildspec snippet of docs/remediation.md ("Quarantine"), run with jq on a file the quarantine model
 * wrote: it keeps exactly the entries that have not expired, with the clock given as `$now`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { emptyQuarantineFile, QuarantineFile, quarantineTest } from '../../../core/remediation/quarantine';

const DOC = readFileSync(path.join(__dirname, '../../../docs/remediation.md'), 'utf8');

/** The jq filter the documented buildspec runs. */
function documentedFilter(): string {
  const line = DOC.split('\n').find((text) => text.includes('jq -r --argjson now "$(date +%s)"'));
  const filter = line && /'([^']+)'/.exec(line)?.[1];
  if (!filter) throw new Error('docs/remediation.md has no jq line with --argjson now "$(date +%s)"');
  return filter;
}

function quarantinedAt(file: QuarantineFile, now: Date): string[] {
  const directory = mkdtempSync(path.join(tmpdir(), 'pipemend-quarantine-'));
  try {
    const fetched = path.join(directory, 'quarantine.json');
    writeFileSync(fetched, JSON.stringify(file, null, 2));
    const out = execFileSync(
      'jq',
      ['-r', '--argjson', 'now', String(Math.floor(now.getTime() / 1000)), documentedFilter(), fetched],
      { encoding: 'utf8' },
    );
    return out.split('\n').filter(Boolean);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

const T0 = new Date('2026-12-06T10:00:00.750Z');
const day = 86_400_000;

function file(): QuarantineFile {
  let current = emptyQuarantineFile('app', T0);
  for (const [name, days] of [
    ['cart debounces', 14],
    ['login "with quotes"', 3],
  ] as const) {
    current = quarantineTest(
      current,
      { name, owner: 'team-cart', reason: 'flaky', days, origin: 'manual' },
      T0,
    ).file;
  }
  return current;
}

test('the buildspec keeps every test whose quarantine has not expired', () => {
  expect(quarantinedAt(file(), new Date(T0.getTime() + day))).toEqual([
    'cart debounces',
    'login "with quotes"',
  ]);
});

test('the buildspec drops a test at its expiry, even when no writer dropped it from the file', () => {
  expect(quarantinedAt(file(), new Date(T0.getTime() + 3 * day))).toEqual(['cart debounces']);
});

test('the buildspec runs every test once all quarantines expired', () => {
  expect(quarantinedAt(file(), new Date(T0.getTime() + 14 * day))).toEqual([]);
});
