/**
 * `pipemend redrive`: once the cause is fixed, replays a dead-letter queue's messages through what should
 * have processed them, and says how many it moved.
 *
 * - A DLQ of other SQS queues: an SQS message move task back to the source queues (StartMessageMoveTask
 *   supports only DLQs whose sources are SQS queues).
 * - A DLQ of an EventBridge rule target or a Scheduler schedule: each message carries its `TARGET_ARN`; the
 *   event (the message body) is sent to that Lambda function (asynchronously, as EventBridge does) or state
 *   machine.
 * - A Lambda function's asynchronous-invocation DLQ: the message body is the original event; it is sent
 *   again, asynchronously, to the function whose dead-letter target is the queue.
 * - An SNS subscription DLQ: the notification is published again to its topic.
 *
 * A message is deleted only after its replay succeeded; one that fails stays in the queue (visible again
 * after the visibility timeout) and is counted, so nothing is lost.
 */
import { InvokeCommand, LambdaClient, paginateListFunctions } from '@aws-sdk/client-lambda';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListDeadLetterSourceQueuesCommand,
  ListQueuesCommand,
  Message,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { Command, InvalidArgumentError } from 'commander';

export interface RedriveClients {
  readonly sqs: SQSClient;
  readonly lambda: LambdaClient;
  readonly sfn: SFNClient;
  readonly sns: SNSClient;
}

export interface RedriveOptions {
  /** Queue URL, queue name, or the queue's construct id within the stack (`FixSuggestionsEventDlq`). */
  readonly queue: string;
  /** @default 'Pipemend' */
  readonly stack?: string;
  /** Most messages to replay. @default - every message */
  readonly max?: number;
  /** Seconds a received message stays invisible while it is replayed. @default 60 */
  readonly visibilityTimeoutSeconds?: number;
}

export interface RedriveResult {
  readonly queueUrl: string;
  readonly strategy: 'message-move-task' | 'replay';
  /** Messages moved (a move task: the messages in the queue when it started). */
  readonly moved: number;
  /** Messages whose replay failed; they stay in the queue. */
  readonly failed: number;
  /** One line per failed message: its id and why. */
  readonly failures: readonly string[];
  /** Where the messages went. */
  readonly destinations: readonly string[];
}

export class RedriveError extends Error {
  override readonly name = 'RedriveError';
}

/** Resolves `--queue` to a URL: a URL as is, a queue name, or `<stack>-<construct id>…` (CDK's physical names). */
export async function resolveQueueUrl(sqs: SQSClient, queue: string, stack: string): Promise<string> {
  if (/^https?:\/\//.test(queue)) return queue;
  try {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queue }));
    if (QueueUrl) return QueueUrl;
  } catch (error) {
    if (!(error instanceof QueueDoesNotExist)) throw error;
  }
  const prefix = `${stack}-${queue}`;
  const { QueueUrls = [] } = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: prefix }));
  if (QueueUrls.length === 1) return QueueUrls[0]!;
  if (QueueUrls.length === 0) {
    throw new RedriveError(`No queue named '${queue}', nor one whose name starts with '${prefix}'`);
  }
  throw new RedriveError(
    `'${queue}' matches ${QueueUrls.length} queues of stack ${stack}; pass one URL:\n  ${QueueUrls.join('\n  ')}`,
  );
}

export async function redrive(clients: RedriveClients, options: RedriveOptions): Promise<RedriveResult> {
  const stack = options.stack ?? 'Pipemend';
  const queueUrl = await resolveQueueUrl(clients.sqs, options.queue, stack);
  const { Attributes = {} } = await clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['QueueArn', 'ApproximateNumberOfMessages'],
    }),
  );
  const queueArn = Attributes.QueueArn;
  if (!queueArn) throw new RedriveError(`${queueUrl} has no QueueArn attribute`);

  const { queueUrls: sources = [] } = await clients.sqs
    .send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: queueUrl }))
    .then((answer) => ({ queueUrls: answer.queueUrls }));
  if (sources.length > 0) {
    if (options.max !== undefined) {
      throw new RedriveError(
        '--max is not supported for a dead-letter queue of SQS queues: a message move task moves every message',
      );
    }
    await clients.sqs.send(new StartMessageMoveTaskCommand({ SourceArn: queueArn }));
    return {
      queueUrl,
      strategy: 'message-move-task',
      moved: Number(Attributes.ApproximateNumberOfMessages ?? 0),
      failed: 0,
      failures: [],
      destinations: sources,
    };
  }
  return replayMessages(clients, queueUrl, queueArn, options);
}

async function replayMessages(
  clients: RedriveClients,
  queueUrl: string,
  queueArn: string,
  options: RedriveOptions,
): Promise<RedriveResult> {
  const max = options.max ?? Number.POSITIVE_INFINITY;
  const seen = new Set<string>();
  const failures: string[] = [];
  const destinations = new Set<string>();
  let moved = 0;
  let asyncFunction: Promise<string | undefined> | undefined;
  const functionOfQueue = (): Promise<string | undefined> =>
    (asyncFunction ??= functionWithDeadLetterQueue(clients.lambda, queueArn));

  while (moved + failures.length < max) {
    const { Messages = [] } = await clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, max - moved - failures.length),
        WaitTimeSeconds: 1,
        VisibilityTimeout: options.visibilityTimeoutSeconds ?? 60,
        MessageAttributeNames: ['All'],
      }),
    );
    const fresh = Messages.filter((message) => message.MessageId && !seen.has(message.MessageId));
    if (fresh.length === 0) break;
    for (const message of fresh) {
      seen.add(message.MessageId!);
      if (moved + failures.length >= max) break;
      try {
        destinations.add(await replay(clients, message, functionOfQueue));
        await clients.sqs.send(
          new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
        moved++;
      } catch (error) {
        failures.push(`${message.MessageId}: ${(error as Error).message}`);
      }
    }
  }
  return {
    queueUrl,
    strategy: 'replay',
    moved,
    failed: failures.length,
    failures,
    destinations: [...destinations],
  };
}

/** Sends one dead-lettered message where it should have gone; returns that destination's ARN. */
async function replay(
  clients: RedriveClients,
  message: Message,
  functionOfQueue: () => Promise<string | undefined>,
): Promise<string> {
  const body = message.Body ?? '';
  const targetArn = message.MessageAttributes?.TARGET_ARN?.StringValue;
  if (targetArn) {
    const service = targetArn.split(':')[2];
    if (service === 'lambda') return invokeAsync(clients.lambda, targetArn, body);
    if (service === 'states') {
      await clients.sfn.send(new StartExecutionCommand({ stateMachineArn: targetArn, input: body }));
      return targetArn;
    }
    throw new RedriveError(
      `replaying to ${targetArn} is not supported (only Lambda functions and state machines)`,
    );
  }
  const notification = snsNotification(body);
  if (notification) {
    await clients.sns.send(
      new PublishCommand({
        TopicArn: notification.TopicArn,
        Message: notification.Message,
        ...(notification.Subject ? { Subject: notification.Subject } : {}),
      }),
    );
    return notification.TopicArn;
  }
  const functionArn = await functionOfQueue();
  if (!functionArn) {
    throw new RedriveError(
      'the message names no target (TARGET_ARN) and no function has this queue as its dead-letter queue',
    );
  }
  return invokeAsync(clients.lambda, functionArn, body);
}

async function invokeAsync(lambda: LambdaClient, functionArn: string, payload: string): Promise<string> {
  const answer = await lambda.send(
    new InvokeCommand({
      FunctionName: functionArn,
      InvocationType: 'Event',
      Payload: new TextEncoder().encode(payload),
    }),
  );
  if (answer.StatusCode !== 202) {
    throw new RedriveError(
      `Lambda did not accept the event for ${functionArn} (status ${answer.StatusCode})`,
    );
  }
  return functionArn;
}

function snsNotification(body: string): { TopicArn: string; Message: string; Subject?: string } | undefined {
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    return parsed.Type === 'Notification' &&
      typeof parsed.TopicArn === 'string' &&
      typeof parsed.Message === 'string'
      ? {
          TopicArn: parsed.TopicArn,
          Message: parsed.Message,
          ...(typeof parsed.Subject === 'string' ? { Subject: parsed.Subject } : {}),
        }
      : undefined;
  } catch {
    return undefined;
  }
}

/** The function whose asynchronous-invocation dead-letter queue is `queueArn`. */
async function functionWithDeadLetterQueue(
  lambda: LambdaClient,
  queueArn: string,
): Promise<string | undefined> {
  for await (const page of paginateListFunctions({ client: lambda }, {})) {
    const match = page.Functions?.find((fn) => fn.DeadLetterConfig?.TargetArn === queueArn);
    if (match?.FunctionArn) return match.FunctionArn;
  }
  return undefined;
}

export function formatRedrive(result: RedriveResult): string {
  const where = result.destinations.length > 0 ? ` to ${result.destinations.join(', ')}` : '';
  const lines =
    result.strategy === 'message-move-task'
      ? [`Started a message move task: about ${result.moved} message(s) from ${result.queueUrl}${where}.`]
      : [`Moved ${result.moved} message(s) from ${result.queueUrl}${where}.`];
  if (result.failed > 0) {
    lines.push(`${result.failed} message(s) failed and stay in the queue:`);
    for (const failure of result.failures) lines.push(`  ${failure}`);
  }
  return `${lines.join('\n')}\n`;
}

function parseMax(value: string): number {
  const max = Number(value);
  if (!Number.isInteger(max) || max < 1) throw new InvalidArgumentError('must be a positive integer');
  return max;
}

export function registerRedriveCommand(
  program: Command,
  write: (text: string) => void = (text) => process.stdout.write(text),
  clientsFor: (region?: string) => RedriveClients = (region) => ({
    sqs: new SQSClient({ region }),
    lambda: new LambdaClient({ region }),
    sfn: new SFNClient({ region }),
    sns: new SNSClient({ region }),
  }),
): void {
  program
    .command('redrive')
    .description(
      "replay a dead-letter queue's messages through what should have processed them, once the cause is fixed",
    )
    .requiredOption(
      '--queue <name or url>',
      'queue URL, name, or construct id within the stack (e.g. FixSuggestionsEventDlq)',
    )
    .option('--stack <name>', 'the Pipemend stack, to find a queue by its construct id', 'Pipemend')
    .option('--max <n>', 'replay at most this many messages', parseMax)
    .option('--region <region>', 'AWS region (default: from the AWS profile/environment)')
    .action(async (options: { queue: string; stack: string; max?: number; region?: string }) => {
      const result = await redrive(clientsFor(options.region), options);
      write(formatRedrive(result));
      if (result.failed > 0) process.exitCode = 1;
    });
}
