/**
 * Failure fingerprints: what makes two failures "the same failure" for a human. A fingerprint is the
 * normalised first cause line (numbers, hex ids, UUIDs, absolute paths and timestamps replaced by
 * placeholders) together with the project or pipeline. The first occurrence in a window notifies;
 * repeats only count (see NotificationDedupStore), so one broken test paging twenty times pages once.
 */
import { createHash } from 'node:crypto';

import { RemediationStatus } from './remediation';

export interface FailureFingerprint {
  /** Hex digest (16 characters) of `where` and `cause`: the key of the dedup item. */
  readonly hash: string;
  /** The project or pipeline (the remediation scope). */
  readonly where: string;
  /** The normalised cause line. */
  readonly cause: string;
}

/** How long repeats of a notified failure only count (24 h). */
export const DEFAULT_NOTIFICATION_WINDOW_SECONDS = 24 * 3600;

const NORMALISERS: readonly [RegExp, string][] = [
  // ISO 8601 and log-style timestamps, then bare clock times.
  [/\b\d{4}[-/]\d{2}[-/]\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?/g, '<ts>'],
  [/\b\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\b/g, '<ts>'],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>'],
  // Hex ids (commits, container and request ids): 7+ hex characters with at least one digit.
  [/\b(?=[0-9a-f]*\d)[0-9a-f]{7,}\b/gi, '<hex>'],
  // Absolute paths (build directories differ per build); relative ones name the code and stay.
  [/(?<![\w.])(?:[A-Za-z]:)?(?:\/[\w.@%+~-]+){2,}\/?/g, '<path>'],
  [/\d+(?:\.\d+)?/g, '<n>'],
];

/** The cause line with everything that differs between occurrences of one failure normalised. */
export function normaliseCauseLine(line: string): string {
  let normalised = line;
  for (const [pattern, placeholder] of NORMALISERS) normalised = normalised.replace(pattern, placeholder);
  return normalised.replace(/\s+/g, ' ').trim().slice(0, 300);
}

export function failureFingerprint(where: string, causeLine: string): FailureFingerprint {
  const cause = normaliseCauseLine(causeLine);
  const hash = createHash('sha256').update(`${where}\n${cause}`).digest('hex').slice(0, 16);
  return { hash, where, cause };
}

/**
 * Whether a notification of this status may be folded into an earlier one of the same failure: reports
 * about the failure (notify, suggest, a rerun's result). Escalations, denials, timed-out approvals and
 * Pipemend's own failures always reach a human.
 */
export function isGroupable(status: RemediationStatus, regressionConfirmed: boolean): boolean {
  return (
    status === 'NOTIFIED' ||
    status === 'SUGGESTED' ||
    status === 'SUCCEEDED' ||
    (status === 'FAILED' && regressionConfirmed)
  );
}

/** What the dedup store says about one occurrence of a failure. */
export interface FingerprintOccurrence {
  /** True for the first occurrence in the window: this one notifies. */
  readonly first: boolean;
  /** Occurrences in the window so far, this one included. */
  readonly count: number;
}

/** The atomic count of a failure's occurrences (a conditional write in the remediation table in AWS). */
export interface NotificationDedupStore {
  /**
   * Counts one occurrence of the fingerprint. The first in a window (none yet, or the last window over)
   * claims the notification for `notifiedBy`; a retried call by the same `notifiedBy` stays the first.
   */
  noteOccurrence(
    hash: string,
    notifiedBy: string,
    nowSeconds: number,
    windowSeconds: number,
  ): Promise<FingerprintOccurrence>;
}
