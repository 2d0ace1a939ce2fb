/**
 * The training window's source as the trainer Lambdas read it from their environment (set by
 * lib/training-access.ts `compactedTrainingEnvironment`): TRAINING_SOURCE `per-build` (the default) or
 * `compacted`, with the Athena workgroup, the Glue database and table, and the query's time budget.
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';

import { numberEnv, optionalEnv, requireEnv } from './env';
import { CompactedWindowSource } from '../../sagemaker/training/athena-window-sample';
import { DEFAULT_SAMPLE_PLAN, TRAINING_SOURCES } from '../../sagemaker/training/parquet-window';

/** The compacted table's query settings, or undefined when the window comes from the per-build CSVs. */
export function compactedWindowSourceFromEnv(clients: {
  readonly athena: AthenaClient;
  readonly s3: S3Client;
  readonly bucket: string;
}): CompactedWindowSource | undefined {
  const source = optionalEnv('TRAINING_SOURCE') ?? 'per-build';
  if (!(TRAINING_SOURCES as readonly string[]).includes(source)) {
    throw new Error(`TRAINING_SOURCE must be one of ${TRAINING_SOURCES.join(', ')}, got '${source}'`);
  }
  if (source === 'per-build') return undefined;
  return {
    ...clients,
    workGroup: requireEnv('ATHENA_WORKGROUP'),
    database: requireEnv('GLUE_DATABASE'),
    table: requireEnv('COMPACTED_TABLE'),
    plan: DEFAULT_SAMPLE_PLAN,
    timing: { timeoutMillis: numberEnv('ATHENA_TIMEOUT_SECONDS', 300) * 1000 },
  };
}
