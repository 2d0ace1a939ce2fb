/** The compacted table's window source as the tests query it, and a clock that moves only when the code sleeps. */
import { AthenaClient } from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';

import { CompactedWindowSource } from '../../../sagemaker/training/athena-window-sample';
import { DEFAULT_SAMPLE_PLAN } from '../../../sagemaker/training/parquet-window';

/** A clock that moves only when the code under test sleeps; `sleeps` lists the waits. */
export function fakeTime(start = 1_000_000) {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (millis: number) => {
      sleeps.push(millis);
      now += millis;
    },
  };
}

/** The data lake `lake`, the stack's workgroup, database and table; clients and timing as given. */
export function compactedSource(
  source: Pick<CompactedWindowSource, 'timing'> & Partial<CompactedWindowSource>,
): CompactedWindowSource {
  return {
    athena: new AthenaClient({}),
    s3: new S3Client({}),
    bucket: 'lake',
    workGroup: 'Pipemend-compacted',
    database: 'pipemend',
    table: 'features_compacted',
    plan: DEFAULT_SAMPLE_PLAN,
    ...source,
  };
}
