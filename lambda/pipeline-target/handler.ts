/** Pipeline-target Lambda: retry and rollback targets, and the watch over what they started. */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import * as z from 'zod/mini';

import {
  findRetryExecution,
  findRollbackTarget,
  PipelineClients,
  stageTarget,
  watchExecution,
  WatchResult,
} from './pipeline-target';
import { classificationSchema, parseInput } from '../remediation/schemas';
import { numberEnv } from '../shared/env';
import { logger, tracer } from '../shared/powertools';
import '../shared/zod-messages';

const clients: PipelineClients = {
  codepipeline: tracer.captureAWSv3Client(new CodePipelineClient({})),
  cloudwatch: tracer.captureAWSv3Client(new CloudWatchClient({})),
};
/** 120 checks at the default one-minute interval: two hours for a retry or rollback to finish. */
const maxChecks = numberEnv('MAX_WATCH_CHECKS', 120);

const requestSchema = z.discriminatedUnion('operation', [
  z.object({ operation: z.literal('retry-execution'), classification: classificationSchema }),
  z.object({ operation: z.literal('rollback-target'), classification: classificationSchema }),
  z.object({
    operation: z.literal('watch'),
    classification: classificationSchema,
    pipelineExecutionId: z.string().check(z.minLength(1)),
    checkHealth: z.boolean(),
    checks: z.number().check(z.int(), z.minimum(0)),
  }),
]);

export async function handler(
  event: unknown,
): Promise<
  { pipelineExecutionId: string } | { pipelineExecutionId: string; pipelineVersion: number } | WatchResult
> {
  const request = parseInput(requestSchema, event, 'pipeline-target request');
  const target = stageTarget(request.classification);
  logger.appendKeys({ pipeline: target.pipelineName, stage: target.stageName, operation: request.operation });
  switch (request.operation) {
    case 'retry-execution':
      return findRetryExecution(target, clients);
    case 'rollback-target':
      return findRollbackTarget(target, clients);
    case 'watch':
      return watchExecution(
        {
          pipelineName: target.pipelineName,
          pipelineExecutionId: request.pipelineExecutionId,
          ...(request.checkHealth && request.classification.healthAlarmName
            ? { healthAlarmName: request.classification.healthAlarmName }
            : {}),
          checks: request.checks,
          maxChecks,
        },
        clients,
      );
  }
}
