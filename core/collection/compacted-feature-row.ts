/**
 * A build's feature row as the compacted data lake stores it: one JSON object per build with the columns
 * of the Glue table `features_compacted` (snake case, since Athena lower-cases names) plus the `date`
 * partition key. The collector sends it to the Firehose delivery stream, which partitions it by `date`
 * and converts it to Parquet; the local DuckDB compaction writes the same columns from the per-build CSVs.
 */
import { BuildRecord, FEATURE_NAMES, toFeatureVector } from './build-record';

/** The compacted column of a feature: `durationSeconds` → `duration_seconds`. */
export function featureColumn(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** The feature columns of the compacted table, in FEATURE_NAMES order. */
export const FEATURE_COLUMNS: readonly string[] = FEATURE_NAMES.map(featureColumn);

/** One row of `features_compacted`, as JSON: identity, ingestion time, partition key, then the features. */
export interface CompactedFeatureRow {
  readonly project: string;
  readonly build_id: string;
  /** ISO-8601 UTC with milliseconds (`2026-11-20T09:19:00.000Z`): the latest ingestion of a build wins. */
  readonly ingested_at: string;
  /** `YYYY-MM-DD` of the build's end, the day partition (a late build lands in its own day). */
  readonly date: string;
  readonly [featureColumn: string]: string | number;
}

/**
 * The row of a build record ingested at `ingestedAt`. The feature values are those of the per-build CSV
 * (missing inputs imputed as 0), so both layouts train on the same numbers.
 */
export function compactedFeatureRow(record: BuildRecord, ingestedAt: Date): CompactedFeatureRow {
  const { values } = toFeatureVector(record);
  const row: Record<string, string | number> = {
    project: record.projectName,
    build_id: record.buildId,
    ingested_at: ingestedAt.toISOString(),
    date: record.endTime.slice(0, 10),
  };
  FEATURE_COLUMNS.forEach((column, index) => {
    row[column] = values[index]!;
  });
  return row as CompactedFeatureRow;
}
