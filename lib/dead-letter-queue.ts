import { Duration, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface DeadLetterQueueProps {
  /**
   * How long undeliverable messages are kept for inspection and redrive.
   * @default Duration.days(14)
   */
  readonly retentionPeriod?: Duration;
}

/**
 * An encrypted, TLS-only queue that receives what could not be delivered (EventBridge targets,
 * asynchronous Lambda invocations, SNS subscriptions), so nothing is dropped silently.
 */
export class DeadLetterQueue extends sqs.Queue {
  constructor(scope: Construct, id: string, props: DeadLetterQueueProps = {}) {
    super(scope, id, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: props.retentionPeriod ?? Duration.days(14),
    });
    const reason = 'This queue is itself a dead-letter queue; a DLQ of a DLQ would only move the problem.';
    Validations.of(this).acknowledge(
      { id: 'AwsSolutions::AwsSolutions-SQS3', reason },
      { id: 'Serverless::Serverless-SQSRedrivePolicy', reason },
    );
  }
}
