import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';

import { CompactedFeatures } from '../../lib/compaction';
import { DataLake } from '../../lib/data-lake';
import { FEATURE_COLUMNS } from '../../sagemaker/training/parquet-window';

function synth(expireAfter?: number): Template {
  const stack = new Stack(new App(), 'Pipemend');
  const dataLake = new DataLake(stack, 'DataLake');
  new CompactedFeatures(stack, 'Compacted', { dataLake, perBuildFeaturesExpireAfterDays: expireAfter });
  return Template.fromStack(stack);
}

describe('CompactedFeatures', () => {
  it('catalogues the daily Parquet partitions for Athena with date projection', () => {
    synth().hasResourceProperties('AWS::Glue::Table', {
      DatabaseInput: Match.absent(),
      TableInput: Match.objectLike({
        Name: 'features_compacted',
        PartitionKeys: [{ Name: 'date', Type: 'string' }],
        Parameters: Match.objectLike({
          classification: 'parquet',
          'projection.enabled': 'true',
          'storage.location.template': Match.objectLike({
            'Fn::Join': ['', ['s3://', Match.anyValue(), '/compacted/features/date=${date}/']],
          }),
        }),
        StorageDescriptor: Match.objectLike({
          Columns: [
            { Name: 'project', Type: 'string' },
            { Name: 'build_id', Type: 'string' },
            { Name: 'ingested_at', Type: 'timestamp' },
            ...FEATURE_COLUMNS.map((name) => ({ Name: name, Type: 'double' })),
          ],
          SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
        }),
      }),
    });
  });

  it('expires the per-build feature CSVs only when asked to', () => {
    const rules = (template: Template) =>
      Object.values(template.findResources('AWS::S3::Bucket')).flatMap(
        (bucket) =>
          ((bucket as { Properties: { LifecycleConfiguration?: { Rules: { Id?: string }[] } } }).Properties
            .LifecycleConfiguration?.Rules ?? []) as {
            Id?: string;
            Prefix?: string;
            ExpirationInDays?: number;
          }[],
      );
    expect(rules(synth()).some((rule) => rule.Id === 'expire-compacted-per-build-features')).toBe(false);
    expect(rules(synth(14))).toContainEqual(
      expect.objectContaining({
        Id: 'expire-compacted-per-build-features',
        Prefix: 'features/',
        ExpirationInDays: 14,
      }),
    );
    expect(() => synth(1)).toThrow(/at least 2/);
  });
});
