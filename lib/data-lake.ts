import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface DataLakeProps {
  /**
   * Days after which build records move to infrequent access.
   * @default 30
   */
  readonly infrequentAccessAfterDays?: number;
  /**
   * Days after which build records expire. Training needs about 90 days; remediation history is kept longer.
   * @default 730
   */
  readonly expireAfterDays?: number;
  /**
   * What happens to the bucket and key when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Pipemend's S3 data lake: KMS-encrypted, private, TLS-only, with lifecycle rules and server access
 * logs, plus a Glue database for querying build history with Athena.
 */
export class DataLake extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly key: kms.Key;
  public readonly accessLogsBucket: s3.Bucket;
  public readonly glueDatabase: glue.CfnDatabase;
  public readonly glueDatabaseName: string;

  constructor(scope: Construct, id: string, props: DataLakeProps = {}) {
    super(scope, id);
    const infrequentAfter = props.infrequentAccessAfterDays ?? 30;
    const expireAfter = props.expireAfterDays ?? 730;
    if (!Number.isInteger(infrequentAfter) || infrequentAfter < 30) {
      throw new Error(`infrequentAccessAfterDays must be an integer of at least 30, got ${infrequentAfter}`);
    }
    if (!Number.isInteger(expireAfter) || expireAfter <= infrequentAfter) {
      throw new Error(
        `expireAfterDays must be an integer greater than infrequentAccessAfterDays (${infrequentAfter}), got ${expireAfter}`,
      );
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.key = new kms.Key(this, 'Key', {
      description: 'Pipemend data lake encryption key',
      enableKeyRotation: true,
      removalPolicy,
    });
    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(365) }],
      removalPolicy,
    });
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'data-lake/',
      lifecycleRules: [
        {
          id: 'tier-and-expire',
          transitions: [
            {
              storageClass: s3.StorageClass.INFREQUENT_ACCESS,
              transitionAfter: Duration.days(infrequentAfter),
            },
          ],
          expiration: Duration.days(expireAfter),
          noncurrentVersionExpiration: Duration.days(7),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy,
    });

    // Athena's rules for database names: lower case, digits and underscores. 'Pipemend' → 'pipemend'.
    this.glueDatabaseName = Stack.of(this)
      .stackName.toLowerCase()
      .replace(/[^a-z0-9_]+/g, '_');
    this.glueDatabase = new glue.CfnDatabase(this, 'Database', {
      catalogId: Stack.of(this).account,
      databaseInput: {
        name: this.glueDatabaseName,
        description: 'Pipemend build history (one table per data-lake prefix)',
      },
    });
  }
}
