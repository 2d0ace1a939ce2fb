import { Duration } from 'aws-cdk-lib';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';

import { CompactedFeatures } from './compaction';
import { DataLake } from './data-lake';
import { PipemendFunction } from './pipemend-function';
import { RetrainingTriggers } from './retraining-triggers';
import { acknowledgeTrainingFunction, grantDataLakePrefixes } from './training-access';

export interface EmbeddedTrainingProps {
  readonly dataLake: DataLake;
  /**
   * Days of build history a training window covers.
   * @default 90
   */
  readonly windowDays?: number;
  /**
   * Trees of the forest.
   * @default 100
   */
  readonly numTrees?: number;
  /**
   * Points each tree samples.
   * @default 256
   */
  readonly sampleSize?: number;
  /**
   * When the scheduled retraining runs.
   * @default - weekly, Mondays 03:00 UTC
   */
  readonly schedule?: scheduler.ScheduleExpression;
  /**
   * Read the training window from this compacted table through Athena (a stratified sample) instead of
   * the per-build feature CSVs.
   * @default - the per-build CSVs
   */
  readonly compacted?: CompactedFeatures;
}

/**
 * The `embedded` scorer's training: a Lambda trains Pipemend's own RCF on the training window and stores
 * the forest in the data lake (no SageMaker endpoint), retrained weekly and on drift.
 */
export class EmbeddedTraining extends Construct {
  public readonly trainer: PipemendFunction;
  public readonly triggers: RetrainingTriggers;

  constructor(scope: Construct, id: string, props: EmbeddedTrainingProps) {
    super(scope, id);
    const windowDays = props.windowDays ?? 90;
    const numTrees = props.numTrees ?? 100;
    const sampleSize = props.sampleSize ?? 256;
    if (!Number.isInteger(numTrees) || numTrees < 1 || numTrees > 1000) {
      throw new Error(`numTrees must be an integer from 1 to 1000, got ${numTrees}`);
    }
    if (!Number.isInteger(sampleSize) || sampleSize < 4 || sampleSize > 2048) {
      throw new Error(`sampleSize must be an integer from 4 to 2048, got ${sampleSize}`);
    }
    this.trainer = new PipemendFunction(this, 'Trainer', {
      handlerDir: 'embedded-trainer',
      description: 'Pipemend: train the embedded RCF model on the training window (no endpoint)',
      // Training is single-threaded: 1,769 MB buys one full vCPU; more memory would only cost more.
      memorySize: 1769,
      timeout: Duration.minutes(15),
      encryptionKey: props.dataLake.key,
      environment: {
        DATA_LAKE_BUCKET: props.dataLake.bucket.bucketName,
        WINDOW_DAYS: String(windowDays),
        NUM_TREES: String(numTrees),
        SAMPLE_SIZE: String(sampleSize),
      },
    });
    const prefixes = grantDataLakePrefixes(this.trainer, props.dataLake, {
      read: ['features/', 'labels/', 'models/'],
      write: ['models/'],
    });
    // Of the 15 minutes: up to 8 for Athena's UNLOAD, the rest for reading the sample and training.
    const compactedPrefixes =
      props.compacted?.grantWindowQuery(this.trainer, { athenaTimeout: Duration.minutes(8) }) ?? [];
    acknowledgeTrainingFunction(this.trainer, props.dataLake.bucket, [...prefixes, ...compactedPrefixes]);
    this.triggers = new RetrainingTriggers(this, 'Retraining', {
      dataLake: props.dataLake,
      schedule: props.schedule,
      retraining: { kind: 'embedded', trainer: this.trainer },
      compacted: props.compacted,
    });
  }
}
