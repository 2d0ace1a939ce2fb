import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';

import { CompactedFeatures, CompactedFeaturesProps } from '../../lib/compaction';
import { DataLake } from '../../lib/data-lake';
import { FEATURE_COLUMNS } from '../../sagemaker/training/parquet-window';
import { stackArn } from '../helpers/arn';

function synth(expireAfter?: number): Template {
  const stack = new Stack(new App(), 'Pipemend');
  const dataLake = new DataLake(stack, 'DataLake');
  new CompactedFeatures(stack, 'Compacted', { dataLake, perBuildFeaturesExpireAfterDays: expireAfter });
  return Template.fromStack(stack);
}

/** The compacted data with a collector and a trainer Lambda connected to it. */
function synthConnected(props: Partial<CompactedFeaturesProps> = {}): Template {
  const stack = new Stack(new App(), 'Pipemend');
  const dataLake = new DataLake(stack, 'DataLake');
  const compacted = new CompactedFeatures(stack, 'Compacted', { dataLake, ...props });
  const fn = (id: string) =>
    new lambda.Function(stack, id, {
      code: lambda.Code.fromInline('exports.handler = async () => {};'),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_22_X,
    });
  compacted.connectCollector(fn('Collector'));
  compacted.grantWindowQuery(fn('Trainer'), { athenaTimeout: Duration.minutes(5) });
  return Template.fromStack(stack);
}

const bucketArn = { 'Fn::GetAtt': [Match.stringLikeRegexp('^DataLakeBucket'), 'Arn'] };
const keyArn = { 'Fn::GetAtt': [Match.stringLikeRegexp('^DataLakeKey'), 'Arn'] };
const objects = (prefix: string) => ({ 'Fn::Join': ['', [bucketArn, `/${prefix}*`]] });
const glueArns = [
  stackArn('glue', 'catalog'),
  stackArn('glue', 'database/pipemend'),
  stackArn('glue', 'table/pipemend/features_compacted'),
];

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

describe('the Firehose delivery stream', () => {
  const template = synthConnected();

  test('takes Direct PUT records, partitions them by their date and converts them to Parquet with the table schema', () => {
    template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamName: 'Pipemend-compacted-features',
      DeliveryStreamType: 'DirectPut',
      DeliveryStreamEncryptionConfigurationInput: { KeyType: 'AWS_OWNED_CMK' },
      ExtendedS3DestinationConfiguration: Match.objectLike({
        BucketARN: bucketArn,
        Prefix: 'compacted/features/date=!{partitionKeyFromQuery:date}/',
        ErrorOutputPrefix: 'compacted/errors/!{firehose:error-output-type}/date=!{timestamp:yyyy-MM-dd}/',
        FileExtension: '.parquet',
        DynamicPartitioningConfiguration: { Enabled: true, RetryOptions: { DurationInSeconds: 300 } },
        ProcessingConfiguration: {
          Enabled: true,
          Processors: [
            {
              Type: 'MetadataExtraction',
              Parameters: [
                { ParameterName: 'MetadataExtractionQuery', ParameterValue: '{date: .date}' },
                { ParameterName: 'JsonParsingEngine', ParameterValue: 'JQ-1.6' },
              ],
            },
          ],
        },
        DataFormatConversionConfiguration: {
          Enabled: true,
          InputFormatConfiguration: { Deserializer: { OpenXJsonSerDe: {} } },
          OutputFormatConfiguration: { Serializer: { ParquetSerDe: { Compression: 'SNAPPY' } } },
          SchemaConfiguration: {
            CatalogId: { Ref: 'AWS::AccountId' },
            Region: { Ref: 'AWS::Region' },
            DatabaseName: 'pipemend',
            TableName: 'features_compacted',
            RoleARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CompactedDeliveryRole'), 'Arn'] },
            VersionId: 'LATEST',
          },
        },
      }),
    });
  });

  test('buffers 128 MiB or 15 minutes, encrypts with the data lake key and logs delivery errors', () => {
    template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      ExtendedS3DestinationConfiguration: Match.objectLike({
        BufferingHints: { SizeInMBs: 128, IntervalInSeconds: 900 },
        EncryptionConfiguration: { KMSEncryptionConfig: { AWSKMSKeyARN: keyArn } },
        CloudWatchLoggingOptions: {
          Enabled: true,
          LogGroupName: { Ref: Match.stringLikeRegexp('^CompactedDeliveryLogs') },
          LogStreamName: { Ref: Match.stringLikeRegexp('^CompactedDeliveryLogStream') },
        },
      }),
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/kinesisfirehose/Pipemend-compacted-features',
      RetentionInDays: 90,
    });
  });

  test('delivers with a role only Firehose of this account assumes', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Condition: { StringEquals: { 'sts:ExternalId': { Ref: 'AWS::AccountId' } } },
            Effect: 'Allow',
            Principal: { Service: 'firehose.amazonaws.com' },
          },
        ],
        Version: '2012-10-17',
      },
    });
  });

  test('the delivery role writes the table and error prefixes, reads the schema and uses the key through S3 only', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^CompactedDeliveryRole') }],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Action: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
            Effect: 'Allow',
            Resource: [objects('compacted/features/'), objects('compacted/errors/')],
          },
          {
            Action: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
            Effect: 'Allow',
            Resource: bucketArn,
          },
          {
            Action: ['glue:GetTable', 'glue:GetTableVersion', 'glue:GetTableVersions'],
            Effect: 'Allow',
            Resource: glueArns,
          },
          {
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
            Condition: {
              StringEquals: {
                'kms:ViaService': { 'Fn::Join': ['', ['s3.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
              },
            },
            Effect: 'Allow',
            Resource: keyArn,
          },
          {
            Action: 'logs:PutLogEvents',
            Effect: 'Allow',
            Resource: {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':logs:',
                  { Ref: 'AWS::Region' },
                  ':',
                  { Ref: 'AWS::AccountId' },
                  ':log-group:',
                  { Ref: Match.stringLikeRegexp('^CompactedDeliveryLogs') },
                  ':log-stream:',
                  { Ref: Match.stringLikeRegexp('^CompactedDeliveryLogStream') },
                ],
              ],
            },
          },
        ],
      },
    });
  });

  test('is created after its role policy and its table', () => {
    const [stream] = Object.values(template.findResources('AWS::KinesisFirehose::DeliveryStream'));
    expect(stream?.DependsOn).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^CompactedDeliveryRoleDefaultPolicy/),
        expect.stringMatching(/^CompactedTable/),
      ]),
    );
  });

  test('the collector may put records to the stream and is told its name', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^CollectorServiceRole') }],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Action: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CompactedDeliveryStream'), 'Arn'] },
          },
        ],
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { FEATURE_STREAM_NAME: 'Pipemend-compacted-features' } },
    });
  });

  test.each([
    [
      'a 32 MiB buffer',
      { bufferingSizeMiB: 32 },
      'bufferingSizeMiB must be an integer from 64 to 128 (Parquet conversion), got 32',
    ],
    [
      'a 30 s buffering interval',
      { bufferingInterval: Duration.seconds(30) },
      'bufferingInterval must be 60 to 900 seconds (dynamic partitioning), got 30',
    ],
  ])('refuses %s, which Firehose does not allow', (_label, props, message) => {
    expect(() => synthConnected(props)).toThrow(message);
  });
});

describe('the Athena workgroup and the trainers reading through it', () => {
  const template = synthConnected();

  test('enforces its settings: results under athena-results/ with SSE-KMS, a bytes-scanned cutoff, engine 3', () => {
    template.hasResourceProperties('AWS::Athena::WorkGroup', {
      Name: 'Pipemend-compacted',
      State: 'ENABLED',
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        PublishCloudWatchMetricsEnabled: true,
        BytesScannedCutoffPerQuery: 50 * 1024 ** 3,
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
        ResultConfiguration: {
          OutputLocation: {
            'Fn::Join': [
              '',
              ['s3://', { Ref: Match.stringLikeRegexp('^DataLakeBucket') }, '/athena-results/'],
            ],
          },
          EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: keyArn },
          ExpectedBucketOwner: { Ref: 'AWS::AccountId' },
        },
      },
    });
  });

  test('query results and UNLOADed samples expire after a week', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Id: 'expire-athena-results', Prefix: 'athena-results/', ExpirationInDays: 7 }),
        ]),
      },
    });
  });

  test('a trainer is told the table, the workgroup and its time budget', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          TRAINING_SOURCE: 'compacted',
          ATHENA_WORKGROUP: 'Pipemend-compacted',
          GLUE_DATABASE: 'pipemend',
          COMPACTED_TABLE: 'features_compacted',
          ATHENA_TIMEOUT_SECONDS: '300',
        },
      },
    });
  });

  test('a trainer may query the workgroup, read the table through Glue and S3, and read and write athena-results/ only', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^TrainerServiceRole') }],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Action: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:StopQueryExecution'],
            Effect: 'Allow',
            Resource: stackArn('athena', 'workgroup/Pipemend-compacted'),
          },
          {
            Action: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions'],
            Effect: 'Allow',
            Resource: glueArns,
          },
          {
            Action: 's3:GetObject',
            Effect: 'Allow',
            Resource: [objects('compacted/features/'), objects('athena-results/')],
          },
          {
            Action: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
            Effect: 'Allow',
            Resource: objects('athena-results/'),
          },
          {
            Action: 's3:ListBucket',
            Condition: { StringLike: { 's3:prefix': ['compacted/features/*', 'athena-results/*'] } },
            Effect: 'Allow',
            Resource: bucketArn,
          },
          {
            Action: ['s3:GetBucketLocation', 's3:ListBucketMultipartUploads'],
            Effect: 'Allow',
            Resource: bucketArn,
          },
          { Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Effect: 'Allow', Resource: keyArn },
        ],
      },
    });
  });
});
