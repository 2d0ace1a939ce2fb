/** Classify Lambda: one remediation decision for a verdict, a failed build or stage, or a health alarm. */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod/mini';

import { awsClassifyPorts } from './aws-ports';
import { classify, ClassifyConfig } from './classify';
import { parseClassifyInput } from './events';
import { Classification } from '../../core/remediation/remediation';
import { parseInput } from '../remediation/schemas';
import { optionalEnv, requireEnv } from '../shared/env';
import { logger, tracer } from '../shared/powertools';
import '../shared/zod-messages';

const ports = awsClassifyPorts(
  {
    codebuild: tracer.captureAWSv3Client(new CodeBuildClient({})),
    logs: tracer.captureAWSv3Client(new CloudWatchLogsClient({})),
    codepipeline: tracer.captureAWSv3Client(new CodePipelineClient({})),
    cloudwatch: tracer.captureAWSv3Client(new CloudWatchClient({})),
    s3: tracer.captureAWSv3Client(new S3Client({})),
  },
  {
    bucketName: requireEnv('DATA_LAKE_BUCKET'),
    warn: (message, details) => logger.warn(message, details),
  },
);

const healthAlarmsSchema = z.array(
  z.object({
    pipelineName: z.string().check(z.minLength(1)),
    stageName: z.string().check(z.minLength(1)),
    alarmName: z.string().check(z.minLength(1)),
  }),
);

const config: ClassifyConfig = {
  ownInitiatorPrefixes: (optionalEnv('OWN_INITIATOR_PREFIXES') ?? '')
    .split(',')
    .filter((prefix) => prefix !== ''),
  healthAlarms: parseInput(
    healthAlarmsSchema,
    JSON.parse(optionalEnv('HEALTH_ALARMS') ?? '[]'),
    'HEALTH_ALARMS',
  ),
  now: () => new Date(),
};

export async function handler(input: unknown): Promise<Classification> {
  const trigger = parseClassifyInput(input);
  logger.appendKeys({ eventId: trigger.eventId, trigger: trigger.kind });
  const classification = await classify(trigger, ports, config);
  logger.info('Classified', { target: classification.target, decision: classification.decision });
  return classification;
}
