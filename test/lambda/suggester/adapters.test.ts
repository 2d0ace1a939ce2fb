import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';

import { FAILURE_CATEGORIES } from '../../../core/logs/error-signatures';
import { buildSuggestionRequest } from '../../../core/suggestions/prompts';
import { Suggestion } from '../../../core/suggestions/suggestion';
import {
  AwsLogSource,
  AwsSuggestionDelivery,
  BedrockSuggestionModel,
  SNS_MAX_PUBLISH_BYTES,
  truncateUtf8,
} from '../../../lambda/suggester/adapters';

const logs = mockClient(CloudWatchLogsClient);
const bedrock = mockClient(BedrockRuntimeClient);

beforeEach(() => {
  logs.reset();
  bedrock.reset();
});

describe('AwsLogSource on CloudWatch Logs', () => {
  const location = { groupName: '/aws/codebuild/web', streamName: 'abc' };

  test('follows forward tokens from the head of the stream until the token repeats', async () => {
    logs
      .on(GetLogEventsCommand, { nextToken: undefined })
      .resolves({ events: [{ message: 'one\n' }, { message: 'two\n' }], nextForwardToken: 'f/2' });
    logs
      .on(GetLogEventsCommand, { nextToken: 'f/2' })
      .resolves({ events: [{ message: 'three' }], nextForwardToken: 'f/3' });
    logs.on(GetLogEventsCommand, { nextToken: 'f/3' }).resolves({ events: [], nextForwardToken: 'f/3' });
    expect(await new AwsLogSource(new CloudWatchLogsClient({}), new S3Client({})).read(location)).toBe(
      'one\ntwo\nthree',
    );
    expect(logs).toHaveReceivedCommandWith(GetLogEventsCommand, {
      logGroupName: '/aws/codebuild/web',
      logStreamName: 'abc',
      startFromHead: true,
    });
    expect(logs).toHaveReceivedCommandTimes(GetLogEventsCommand, 3);
  });

  test('keeps the end of a log that exceeds the size cap, where the failure is reported', async () => {
    logs.on(GetLogEventsCommand, { nextToken: undefined }).resolves({
      events: ['aaaa', 'bbbb', 'cccc', 'fatal: boom'].map((message) => ({ message })),
      nextForwardToken: 'f/1',
    });
    logs.on(GetLogEventsCommand, { nextToken: 'f/1' }).resolves({ events: [], nextForwardToken: 'f/1' });
    const source = new AwsLogSource(new CloudWatchLogsClient({}), new S3Client({}), 20);
    expect(await source.read(location)).toBe('cccc\nfatal: boom');
  });

  test('names the problem when the build has no log location', async () => {
    await expect(new AwsLogSource(new CloudWatchLogsClient({}), new S3Client({})).read({})).rejects.toThrow(
      'the build has neither a CloudWatch Logs stream nor an S3 log location',
    );
  });

  test('rejects an S3 location it cannot parse', async () => {
    await expect(
      new AwsLogSource(new CloudWatchLogsClient({}), new S3Client({})).read({ s3Location: 'just-a-bucket' }),
    ).rejects.toThrow("unrecognised S3 log location 'just-a-bucket'");
  });
});

describe('BedrockSuggestionModel', () => {
  const request = buildSuggestionRequest({
    modelId: 'anthropic.claude-3-5-haiku-20241022-v1:0',
    excerpt: { lines: [1], text: 'fatal: boom' },
    build: {},
    diffedAgainstPassingBuild: false,
  });

  test('sends the request unchanged and joins the text blocks of the answer', async () => {
    bedrock.on(ConverseCommand).resolves({
      output: { message: { role: 'assistant', content: [{ text: '{"a":' }, { text: '1}' }] } },
      stopReason: 'end_turn',
      usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 },
      metrics: { latencyMs: 1 },
    });
    const reply = await new BedrockSuggestionModel(new BedrockRuntimeClient({})).converse(request);
    expect(reply).toEqual({
      stopReason: 'end_turn',
      text: '{"a":1}',
      usage: { inputTokens: 10, outputTokens: 5 },
    });
    expect(bedrock).toHaveReceivedCommandWith(ConverseCommand, request);
  });

  test('reports an answer without text or usage as such', async () => {
    bedrock.on(ConverseCommand).resolves({ stopReason: 'guardrail_intervened', output: undefined });
    const reply = await new BedrockSuggestionModel(new BedrockRuntimeClient({})).converse(request);
    expect(reply).toEqual({ stopReason: 'guardrail_intervened', text: '' });
  });
});

describe('AwsSuggestionDelivery.notify', () => {
  const sns = mockClient(SNSClient);
  beforeEach(() => sns.reset());

  function suggestionWithExcerpt(text: string): Suggestion {
    return {
      schemaVersion: 1,
      buildId: 'web:1',
      projectName: 'web',
      source: 'offline',
      summary: 'テストが失敗しました',
      rootCause: 'root cause',
      category: FAILURE_CATEGORIES[0],
      suggestedFix: 'fix',
      confidence: 0.5,
      evidenceLines: [1],
      excerpt: { lines: [1], text, diffedAgainstPassingBuild: false },
      redactedSecrets: 0,
      createdAt: '2026-11-20T10:00:00.000Z',
    };
  }

  async function published(text: string) {
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const delivery = new AwsSuggestionDelivery(
      { s3: new S3Client({}), events: new EventBridgeClient({}), sns: new SNSClient({}) },
      { bucket: 'lake', eventBusName: 'bus', topicArn: 'arn:aws:sns:eu-west-1:123456789012:t' },
    );
    await delivery.notify(suggestionWithExcerpt(text));
    const input = sns.commandCalls(PublishCommand)[0]!.args[0].input;
    const attributeBytes = Object.entries(input.MessageAttributes ?? {}).reduce(
      (sum, [name, value]) =>
        sum +
        Buffer.byteLength(name) +
        Buffer.byteLength(value.DataType!) +
        Buffer.byteLength(value.StringValue!),
      0,
    );
    return {
      input,
      totalBytes: Buffer.byteLength(input.Message!) + Buffer.byteLength(input.Subject!) + attributeBytes,
    };
  }

  test('a log of CJK text is capped by UTF-8 bytes, within the SNS limit with its subject and attributes', async () => {
    // 150,000 characters: under the old 200,000-character cap, but 450,000 bytes of UTF-8.
    const { input, totalBytes } = await published('エラー：ビルドに失敗しました。'.repeat(10_000));
    expect(totalBytes).toBeLessThanOrEqual(SNS_MAX_PUBLISH_BYTES);
    expect(input.Message).toMatch(/\n\[truncated\]$/);
    expect(input.Message).not.toContain('\uFFFD');
  });

  test('a message within the limit is sent whole', async () => {
    const { input } = await published('short log');
    expect(input.Message).toMatch(/short log$/);
  });
});

describe('truncateUtf8', () => {
  test('never cuts a character in two', () => {
    // Each emoji is 4 bytes (a surrogate pair in UTF-16).
    const cut = truncateUtf8('😀😀😀😀', 10, '…');
    expect(cut).toBe('😀…');
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(10);
  });

  test('leaves text within the budget unchanged', () => {
    expect(truncateUtf8('日本', 6)).toBe('日本');
  });
});
