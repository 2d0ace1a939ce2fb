/**
 * AWS adapters of the fix-suggestion ports: CloudWatch Logs / S3 log reading, Bedrock Converse, the
 * DynamoDB daily token budget, the S3 passing-build index and delivery (S3, EventBridge, SNS).
 */
import { gunzipSync } from 'node:zlib';

import { BedrockRuntimeClient, ConverseCommand, ConverseCommandInput } from '@aws-sdk/client-bedrock-runtime';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  GetObjectCommand,
  HeadObjectCommand,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';

import { PIPEMEND_EVENT_SOURCE } from '../../core/scoring/verdict';
import {
  BuildLogUnavailableError,
  LogLocation,
  LogSource,
  ModelReply,
  PassingBuildIndex,
  SuggestionDelivery,
  SuggestionModel,
  TokenBudget,
} from '../../core/suggestions/fix-suggestions';
import { ConverseRequest } from '../../core/suggestions/prompts';
import { FIX_SUGGESTION_DETAIL_TYPE, Suggestion, suggestionKey } from '../../core/suggestions/suggestion';

/** Logs beyond this size keep only their end, where builds report why they failed. */
export const MAX_LOG_CHARACTERS = 20_000_000;

/** Reads build logs from CloudWatch Logs (group + stream) or S3 (`arn:aws:s3:::b/k`, `s3://b/k`, `b/k`). */
export class AwsLogSource implements LogSource {
  constructor(
    private readonly logs: CloudWatchLogsClient,
    private readonly s3: S3Client,
    private readonly maxCharacters = MAX_LOG_CHARACTERS,
  ) {}

  async read(location: LogLocation): Promise<string> {
    if (location.groupName && location.streamName)
      return this.readCloudWatch(location.groupName, location.streamName);
    if (location.s3Location) return this.readS3(location.s3Location);
    throw new BuildLogUnavailableError(
      'the build has neither a CloudWatch Logs stream nor an S3 log location',
    );
  }

  private async readCloudWatch(logGroupName: string, logStreamName: string): Promise<string> {
    const messages: string[] = [];
    let first = 0;
    let size = 0;
    let nextToken: string | undefined;
    for (;;) {
      const page = await this.logs.send(
        new GetLogEventsCommand({ logGroupName, logStreamName, startFromHead: true, nextToken }),
      );
      for (const event of page.events ?? []) {
        const message = (event.message ?? '').replace(/\r?\n$/, '');
        messages.push(message);
        size += message.length + 1;
      }
      while (size > this.maxCharacters && first < messages.length - 1) {
        size -= messages[first]!.length + 1;
        first += 1;
      }
      // GetLogEvents signals the end of the stream by returning the token it was given.
      if (!page.nextForwardToken || page.nextForwardToken === nextToken) break;
      nextToken = page.nextForwardToken;
    }
    return messages.slice(first).join('\n');
  }

  private async readS3(location: string): Promise<string> {
    const match = /^(?:arn:aws[\w-]*:s3:::|s3:\/\/)?([^/]+)\/(.+)$/.exec(location);
    if (!match) throw new BuildLogUnavailableError(`unrecognised S3 log location '${location}'`);
    const [, bucket, key] = match as unknown as [string, string, string];
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const bytes = Buffer.from(await object.Body!.transformToByteArray());
      // CodeBuild writes S3 logs gzip-compressed unless encryption/compression is disabled.
      const text = (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('utf8');
      return text.length > this.maxCharacters ? text.slice(-this.maxCharacters) : text;
    } catch (error) {
      if (error instanceof NoSuchKey)
        throw new BuildLogUnavailableError(`no log object at s3://${bucket}/${key}`);
      throw error;
    }
  }
}

export class BedrockSuggestionModel implements SuggestionModel {
  constructor(private readonly client: BedrockRuntimeClient) {}

  async converse(request: ConverseRequest): Promise<ModelReply> {
    const response = await this.client.send(new ConverseCommand(request as ConverseCommandInput));
    const text = (response.output?.message?.content ?? [])
      .map((block) => ('text' in block && typeof block.text === 'string' ? block.text : ''))
      .join('');
    return {
      stopReason: response.stopReason ?? 'unknown',
      text,
      ...(response.usage
        ? {
            usage: {
              inputTokens: response.usage.inputTokens ?? 0,
              outputTokens: response.usage.outputTokens ?? 0,
            },
          }
        : {}),
    };
  }
}

/**
 * A per-day token counter in DynamoDB: one item per UTC day, `ADD` under a condition, so concurrent
 * invocations can never jointly exceed the budget. Items expire (TTL) a week after their day.
 */
export class DynamoTokenBudget implements TokenBudget {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly dailyLimit: number,
  ) {}

  async reserve(day: string, tokens: number): Promise<boolean> {
    if (tokens > this.dailyLimit) return false;
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { day },
          UpdateExpression: 'ADD tokens :tokens SET expiresAt = if_not_exists(expiresAt, :expiresAt)',
          ConditionExpression: 'attribute_not_exists(tokens) OR tokens <= :remainingBefore',
          ExpressionAttributeValues: {
            ':tokens': tokens,
            ':remainingBefore': this.dailyLimit - tokens,
            ':expiresAt': expiryOf(day),
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async settle(day: string, delta: number): Promise<void> {
    if (delta === 0) return;
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { day },
        UpdateExpression: 'ADD tokens :delta',
        ExpressionAttributeValues: { ':delta': delta },
      }),
    );
  }
}

function expiryOf(day: string): number {
  return Math.floor(Date.parse(`${day}T00:00:00Z`) / 1000) + 8 * 24 * 3600;
}

/** The last passing build of each project, as a small object beside the project's suggestions. */
export class S3PassingBuildIndex implements PassingBuildIndex {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  static key(projectName: string): string {
    return `suggestions/project=${projectName.replace(/\//g, '%2F')}/_last-passing-build.json`;
  }

  async lastPassing(projectName: string): Promise<{ buildId: string; logs: LogLocation } | undefined> {
    try {
      const object = await this.s3.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: S3PassingBuildIndex.key(projectName) }),
      );
      return JSON.parse(await object.Body!.transformToString()) as { buildId: string; logs: LogLocation };
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  }

  async recordPassing(projectName: string, buildId: string, logs: LogLocation): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: S3PassingBuildIndex.key(projectName),
        Body: JSON.stringify({ buildId, logs }),
        ContentType: 'application/json',
      }),
    );
  }
}

export class PublishError extends Error {
  override readonly name = 'PublishError';
}

export class AwsSuggestionDelivery implements SuggestionDelivery {
  constructor(
    private readonly clients: { s3: S3Client; events: EventBridgeClient; sns: SNSClient },
    private readonly targets: { bucket: string; eventBusName: string; topicArn: string },
  ) {}

  async isStored(projectName: string, buildId: string): Promise<boolean> {
    try {
      await this.clients.s3.send(
        new HeadObjectCommand({ Bucket: this.targets.bucket, Key: suggestionKey(projectName, buildId) }),
      );
      return true;
    } catch (error) {
      if (error instanceof NotFound) return false;
      throw error;
    }
  }

  async store(suggestion: Suggestion): Promise<void> {
    await this.clients.s3.send(
      new PutObjectCommand({
        Bucket: this.targets.bucket,
        Key: suggestionKey(suggestion.projectName ?? 'unknown', suggestion.buildId),
        Body: JSON.stringify(suggestion),
        ContentType: 'application/json',
      }),
    );
  }

  async publish(suggestion: Suggestion): Promise<void> {
    const result = await this.clients.events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: this.targets.eventBusName,
            Source: PIPEMEND_EVENT_SOURCE,
            DetailType: FIX_SUGGESTION_DETAIL_TYPE,
            Resources: suggestion.buildArn ? [suggestion.buildArn] : [],
            Detail: JSON.stringify(eventDetail(suggestion)),
          },
        ],
      }),
    );
    if ((result.FailedEntryCount ?? 0) > 0) {
      const entry = result.Entries?.[0];
      throw new PublishError(
        `PutEvents rejected the suggestion event: ${entry?.ErrorCode} ${entry?.ErrorMessage}`,
      );
    }
  }

  async notify(suggestion: Suggestion): Promise<void> {
    const subject = notificationSubject(suggestion);
    const attributes = {
      category: { DataType: 'String', StringValue: suggestion.category },
      source: { DataType: 'String', StringValue: suggestion.source },
    };
    // SNS counts the message and its attributes against one limit; the subject is subtracted too, to be safe.
    const attributeBytes = Object.entries(attributes).reduce(
      (sum, [name, value]) =>
        sum + utf8Bytes(name) + utf8Bytes(value.DataType) + utf8Bytes(value.StringValue),
      0,
    );
    await this.clients.sns.send(
      new PublishCommand({
        TopicArn: this.targets.topicArn,
        Subject: subject,
        Message: notificationMessage(
          suggestion,
          SNS_MAX_PUBLISH_BYTES - utf8Bytes(subject) - attributeBytes - SNS_PUBLISH_MARGIN_BYTES,
        ),
        MessageAttributes: attributes,
      }),
    );
  }
}

/** EventBridge details are capped at 256 KB: the excerpt text stays in S3, its line numbers travel. */
function eventDetail(suggestion: Suggestion): Omit<Suggestion, 'excerpt'> & { excerpt: { lines: number[] } } {
  return { ...suggestion, excerpt: { lines: suggestion.excerpt.lines } };
}

/** SNS subjects: ASCII, no line breaks, at most 100 characters. */
function notificationSubject(suggestion: Suggestion): string {
  const subject = `Pipemend: ${suggestion.projectName ?? 'build'} failed - ${suggestion.summary}`;
  const ascii = subject.replace(/[^\x20-\x7e]/g, ' ').replace(/\s+/g, ' ');
  return ascii.length <= 100 ? ascii : `${ascii.slice(0, 97)}...`;
}

/** SNS's limit on a published message with its attributes: 256 KiB of UTF-8, counted in bytes, not characters. */
export const SNS_MAX_PUBLISH_BYTES = 262_144;
/** Head-room for what SNS may count beyond the message, subject and attribute values. */
const SNS_PUBLISH_MARGIN_BYTES = 1_024;
const TRUNCATION_MARKER = '\n[truncated]';

function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * `text` cut to at most `maxBytes` bytes of UTF-8 with the marker appended, never inside a character
 * (a log of CJK text takes 3 bytes a character, emoji 4).
 */
export function truncateUtf8(text: string, maxBytes: number, marker = TRUNCATION_MARKER): string {
  if (utf8Bytes(text) <= maxBytes) return text;
  const budget = maxBytes - utf8Bytes(marker);
  if (budget <= 0) throw new Error(`maxBytes ${maxBytes} leaves no room for the truncation marker`);
  const bytes = Buffer.from(text, 'utf8');
  let end = budget;
  // Back up over continuation bytes (10xxxxxx) to the start of the character that does not fit.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return `${bytes.subarray(0, end).toString('utf8')}${marker}`;
}

function notificationMessage(suggestion: Suggestion, maxBytes: number): string {
  const message = [
    `Build: ${suggestion.buildId}`,
    `Category: ${suggestion.category} (confidence ${suggestion.confidence.toFixed(2)}, ${
      suggestion.source === 'bedrock' ? `by ${suggestion.modelId}` : 'offline signature library'
    }${suggestion.fallbackReason ? `, fallback: ${suggestion.fallbackReason}` : ''})`,
    '',
    `Summary: ${suggestion.summary}`,
    '',
    `Root cause: ${suggestion.rootCause}`,
    '',
    `Suggested fix: ${suggestion.suggestedFix}`,
    '',
    `Evidence (log lines ${suggestion.evidenceLines.join(', ') || 'none'}; secrets redacted):`,
    suggestion.excerpt.text,
  ].join('\n');
  return truncateUtf8(message, maxBytes);
}
