/**
 * The SageMaker pipeline's AssembleWindow step (a Lambda step): reads the last N days of feature rows,
 * normalises them per project and writes the training CSV, the recent evaluation CSV (plus which build
 * each line is) and the window's baselines. Fails with a clear message when there are too few rows.
 *
 * The rows come from the per-build feature CSVs (TRAINING_SOURCE `per-build`, the default) or, with
 * `compacted`, from the stratified sample Athena UNLOADs from the compacted table (forest rows, and
 * baselines from the larger sample), so the step's time and memory stay flat as the window grows.
 */
import { randomUUID } from 'node:crypto';

import { AthenaClient } from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod/mini';

import { readCompactedWindowSample } from '../../sagemaker/training/athena-window-sample';
import { pipelineModelVersion, trainingKeys } from '../../sagemaker/training/model-version';
import type { WindowSample } from '../../sagemaker/training/parquet-window';
import { S3TrainingData } from '../../sagemaker/training/s3-training-data';
import { assembleTrainingWindow, toTrainingCsv, windowStartDate } from '../../sagemaker/training/window';
import { requireEnv } from '../shared/env';
import { logger } from '../shared/powertools';
import { compactedWindowSourceFromEnv } from '../shared/training-source';
import '../shared/zod-messages';

const s3 = new S3Client({});
const athena = new AthenaClient({});

const windowRequestSchema = z.object({
  executionId: z.string().check(z.minLength(1)),
  windowDays: z.coerce.number().check(z.int(), z.minimum(1), z.maximum(365)),
  evaluationDays: z.coerce.number().check(z.int(), z.minimum(1), z.maximum(365)),
  minTrainingRows: z.coerce.number().check(z.int(), z.minimum(1)),
  minBuildsPerProject: z.coerce.number().check(z.int(), z.minimum(1)),
});

export type WindowRequest = z.infer<typeof windowRequestSchema>;

/** The step's declared outputs (WINDOW_OUTPUTS in sagemaker/pipeline/definition.ts). */
export interface WindowResult {
  readonly modelVersion: string;
  readonly trainS3Uri: string;
  readonly evaluationS3Uri: string;
  readonly trainingRows: number;
  readonly evaluationRows: number;
  readonly projects: number;
}

export interface WindowDependencies {
  readonly data: S3TrainingData;
  readonly bucket: string;
  readonly now: () => Date;
  /**
   * The compacted table's stratified sample of the window from a date; when present it replaces the
   * per-build CSVs.
   * @default - the per-build CSVs
   */
  readonly readSample?: (fromDate: string, minBuildsPerProject: number) => Promise<WindowSample>;
}

export async function assembleWindow(raw: unknown, deps: WindowDependencies): Promise<WindowResult> {
  const parsed = windowRequestSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`Invalid AssembleWindow arguments: ${z.prettifyError(parsed.error)}`);
  }
  const request = parsed.data;
  const now = deps.now();
  const modelVersion = pipelineModelVersion(request.executionId);
  const from = windowStartDate(now, request.windowDays);
  const sample = await deps.readSample?.(from, request.minBuildsPerProject);
  const { rows, malformed } = sample ?? (await deps.data.readFeatureRows(from));
  if (malformed.length > 0) {
    logger.warn('Feature rows skipped as malformed', {
      count: malformed.length,
      examples: malformed.slice(0, 10),
    });
  }
  const window = assembleTrainingWindow(rows, {
    minTrainingRows: request.minTrainingRows,
    minBuildsPerProject: request.minBuildsPerProject,
    evaluationFrom: windowStartDate(now, request.evaluationDays),
    baselines: sample?.baselines,
    projectBuilds: sample?.projectBuilds,
  });
  const keys = trainingKeys(modelVersion);
  await deps.data.putText(keys.trainCsv, toTrainingCsv(window.training), 'text/csv');
  await deps.data.putText(keys.evaluationCsv, toTrainingCsv(window.evaluation), 'text/csv');
  await deps.data.putJson(
    keys.evaluationIndex,
    window.evaluation.map((row) => row.buildId),
  );
  await deps.data.putJson(keys.window, {
    modelVersion,
    assembledAt: now.toISOString(),
    source: sample ? 'compacted' : 'per-build',
    ...(sample ? { sampledRows: sample.sampledRows } : {}),
    from,
    windowDays: request.windowDays,
    evaluationDays: request.evaluationDays,
    minBuildsPerProject: request.minBuildsPerProject,
    trainingRows: window.training.length,
    evaluationRows: window.evaluation.length,
    excludedProjects: window.excludedProjects,
    malformedRows: malformed,
    baselines: window.baselines,
  });
  const result: WindowResult = {
    modelVersion,
    trainS3Uri: `s3://${deps.bucket}/${keys.trainCsv.replace(/train\.csv$/, '')}`,
    evaluationS3Uri: `s3://${deps.bucket}/${keys.evaluationCsv.replace(/evaluation\.csv$/, '')}`,
    trainingRows: window.training.length,
    evaluationRows: window.evaluation.length,
    projects: Object.keys(window.baselines).length,
  };
  logger.info('Training window assembled', { ...result, excludedProjects: window.excludedProjects });
  return result;
}

export const handler = async (event: unknown): Promise<WindowResult> => {
  const bucket = requireEnv('DATA_LAKE_BUCKET');
  const source = compactedWindowSourceFromEnv({ athena, s3, bucket });
  return assembleWindow(event, {
    data: new S3TrainingData(s3, bucket),
    bucket,
    now: () => new Date(),
    ...(source
      ? {
          readSample: (fromDate: string, minBuildsPerProject: number) =>
            readCompactedWindowSample(source, fromDate, minBuildsPerProject, randomUUID()),
        }
      : {}),
  });
};
