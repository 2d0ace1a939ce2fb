import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';

import { BUCKET, lake, resetAws, s3Mock } from './aws-mocks';
import { buildRecord, historyVectors, manifest, PROJECT } from './fixtures';
import { FEATURE_DIMENSION, toFeatureVector } from '../../../core/collection/build-record';
import { normalize } from '../../../core/scoring/baseline';
import { ModelUnavailableError } from '../../../core/scoring/scoring-errors';
import { EmbeddedScorer } from '../../../lambda/scorer/embedded-scorer';
import { RandomCutForest } from '../../../sagemaker/rcf';

const ARTIFACT = 'models/v1/forest.json';

function trainedForest(dimensions: number = FEATURE_DIMENSION): RandomCutForest {
  const current = manifest();
  const forest = new RandomCutForest({ dimensions, numTrees: 30, sampleSize: 64, seed: 7 });
  for (const row of historyVectors(200)) {
    const point = normalize(row, current.baselines[PROJECT]!);
    forest.update(point.slice(0, dimensions));
  }
  return forest;
}

const embedded = manifest({ kind: 'embedded', artifactKey: ARTIFACT, modelVersion: 'v1' });

function input(scale: number): number[] {
  return normalize(toFeatureVector(buildRecord({}, scale)).values, embedded.baselines[PROJECT]!);
}

beforeEach(() => resetAws());

describe('EmbeddedScorer', () => {
  test('scores with the forest from S3 and explains with its attribution (summing to the score)', async () => {
    lake.set(ARTIFACT, JSON.stringify(trainedForest().toJSON()));
    const scorer = new EmbeddedScorer(new S3Client({}), BUCKET);
    const normal = await scorer.score(embedded, input(1));
    const slow = await scorer.score(embedded, input(3));
    expect(slow.score).toBeGreaterThan(normal.score);
    const sum = slow.attribution!.reduce((total, value) => total + value, 0);
    expect(sum).toBeCloseTo(slow.score, 6);
  });

  test('loads the forest once per model version', async () => {
    lake.set(ARTIFACT, JSON.stringify(trainedForest().toJSON()));
    const scorer = new EmbeddedScorer(new S3Client({}), BUCKET);
    await scorer.score(embedded, input(1));
    await scorer.score(embedded, input(2));
    expect(s3Mock).toHaveReceivedCommandTimes(GetObjectCommand, 1);
    lake.set('models/v2/forest.json', JSON.stringify(trainedForest().toJSON()));
    await scorer.score({ ...embedded, modelVersion: 'v2', artifactKey: 'models/v2/forest.json' }, input(1));
    expect(s3Mock).toHaveReceivedCommandTimes(GetObjectCommand, 2);
  });

  test('a missing artifact is a ModelUnavailableError naming the object', async () => {
    const scorer = new EmbeddedScorer(new S3Client({}), BUCKET);
    const failure = scorer.score(embedded, input(1));
    await expect(failure).rejects.toBeInstanceOf(ModelUnavailableError);
    await expect(scorer.score(embedded, input(1))).rejects.toThrow(
      `cannot load embedded model v1 from s3://${BUCKET}/${ARTIFACT}: the object does not exist`,
    );
  });

  test('a forest of the wrong dimension is refused', async () => {
    lake.set(ARTIFACT, JSON.stringify(trainedForest(3).toJSON()));
    await expect(new EmbeddedScorer(new S3Client({}), BUCKET).score(embedded, input(1))).rejects.toThrow(
      'embedded model v1 has 3 dimensions, the features have 12',
    );
  });

  test('a manifest without artifactKey is refused', async () => {
    const withoutKey = { ...embedded, artifactKey: undefined };
    await expect(new EmbeddedScorer(new S3Client({}), BUCKET).score(withoutKey, input(1))).rejects.toThrow(
      'embedded model v1 has no artifactKey in its manifest',
    );
  });
});
