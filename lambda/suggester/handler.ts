/**
 * Suggester Lambda: a `Pipemend Build Verdict` event, or the `CodeBuild Build State Change` of a failed build
 * that CodePipeline started (it gets no verdict: core/suggestions/suggestion-routing.ts), in; for a failed build a fix suggestion out (stored
 * with the decision record, published on the bus, sent to the topic); for a passing build its log becomes
 * the project's diff baseline. Malformed events are rejected with a logged reason and a metric (a retry
 * cannot fix them); AWS failures throw so the asynchronous retries and the dead-letter queue apply.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';

import {
  AwsLogSource,
  AwsSuggestionDelivery,
  BedrockSuggestionModel,
  DynamoTokenBudget,
  S3PassingBuildIndex,
} from './adapters';
import { BuildStatus } from '../../core/collection/build-record';
import { buildIdFromArn, codeBuildStateChangeSchema } from '../../core/collection/ci-events';
import { PIPEMEND_EVENT_SOURCE, VERDICT_DETAIL_TYPE } from '../../core/scoring/verdict';
import {
  FixSuggestionConfig,
  FixSuggestionConfigError,
  FixSuggestionDeps,
  FixSuggestionOutcome,
  handleFinishedBuild,
} from '../../core/suggestions/fix-suggestions';
import { DEFAULT_MAX_TOKENS } from '../../core/suggestions/prompts';
import { isPipelineBuild, PIPELINE_FAILURE_STATUSES } from '../../core/suggestions/suggestion-routing';
import { numberEnv, optionalEnv, requireEnv } from '../shared/env';
import { logger, metrics, tracer } from '../shared/powertools';
import '../shared/zod-messages';

const cloudWatchLogs = tracer.captureAWSv3Client(new CloudWatchLogsClient({}));
const s3 = tracer.captureAWSv3Client(new S3Client({}));
const bedrock = tracer.captureAWSv3Client(new BedrockRuntimeClient({}));
const dynamo = DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})));
const eventBridge = tracer.captureAWSv3Client(new EventBridgeClient({}));
const sns = tracer.captureAWSv3Client(new SNSClient({}));

const verdictEventSchema = z.object({
  source: z.literal(PIPEMEND_EVENT_SOURCE),
  'detail-type': z.literal(VERDICT_DETAIL_TYPE),
  detail: z.object({
    build: z.object({
      buildId: z.string().check(z.minLength(1)),
      buildArn: z.string().check(z.minLength(1)),
      projectName: z.string().check(z.minLength(1)),
      status: z.enum(['SUCCEEDED', 'FAILED', 'FAULT', 'STOPPED', 'TIMED_OUT'] satisfies BuildStatus[]),
      failedPhase: z.optional(z.string()),
      logs: z.optional(
        z.object({
          groupName: z.optional(z.string().check(z.minLength(1))),
          streamName: z.optional(z.string().check(z.minLength(1))),
          s3Location: z.optional(z.string().check(z.minLength(1))),
        }),
      ),
    }),
  }),
});

type FinishedBuild = z.infer<typeof verdictEventSchema>['detail']['build'];

/**
 * The build of a `CodeBuild Build State Change` of a failed build CodePipeline started, in the verdict's
 * shape; a rejection reason for any other state change (those reach the suggester through their verdict).
 */
function pipelineBuildFailure(event: unknown): { build: FinishedBuild } | { reason: string } | undefined {
  if ((event as { source?: unknown } | null)?.source !== 'aws.codebuild') return undefined;
  const parsed = codeBuildStateChangeSchema.safeParse(event);
  if (!parsed.success) return { reason: z.prettifyError(parsed.error) };
  const { detail } = parsed.data;
  const info = detail['additional-information'];
  const status = detail['build-status'];
  if (!isPipelineBuild(info?.initiator)) {
    return {
      reason: `initiator '${info?.initiator}' is not CodePipeline: the build is handled through its verdict`,
    };
  }
  if (!(PIPELINE_FAILURE_STATUSES as readonly string[]).includes(status)) {
    return { reason: `status ${status} of a pipeline build is handled through its verdict, if any` };
  }
  const failedPhase = info?.phases?.find(
    (phase) => phase['phase-status'] !== undefined && phase['phase-status'] !== 'SUCCEEDED',
  )?.['phase-type'];
  const logs = info?.logs;
  return {
    build: {
      buildId: buildIdFromArn(detail['build-id']),
      buildArn: detail['build-id'],
      projectName: detail['project-name'],
      status: status as BuildStatus,
      ...(failedPhase ? { failedPhase } : {}),
      ...(logs?.['group-name'] && logs['stream-name']
        ? { logs: { groupName: logs['group-name'], streamName: logs['stream-name'] } }
        : {}),
    },
  };
}

export type SuggesterResult = FixSuggestionOutcome | { readonly kind: 'rejected'; readonly reason: string };

/** Configuration from the environment, validated on every invocation (cheap, and fails loudly). */
export function loadConfig(): FixSuggestionConfig & { dailyTokenBudget: number } {
  const modelId = optionalEnv('BEDROCK_MODEL_ID');
  const guardrailId = optionalEnv('BEDROCK_GUARDRAIL_ID');
  const guardrailVersion = optionalEnv('BEDROCK_GUARDRAIL_VERSION');
  if ((guardrailId === undefined) !== (guardrailVersion === undefined)) {
    throw new FixSuggestionConfigError(
      'BEDROCK_GUARDRAIL_ID and BEDROCK_GUARDRAIL_VERSION must be set together',
    );
  }
  return {
    modelId,
    guardrail:
      guardrailId && guardrailVersion ? { identifier: guardrailId, version: guardrailVersion } : undefined,
    maxOutputTokens: numberEnv('MAX_OUTPUT_TOKENS', DEFAULT_MAX_TOKENS),
    excerptBudget: numberEnv('EXCERPT_BUDGET_LINES', 50),
    dailyTokenBudget: numberEnv('DAILY_TOKEN_BUDGET', 1_000_000),
  };
}

function dependencies(config: ReturnType<typeof loadConfig>): FixSuggestionDeps {
  const bucket = requireEnv('DATA_LAKE_BUCKET');
  return {
    logs: new AwsLogSource(cloudWatchLogs, s3),
    passingBuilds: new S3PassingBuildIndex(s3, bucket),
    delivery: new AwsSuggestionDelivery(
      { s3, events: eventBridge, sns },
      { bucket, eventBusName: requireEnv('EVENT_BUS_NAME'), topicArn: requireEnv('TOPIC_ARN') },
    ),
    ...(config.modelId
      ? {
          model: new BedrockSuggestionModel(bedrock),
          tokenBudget: new DynamoTokenBudget(
            dynamo,
            requireEnv('TOKEN_BUDGET_TABLE'),
            config.dailyTokenBudget,
          ),
        }
      : {}),
    diagnostics: { warn: (message, detail) => logger.warn(message, detail) },
    now: () => new Date(),
  };
}

function reject(event: unknown, reason: string): SuggesterResult {
  logger.warn('event rejected', { reason, eventId: (event as { id?: unknown } | null)?.id });
  metrics.addMetric('RejectedSuggestionEvents', MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
  return { kind: 'rejected', reason };
}

export async function handler(event: unknown): Promise<SuggesterResult> {
  let build: FinishedBuild;
  const stateChange = pipelineBuildFailure(event);
  if (stateChange) {
    if ('reason' in stateChange) return reject(event, stateChange.reason);
    build = stateChange.build;
  } else {
    const parsed = verdictEventSchema.safeParse(event);
    if (!parsed.success) {
      return reject(
        event,
        parsed.error.issues
          .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
          .join('; '),
      );
    }
    build = parsed.data.detail.build;
  }
  const config = loadConfig();
  const outcome = await handleFinishedBuild(dependencies(config), config, build);
  if (outcome.kind === 'suggested') {
    const { suggestion } = outcome;
    logger.info('fix suggestion delivered', {
      buildId: suggestion.buildId,
      source: suggestion.source,
      category: suggestion.category,
      fallbackReason: suggestion.fallbackReason,
      redactedSecrets: suggestion.redactedSecrets,
    });
    metrics.addDimension('Source', suggestion.source);
    metrics.addMetric('FixSuggestions', MetricUnit.Count, 1);
    if (suggestion.usage) {
      metrics.addMetric(
        'SuggestionTokens',
        MetricUnit.Count,
        suggestion.usage.inputTokens + suggestion.usage.outputTokens,
      );
    }
    metrics.publishStoredMetrics();
  } else {
    logger.info('build handled', { buildId: build.buildId, outcome: outcome.kind });
  }
  return outcome;
}
