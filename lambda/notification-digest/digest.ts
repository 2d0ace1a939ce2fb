/**
 * The daily digest run: reads yesterday's digest items (every page), builds one summary per topic with
 * the core's digestMessages and publishes each part not published yet. A part that cannot be published
 * does not stop the others; the run then fails naming every topic that missed its digest, so the
 * function's error alarm fires and a retry (or a rerun with `{"day": …}`) sends only what is missing.
 */
import {
  DigestEntry,
  DigestMessage,
  digestMessages,
  previousUtcDay,
} from '../../core/remediation/notification-digest';

export interface DigestSource {
  entriesOf(day: string): Promise<DigestEntry[]>;
  isSent(day: string, topicArn: string, part: number): Promise<boolean>;
  markSent(day: string, topicArn: string, part: number, sentAt: string): Promise<void>;
}

export interface DigestDependencies {
  readonly source: DigestSource;
  readonly publish: (message: DigestMessage) => Promise<void>;
  readonly now: () => Date;
}

export interface DigestRun {
  readonly day: string;
  /** Failures counted that day, repeated or not. */
  readonly failures: number;
  readonly published: number;
  /** Parts a previous run of the same day had published already. */
  readonly alreadySent: number;
}

export class DigestPublishError extends Error {
  override readonly name = 'DigestPublishError';
}

export async function sendDailyDigest(deps: DigestDependencies, day?: string): Promise<DigestRun> {
  const digestDay = day ?? previousUtcDay(deps.now());
  const entries = await deps.source.entriesOf(digestDay);
  let published = 0;
  let alreadySent = 0;
  const failures: string[] = [];
  for (const message of digestMessages(digestDay, entries)) {
    try {
      if (await deps.source.isSent(digestDay, message.topicArn, message.part)) {
        alreadySent += 1;
        continue;
      }
      await deps.publish(message);
      await deps.source.markSent(digestDay, message.topicArn, message.part, deps.now().toISOString());
      published += 1;
    } catch (error) {
      failures.push(
        `${message.topicArn} (part ${message.part} of ${message.parts}): ${(error as Error).name}: ${(error as Error).message}`,
      );
    }
  }
  if (failures.length > 0) {
    throw new DigestPublishError(
      `The digest of ${digestDay} was not sent to ${failures.length} topic part(s): ${failures.join('; ')}`,
    );
  }
  return { day: digestDay, failures: entries.length, published, alreadySent };
}
