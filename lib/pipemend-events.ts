import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
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
    this.allowServicePublishers(props.encryptionKey);
    if (props.notificationEmail) {
      // Undeliverable notifications are kept for inspection rather than dropped.
      const deadLetterQueue = new DeadLetterQueue(this, 'NotificationDlq');
      this.topic.addSubscription(
        new subscriptions.EmailSubscription(props.notificationEmail, { deadLetterQueue }),
      );
    }
  }

  /**
   * CloudWatch alarms and EventBridge rules publish to the topic as their service principals: the topic
   * policy must allow them (it would otherwise hold only the TLS-only deny) and, because the topic is
   * encrypted with a customer managed key, so must the key policy (kms:GenerateDataKey* and kms:Decrypt).
   * Step Functions publishes with the state machine's role, which `topic.grantPublish` grants both.
   */
  private allowServicePublishers(key: kms.IKey): void {
    const stack = Stack.of(this);
    const sameAccount = { 'aws:SourceAccount': stack.account };
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsOfThisAccount',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: sameAccount,
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowEventBridgeRulesOfThisAccount',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { StringEquals: sameAccount },
      }),
    );
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublishToTheEncryptedTopic',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: sameAccount },
      }),
    );
    // No aws:SourceAccount/aws:SourceArn here: the SNS developer guide says they are not supported in a key
    // policy for EventBridge-to-encrypted-topic delivery (the request does not carry them, and every event
    // would be dropped). See docs/aws-contracts.md.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowEventBridgeToPublishToTheEncryptedTopic',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
  }
}
