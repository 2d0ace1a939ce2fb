/**
 * Collector Lambda: one CodeBuild / CodePipeline EventBridge event in, a BuildRecord (or a pipeline
 * transition) in the data lake and EMF metrics out. Bad events are rejected with a logged reason and a
 * `RejectedEvents` metric, never thrown (a retry cannot fix them); AWS failures throw so EventBridge's
 * retry policy and the dead-letter queue apply.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { S3Client } from '@aws-sdk/client-s3';

import { awsCollectorPorts } from './aws-ports';
import {
  BuildMetric,
  CollectionOutcome,
  collectEvent,
  CollectorPorts,
} from '../../core/collection/collector';
import { optionalEnv, requireEnv } from '../shared/env';
import { logger, metrics, tracer } from '../shared/powertools';

const codeBuild = tracer.captureAWSv3Client(new CodeBuildClient({}));
const cloudWatch = tracer.captureAWSv3Client(new CloudWatchClient({}));
const s3 = tracer.captureAWSv3Client(new S3Client({}));
const firehose = tracer.captureAWSv3Client(new FirehoseClient({}));

const UNITS: Record<BuildMetric['unit'], (typeof MetricUnit)[keyof typeof MetricUnit]> = {
  Seconds: MetricUnit.Seconds,
  Percent: MetricUnit.Percent,
  Count: MetricUnit.Count,
};

/** Publishes metrics at once as one EMF blob, with the given dimension (the project, or none). */
function publish(buildMetrics: readonly BuildMetric[], dimension?: { name: string; value: string }): void {
  if (dimension) metrics.addDimension(dimension.name, dimension.value);
  for (const metric of buildMetrics) metrics.addMetric(metric.name, UNITS[metric.unit], metric.value);
  // Publishing clears the dimension, so the next event's metrics never inherit this project.
  metrics.publishStoredMetrics();
}

/** A build's metrics, with its project as the dimension. */
function emitProjectMetrics(projectName: string, buildMetrics: readonly BuildMetric[]): void {
  publish(buildMetrics, { name: 'ProjectName', value: projectName });
}

let ports: CollectorPorts | undefined;

/**
 * Built on first use so a missing DATA_LAKE_BUCKET fails the invocation loudly, not the module load.
 * FEATURE_STREAM_NAME (the compacted data lake's Firehose stream) is optional: without it feature rows
 * are only written as per-build CSVs.
 */
function currentPorts(): CollectorPorts {
  const streamName = optionalEnv('FEATURE_STREAM_NAME');
  ports ??= awsCollectorPorts(
    {
      codeBuild,
      cloudWatch,
      s3,
      bucketName: requireEnv('DATA_LAKE_BUCKET'),
      ...(streamName ? { featureStream: { client: firehose, name: streamName } } : {}),
    },
    emitProjectMetrics,
  );
  return ports;
}

export async function handler(event: unknown): Promise<CollectionOutcome> {
  const outcome = await collectEvent(event, currentPorts());
  report(outcome, event);
  return outcome;
}

function report(outcome: CollectionOutcome, event: unknown): void {
  switch (outcome.status) {
    case 'stored':
      logger.info('build collected', {
        buildId: outcome.record.buildId,
        projectName: outcome.record.projectName,
        recordKey: outcome.recordKey,
        missing: outcome.record.missing,
      });
      return;
    case 'recorded':
      logger.info('pipeline transition recorded', { key: outcome.transitionKey });
      return;
    case 'ignored':
      logger.info('event ignored', { reason: outcome.reason });
      publish([{ name: 'IgnoredEvents', unit: 'Count', value: 1 }]);
      return;
    case 'rejected':
      // The event's identity (not its content, which may be large or hostile) goes into the log.
      logger.warn('event rejected', { reason: outcome.reason, eventId: outcome.eventId, ...identity(event) });
      publish([{ name: 'RejectedEvents', unit: 'Count', value: 1 }]);
      return;
  }
}

function identity(event: unknown): { source?: unknown; detailType?: unknown } {
  if (typeof event !== 'object' || event === null) return {};
  const candidate = event as Record<string, unknown>;
  return { source: candidate.source, detailType: candidate['detail-type'] };
}
