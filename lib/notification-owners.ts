import { createHash } from 'node:crypto';

import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

import { DeadLetterQueue } from './dead-letter-queue';
import { ownerScope } from '../core/remediation/notification-routes';

/** The owner of a project or a pipeline (context `owners`): exactly one of each pair. */
export interface NotificationOwner {
  readonly project?: string;
  readonly pipeline?: string;
  /** An existing topic; Pipemend may publish to it and to nothing else of yours. */
  readonly topicArn?: string;
  /** An address the stack subscribes to a topic it creates for this owner. */
  readonly email?: string;
}

export interface NotificationOwnersProps {
  readonly owners: readonly NotificationOwner[];
  /** Key of the topics created for e-mail owners (the main topic's). */
  readonly encryptionKey: kms.IKey;
}

/**
 * The owners' topics: for an e-mail owner a topic like the main one (encrypted with Pipemend's key,
 * TLS only, its undeliverable e-mails kept in a dead-letter queue), one per address; for a topic owner
 * the given topic. Publishing to a topic encrypted with a key of yours also needs that key's policy
 * to let the publisher use it: that is yours to grant (docs/remediation.md).
 */
export class NotificationOwners extends Construct {
  /** Every distinct owner topic. */
  public readonly topics: readonly sns.ITopic[];
  /** Owner topic by remediation scope (`project:<name>`, `pipeline:<name>`). */
  public readonly topicByScope: ReadonlyMap<string, sns.ITopic>;

  constructor(scope: Construct, id: string, props: NotificationOwnersProps) {
    super(scope, id);
    const topics = new Map<string, sns.ITopic>();
    const byScope = new Map<string, sns.ITopic>();
    for (const owner of props.owners) {
      if ((owner.project === undefined) === (owner.pipeline === undefined)) {
        throw new Error('an owner needs exactly one of project and pipeline');
      }
      if ((owner.topicArn === undefined) === (owner.email === undefined)) {
        throw new Error('an owner needs exactly one of topicArn and email');
      }
      const key = owner.topicArn ?? `email:${owner.email!.toLowerCase()}`;
      let topic = topics.get(key);
      if (!topic) {
        topic = owner.topicArn
          ? sns.Topic.fromTopicArn(this, `Topic${digest(key)}`, owner.topicArn)
          : this.emailTopic(`Topic${digest(key)}`, owner.email!, props.encryptionKey);
        topics.set(key, topic);
      }
      const where = ownerScope(owner);
      if (byScope.has(where)) throw new Error(`${where} has more than one owner`);
      byScope.set(where, topic);
    }
    this.topics = [...topics.values()];
    this.topicByScope = byScope;
  }

  /** `OWNER_TOPICS` of the functions that route notifications: topic ARN by scope, as JSON. */
  ownerTopicsJson(): string {
    return Stack.of(this).toJsonString(
      Object.fromEntries([...this.topicByScope].map(([where, topic]) => [where, topic.topicArn])),
    );
  }

  /** sns:Publish on every owner topic (and its key, for the topics created here). */
  grantPublish(grantee: iam.IGrantable): void {
    for (const topic of this.topics) topic.grantPublish(grantee);
  }

  private emailTopic(id: string, email: string, key: kms.IKey): sns.Topic {
    const topic = new sns.Topic(this, id, {
      displayName: 'Pipemend',
      masterKey: key,
      enforceSSL: true,
    });
    // Undeliverable notifications are kept for inspection rather than dropped.
    const deadLetterQueue = new DeadLetterQueue(this, `${id}Dlq`);
    topic.addSubscription(new subscriptions.EmailSubscription(email, { deadLetterQueue }));
    return topic;
  }
}

/** Stable construct ids: an owner keeps its topic when the list is reordered. */
function digest(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 10);
}
