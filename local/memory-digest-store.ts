/**
 * NotificationDigestStore in memory, for the local replay and tests: the occurrences record-outcome
 * counts, folded into digest entries by the core (as the DynamoDB items fold them).
 */
import {
  DigestEntry,
  DigestOccurrence,
  foldOccurrences,
  NotificationDigestStore,
} from '../core/remediation/notification-digest';

export class MemoryDigestStore implements NotificationDigestStore {
  readonly occurrences: DigestOccurrence[] = [];

  countOccurrence(occurrence: DigestOccurrence): Promise<void> {
    this.occurrences.push(occurrence);
    return Promise.resolve();
  }

  /** The day's entries, as the digest function reads them. */
  entriesOf(day: string): DigestEntry[] {
    return foldOccurrences(this.occurrences.filter((occurrence) => occurrence.day === day));
  }
}
