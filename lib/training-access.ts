import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

import { DataLake } from './data-lake';
import { PipemendFunction } from './pipemend-function';

/** Data-lake prefixes training may touch; nothing else in the bucket is reachable. */
export type TrainingPrefix = 'features/' | 'training/' | 'models/' | 'labels/';

export interface DataLakePrefixAccess {
  readonly read?: readonly TrainingPrefix[];
  readonly write?: readonly TrainingPrefix[];
}

/**
 * Grants object access to exactly the given data-lake prefixes, listing only under them, and the data
 * lake key for those objects. Returns the prefixes granted, for the matching cdk-nag acknowledgements.
 */
export function grantDataLakePrefixes(
  grantee: iam.IGrantable,
  dataLake: DataLake,
  access: DataLakePrefixAccess,
): TrainingPrefix[] {
  const read = [...(access.read ?? [])];
  const write = [...(access.write ?? [])];
  const { bucket, key } = dataLake;
  const statements: iam.PolicyStatement[] = [];
  if (read.length > 0) {
    statements.push(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: read.map((p) => bucket.arnForObjects(`${p}*`)),
      }),
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': read.map((p) => `${p}*`) } },
      }),
      new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [key.keyArn] }),
    );
  }
  if (write.length > 0) {
    statements.push(
      new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        resources: write.map((p) => bucket.arnForObjects(`${p}*`)),
      }),
      new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [key.keyArn] }),
    );
  }
  for (const statement of statements) grantee.grantPrincipal.addToPrincipalPolicy(statement);
  return [...new Set([...read, ...write])];
}

/** The cdk-nag finding id of a wildcard object resource under a data-lake prefix. */
export function prefixFindingId(bucket: s3.IBucket, prefix: string): string {
  const stack = Stack.of(bucket);
  const logicalId = stack.resolve(stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket)) as string;
  return `AwsSolutions::AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/${prefix}*]`;
}

/** How the objects under a prefix are named, where it is not by project, date, build or model version. */
const PREFIX_KEYS: Readonly<Record<string, string>> = {
  'compacted/features/': "named by Firehose inside each day's partition (date=<d>/)",
  'athena-results/': 'named by Athena query id, or by the run id of an UNLOAD prefix',
};

/** Acknowledges, on the narrowest constructs, the findings every Pipemend training function shares. */
export function acknowledgeTrainingFunction(
  fn: PipemendFunction,
  bucket: s3.IBucket,
  prefixes: readonly string[],
  extra: readonly { id: string; reason: string }[] = [],
): void {
  const policy = fn.role?.node.tryFindChild('DefaultPolicy');
  if (policy) {
    Validations.of(policy).acknowledge(
      {
        id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
        reason:
          'X-Ray trace upload (and any action listed with it in this policy) has no resource-level permissions.',
      },
      ...prefixes.map((prefix) => ({
        id: prefixFindingId(bucket, prefix),
        reason: `Objects under ${prefix} are ${PREFIX_KEYS[prefix] ?? 'keyed by project, date, build or model version'}, known only at run time.`,
      })),
      ...extra,
    );
  }
}

/** Scope helper for constructs: a role SageMaker assumes, with nothing attached yet. */
export function sagemakerRole(scope: Construct, id: string, description: string): iam.Role {
  return new iam.Role(scope, id, {
    assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
    description,
  });
}

/**
 * Lets a SageMaker role write its CloudWatch Logs under the log groups matching `logGroupPattern`
 * (a `/aws/sagemaker/...` name, `*` allowed): SageMaker writes a job's or an endpoint's logs as that role.
 */
export function grantSagemakerLogWrites(role: iam.IRole, logGroupPattern: string): void {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: [
        'logs:CreateLogGroup',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'logs:DescribeLogStreams',
      ],
      resources: [
        Stack.of(role).formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: logGroupPattern,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
    }),
  );
}
