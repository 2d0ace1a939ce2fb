import { AthenaClient } from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';

import { compactedWindowSourceFromEnv } from '../../../lambda/shared/training-source';

const clients = { athena: new AthenaClient({}), s3: new S3Client({}), bucket: 'lake' };
const KEYS = [
  'TRAINING_SOURCE',
  'ATHENA_WORKGROUP',
  'GLUE_DATABASE',
  'COMPACTED_TABLE',
  'ATHENA_TIMEOUT_SECONDS',
];

afterEach(() => {
  for (const key of KEYS) delete process.env[key];
});

test('without TRAINING_SOURCE the window comes from the per-build CSVs', () => {
  expect(compactedWindowSourceFromEnv(clients)).toBeUndefined();
});

test('compacted reads the workgroup, database, table and time budget', () => {
  Object.assign(process.env, {
    TRAINING_SOURCE: 'compacted',
    ATHENA_WORKGROUP: 'Pipemend-compacted',
    GLUE_DATABASE: 'pipemend',
    COMPACTED_TABLE: 'features_compacted',
    ATHENA_TIMEOUT_SECONDS: '420',
  });
  expect(compactedWindowSourceFromEnv(clients)).toMatchObject({
    bucket: 'lake',
    workGroup: 'Pipemend-compacted',
    database: 'pipemend',
    table: 'features_compacted',
    timing: { timeoutMillis: 420_000 },
  });
});

test('compacted without its workgroup fails loudly', () => {
  process.env.TRAINING_SOURCE = 'compacted';
  expect(() => compactedWindowSourceFromEnv(clients)).toThrow('ATHENA_WORKGROUP');
});

test('an unknown source is named', () => {
  process.env.TRAINING_SOURCE = 'iceberg';
  expect(() => compactedWindowSourceFromEnv(clients)).toThrow(
    "TRAINING_SOURCE must be one of per-build, compacted, got 'iceberg'",
  );
});
