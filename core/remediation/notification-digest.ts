/**
 * The daily digest of grouped notifications. The first occurrence of a failure in its window is sent;
 * the repeats are only counted (failure-fingerprint.ts). So that the repeats are not lost from sight,
 * every occurrence is also counted per UTC day and fingerprint, and once a day one summary per
 * notification topic lists yesterday's failures that repeated, folded: one line each with its count and
 * first and last time seen. A topic whose failures never repeated gets nothing.
 */

/** One occurrence of a groupable failure, as record-outcome counts it. */
export interface DigestOccurrence {
  /** UTC day of the occurrence, `YYYY-MM-DD`. */
  readonly day: string;
  /** The failure fingerprint (FailureFingerprint.hash) and what it names. */
  readonly fingerprint: string;
  readonly where: string;
  readonly cause: string;
  /** The topic the failure's notifications go to (its owner's, or the main topic). */
  readonly topicArn: string;
  /** Whether this occurrence's notification was sent (the first in its window) or only counted. */
  readonly sent: boolean;
  /** ISO timestamp. */
  readonly at: string;
  /** The remediation that counted it: a retried record step counts it once. */
  readonly remediationId: string;
}

/** One failure's occurrences on one day. */
export interface DigestEntry {
  readonly day: string;
  readonly fingerprint: string;
  readonly where: string;
  readonly cause: string;
  readonly topicArn: string;
  readonly occurrences: number;
  /** Occurrences whose notification was not sent (repeats within the window). */
  readonly repeats: number;
  readonly firstSeen: string;
  readonly lastSeen: string;
}

/** Where record-outcome counts occurrences (the remediation table in AWS, memory locally). */
export interface NotificationDigestStore {
  countOccurrence(occurrence: DigestOccurrence): Promise<void>;
}

/**
 * The remediation table's sparse index of the digest items by day (partition key `digestDay`, sort key
 * `pk`): the stack creates it, the digest store writes and queries it.
 */
export const DIGEST_INDEX_NAME = 'DigestByDay';
export const DIGEST_DAY_ATTRIBUTE = 'digestDay';

/** How long a day's digest items are kept after the day ends (the digest reads them the next morning). */
export const DIGEST_RETENTION_SECONDS = 3 * 24 * 3600;

/** SNS allows 262,144 bytes per message with its attributes; a digest part stays well below. */
export const DIGEST_MAX_MESSAGE_BYTES = 200_000;

export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** The UTC day before the one `now` falls on: the day a digest sent at `now` summarises. */
export function previousUtcDay(now: Date): string {
  return utcDay(new Date(Date.parse(`${utcDay(now)}T00:00:00Z`) - 24 * 3600 * 1000));
}

/** Epoch seconds at which a day's digest items may expire. */
export function digestExpiresAt(day: string): number {
  return Date.parse(`${day}T00:00:00Z`) / 1000 + 24 * 3600 + DIGEST_RETENTION_SECONDS;
}

/**
 * Folds occurrences into one entry per day and fingerprint, as the DynamoDB store's UpdateItem does
 * (ADD occurrences and repeats, first and last seen); a remediation's retried record step counts once.
 */
export function foldOccurrences(occurrences: readonly DigestOccurrence[]): DigestEntry[] {
  const entries = new Map<string, DigestEntry>();
  const counted = new Set<string>();
  for (const occurrence of occurrences) {
    const key = `${occurrence.day}#${occurrence.fingerprint}`;
    if (counted.has(`${key}#${occurrence.remediationId}`)) continue;
    counted.add(`${key}#${occurrence.remediationId}`);
    const entry = entries.get(key);
    entries.set(key, {
      day: occurrence.day,
      fingerprint: occurrence.fingerprint,
      where: occurrence.where,
      cause: occurrence.cause,
      topicArn: occurrence.topicArn,
      occurrences: (entry?.occurrences ?? 0) + 1,
      repeats: (entry?.repeats ?? 0) + (occurrence.sent ? 0 : 1),
      firstSeen: entry && entry.firstSeen < occurrence.at ? entry.firstSeen : occurrence.at,
      lastSeen: entry && entry.lastSeen > occurrence.at ? entry.lastSeen : occurrence.at,
    });
  }
  return [...entries.values()];
}

/** One digest message: to one topic, about one day (split into parts only past the SNS size limit). */
export interface DigestMessage {
  readonly topicArn: string;
  readonly day: string;
  /** 1-based; `parts` is 1 for nearly every digest. */
  readonly part: number;
  readonly parts: number;
  readonly subject: string;
  readonly message: string;
  /** The fingerprints this part lists. */
  readonly fingerprints: readonly string[];
}

/**
 * The digests of one day: one per topic that had failures repeating, listing those failures most
 * repeated first. Entries of other days, and failures that never repeated, are left out.
 */
export function digestMessages(
  day: string,
  entries: readonly DigestEntry[],
  maxMessageBytes = DIGEST_MAX_MESSAGE_BYTES,
): DigestMessage[] {
  const byTopic = new Map<string, DigestEntry[]>();
  for (const entry of entries) {
    if (entry.day !== day || entry.repeats === 0) continue;
    byTopic.set(entry.topicArn, [...(byTopic.get(entry.topicArn) ?? []), entry]);
  }
  const messages: DigestMessage[] = [];
  for (const topicArn of [...byTopic.keys()].sort()) {
    const repeated = [...byTopic.get(topicArn)!].sort(
      (a, b) =>
        b.repeats - a.repeats || a.where.localeCompare(b.where) || a.fingerprint.localeCompare(b.fingerprint),
    );
    const totalRepeats = repeated.reduce((n, entry) => n + entry.repeats, 0);
    const header = [
      `Pipemend daily digest for ${day} (UTC): ${count(repeated.length, 'failure')} repeated after the first notification, ${count(totalRepeats, 'repeat')} counted instead of sent.`,
      'Each failure was notified when first seen in its 24-hour window; its repeats are folded here.',
      '',
    ];
    const parts = splitIntoParts(
      repeated.map((entry, index) => block(index + 1, entry)),
      header,
      maxMessageBytes,
    );
    parts.forEach((part, index) => {
      const suffix = parts.length > 1 ? ` (part ${index + 1} of ${parts.length})` : '';
      messages.push({
        topicArn,
        day,
        part: index + 1,
        parts: parts.length,
        subject: `Pipemend digest ${day}: ${count(repeated.length, 'repeated failure')}${suffix}`.slice(
          0,
          100,
        ),
        message: [...header, ...part.map((item) => item.text)].join('\n'),
        fingerprints: part.map((item) => repeated[item.index]!.fingerprint),
      });
    });
  }
  return messages;
}

interface Block {
  readonly index: number;
  readonly text: string;
}

function block(position: number, entry: DigestEntry): Block {
  return {
    index: position - 1,
    text: [
      `${position}. ${entry.where}: ${count(entry.occurrences, 'occurrence')} (${entry.repeats} not sent), first ${clock(entry.firstSeen)}, last ${clock(entry.lastSeen)} UTC`,
      `   cause: ${entry.cause}`,
      `   fingerprint: ${entry.fingerprint}`,
      '',
    ].join('\n'),
  };
}

/** Blocks in order, as few parts as fit; a block is never split or dropped. */
function splitIntoParts(blocks: readonly Block[], header: readonly string[], maxBytes: number): Block[][] {
  const headerBytes = Buffer.byteLength(header.join('\n') + '\n', 'utf8');
  const parts: Block[][] = [];
  let current: Block[] = [];
  let bytes = headerBytes;
  for (const item of blocks) {
    const size = Buffer.byteLength(item.text + '\n', 'utf8');
    if (current.length > 0 && bytes + size > maxBytes) {
      parts.push(current);
      current = [];
      bytes = headerBytes;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) parts.push(current);
  return parts;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function clock(iso: string): string {
  return iso.slice(11, 16);
}
