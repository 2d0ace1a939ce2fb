import { Match, Template } from 'aws-cdk-lib/assertions';

import { PER_BUILD_FEATURES_DAYS_WHEN_COMPACTED } from '../../lib/pipemend-stack';
import { stackArn } from '../helpers/arn';
import { synthPipemend } from '../helpers/synth';

const bucketArn = { 'Fn::GetAtt': [Match.stringLikeRegexp('^DataLakeBucket'), 'Arn'] };
const keyArn = { 'Fn::GetAtt': [Match.stringLikeRegexp('^DataLakeKey'), 'Arn'] };
const objects = (prefix: string) => ({ 'Fn::Join': ['', [bucketArn, `/${prefix}*`]] });

function functionVariables(template: Template, idPrefix: string): Record<string, unknown> {
  const [fn] = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) =>
    id.startsWith(idPrefix),
  );
  if (!fn) throw new Error(`no function ${idPrefix}`);
  return (fn[1] as { Properties: { Environment: { Variables: Record<string, unknown> } } }).Properties
    .Environment.Variables;
}

function lifecycleRuleIds(template: Template): string[] {
  return Object.values(template.findResources('AWS::S3::Bucket')).flatMap((bucket) =>
    (
      (bucket as { Properties: { LifecycleConfiguration?: { Rules: { Id?: string }[] } } }).Properties
        .LifecycleConfiguration?.Rules ?? []
    ).map((rule) => rule.Id ?? ''),
  );
}

describe('trainingSource per-build (the default)', () => {
  const { template } = synthPipemend();

  test('the collector still sends every feature row to the compacted data lake stream', () => {
    expect(functionVariables(template, 'CollectionCollector')).toMatchObject({
      FEATURE_STREAM_NAME: 'Pipemend-compacted-features',
    });
  });

  test('the embedded trainer reads the per-build CSVs', () => {
    expect(functionVariables(template, 'EmbeddedTrainingTrainer')).not.toHaveProperty('TRAINING_SOURCE');
  });

  test('the drift check reads the per-build CSVs and the models, nothing through Athena', () => {
    expect(functionVariables(template, 'EmbeddedTrainingRetrainingDriftCheck')).not.toHaveProperty(
      'TRAINING_SOURCE',
    );
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^EmbeddedTrainingRetrainingDriftCheckServiceRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Action: 's3:GetObject', Effect: 'Allow', Resource: [objects('features/'), objects('models/')] },
          {
            Action: 's3:ListBucket',
            Condition: { StringLike: { 's3:prefix': ['features/*', 'models/*'] } },
            Effect: 'Allow',
            Resource: bucketArn,
          },
        ]),
      },
    });
  });

  test('the per-build feature CSVs do not expire', () => {
    expect(lifecycleRuleIds(template)).not.toContain('expire-compacted-per-build-features');
  });
});

describe('trainingSource compacted', () => {
  test('the embedded trainer reads through the Athena workgroup with 8 of its 15 minutes for the query', () => {
    const { template } = synthPipemend({ config: { trainingSource: 'compacted' } });
    expect(functionVariables(template, 'EmbeddedTrainingTrainer')).toMatchObject({
      TRAINING_SOURCE: 'compacted',
      ATHENA_WORKGROUP: 'Pipemend-compacted',
      ATHENA_TIMEOUT_SECONDS: '480',
    });
  });

  test('the SageMaker window step reads through the workgroup with 5 of its 10 minutes for the query', () => {
    const { template } = synthPipemend({ config: { trainingSource: 'compacted', scorer: 'endpoint' } });
    expect(functionVariables(template, 'TrainingPipelineWindowStep')).toMatchObject({
      TRAINING_SOURCE: 'compacted',
      ATHENA_WORKGROUP: 'Pipemend-compacted',
      ATHENA_TIMEOUT_SECONDS: '300',
    });
  });

  test('the per-build feature CSVs expire after the 30 days the scorer reads of them', () => {
    const { template } = synthPipemend({ config: { trainingSource: 'compacted' } });
    expect(PER_BUILD_FEATURES_DAYS_WHEN_COMPACTED).toBeGreaterThan(30);
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Id: 'expire-compacted-per-build-features',
            Prefix: 'features/',
            ExpirationInDays: PER_BUILD_FEATURES_DAYS_WHEN_COMPACTED,
          }),
        ]),
      },
    });
  });

  test('the drift check reads its 7 days through the workgroup with 3 of its 5 minutes for the query', () => {
    const { template } = synthPipemend({ config: { trainingSource: 'compacted' } });
    expect(functionVariables(template, 'EmbeddedTrainingRetrainingDriftCheck')).toMatchObject({
      TRAINING_SOURCE: 'compacted',
      ATHENA_WORKGROUP: 'Pipemend-compacted',
      GLUE_DATABASE: 'pipemend',
      COMPACTED_TABLE: 'features_compacted',
      ATHENA_TIMEOUT_SECONDS: '180',
    });
  });

  test('the drift check may read the models, query the compacted table and write athena-results/, and nothing under features/', () => {
    const { template } = synthPipemend({ config: { trainingSource: 'compacted' } });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^EmbeddedTrainingRetrainingDriftCheckServiceRole') }],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Action: 'sqs:SendMessage',
            Effect: 'Allow',
            Resource: {
              'Fn::GetAtt': [Match.stringLikeRegexp('^EmbeddedTrainingRetrainingDriftCheckAsyncDlq'), 'Arn'],
            },
          },
          { Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Effect: 'Allow', Resource: '*' },
          {
            Action: 's3:GetObject',
            Effect: 'Allow',
            Resource: [objects('athena-results/'), objects('compacted/features/'), objects('models/')],
          },
          {
            Action: 's3:ListBucket',
            Condition: { StringLike: { 's3:prefix': ['models/*'] } },
            Effect: 'Allow',
            Resource: bucketArn,
          },
          { Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Effect: 'Allow', Resource: keyArn },
          {
            Action: ['athena:GetQueryExecution', 'athena:StartQueryExecution', 'athena:StopQueryExecution'],
            Effect: 'Allow',
            Resource: stackArn('athena', 'workgroup/Pipemend-compacted'),
          },
          {
            Action: ['glue:GetDatabase', 'glue:GetPartitions', 'glue:GetTable'],
            Effect: 'Allow',
            Resource: [
              stackArn('glue', 'catalog'),
              stackArn('glue', 'database/pipemend'),
              stackArn('glue', 'table/pipemend/features_compacted'),
            ],
          },
          {
            Action: ['s3:AbortMultipartUpload', 's3:ListMultipartUploadParts', 's3:PutObject'],
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
          {
            Action: 'lambda:InvokeFunction',
            Effect: 'Allow',
            Resource: [
              { 'Fn::GetAtt': [Match.stringLikeRegexp('^EmbeddedTrainingTrainer'), 'Arn'] },
              {
                'Fn::Join': [
                  '',
                  [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^EmbeddedTrainingTrainer'), 'Arn'] }, ':*'],
                ],
              },
            ],
          },
        ],
      },
    });
  });

  test('with the SageMaker pipeline the drift check also reads through the workgroup', () => {
    const { template } = synthPipemend({ config: { trainingSource: 'compacted', scorer: 'endpoint' } });
    expect(functionVariables(template, 'TrainingPipelineRetrainingDriftCheck')).toMatchObject({
      TRAINING_SOURCE: 'compacted',
      ATHENA_TIMEOUT_SECONDS: '180',
    });
  });
});
