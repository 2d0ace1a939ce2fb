import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

import { DeadLetterQueue } from './dead-letter-queue';
import { NotificationOwners } from './notification-owners';
import { PipemendFunction } from './pipemend-function';
import { DIGEST_INDEX_NAME } from '../core/remediation/notification-digest';

export interface NotificationDigestProps {
  /** The remediation table, with its digest index (`DIGEST_INDEX_NAME`). */
  readonly table: dynamodb.ITable;
  /** The table's key. */
  readonly encryptionKey: kms.IKey;
  /** The main notification topic. */
  readonly topic: sns.ITopic;
  readonly owners: NotificationOwners;
  /**
   * When the digest of the previous UTC day is sent.
   * @default every day at 08:00 UTC
   */
  readonly schedule?: scheduler.ScheduleExpression;
}

/**
 * The daily digest: a function that summarises yesterday's repeated failures, one message per topic
 * (the main topic and each owner's), run by an EventBridge Scheduler schedule. Its failures count in its
 * `Errors` metric (an operational alarm) and its missed invocations land in dead-letter queues.
 */
export class NotificationDigest extends Construct {
  public readonly function: PipemendFunction;
  public readonly schedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: NotificationDigestProps) {
    super(scope, id);
    this.function = new PipemendFunction(this, 'Function', {
      handlerDir: 'notification-digest',
      description: "Pipemend: yesterday's repeated failures, one digest per notification topic",
      timeout: Duration.minutes(2),
      encryptionKey: props.encryptionKey,
      environment: { REMEDIATION_TABLE: props.table.tableName },
    });
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: [`${props.table.tableArn}/index/${DIGEST_INDEX_NAME}`],
      }),
    );
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        resources: [props.table.tableArn],
      }),
    );
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
        resources: [props.encryptionKey.keyArn],
      }),
    );
    props.topic.grantPublish(this.function);
    props.owners.grantPublish(this.function);

    const role = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'Pipemend: EventBridge Scheduler starting the daily notification digest',
    });
    this.schedule = new scheduler.Schedule(this, 'Daily', {
      description: "Pipemend: send yesterday's digest of repeated failures",
      schedule: props.schedule ?? scheduler.ScheduleExpression.cron({ minute: '0', hour: '8' }),
      target: new targets.LambdaInvoke(this.function, {
        role,
        deadLetterQueue: new DeadLetterQueue(this, 'ScheduleDlq'),
        retryAttempts: 2,
      }),
    });

    const stack = Stack.of(this);
    const functionId = stack.resolve(
      stack.getLogicalId(this.function.node.defaultChild as lambda.CfnFunction),
    ) as string;
    Validations.of(role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${functionId}.Arn>:*]`,
      reason: 'lambda:InvokeFunction on the digest function and its versions/aliases (":*"), nothing else.',
    });
    const policy = this.function.role?.node.tryFindChild('DefaultPolicy');
    if (policy) {
      Validations.of(policy).acknowledge(
        {
          id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
          reason: 'X-Ray trace upload has no resource-level permissions.',
        },
        {
          id: 'AwsSolutions::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
          reason:
            'Publishing to a topic encrypted with Pipemend key needs a data key from it (granted by the topic).',
        },
      );
    }
  }
}
