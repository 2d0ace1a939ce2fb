/**
 * Daily drift check: compares the recent builds with the baselines the current model was trained on and
 * starts a retraining (the SageMaker pipeline, or the embedded trainer) when a project's norms moved —
 * builds got longer because tests were added — or a project the model has never seen is building.
 * At most one retraining per model per day, and none while one is already running.
 *
 * The recent builds come from the per-build feature CSVs, or (TRAINING_SOURCE `compacted`, once those
 * expire after 35 days) from the compacted table: the trainers' own Athena path, an `UNLOAD` of the
 * stratified sample of the last `recentDays` days read back file by file.
 */
import { randomUUID } from 'node:crypto';

import { AthenaClient } from '@aws-sdk/client-athena';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import {
  ListPipelineExecutionsCommand,
  SageMakerClient,
  StartPipelineExecutionCommand,
} from '@aws-sdk/client-sagemaker';

import { CURRENT_MODEL_MANIFEST_KEY } from '../../core/scoring/model-manifest';
import {
  CompactedWindowSource,
  readCompactedWindowSample,
} from '../../sagemaker/training/athena-window-sample';
import {
  DriftReport,
  detectProjectDrift,
  RecentProject,
  recentProjectsOfRows,
  recentProjectsOfSample,
} from '../../sagemaker/training/drift';
import { S3TrainingData } from '../../sagemaker/training/s3-training-data';
import { windowStartDate } from '../../sagemaker/training/window';
import { parseManifest } from '../scorer/s3-manifest-source';
import { getJsonOrNull } from '../scorer/s3-objects';
import { numberEnv, optionalEnv, requireEnv } from '../shared/env';
import { logger, metrics } from '../shared/powertools';
import { compactedWindowSourceFromEnv } from '../shared/training-source';

const s3 = new S3Client({});
const athena = new AthenaClient({});
const sagemakerClient = new SageMakerClient({});
const lambdaClient = new LambdaClient({});

export type RetrainTarget =
  | { readonly kind: 'pipeline'; readonly pipelineName: string }
  | { readonly kind: 'embedded'; readonly functionName: string };

export interface DriftCheckSettings {
  readonly recentDays: number;
  readonly minRecentBuilds: number;
  readonly shiftThreshold: number;
  readonly minRetrainIntervalHours: number;
  readonly target: RetrainTarget;
}

export interface DriftCheckDependencies {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly sagemaker: SageMakerClient;
  readonly lambda: LambdaClient;
  readonly settings: DriftCheckSettings;
  readonly now: () => Date;
  /**
   * Read the recent builds from the compacted table through Athena (a fresh UNLOAD prefix per run)
   * instead of the per-build feature CSVs.
   * @default - the per-build CSVs
   */
  readonly compacted?: { readonly source: CompactedWindowSource; readonly newRunId: () => string };
}

export type DriftCheckOutcome =
  | {
      readonly action: 'no-model' | 'recently-trained' | 'no-drift' | 'already-retraining';
      readonly detail: string;
    }
  | { readonly action: 'retraining'; readonly detail: string; readonly report: DriftReport };

export async function checkDrift(deps: DriftCheckDependencies): Promise<DriftCheckOutcome> {
  const { settings } = deps;
  const raw = await getJsonOrNull(deps.s3, deps.bucket, CURRENT_MODEL_MANIFEST_KEY);
  if (raw === null)
    return { action: 'no-model', detail: 'no current model; the weekly schedule trains the first' };
  const manifest = parseManifest(raw, `s3://${deps.bucket}/${CURRENT_MODEL_MANIFEST_KEY}`);
  const now = deps.now();
  const ageHours = (now.getTime() - Date.parse(manifest.trainedAt)) / 3_600_000;
  if (ageHours < settings.minRetrainIntervalHours) {
    return {
      action: 'recently-trained',
      detail: `model ${manifest.modelVersion} is ${ageHours.toFixed(1)} h old (< ${settings.minRetrainIntervalHours} h)`,
    };
  }
  const report = detectProjectDrift(await readRecentProjects(deps, now), manifest.baselines, {
    minRecentBuilds: settings.minRecentBuilds,
    shiftThreshold: settings.shiftThreshold,
  });
  metrics.addMetric('DriftedFeatures', 'Count', report.shifts.length);
  metrics.addMetric('UnmodelledProjects', 'Count', report.newProjects.length);
  if (!report.drifted) {
    return {
      action: 'no-drift',
      detail: `${report.projectsChecked} projects within ${settings.shiftThreshold} σ`,
    };
  }
  const detail = describe(report);
  if (settings.target.kind === 'pipeline') {
    const running = await deps.sagemaker.send(
      new ListPipelineExecutionsCommand({
        PipelineName: settings.target.pipelineName,
        SortBy: 'CreationTime',
        SortOrder: 'Descending',
        MaxResults: 10,
      }),
    );
    if (running.PipelineExecutionSummaries?.some((e) => e.PipelineExecutionStatus === 'Executing')) {
      return { action: 'already-retraining', detail };
    }
    const day = now.toISOString().slice(0, 10).replace(/-/g, '');
    await deps.sagemaker.send(
      new StartPipelineExecutionCommand({
        PipelineName: settings.target.pipelineName,
        PipelineExecutionDisplayName: `drift-${day}`,
        PipelineExecutionDescription: detail.slice(0, 3072),
        // One drift retraining per model and day, even if the check runs twice.
        ClientRequestToken: `pipemend-drift-retrain-${day}-${manifest.modelVersion}`.slice(0, 128),
      }),
    );
  } else {
    await deps.lambda.send(
      new InvokeCommand({ FunctionName: settings.target.functionName, InvocationType: 'Event' }),
    );
  }
  logger.info('Drift detected; retraining started', { modelVersion: manifest.modelVersion, detail });
  return { action: 'retraining', detail, report };
}

/** Each project's recent build count and feature medians, from the source the deployment trains from. */
async function readRecentProjects(deps: DriftCheckDependencies, now: Date): Promise<RecentProject[]> {
  const fromDate = windowStartDate(now, deps.settings.recentDays);
  if (!deps.compacted) {
    const { rows } = await new S3TrainingData(deps.s3, deps.bucket).readFeatureRows(fromDate);
    return recentProjectsOfRows(rows);
  }
  const { source, newRunId } = deps.compacted;
  // Only the per-project baseline sample is needed (its medians), no forest rows.
  const sample = await readCompactedWindowSample(
    { ...source, plan: { ...source.plan, forestRows: 0 } },
    fromDate,
    deps.settings.minRecentBuilds,
    newRunId(),
  );
  return recentProjectsOfSample(sample);
}

function describe(report: DriftReport): string {
  const shifts = report.shifts
    .slice(0, 5)
    .map((s) => `${s.projectName}.${s.feature} ${s.shift > 0 ? '+' : ''}${s.shift.toFixed(1)}σ`);
  const unseen = report.newProjects.length ? [`new projects: ${report.newProjects.join(', ')}`] : [];
  return [...shifts, ...unseen].join('; ');
}

export const handler = async (): Promise<DriftCheckOutcome> => {
  const pipelineName = optionalEnv('PIPELINE_NAME');
  const target: RetrainTarget = pipelineName
    ? { kind: 'pipeline', pipelineName }
    : { kind: 'embedded', functionName: requireEnv('TRAINER_FUNCTION_NAME') };
  const bucket = requireEnv('DATA_LAKE_BUCKET');
  const source = compactedWindowSourceFromEnv({ athena, s3, bucket });
  const outcome = await checkDrift({
    s3,
    bucket,
    sagemaker: sagemakerClient,
    lambda: lambdaClient,
    settings: {
      recentDays: numberEnv('RECENT_DAYS', 7),
      minRecentBuilds: numberEnv('MIN_RECENT_BUILDS', 10),
      shiftThreshold: numberEnv('SHIFT_THRESHOLD', 1.5),
      minRetrainIntervalHours: numberEnv('MIN_RETRAIN_INTERVAL_HOURS', 24),
      target,
    },
    now: () => new Date(),
    compacted: source ? { source, newRunId: randomUUID } : undefined,
  });
  metrics.publishStoredMetrics();
  logger.info('Drift check done', { action: outcome.action, detail: outcome.detail });
  return outcome;
};
