/**
 * Scheduled (weekly, and on drift) trainer of the `embedded` scorer's model: Pipemend's own RCF on the
 * data lake's training window, stored as `models/<version>/forest.json` + manifest, promoted to
 * `models/current.json` when no worse than the current model. No SageMaker endpoint involved.
 */
import { S3Client } from '@aws-sdk/client-s3';

import {
  EmbeddedTrainingResult,
  TrainingStore,
  trainEmbeddedModel,
} from '../../sagemaker/training/embedded-training';
import { S3TrainingData } from '../../sagemaker/training/s3-training-data';
import { getJsonOrNull } from '../scorer/s3-objects';
import { numberEnv, requireEnv } from '../shared/env';
import { logger, metrics } from '../shared/powertools';

const s3 = new S3Client({});

/** The data lake as a TrainingStore. */
export function s3TrainingStore(client: S3Client, bucket: string): TrainingStore {
  const data = new S3TrainingData(client, bucket);
  return {
    readFeatureRows: (fromDate) => data.readFeatureRows(fromDate),
    readLabelTexts: () => data.readLabelTexts(),
    readJson: (key) => getJsonOrNull(client, bucket, key),
    writeJson: (key, value) => data.putJson(key, value),
  };
}

export const handler = async (): Promise<EmbeddedTrainingResult> => {
  const result = await trainEmbeddedModel(
    s3TrainingStore(s3, requireEnv('DATA_LAKE_BUCKET')),
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
