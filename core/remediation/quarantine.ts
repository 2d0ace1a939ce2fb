/**
 * Flaky-test quarantine: one file per project that a buildspec fetches to skip the tests it lists. Every
 * entry has an owner, a reason and an expiry (at most MAX_QUARANTINE_DAYS ahead); an expired entry is
 * released: writers drop it, and readers (the buildspec included) ignore it, so a quarantine cannot become
 * permanent by being forgotten. A test with "broken" evidence (it failed on every run of one revision and
 * never passed on it) is a regression, not a flake: it is never quarantined automatically, and a person
 * who quarantines it anyway is told so.
 *
 * Also here: per-test flaky statistics from what the flaky-test history records (the test runs classify
 * keeps, and the rescues record-outcome keeps), for `pipemend flaky list`.
 */
import * as z from 'zod/mini';

import '../../lambda/shared/zod-messages';
import { FlakyEvidenceRun, TestRun } from './flaky-tests';

export const QUARANTINE_FILE_VERSION = 1;
/** Days a quarantine lasts when none is asked for. */
export const DEFAULT_QUARANTINE_DAYS = 14;
/** Days a quarantine may last at most: renewing it is a decision someone takes again. */
export const MAX_QUARANTINE_DAYS = 90;

const DAY_MS = 86_400_000;

/**
 * A timestamp as the quarantine file writes it: UTC, whole seconds, `2026-12-20T10:00:00Z`, the format
 * jq's `fromdateiso8601` parses (it refuses fractional seconds), so a buildspec can compare it with the time.
 */
export function quarantineTimestamp(date: Date): string {
  return `${new Date(Math.floor(date.getTime() / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}

const nonEmpty = z.string().check(z.trim(), z.minLength(1));
const timestamp = z
  .string()
  .check(z.regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/, 'must be YYYY-MM-DDTHH:MM:SSZ'));

export const FLAKY_VERDICTS = ['flaky', 'broken', 'failing', 'passing'] as const;
export type FlakyVerdict = (typeof FLAKY_VERDICTS)[number];

const evidenceSchema = z.object({
  verdict: z.enum(FLAKY_VERDICTS),
  runs: z.number().check(z.int(), z.nonnegative()),
  failures: z.number().check(z.int(), z.nonnegative()),
  flips: z.number().check(z.int(), z.nonnegative()),
  rescues: z.number().check(z.int(), z.nonnegative()),
  brokenRevisions: z.optional(z.array(z.string())),
});

const entrySchema = z.object({
  name: nonEmpty,
  owner: nonEmpty,
  reason: nonEmpty,
  quarantinedAt: timestamp,
  expiresAt: timestamp,
  /** `manual`: a person asked (`pipemend flaky quarantine`); `automatic`: a policy did, on flaky evidence. */
  origin: z.enum(['manual', 'automatic']),
  /** The test's flaky statistics when it was quarantined, if any were recorded. */
  evidence: z.optional(evidenceSchema),
});

export const quarantineFileSchema = z.object({
  version: z.literal(QUARANTINE_FILE_VERSION),
  project: nonEmpty,
  updatedAt: timestamp,
  tests: z.array(entrySchema),
});

export type QuarantineEntry = z.infer<typeof entrySchema>;
export type QuarantineFile = z.infer<typeof quarantineFileSchema>;
export type QuarantineEvidence = z.infer<typeof evidenceSchema>;

/** A quarantine request or file that the rules refuse; its message is one line for the person asking. */
export class QuarantineError extends Error {
  override readonly name = 'QuarantineError';
}

/** Parses a stored quarantine file, refusing other versions and malformed entries with what was wrong. */
export function parseQuarantineFile(value: unknown): QuarantineFile {
  const version = (value as { version?: unknown } | null)?.version;
  if (version !== QUARANTINE_FILE_VERSION) {
    throw new QuarantineError(
      `quarantine file version ${String(version)} is not supported (this Pipemend reads version ${QUARANTINE_FILE_VERSION})`,
    );
  }
  const parsed = z.safeParse(quarantineFileSchema, value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new QuarantineError(
      `quarantine file is malformed at ${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
  }
  return parsed.data;
}

export function emptyQuarantineFile(project: string, now: Date): QuarantineFile {
  return { version: QUARANTINE_FILE_VERSION, project, updatedAt: quarantineTimestamp(now), tests: [] };
}

/** Whether an entry still holds at `now` (it expires at `expiresAt`, exclusive). */
export function isQuarantineActive(entry: QuarantineEntry, now: Date): boolean {
  return Date.parse(entry.expiresAt) > now.getTime();
}

/** A failure whose failed tests all hold an active quarantine: the tests and who owns them. */
export interface QuarantinedFailure {
  readonly tests: string[];
  readonly owners: string[];
}

/**
 * Whether every failed test is quarantined at `now` (an expired entry holds nothing): then the failure is
 * a known flake its owners handle. `undefined` when no test failed or any failed test is not quarantined.
 */
export function quarantinedFailure(
  failedTests: readonly string[],
  entries: readonly QuarantineEntry[],
  now: Date,
): QuarantinedFailure | undefined {
  if (failedTests.length === 0) return undefined;
  const active = new Map(
    entries.filter((entry) => isQuarantineActive(entry, now)).map((entry) => [entry.name, entry]),
  );
  const held = failedTests.map((name) => active.get(name));
  if (held.some((entry) => entry === undefined)) return undefined;
  return {
    tests: [...new Set(failedTests)],
    owners: [...new Set(held.map((entry) => entry!.owner))].sort(),
  };
}

/** The file without its expired entries (they are released), and those entries. */
export function pruneExpired(
  file: QuarantineFile,
  now: Date,
): { file: QuarantineFile; expired: QuarantineEntry[] } {
  const expired = file.tests.filter((entry) => !isQuarantineActive(entry, now));
  if (expired.length === 0) return { file, expired };
  return {
    file: {
      ...file,
      updatedAt: quarantineTimestamp(now),
      tests: file.tests.filter((entry) => isQuarantineActive(entry, now)),
    },
    expired,
  };
}

export interface QuarantineRequest {
  readonly name: string;
  readonly owner?: string;
  readonly reason?: string;
  /** @default DEFAULT_QUARANTINE_DAYS */
  readonly days?: number;
  readonly origin: 'manual' | 'automatic';
  /** The test's flaky statistics; an automatic quarantine needs them to say "flaky". */
  readonly evidence?: FlakyTestStats;
}

export interface QuarantineResult {
  readonly file: QuarantineFile;
  readonly entry: QuarantineEntry;
  /** The test was quarantined already: its entry was replaced (owner, reason and expiry renewed). */
  readonly renewed: boolean;
  /** What the person asking should know, e.g. that the test looks broken rather than flaky. */
  readonly warnings: string[];
}

/**
 * Adds (or renews) a test's quarantine. Refused without an owner or a reason, for more than
 * MAX_QUARANTINE_DAYS, and, when automatic, for a test without flaky evidence or with broken evidence.
 * Expired entries are dropped on the way.
 */
export function quarantineTest(
  file: QuarantineFile,
  request: QuarantineRequest,
  now: Date,
): QuarantineResult {
  const name = request.name.trim();
  const owner = request.owner?.trim() ?? '';
  const reason = request.reason?.trim() ?? '';
  const days = request.days ?? DEFAULT_QUARANTINE_DAYS;
  if (name === '') throw new QuarantineError('name the test to quarantine');
  if (owner === '') {
    throw new QuarantineError(
      `a quarantine needs an owner who will fix or release '${name}': give --owner <team or person>`,
    );
  }
  if (reason === '')
    throw new QuarantineError(`a quarantine needs a reason: give --reason <text> for '${name}'`);
  if (!Number.isInteger(days) || days < 1 || days > MAX_QUARANTINE_DAYS) {
    throw new QuarantineError(
      `a quarantine lasts 1 to ${MAX_QUARANTINE_DAYS} days (whole days), not ${days}: renew it when it expires if it still needs to be skipped`,
    );
  }
  const evidence = request.evidence;
  const warnings: string[] = [];
  if (evidence?.verdict === 'broken') {
    const revisions = evidence.brokenRevisions.join(', ');
    if (request.origin === 'automatic') {
      throw new QuarantineError(
        `'${name}' is broken, not flaky (it failed on every run of revision ${revisions} and never passed on it): it is never quarantined automatically`,
      );
    }
    warnings.push(
      `'${name}' looks broken, not flaky: it failed on every run of revision ${revisions} and never passed on it. Quarantining it hides a regression; quarantined only because ${owner} asked explicitly.`,
    );
  } else if (request.origin === 'automatic' && evidence?.verdict !== 'flaky') {
    throw new QuarantineError(
      `'${name}' has no evidence of flakiness (no rescue by a rerun, no flips): it is never quarantined automatically`,
    );
  }
  const pruned = pruneExpired(file, now).file;
  const entry: QuarantineEntry = {
    name,
    owner,
    reason,
    quarantinedAt: quarantineTimestamp(now),
    expiresAt: quarantineTimestamp(new Date(now.getTime() + days * DAY_MS)),
    origin: request.origin,
    ...(evidence ? { evidence: evidenceOf(evidence) } : {}),
  };
  const renewed = pruned.tests.some((test) => test.name === name);
  return {
    file: {
      ...pruned,
      updatedAt: quarantineTimestamp(now),
      tests: [...pruned.tests.filter((test) => test.name !== name), entry].sort((a, b) =>
        a.name.localeCompare(b.name),
      ),
    },
    entry,
    renewed,
    warnings,
  };
}

/**
 * Releases a test's quarantine before its expiry. Refused, naming the active quarantines, for a test
 * that is not quarantined (an expired entry is released already).
 */
export function releaseTest(
  file: QuarantineFile,
  name: string,
  now: Date,
): { file: QuarantineFile; released: QuarantineEntry } {
  const { file: pruned, expired } = pruneExpired(file, now);
  const released = pruned.tests.find((test) => test.name === name);
  if (!released) {
    const lapsed = expired.find((test) => test.name === name);
    if (lapsed) {
      throw new QuarantineError(
        `'${name}' is not quarantined in project ${file.project}: its quarantine expired at ${lapsed.expiresAt} and is released already`,
      );
    }
    const active = pruned.tests.map((test) => `'${test.name}'`).join(', ');
    throw new QuarantineError(
      `'${name}' is not quarantined in project ${file.project} (quarantined: ${active || 'none'})`,
    );
  }
  return {
    file: {
      ...pruned,
      updatedAt: quarantineTimestamp(now),
      tests: pruned.tests.filter((test) => test.name !== name),
    },
    released,
  };
}

/** One test's record in a project's flaky-test history. */
export interface FlakyTestStats {
  readonly name: string;
  /** Recorded runs of the test. */
  readonly runs: number;
  readonly failures: number;
  /** Pass/fail changes between consecutive recorded runs. */
  readonly flips: number;
  /** Revisions on which it failed and then passed (a rerun rescued the build): flaky, with evidence. */
  readonly rescues: number;
  /** Revisions on which it ran more than once, failed every time and was never rescued. */
  readonly brokenRevisions: string[];
  /**
   * `broken` when its latest run failed on a broken revision; else `flaky` with a rescue or at least
   * `minFlips` flips; else `failing` when it failed at all; else `passing`.
   */
  readonly verdict: FlakyVerdict;
  /** When the latest rescue was recorded, if record-outcome recorded one. */
  readonly lastRescuedAt?: string;
}

/** A rescue as record-outcome records it: the test failed, and a rerun of the same revision passed. */
export interface RecordedRescue extends FlakyEvidenceRun {
  readonly name: string;
}

/**
 * Per-test flaky statistics from a project's recorded test runs (oldest first) and recorded rescues.
 * A rescue on a revision counts once, whether seen in the runs (a failure then a pass on one revision),
 * in the recorded rescues, or both. Lists the tests that failed or were rescued, most rescued first.
 */
export function flakyTestStats(
  runs: readonly TestRun[],
  rescues: readonly RecordedRescue[],
  options: {
    readonly minFlips?: number;
    /**
     * Per test, rescues recorded earlier than those listed in `rescues` (the history lists the latest
     * ones only): counted on top of them.
     */
    readonly unlistedRescues?: ReadonlyMap<string, number>;
  } = {},
): FlakyTestStats[] {
  const minFlips = options.minFlips ?? 2;
  const names = new Set([
    ...runs.flatMap((run) => run.results.filter((r) => r.outcome === 'FAILED').map((r) => r.name)),
    ...rescues.map((rescue) => rescue.name),
  ]);
  const stats: FlakyTestStats[] = [];
  for (const name of names) {
    const outcomes = runs.flatMap((run) =>
      run.results
        .filter((result) => result.name === name)
        .map((result) => ({ run, outcome: result.outcome })),
    );
    const flips = outcomes
      .slice(1)
      .filter(({ outcome }, index) => outcome !== outcomes[index]!.outcome).length;
    const rescuedRevisions = new Set<string>();
    const byRevision = new Map<string, ('PASSED' | 'FAILED')[]>();
    for (const { run, outcome } of outcomes) {
      if (run.revision === undefined) continue;
      const sequence = byRevision.get(run.revision) ?? [];
      sequence.push(outcome);
      byRevision.set(run.revision, sequence);
    }
    for (const [revision, sequence] of byRevision) {
      const firstFailure = sequence.indexOf('FAILED');
      if (firstFailure !== -1 && sequence.indexOf('PASSED', firstFailure) !== -1)
        rescuedRevisions.add(revision);
    }
    const recorded = rescues.filter((rescue) => rescue.name === name);
    // A recorded rescue without a revision still counts, once per remediation.
    for (const rescue of recorded)
      rescuedRevisions.add(rescue.revision ?? `remediation:${rescue.remediationId}`);
    const brokenRevisions = [...byRevision]
      .filter(
        ([revision, sequence]) =>
          sequence.length > 1 && sequence.every((o) => o === 'FAILED') && !rescuedRevisions.has(revision),
      )
      .map(([revision]) => revision);
    const unlisted = options.unlistedRescues?.get(name) ?? 0;
    const latest = outcomes.at(-1);
    const failures = outcomes.filter(({ outcome }) => outcome === 'FAILED').length;
    const brokenNow =
      latest?.outcome === 'FAILED' &&
      latest.run.revision !== undefined &&
      brokenRevisions.includes(latest.run.revision);
    const verdict: FlakyVerdict = brokenNow
      ? 'broken'
      : rescuedRevisions.size + unlisted > 0 || flips >= minFlips
        ? 'flaky'
        : failures > 0
          ? 'failing'
          : 'passing';
    const lastRescuedAt = recorded
      .map((rescue) => rescue.recordedAt)
      .sort()
      .at(-1);
    stats.push({
      name,
      runs: outcomes.length,
      failures,
      flips,
      rescues: rescuedRevisions.size + unlisted,
      brokenRevisions,
      verdict,
      ...(lastRescuedAt !== undefined ? { lastRescuedAt } : {}),
    });
  }
  return stats.sort(
    (a, b) =>
      b.rescues - a.rescues || b.flips - a.flips || b.failures - a.failures || a.name.localeCompare(b.name),
  );
}

function evidenceOf(stats: FlakyTestStats): QuarantineEvidence {
  return {
    verdict: stats.verdict,
    runs: stats.runs,
    failures: stats.failures,
    flips: stats.flips,
    rescues: stats.rescues,
    ...(stats.brokenRevisions.length > 0 ? { brokenRevisions: stats.brokenRevisions } : {}),
  };
}
