/** Publishes verdicts as `Pipemend Build Verdict` events on Pipemend's bus. */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';

import { BuildVerdict, PIPEMEND_EVENT_SOURCE, VERDICT_DETAIL_TYPE } from '../../core/scoring/verdict';

export class VerdictPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly eventBusName: string,
  ) {}

  /** Throws when EventBridge rejects the entry (PutEvents reports that in FailedEntryCount, not as an error). */
  async publish(verdict: BuildVerdict): Promise<void> {
    const answer = await this.client.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: this.eventBusName,
            Source: PIPEMEND_EVENT_SOURCE,
            DetailType: VERDICT_DETAIL_TYPE,
            Resources: [verdict.buildArn],
            Detail: JSON.stringify(verdict),
          },
        ],
      }),
    );
    if ((answer.FailedEntryCount ?? 0) > 0) {
      const entry = answer.Entries?.[0];
      throw new Error(
        `EventBridge rejected the verdict of ${verdict.buildId}: ${entry?.ErrorCode ?? 'unknown'}: ${entry?.ErrorMessage ?? ''}`,
      );
    }
  }
}
