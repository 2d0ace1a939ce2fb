import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

import { DeadLetterQueue } from './dead-letter-queue';

export interface PipemendEventsProps {
  /** Key that encrypts the notification topic. */
  readonly encryptionKey: kms.IKey;
  /**
   * Email address subscribed to the notification topic.
   * @default - no subscription; subscribe to the topic yourself
   */
  readonly notificationEmail?: string;
}

/** Pipemend's own event bus (verdicts, remediations, suggestions) and its notification topic. */
export class PipemendEvents extends Construct {
  /** Events with `source: "pipemend"`: `Pipemend Build Verdict`, `Pipemend Remediation`, `Pipemend Fix Suggestion`. */
  public readonly bus: events.EventBus;
  /** Human-facing notifications: decisions in `suggest` mode, escalations, approvals, suggestions. */
  public readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: PipemendEventsProps) {
    super(scope, id);
    this.bus = new events.EventBus(this, 'Bus', {
      description: 'Pipemend verdicts, remediations and suggestions',
    });
    this.topic = new sns.Topic(this, 'Notifications', {
      displayName: 'Pipemend',
      masterKey: props.encryptionKey,
      enforceSSL: true,
    });
    if (props.notificationEmail) {
      // Undeliverable notifications are kept for inspection rather than dropped.
      const deadLetterQueue = new DeadLetterQueue(this, 'NotificationDlq');
      this.topic.addSubscription(
        new subscriptions.EmailSubscription(props.notificationEmail, { deadLetterQueue }),
      );
    }
  }
}
