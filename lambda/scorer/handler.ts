/**
 * Post-build scorer Lambda: a CodePipeline invoke action, a CodePipeline V2 stage-condition `LambdaInvoke`
 * rule and an EventBridge target, sharing one core.
 * Environment: DATA_LAKE_BUCKET, EVENT_BUS_NAME, MODEL_KIND (`embedded` | `endpoint`), ENDPOINT_NAME
 * (with `endpoint`), optional RECORD_WAIT_ATTEMPTS and TREND_SETTINGS (JSON, `trendSettingsSchema`).
 */
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';

import { EmbeddedScorer } from './embedded-scorer';
import { EndpointScorer } from './endpoint-scorer';
import { S3BuildRecords } from './s3-build-records';
import { S3ManifestSource } from './s3-manifest-source';
import { S3ProjectHistory } from './s3-project-history';
import { createScorer, ScorerResult } from './scorer-app';
import { VerdictPublisher } from './verdict-publisher';
import { ModelKind } from '../../core/scoring/scoring';
import { parseTrendSettings, TrendSettings } from '../../core/scoring/trend-settings';
import { numberEnv, optionalEnv, parseJsonEnv, requireEnv } from '../shared/env';
import { tracer } from '../shared/powertools';

const s3 = tracer.captureAWSv3Client(new S3Client({}));
const sageMakerRuntime = tracer.captureAWSv3Client(new SageMakerRuntimeClient({}));
const eventBridge = tracer.captureAWSv3Client(new EventBridgeClient({}));
const codePipeline = tracer.captureAWSv3Client(new CodePipelineClient({}));

let scorer: ((event: unknown) => Promise<ScorerResult>) | undefined;

/** Built on first use so a missing variable fails the invocation with its name, not the module load. */
function configuredScorer(): (event: unknown) => Promise<ScorerResult> {
  if (scorer) return scorer;
  const bucket = requireEnv('DATA_LAKE_BUCKET');
  const modelKind = requireEnv('MODEL_KIND');
  if (modelKind !== 'embedded' && modelKind !== 'endpoint') {
    throw new Error(`Environment variable MODEL_KIND must be 'embedded' or 'endpoint', got '${modelKind}'`);
  }
  const kind: ModelKind = modelKind;
  scorer = createScorer({
    records: new S3BuildRecords(s3, bucket, { attempts: numberEnv('RECORD_WAIT_ATTEMPTS', 6) }),
    scoring: {
      manifests: new S3ManifestSource(s3, bucket),
      history: new S3ProjectHistory(s3, bucket),
      modelKind: kind,
      trend: trendSettingsFromEnv(),
      modelScorer:
        kind === 'endpoint'
          ? new EndpointScorer(sageMakerRuntime, requireEnv('ENDPOINT_NAME'))
          : new EmbeddedScorer(s3, bucket),
    },
    sink: new VerdictPublisher(eventBridge, requireEnv('EVENT_BUS_NAME')),
    codePipeline,
  });
  return scorer;
}

/** The installation's trend settings (the stack's `trend` context key), if it chose any. */
function trendSettingsFromEnv(): TrendSettings | undefined {
  const json = optionalEnv('TREND_SETTINGS');
  if (json === undefined) return undefined;
  return parseTrendSettings(parseJsonEnv('TREND_SETTINGS', json), 'Environment variable TREND_SETTINGS');
}

/** Never logs the event itself: a CodePipeline job carries live artifactCredentials. */
export async function handler(event: unknown): Promise<ScorerResult> {
  return configuredScorer()(event);
}
