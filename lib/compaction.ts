import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

import { DataLake } from './data-lake';
import { ATHENA_RESULTS_PREFIX } from '../sagemaker/training/athena-window-sample';
import { COMPACTED_FEATURES_PREFIX, FEATURE_COLUMNS } from '../sagemaker/training/parquet-window';

/** Where Firehose writes the records it could not partition or convert, outside the table's location. */
export const COMPACTED_ERRORS_PREFIX = 'compacted/errors/';

export interface CompactedFeaturesProps {
  readonly dataLake: DataLake;
  /**
   * Days after which the per-build feature CSVs under `features/` expire, once compaction has put them
   * into the day's Parquet file. Leave unset while anything still reads the per-build CSVs for a
   * window longer than this (the trainers and the drift check with `per-build`; the scorer's 30-day
   * cold-start baseline), or their window shrinks to it.
   * @default - never (the data lake's own rule applies)
   */
  readonly perBuildFeaturesExpireAfterDays?: number;
  /**
   * Firehose buffering before it writes a day's Parquet object: the larger, the fewer and bigger objects.
   * Parquet conversion requires at least 64 MiB; at most 128 MiB.
   * @default 128
   */
  readonly bufferingSizeMiB?: number;
  /**
   * Firehose buffering time (60 s to 900 s with dynamic partitioning).
   * @default Duration.seconds(900)
   */
  readonly bufferingInterval?: Duration;
  /**
   * Bytes a query of the compacted data's Athena workgroup may scan before Athena cancels it: bounds the
   * cost of a runaway query ($5 per TB). The 90-day sample at 1M builds a day reads ≈ 3–6 GB.
   * @default 50 GiB
   */
  readonly bytesScannedCutoffPerQuery?: number;
  /**
   * Days after which the workgroup's results and the UNLOADed samples under `athena-results/` expire:
   * every training writes a new prefix and reads it once.
   * @default 7
   */
  readonly athenaResultsExpireAfterDays?: number;
}

/** Settings of a trainer Lambda that reads its window from the compacted table. */
export interface CompactedWindowQueryOptions {
  /** How long the Lambda waits for Athena's UNLOAD, shorter than its timeout. */
  readonly athenaTimeout: Duration;
}

/**
 * The compacted feature data: Parquet partitioned by day under `compacted/features/date=<d>/` (layout
 * and columns in `sagemaker/training/parquet-window.ts`), its Glue table for Athena
 * (`features_compacted`, date partitions by projection, so no crawler and no partition maintenance), the
 * Firehose delivery stream that writes it (Direct PUT from the collector, partitioned by the record's
 * `date` with inline JQ parsing, converted from JSON to Parquet with the table's schema, SSE-KMS with the
 * data lake's key), the Athena workgroup the trainers query it with (enforced settings, results under
 * `athena-results/` encrypted with the data lake's key, a bytes-scanned cutoff), and optionally the
 * expiry of the per-build CSVs that compaction has made redundant. The per-build build records
 * (`builds/`) are untouched: the online path reads one build by id.
 */
export class CompactedFeatures extends Construct {
  public readonly table: glue.CfnTable;
  public readonly tableName = 'features_compacted';
  public readonly deliveryStream: firehose.CfnDeliveryStream;
  public readonly deliveryStreamName: string;
  /** The role Firehose delivers with: the table's prefix, its schema and the key, nothing else. */
  public readonly deliveryRole: iam.Role;
  public readonly deliveryLogGroup: logs.LogGroup;
  public readonly workGroup: athena.CfnWorkGroup;
  public readonly workGroupName: string;
  private readonly dataLake: DataLake;

  constructor(scope: Construct, id: string, props: CompactedFeaturesProps) {
    super(scope, id);
    const { dataLake } = props;
    this.dataLake = dataLake;
    const stack = Stack.of(this);
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

    this.deliveryStreamName = `${stack.stackName}-compacted-features`;
    this.deliveryLogGroup = new logs.LogGroup(this, 'DeliveryLogs', {
      logGroupName: `/aws/kinesisfirehose/${this.deliveryStreamName}`,
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const logStream = new logs.LogStream(this, 'DeliveryLogStream', {
      logGroup: this.deliveryLogGroup,
      logStreamName: 'DestinationDelivery',
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.deliveryRole = this.createDeliveryRole(logStream);
    this.deliveryStream = this.createDeliveryStream(props, logStream);

    this.workGroupName = `${stack.stackName}-compacted`;
    this.workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: this.workGroupName,
      description: 'Pipemend: the training window sample over the compacted feature table',
      state: 'ENABLED',
      // Deleting the stack deletes the workgroup with its query history (the results stay in the bucket).
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery ?? 50 * 1024 ** 3,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${dataLake.bucket.bucketName}/${ATHENA_RESULTS_PREFIX}`,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: dataLake.key.keyArn },
          expectedBucketOwner: stack.account,
        },
      },
    });
    const resultsExpireAfter = props.athenaResultsExpireAfterDays ?? 7;
    if (!Number.isInteger(resultsExpireAfter) || resultsExpireAfter < 1) {
      throw new Error(`athenaResultsExpireAfterDays must be a positive integer, got ${resultsExpireAfter}`);
    }
    dataLake.bucket.addLifecycleRule({
      id: 'expire-athena-results',
      prefix: ATHENA_RESULTS_PREFIX,
      expiration: Duration.days(resultsExpireAfter),
      noncurrentVersionExpiration: Duration.days(1),
      abortIncompleteMultipartUploadAfter: Duration.days(1),
    });

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
  /**
   * Makes the collector send each build's feature row to the delivery stream (FEATURE_STREAM_NAME) and
   * lets it put records there, and do nothing else with the stream.
   */
  connectCollector(collector: lambda.Function): void {
    collector.addEnvironment('FEATURE_STREAM_NAME', this.deliveryStreamName);
    collector.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
        resources: [this.deliveryStream.attrArn],
      }),
    );
  }

  /**
   * Lets a trainer Lambda assemble its window from the compacted table: tells it where the table and the
   * workgroup are (TRAINING_SOURCE=compacted) and grants exactly what Athena needs on its behalf: the
   * workgroup's query actions, the Glue catalog, database and table, reading `compacted/features/`,
   * reading and writing `athena-results/` (query results and the UNLOADed sample), and the data lake's
   * key. Returns the data-lake prefixes granted with a wildcard, for the cdk-nag acknowledgements.
   */
  grantWindowQuery(fn: lambda.Function, options: CompactedWindowQueryOptions): string[] {
    const { bucket, key } = this.dataLake;
    fn.addEnvironment('TRAINING_SOURCE', 'compacted');
    fn.addEnvironment('ATHENA_WORKGROUP', this.workGroupName);
    fn.addEnvironment('GLUE_DATABASE', this.dataLake.glueDatabaseName);
    fn.addEnvironment('COMPACTED_TABLE', this.tableName);
    fn.addEnvironment('ATHENA_TIMEOUT_SECONDS', String(options.athenaTimeout.toSeconds()));
    const read = [COMPACTED_FEATURES_PREFIX, ATHENA_RESULTS_PREFIX];
    const statements = [
      new iam.PolicyStatement({
        // StopQueryExecution: a query still running when the Lambda's budget ends is stopped, not left scanning.
        actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:StopQueryExecution'],
        resources: [this.workGroupArn()],
      }),
      new iam.PolicyStatement({
        actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions'],
        resources: this.glueArns(),
      }),
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: read.map((prefix) => bucket.arnForObjects(`${prefix}*`)),
      }),
      new iam.PolicyStatement({
        actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        resources: [bucket.arnForObjects(`${ATHENA_RESULTS_PREFIX}*`)],
      }),
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': read.map((prefix) => `${prefix}*`) } },
      }),
      new iam.PolicyStatement({
        actions: ['s3:GetBucketLocation', 's3:ListBucketMultipartUploads'],
        resources: [bucket.bucketArn],
      }),
      new iam.PolicyStatement({ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [key.keyArn] }),
    ];
    for (const statement of statements) fn.addToRolePolicy(statement);
    return read;
  }

  private workGroupArn(): string {
    return Stack.of(this).formatArn({
      service: 'athena',
      resource: 'workgroup',
      resourceName: this.workGroupName,
    });
  }

  /** The Glue catalog, the data lake's database and the compacted table: access to a table needs all three. */
  private glueArns(): string[] {
    const stack = Stack.of(this);
    const database = this.dataLake.glueDatabaseName;
    return [
      stack.formatArn({ service: 'glue', resource: 'catalog' }),
      stack.formatArn({ service: 'glue', resource: 'database', resourceName: database }),
      stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${database}/${this.tableName}` }),
    ];
  }

  /** The role Firehose assumes (this account only): write the table's and the errors' prefixes, read the schema. */
  private createDeliveryRole(logStream: logs.LogStream): iam.Role {
    const stack = Stack.of(this);
    const { bucket, key } = this.dataLake;
    const role = new iam.Role(this, 'DeliveryRole', {
      description: 'Pipemend: Firehose delivery of feature rows to the compacted data lake',
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', {
        conditions: { StringEquals: { 'sts:ExternalId': stack.account } },
      }),
    });
    const objects = [COMPACTED_FEATURES_PREFIX, COMPACTED_ERRORS_PREFIX].map((prefix) =>
      bucket.arnForObjects(`${prefix}*`),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
        resources: objects,
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
        resources: [bucket.bucketArn],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['glue:GetTable', 'glue:GetTableVersion', 'glue:GetTableVersions'],
        resources: this.glueArns(),
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:PutLogEvents'],
        resources: [
          stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: `${this.deliveryLogGroup.logGroupName}:log-stream:${logStream.logStreamName}`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    const policy = role.node.tryFindChild('DefaultPolicy');
    if (policy) {
      const bucketId = stack.resolve(stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket)) as string;
      Validations.of(policy).acknowledge(
        ...[COMPACTED_FEATURES_PREFIX, COMPACTED_ERRORS_PREFIX].map((prefix) => ({
          id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${prefix}*]`,
          reason: `Firehose names each object it delivers under ${prefix} (partition, stream name, time, random suffix).`,
        })),
      );
    }
    return role;
  }

  private createDeliveryStream(
    props: CompactedFeaturesProps,
    logStream: logs.LogStream,
  ): firehose.CfnDeliveryStream {
    const stack = Stack.of(this);
    const sizeMiB = props.bufferingSizeMiB ?? 128;
    const interval = (props.bufferingInterval ?? Duration.seconds(900)).toSeconds();
    if (!Number.isInteger(sizeMiB) || sizeMiB < 64 || sizeMiB > 128) {
      throw new Error(
        `bufferingSizeMiB must be an integer from 64 to 128 (Parquet conversion), got ${sizeMiB}`,
      );
    }
    if (!Number.isInteger(interval) || interval < 60 || interval > 900) {
      throw new Error(`bufferingInterval must be 60 to 900 seconds (dynamic partitioning), got ${interval}`);
    }
    const stream = new firehose.CfnDeliveryStream(this, 'DeliveryStream', {
      deliveryStreamName: this.deliveryStreamName,
      deliveryStreamType: 'DirectPut',
      // Records at rest inside Firehose; the S3 objects are encrypted with the data lake's key below.
      deliveryStreamEncryptionConfigurationInput: { keyType: 'AWS_OWNED_CMK' },
      extendedS3DestinationConfiguration: {
        bucketArn: this.dataLake.bucket.bucketArn,
        roleArn: this.deliveryRole.roleArn,
        prefix: `${COMPACTED_FEATURES_PREFIX}date=!{partitionKeyFromQuery:date}/`,
        // Partition keys cannot be used here: a record that failed may have none.
        errorOutputPrefix: `${COMPACTED_ERRORS_PREFIX}!{firehose:error-output-type}/date=!{timestamp:yyyy-MM-dd}/`,
        fileExtension: '.parquet',
        bufferingHints: { sizeInMBs: sizeMiB, intervalInSeconds: interval },
        encryptionConfiguration: { kmsEncryptionConfig: { awskmsKeyArn: this.dataLake.key.keyArn } },
        cloudWatchLoggingOptions: {
          enabled: true,
          logGroupName: this.deliveryLogGroup.logGroupName,
          logStreamName: logStream.logStreamName,
        },
        dynamicPartitioningConfiguration: { enabled: true, retryOptions: { durationInSeconds: 300 } },
        processingConfiguration: {
          enabled: true,
          processors: [
            {
              type: 'MetadataExtraction',
              parameters: [
                { parameterName: 'MetadataExtractionQuery', parameterValue: '{date: .date}' },
                { parameterName: 'JsonParsingEngine', parameterValue: 'JQ-1.6' },
              ],
            },
          ],
        },
        dataFormatConversionConfiguration: {
          enabled: true,
          // OpenX parses `ingested_at` as written (yyyy-MM-ddTHH:mm:ss.SSSZ) into the TIMESTAMP column.
          inputFormatConfiguration: { deserializer: { openXJsonSerDe: {} } },
          outputFormatConfiguration: { serializer: { parquetSerDe: { compression: 'SNAPPY' } } },
          schemaConfiguration: {
            catalogId: stack.account,
            region: stack.region,
            databaseName: this.dataLake.glueDatabaseName,
            tableName: this.tableName,
            roleArn: this.deliveryRole.roleArn,
            versionId: 'LATEST',
          },
        },
      },
    });
    // Firehose checks its role's access when the stream is created: the policy and the table come first.
    stream.node.addDependency(this.deliveryRole, this.table);
    return stream;
  }
}
