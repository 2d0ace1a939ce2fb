import {
  DescribeModelPackageCommand,
  ListModelPackagesCommand,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';

import { FEATURE_DIMENSION } from '../../../core/collection/build-record';
import { MODEL_INPUT_VERSION } from '../../../core/scoring/model-manifest';
import { evaluateCandidate } from '../../../lambda/training-evaluation/handler';
import { scoreDistribution } from '../../../sagemaker/training/evaluation';
import { S3TrainingData } from '../../../sagemaker/training/s3-training-data';
import { FakeLake } from '../../sagemaker/training/fake-lake';

const version = 'sm-abc';
const request = {
  modelVersion: version,
  trainingRows: '200',
  scoresS3Uri: 's3://lake/training/sm-abc/scores',
  modelPackageGroupName: 'pipemend-rcf',
  noWorseTolerance: 0.02,
};
const baseline = {
  projectName: 'api',
  count: 200,
  median: Array.from({ length: FEATURE_DIMENSION }, () => 1),
  mad: Array.from({ length: FEATURE_DIMENSION }, () => 0.5),
};

function setup(scores: number[], labels: string[] = []) {
  const lake = new FakeLake();
  lake.put(
    `training/${version}/window.json`,
    JSON.stringify({ minBuildsPerProject: 20, baselines: { api: baseline } }),
  );
  lake.put(`training/${version}/evaluation-index.json`, JSON.stringify(scores.map((_, i) => `api:${i}`)));
  lake.put(
    `training/${version}/scores/evaluation.csv.out`,
    scores.map((score) => JSON.stringify({ score })).join('\n'),
  );
  labels.forEach((buildId, i) =>
    lake.put(
      `labels/kind=environment-fault/date=2026-11-20/r${i}.json`,
      JSON.stringify({ schemaVersion: 1, kind: 'environment-fault', anomalous: true, buildId }),
    ),
  );
  const sagemaker = new SageMakerClient({ region: 'eu-west-1' });
  const sagemakerMock = mockClient(sagemaker);
  sagemakerMock.on(ListModelPackagesCommand).resolves({ ModelPackageSummaryList: [] });
  const deps = {
    data: new S3TrainingData(lake.s3, 'lake'),
    sagemaker,
    bucket: 'lake',
    endpointName: 'pipemend-scorer',
    now: () => new Date('2026-11-21T12:00:00Z'),
  };
  return { lake, sagemakerMock, deps };
}

// 99 ordinary scores around 1 and one clear anomaly.
const scores = [...Array.from({ length: 99 }, (_, i) => 1 + (i % 5) * 0.02), 4];

test('computes the threshold from the recent scores and writes the candidate manifest', async () => {
  const { lake, deps } = setup(scores);
  const result = await evaluateCandidate(request, deps);
  const mean = scores.reduce((a, b) => a + b) / scores.length;
  expect(result.scoreMean).toBeCloseTo(mean, 10);
  expect(result.threshold).toBeCloseTo(scoreDistribution(scores).threshold, 10);
  expect(lake.json('models/sm-abc/manifest.json')).toEqual({
    modelVersion: 'sm-abc',
    featureSchemaVersion: 1,
    inputVersion: MODEL_INPUT_VERSION,
    kind: 'endpoint',
    endpointName: 'pipemend-scorer',
    threshold: result.threshold,
    scoreMean: result.scoreMean,
    scoreStd: result.scoreStd,
    trainedAt: '2026-11-21T12:00:00.000Z',
    trainingRows: 200,
    minBuildsPerProject: 20,
    baselines: { api: baseline },
  });
  expect(result.manifestKey).toBe('models/sm-abc/manifest.json');
  expect(result.evaluationS3Uri).toBe('s3://lake/training/sm-abc/evaluation.json');
});

test('reports precision and recall against remediation labels', async () => {
  const { deps } = setup(scores, ['api:99', 'api:3']);
  const result = await evaluateCandidate(request, deps);
  expect(result).toMatchObject({ precision: '1.0000', recall: '0.5000', labelledBuilds: 2 });
});

test('without labels precision and recall are unknown, not zero', async () => {
  const { deps } = setup(scores);
  expect(await evaluateCandidate(request, deps)).toMatchObject({ precision: 'unknown', recall: 'unknown' });
});

test('the first model is no worse than nothing', async () => {
  const { deps, sagemakerMock } = setup(scores);
  const result = await evaluateCandidate(request, deps);
  expect(result).toMatchObject({ noWorse: true, reason: 'no approved model version yet' });
  expect(sagemakerMock).toHaveReceivedCommandWith(ListModelPackagesCommand, {
    ModelPackageGroupName: 'pipemend-rcf',
    ModelApprovalStatus: 'Approved',
    SortBy: 'CreationTime',
    SortOrder: 'Descending',
    MaxResults: 1,
  });
});

test('a candidate clearly worse than the approved version (per its evaluation report) is not registered', async () => {
  const { lake, deps, sagemakerMock } = setup(scores, ['api:99', 'api:3']);
  lake.put(
    'training/sm-old/evaluation.json',
    JSON.stringify({ labelled: { precision: 1, recall: 1, labelledBuilds: 4 } }),
  );
  sagemakerMock.on(ListModelPackagesCommand).resolves({
    ModelPackageSummaryList: [
      {
        ModelPackageArn: 'arn:aws:sagemaker:eu-west-1:1:model-package/pipemend-rcf/2',
        ModelPackageStatus: 'Completed',
        CreationTime: new Date(),
      },
    ],
  });
  sagemakerMock.on(DescribeModelPackageCommand).resolves({
    ModelMetrics: {
      ModelQuality: {
        Statistics: { ContentType: 'application/json', S3Uri: 's3://lake/training/sm-old/evaluation.json' },
      },
    },
  });
  expect(await evaluateCandidate(request, deps)).toMatchObject({
    noWorse: false,
    reason: 'candidate F1 0.667 < approved F1 1.000 - tolerance 0.02',
  });
});

test('fails when the transform returned a different number of scores than rows', async () => {
  const { lake, deps } = setup(scores);
  lake.put(`training/${version}/scores/evaluation.csv.out`, '{"score":1}\n');
  await expect(evaluateCandidate(request, deps)).rejects.toThrow(
    'The batch transform returned 1 scores for 100 evaluation rows (s3://lake/training/sm-abc/scores)',
  );
});

test('fails clearly when the transform wrote nothing', async () => {
  const { lake, deps } = setup(scores);
  lake.objects.delete(`training/${version}/scores/evaluation.csv.out`);
  await expect(evaluateCandidate(request, deps)).rejects.toThrow(
    'No batch transform output (*.out) under s3://lake/training/sm-abc/scores',
  );
});

test('a corrupt window.json names its object key', async () => {
  const { lake, deps } = setup(scores);
  lake.put(`training/${version}/window.json`, '{"minBuildsPerProject": 20, "baselines": {');
  await expect(evaluateCandidate(request, deps)).rejects.toThrow(
    /^training\/sm-abc\/window\.json is not valid JSON: /,
  );
});

test('a window.json of the wrong shape names its object key', async () => {
  const { lake, deps } = setup(scores);
  lake.put(`training/${version}/window.json`, JSON.stringify({ baselines: {} }));
  await expect(evaluateCandidate(request, deps)).rejects.toThrow(
    /^training\/sm-abc\/window\.json is not as expected: .*minBuildsPerProject/s,
  );
});
