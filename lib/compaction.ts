import { Duration, Stack } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import { Construct } from 'constructs';

import { DataLake } from './data-lake';
import { COMPACTED_FEATURES_PREFIX, FEATURE_COLUMNS } from '../sagemaker/training/parquet-window';

export interface CompactedFeaturesProps {
  readonly dataLake: DataLake;
  /**
   * Days after which the per-build feature CSVs under `features/` expire, once compaction has put them
   * into the day's Parquet file. Leave unset while anything still reads the per-build CSVs for a
   * 90-day window (today: the trainers' S3 adapter and the drift check), or their window shrinks to it.
   * @default - never (the data lake's own rule applies)
   */
  readonly perBuildFeaturesExpireAfterDays?: number;
}

/**
 * The compacted feature data: one Parquet file per day under `compacted/features/date=<d>/` (layout and
 * columns in `sagemaker/training/parquet-window.ts`), its Glue table for Athena (`features_compacted`,
 * date partitions by projection, so no crawler and no partition maintenance), and optionally the expiry
 * of the per-build CSVs that compaction has made redundant. The per-build build records (`builds/`) are
 * untouched: the online path reads one build by id.
 */
export class CompactedFeatures extends Construct {
  public readonly table: glue.CfnTable;
  public readonly tableName = 'features_compacted';

  constructor(scope: Construct, id: string, props: CompactedFeaturesProps) {
    super(scope, id);
    const { dataLake } = props;
    const location = `s3://${dataLake.bucket.bucketName}/${COMPACTED_FEATURES_PREFIX}`;
    this.table = new glue.CfnTable(this, 'Table', {
      catalogId: Stack.of(this).account,
      databaseName: dataLake.glueDatabaseName,
      tableInput: {
        name: this.tableName,
        description:
          'Feature rows compacted to one Parquet file per day (project, build id, latest ingestion wins)',
        tableType: 'EXTERNAL_TABLE',
        partitionKeys: [{ name: 'date', type: 'string' }],
        parameters: {
          classification: 'parquet',
          'projection.enabled': 'true',
          'projection.date.type': 'date',
          'projection.date.format': 'yyyy-MM-dd',
          'projection.date.range': '2020-01-01,NOW',
          'projection.date.interval': '1',
          'projection.date.interval.unit': 'DAYS',
          'storage.location.template': `${location}date=\${date}/`,
        },
        storageDescriptor: {
          location,
          columns: [
            { name: 'project', type: 'string' },
            { name: 'build_id', type: 'string' },
            { name: 'ingested_at', type: 'timestamp' },
            ...FEATURE_COLUMNS.map((name) => ({ name, type: 'double' })),
          ],
          inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
          serdeInfo: {
            serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
          },
        },
      },
    });
    this.table.node.addDependency(dataLake.glueDatabase);

    const expireAfter = props.perBuildFeaturesExpireAfterDays;
    if (expireAfter !== undefined) {
      if (!Number.isInteger(expireAfter) || expireAfter < 2) {
        throw new Error(
          `perBuildFeaturesExpireAfterDays must be an integer of at least 2, got ${expireAfter}`,
        );
      }
      dataLake.bucket.addLifecycleRule({
        id: 'expire-compacted-per-build-features',
        prefix: 'features/',
        expiration: Duration.days(expireAfter),
        noncurrentVersionExpiration: Duration.days(1),
      });
    }
  }
}
