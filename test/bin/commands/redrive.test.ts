import { InvokeCommand, LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
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
import { mockClient } from 'aws-sdk-client-mock';
import { Command } from 'commander';

import { redrive, RedriveClients, registerRedriveCommand } from '../../../bin/commands/redrive';

const sqs = mockClient(SQSClient);
const lambda = mockClient(LambdaClient);
const sfn = mockClient(SFNClient);
const sns = mockClient(SNSClient);
const clients: RedriveClients = {
  sqs: new SQSClient({}),
  lambda: new LambdaClient({}),
  sfn: new SFNClient({}),
  sns: new SNSClient({}),
};

const URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/Pipemend-FixSuggestionsEventDlqBC8E8D7E-AbC';
const QUEUE_ARN = 'arn:aws:sqs:eu-west-1:123456789012:Pipemend-FixSuggestionsEventDlqBC8E8D7E-AbC';
const SUGGESTER = 'arn:aws:lambda:eu-west-1:123456789012:function:Pipemend-Suggester';

/** What EventBridge puts in a target's DLQ: the event, with the target in the attributes. */
function eventBridgeMessage(id: string, target = SUGGESTER): Message {
  return {
    MessageId: id,
    ReceiptHandle: `rh-${id}`,
    Body: JSON.stringify({ id, source: 'pipemend', 'detail-type': 'Pipemend Build Verdict', detail: {} }),
    MessageAttributes: {
      TARGET_ARN: { DataType: 'String', StringValue: target },
      ERROR_CODE: { DataType: 'String', StringValue: 'SDKClientException' },
    },
  };
}

/** Receives `messages` once, then (like SQS while they are invisible) nothing. */
function queueHolding(messages: Message[]): void {
  sqs.on(GetQueueAttributesCommand).resolves({
    Attributes: { QueueArn: QUEUE_ARN, ApproximateNumberOfMessages: String(messages.length) },
  });
  sqs.on(ListDeadLetterSourceQueuesCommand).resolves({ queueUrls: [] });
  sqs.on(ReceiveMessageCommand).resolvesOnce({ Messages: messages }).resolves({ Messages: [] });
  sqs.on(DeleteMessageCommand).resolves({});
}

beforeEach(() => {
  for (const mock of [sqs, lambda, sfn, sns]) mock.reset();
});

describe('pipemend redrive', () => {
  test('replays an EventBridge target DLQ to the target each message names, deleting each after success', async () => {
    queueHolding([eventBridgeMessage('m1'), eventBridgeMessage('m2')]);
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
    const result = await redrive(clients, { queue: URL });
    expect(result).toMatchObject({ strategy: 'replay', moved: 2, failed: 0, destinations: [SUGGESTER] });
    expect(lambda).toHaveReceivedCommandTimes(InvokeCommand, 2);
    expect(lambda).toHaveReceivedCommandWith(InvokeCommand, {
      FunctionName: SUGGESTER,
      InvocationType: 'Event',
      Payload: new TextEncoder().encode(eventBridgeMessage('m1').Body!),
    });
    expect(sqs.commandCalls(DeleteMessageCommand).map((call) => call.args[0].input.ReceiptHandle)).toEqual([
      'rh-m1',
      'rh-m2',
    ]);
  });

  test('a failure mid-way loses nothing: the failed message stays in the queue and is counted', async () => {
    queueHolding([eventBridgeMessage('m1'), eventBridgeMessage('m2'), eventBridgeMessage('m3')]);
    lambda
      .on(InvokeCommand)
      .resolvesOnce({ StatusCode: 202 })
      .rejectsOnce(new Error('Rate exceeded'))
      .resolves({ StatusCode: 202 });
    const result = await redrive(clients, { queue: URL });
    expect(result).toMatchObject({ moved: 2, failed: 1, failures: ['m2: Rate exceeded'] });
    expect(sqs.commandCalls(DeleteMessageCommand).map((call) => call.args[0].input.ReceiptHandle)).toEqual([
      'rh-m1',
      'rh-m3',
    ]);
  });

  test('--max bounds how many messages are replayed', async () => {
    queueHolding([eventBridgeMessage('m1'), eventBridgeMessage('m2'), eventBridgeMessage('m3')]);
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
    const result = await redrive(clients, { queue: URL, max: 2 });
    expect(result).toMatchObject({ moved: 2, failed: 0 });
    expect(sqs).toHaveReceivedCommandWith(ReceiveMessageCommand, { MaxNumberOfMessages: 2 });
    expect(sqs).toHaveReceivedCommandTimes(DeleteMessageCommand, 2);
  });

  test('a state machine target gets a new execution with the event as its input', async () => {
    const machine = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Remediation';
    queueHolding([eventBridgeMessage('m1', machine)]);
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'x' });
    expect(await redrive(clients, { queue: URL })).toMatchObject({ moved: 1, destinations: [machine] });
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: machine,
      input: eventBridgeMessage('m1').Body,
    });
  });

  test('a Lambda asynchronous-invocation DLQ goes back to the function whose dead-letter target it is', async () => {
    queueHolding([{ MessageId: 'a1', ReceiptHandle: 'rh-a1', Body: '{"detail":{}}', MessageAttributes: {} }]);
    lambda.on(ListFunctionsCommand).resolves({
      Functions: [
        { FunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:Other' },
        { FunctionArn: SUGGESTER, DeadLetterConfig: { TargetArn: QUEUE_ARN } },
      ],
    });
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
    expect(await redrive(clients, { queue: URL })).toMatchObject({ moved: 1, destinations: [SUGGESTER] });
    expect(lambda).toHaveReceivedCommandWith(InvokeCommand, {
      FunctionName: SUGGESTER,
      InvocationType: 'Event',
    });
  });

  test('an SNS subscription DLQ publishes the notification to its topic again', async () => {
    const topic = 'arn:aws:sns:eu-west-1:123456789012:Pipemend-Notifications';
    queueHolding([
      {
        MessageId: 'n1',
        ReceiptHandle: 'rh-n1',
        Body: JSON.stringify({
          Type: 'Notification',
          TopicArn: topic,
          Subject: 'Pipemend',
          Message: 'hello',
        }),
      },
    ]);
    sns.on(PublishCommand).resolves({ MessageId: 'p' });
    expect(await redrive(clients, { queue: URL })).toMatchObject({ moved: 1, destinations: [topic] });
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: topic,
      Subject: 'Pipemend',
      Message: 'hello',
    });
  });

  test('a DLQ of SQS queues is redriven by a message move task to its sources', async () => {
    sqs.on(GetQueueAttributesCommand).resolves({
      Attributes: { QueueArn: QUEUE_ARN, ApproximateNumberOfMessages: '7' },
    });
    sqs.on(ListDeadLetterSourceQueuesCommand).resolves({ queueUrls: ['https://sqs/source'] });
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 't' });
    expect(await redrive(clients, { queue: URL })).toMatchObject({
      strategy: 'message-move-task',
      moved: 7,
      destinations: ['https://sqs/source'],
    });
    expect(sqs).toHaveReceivedCommandWith(StartMessageMoveTaskCommand, { SourceArn: QUEUE_ARN });
    expect(sqs).not.toHaveReceivedCommand(ReceiveMessageCommand);
  });

  test('finds a queue by its construct id within the stack, and says how many it moved', async () => {
    sqs.on(GetQueueUrlCommand).rejects(new QueueDoesNotExist({ message: 'no', $metadata: {} }));
    sqs
      .on(ListQueuesCommand, { QueueNamePrefix: 'Pipemend-FixSuggestionsEventDlq' })
      .resolves({ QueueUrls: [URL] });
    queueHolding([eventBridgeMessage('m1'), eventBridgeMessage('m2')]);
    lambda.on(InvokeCommand).resolvesOnce({ StatusCode: 202 }).rejects(new Error('boom'));
    const output: string[] = [];
    const program = new Command().exitOverride();
    registerRedriveCommand(
      program,
      (text) => output.push(text),
      () => clients,
    );
    await program.parseAsync(['node', 'pipemend', 'redrive', '--queue', 'FixSuggestionsEventDlq']);
    expect(output.join('')).toBe(
      [
        `Moved 1 message(s) from ${URL} to ${SUGGESTER}.`,
        '1 message(s) failed and stay in the queue:',
        '  m2: boom',
        '',
      ].join('\n'),
    );
    expect(process.exitCode).toBe(1);
    process.exitCode = 0;
  });

  test('an ambiguous name is refused with the candidates', async () => {
    sqs.on(GetQueueUrlCommand).rejects(new QueueDoesNotExist({ message: 'no', $metadata: {} }));
    sqs.on(ListQueuesCommand).resolves({ QueueUrls: [`${URL}1`, `${URL}2`] });
    await expect(redrive(clients, { queue: 'FixSuggestions', stack: 'Pipemend' })).rejects.toThrow(
      "'FixSuggestions' matches 2 queues of stack Pipemend; pass one URL",
    );
  });
});
