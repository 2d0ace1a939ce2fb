/**
 * Scheduled (weekly, and on drift) trainer of the `embedded` scorer's model: Pipemend's own RCF on the
 * data lake's training window, stored as `models/<version>/forest.json` + manifest, promoted to
 * `models/current.json` when no worse than the current model. No SageMaker endpoint involved.
 *
 * The window comes from the per-build feature CSVs (TRAINING_SOURCE `per-build`, the default) or from the
 * compacted table through Athena (`compacted`: a stratified sample, so time and memory stay flat).
 */
import { randomUUID } from 'node:crypto';

import { AthenaClient } from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';

import {
  CompactedWindowSource,
  readCompactedWindowSample,
} from '../../sagemaker/training/athena-window-sample';
import {
  EmbeddedTrainingResult,
  TrainingStore,
  trainEmbeddedModel,
} from '../../sagemaker/training/embedded-training';
import { S3TrainingData } from '../../sagemaker/training/s3-training-data';
import { getJsonOrNull } from '../scorer/s3-objects';
import { numberEnv, requireEnv } from '../shared/env';
import { logger, metrics } from '../shared/powertools';
import { compactedWindowSourceFromEnv } from '../shared/training-source';

const s3 = new S3Client({});
const athena = new AthenaClient({});

/** The compacted table as the window's source: where it is, and a fresh id per UNLOAD. */
export interface CompactedWindowOption {
  readonly source: CompactedWindowSource;
  readonly newRunId: () => string;
}

/**
 * The data lake as a TrainingStore. With `compacted`, the window is the stratified sample Athena UNLOADs
 * from the compacted table (`readWindowSample`), otherwise the per-build CSVs.
 */
export function s3TrainingStore(
  client: S3Client,
  bucket: string,
  compacted?: CompactedWindowOption,
): TrainingStore {
  const data = new S3TrainingData(client, bucket);
  return {
    readFeatureRows: (fromDate) => data.readFeatureRows(fromDate),
    ...(compacted
      ? {
          readWindowSample: (fromDate: string, minBuildsPerProject: number) =>
            readCompactedWindowSample(compacted.source, fromDate, minBuildsPerProject, compacted.newRunId()),
        }
      : {}),
    readLabelTexts: () => data.readLabelTexts(),
    readJson: (key) => getJsonOrNull(client, bucket, key),
    writeJson: (key, value) => data.putJson(key, value),
  };
}

export const handler = async (): Promise<EmbeddedTrainingResult> => {
  const bucket = requireEnv('DATA_LAKE_BUCKET');
  const source = compactedWindowSourceFromEnv({ athena, s3, bucket });
  const result = await trainEmbeddedModel(
    s3TrainingStore(s3, bucket, source ? { source, newRunId: randomUUID } : undefined),
    {
      windowDays: numberEnv('WINDOW_DAYS', 90),
      evaluationDays: numberEnv('EVALUATION_DAYS', 7),
      minTrainingRows: numberEnv('MIN_TRAINING_ROWS', 500),
      minBuildsPerProject: numberEnv('MIN_BUILDS_PER_PROJECT', 20),
      numTrees: numberEnv('NUM_TREES', 100),
      sampleSize: numberEnv('SAMPLE_SIZE', 256),
      seed: numberEnv('SEED', 42),
      noWorseTolerance: numberEnv('NO_WORSE_TOLERANCE', 0.02),
    },
    new Date(),
  );
  logger.info('Embedded model trained', { ...result });
  metrics.addMetric('EmbeddedModelTrainingRows', 'Count', result.trainingRows);
  metrics.addMetric('EmbeddedModelPromoted', 'Count', result.promoted ? 1 : 0);
  metrics.publishStoredMetrics();
  return result;
};
