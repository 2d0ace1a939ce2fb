/**
 * The SageMaker pipeline's EvaluateModel step (a Lambda step): reads the candidate model's batch-transform
 * scores of the recent builds, computes the score distribution and threshold (robust, log scale), precision
 * and recall against remediation labels, compares with the latest approved model version and writes the
 * candidate's manifest (`models/<version>/manifest.json`) and its evaluation report.
 */
import { S3Client } from '@aws-sdk/client-s3';
import {
  DescribeModelPackageCommand,
  ListModelPackagesCommand,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import * as z from 'zod/mini';

import { FEATURE_SCHEMA_VERSION } from '../../core/collection/build-record';
import { MODEL_INPUT_VERSION, ModelManifest, modelManifestKey } from '../../core/scoring/model-manifest';
import {
  compareWithApproved,
  evaluateScores,
  parseLabels,
  parseRcfScores,
  RecordedQuality,
} from '../../sagemaker/training/evaluation';
import { trainingKeys } from '../../sagemaker/training/model-version';
import { parseS3Uri, S3TrainingData } from '../../sagemaker/training/s3-training-data';
import { requireEnv } from '../shared/env';
import { logger } from '../shared/powertools';
import '../shared/zod-messages';

const s3 = new S3Client({});
const sagemaker = new SageMakerClient({});

const evaluationRequestSchema = z.object({
  modelVersion: z.string().check(z.minLength(1)),
  trainingRows: z.coerce.number().check(z.int(), z.nonnegative()),
  scoresS3Uri: z.string().check(z.startsWith('s3://')),
  modelPackageGroupName: z.string().check(z.minLength(1)),
  noWorseTolerance: z.coerce.number().check(z.minimum(0), z.maximum(1)),
});

const windowFileSchema = z.object({
  minBuildsPerProject: z.number().check(z.int()),
  baselines: z.record(
    z.string(),
    z.object({
      projectName: z.string(),
      count: z.number(),
      median: z.array(z.number()),
      mad: z.array(z.number()),
    }),
  ),
});

/**
 * Reads and validates one JSON object of the data lake; a corrupt or unexpected file names its key, so the
 * failed pipeline step says which artifact to look at (a bare `SyntaxError` does not).
 */
async function readJsonObject<T>(data: S3TrainingData, key: string, schema: z.ZodMiniType<T>): Promise<T> {
  const text = await data.getText(key);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${key} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`${key} is not as expected: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** The step's declared outputs (EVALUATION_OUTPUTS in sagemaker/pipeline/definition.ts). */
export interface EvaluationResult {
  readonly threshold: number;
  readonly scoreMean: number;
  readonly scoreStd: number;
  /** Decimal string, or `unknown` without labelled anomalies among the recent builds. */
  readonly precision: string;
  readonly recall: string;
  readonly labelledBuilds: number;
  readonly noWorse: boolean;
  readonly reason: string;
  readonly evaluationS3Uri: string;
  readonly manifestKey: string;
}

export interface EvaluationDependencies {
  readonly data: S3TrainingData;
  readonly sagemaker: SageMakerClient;
  readonly bucket: string;
  readonly endpointName: string;
  readonly now: () => Date;
}

export async function evaluateCandidate(
  raw: unknown,
  deps: EvaluationDependencies,
): Promise<EvaluationResult> {
  const parsed = evaluationRequestSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`Invalid EvaluateModel arguments: ${z.prettifyError(parsed.error)}`);
  const request = parsed.data;
  const keys = trainingKeys(request.modelVersion);
  const window = await readJsonObject(deps.data, keys.window, windowFileSchema);
  const buildIds = await readJsonObject(deps.data, keys.evaluationIndex, z.array(z.string()));
  const scores = await readTransformScores(deps.data, deps.bucket, request.scoresS3Uri);
  if (scores.length !== buildIds.length) {
    throw new Error(
      `The batch transform returned ${scores.length} scores for ${buildIds.length} evaluation rows (${request.scoresS3Uri})`,
    );
  }
  const { labels, skipped } = parseLabels(await deps.data.readLabelTexts());
  const quality = evaluateScores(
    buildIds.map((buildId, i) => ({ buildId, score: scores[i]! })),
    labels,
  );
  const candidate: RecordedQuality = {
    precision: quality.labelled.precision,
    recall: quality.labelled.recall,
    labelledBuilds: quality.labelled.labelledBuilds,
  };
  const approved = await latestApprovedQuality(deps.sagemaker, request.modelPackageGroupName, deps.data);
  const comparison = compareWithApproved(candidate, approved, request.noWorseTolerance);

  const manifestKey = modelManifestKey(request.modelVersion);
  const manifest: ModelManifest = {
    modelVersion: request.modelVersion,
    featureSchemaVersion: FEATURE_SCHEMA_VERSION,
    inputVersion: MODEL_INPUT_VERSION,
    kind: 'endpoint',
    endpointName: deps.endpointName,
    threshold: quality.distribution.threshold,
    scoreMean: quality.distribution.mean,
    scoreStd: quality.distribution.std,
    trainedAt: deps.now().toISOString(),
    trainingRows: request.trainingRows,
    minBuildsPerProject: window.minBuildsPerProject,
    baselines: window.baselines,
  };
  await deps.data.putJson(manifestKey, manifest);
  await deps.data.putJson(keys.evaluation, {
    modelVersion: request.modelVersion,
    scoreDistribution: quality.distribution,
    labelled: quality.labelled,
    labelsSkipped: skipped,
    approved: approved ?? null,
    comparison,
  });
  const result: EvaluationResult = {
    threshold: quality.distribution.threshold,
    scoreMean: quality.distribution.mean,
    scoreStd: quality.distribution.std,
    precision: formatRatio(candidate.precision),
    recall: formatRatio(candidate.recall),
    labelledBuilds: candidate.labelledBuilds,
    noWorse: comparison.noWorse,
    reason: comparison.reason,
    evaluationS3Uri: `s3://${deps.bucket}/${keys.evaluation}`,
    manifestKey,
  };
  logger.info('Candidate model evaluated', { ...result });
  return result;
}

async function readTransformScores(
  data: S3TrainingData,
  bucket: string,
  scoresS3Uri: string,
): Promise<number[]> {
  const location = parseS3Uri(scoresS3Uri);
  if (location.bucket !== bucket)
    throw new Error(`Transform output ${scoresS3Uri} is outside the data lake ${bucket}`);
  const prefix = location.key.endsWith('/') ? location.key : `${location.key}/`;
  const outputs = (await data.listKeys(prefix)).filter((key) => key.endsWith('.out')).sort();
  if (outputs.length === 0) throw new Error(`No batch transform output (*.out) under ${scoresS3Uri}`);
  const scores: number[] = [];
  for (const key of outputs) scores.push(...parseRcfScores(await data.getText(key)));
  return scores;
}

/**
 * Quality recorded on the newest approved version of the group (its evaluation report, registered as
 * its model-quality metrics), or undefined when no version is approved.
 */
export async function latestApprovedQuality(
  client: SageMakerClient,
  modelPackageGroupName: string,
  data: S3TrainingData,
): Promise<RecordedQuality | undefined> {
  const list = await client.send(
    new ListModelPackagesCommand({
      ModelPackageGroupName: modelPackageGroupName,
      ModelApprovalStatus: 'Approved',
      SortBy: 'CreationTime',
      SortOrder: 'Descending',
      MaxResults: 1,
    }),
  );
  const arn = list.ModelPackageSummaryList?.[0]?.ModelPackageArn;
  if (!arn) return undefined;
  const described = await client.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
  const reportUri = described.ModelMetrics?.ModelQuality?.Statistics?.S3Uri;
  if (!reportUri) return { precision: null, recall: null, labelledBuilds: 0 };
  const report = evaluationReportSchema.parse(JSON.parse(await data.getText(parseS3Uri(reportUri).key)));
  return {
    precision: report.labelled.precision,
    recall: report.labelled.recall,
    labelledBuilds: report.labelled.labelledBuilds,
  };
}

const evaluationReportSchema = z.object({
  labelled: z.object({
    precision: z.nullable(z.number()),
    recall: z.nullable(z.number()),
    labelledBuilds: z.number().check(z.int(), z.nonnegative()),
  }),
});

function formatRatio(value: number | null): string {
  return value === null ? 'unknown' : value.toFixed(4);
}

export const handler = async (event: unknown): Promise<EvaluationResult> => {
  const bucket = requireEnv('DATA_LAKE_BUCKET');
  return evaluateCandidate(event, {
    data: new S3TrainingData(s3, bucket),
    sagemaker,
    bucket,
    endpointName: requireEnv('ENDPOINT_NAME'),
    now: () => new Date(),
  });
};
