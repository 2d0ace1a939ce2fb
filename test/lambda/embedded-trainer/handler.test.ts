import { AthenaClient, GetQueryExecutionCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';

import { FEATURE_DIMENSION } from '../../../core/collection/build-record';
import { s3TrainingStore } from '../../../lambda/embedded-trainer/handler';
import { trainEmbeddedModel } from '../../../sagemaker/training/embedded-training';
import { compactedSource } from '../../sagemaker/training/compacted-source';
import { FakeLake } from '../../sagemaker/training/fake-lake';

test('trains from the data lake layout and writes forest, manifest and current.json back to it', async () => {
  const lake = new FakeLake(50);
  for (let i = 0; i < 150; i++) {
    const date = `2026-11-${String(10 + Math.floor(i / 15)).padStart(2, '0')}`;
    const values = Array.from({ length: FEATURE_DIMENSION }, (_, f) => 10 + ((i + f) % 5));
    lake.put(`features/project=api/date=${date}/api:${i}.csv`, values.join(','));
  }
  const store = s3TrainingStore(lake.s3, 'lake');
  const result = await trainEmbeddedModel(
    store,
    {
      windowDays: 90,
      evaluationDays: 7,
      minTrainingRows: 100,
      minBuildsPerProject: 10,
      numTrees: 50,
      sampleSize: 32,
      seed: 1,
      noWorseTolerance: 0.02,
    },
    new Date('2026-11-19T06:00:00Z'),
  );
  expect(result).toMatchObject({ modelVersion: '2026-11-19T06-00-00Z', trainingRows: 150, promoted: true });
  expect(lake.json('models/current.json')).toMatchObject({
    kind: 'embedded',
    artifactKey: 'models/2026-11-19T06-00-00Z/forest.json',
  });
  expect(lake.json('models/2026-11-19T06-00-00Z/forest.json')).toMatchObject({ format: 'pipemend-rcf' });
  expect(await store.readJson('models/absent.json')).toBeNull();
});

test('with the compacted source, the window sample is UNLOADed by Athena into a fresh prefix and read from it', async () => {
  const athena = mockClient(AthenaClient);
  athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
  athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
  const lake = new FakeLake();
  const store = s3TrainingStore(lake.s3, 'lake', {
    source: compactedSource({ s3: lake.s3, timing: { timeoutMillis: 1000, sleep: async () => {} } }),
    newRunId: () => 'run-0001-aaaa-bbbb',
  });
  const sample = await store.readWindowSample!('2026-08-24', 20);
  expect(athena).toHaveReceivedCommandWith(StartQueryExecutionCommand, {
    WorkGroup: 'Pipemend-compacted',
    QueryString: expect.stringContaining("TO 's3://lake/athena-results/unload/run-0001-aaaa-bbbb/'"),
  });
  expect(lake.mock).toHaveReceivedCommandWith(ListObjectsV2Command, {
    Prefix: 'athena-results/unload/run-0001-aaaa-bbbb/',
  });
  expect(sample.rows).toEqual([]);
  athena.restore();
});

test('without the compacted source, the store reads the per-build CSVs only', () => {
  expect(s3TrainingStore(new FakeLake().s3, 'lake').readWindowSample).toBeUndefined();
});
