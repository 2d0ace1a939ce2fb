/**
 * Notification digest Lambda, run once a day by EventBridge Scheduler: yesterday's (UTC) repeated
 * failures, one summary per notification topic. `{"day": "YYYY-MM-DD"}` sends (what is missing of) the
 * digest of that day instead.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import * as z from 'zod/mini';

import { DigestRun, sendDailyDigest } from './digest';
import { DynamoDbDigestStore } from '../remediation/dynamodb-digest-store';
import { requireEnv } from '../shared/env';
import { logger, tracer } from '../shared/powertools';
import '../shared/zod-messages';

const dynamodb = tracer.captureAWSv3Client(new DynamoDBClient({}));
const sns = tracer.captureAWSv3Client(new SNSClient({}));
const source = new DynamoDbDigestStore(requireEnv('REMEDIATION_TABLE'), dynamodb);

const eventSchema = z.object({
  day: z.optional(z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a day like 2026-12-05'))),
});

export async function handler(event: unknown): Promise<DigestRun> {
  const parsed = eventSchema.safeParse(event ?? {});
  if (!parsed.success) {
    throw new Error(
      `Invalid digest request: ${parsed.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`).join('; ')}`,
    );
  }
  const run = await sendDailyDigest(
    {
      source,
      publish: async (message) => {
        await sns.send(
          new PublishCommand({
            TopicArn: message.topicArn,
            Subject: message.subject,
            Message: message.message,
          }),
        );
      },
      now: () => new Date(),
    },
    parsed.data.day,
  );
  logger.info('Notification digest sent', { ...run });
  return run;
}
