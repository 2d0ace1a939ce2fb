import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';

import { buildSuggestionRequest } from '../../../lambda/core/prompts';
import { AwsLogSource, BedrockSuggestionModel } from '../../../lambda/suggester/adapters';

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
