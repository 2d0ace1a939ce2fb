import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';

import { BuildCollection } from '../../lib/build-collection';
import { DataLake } from '../../lib/data-lake';
import { stackArn } from '../helpers/arn';
import { synthPipemend } from '../helpers/synth';

const bucketObjects = (prefix: string) => ({
  'Fn::Join': ['', [{ 'Fn::GetAtt': ['DataLakeBucketEF1CCA5A', 'Arn'] }, `/${prefix}*`]],
});

function collectorStatements(codeBuildProjects: object) {
  return [
    {
      Action: 'sqs:SendMessage',
      Effect: 'Allow',
      Resource: { 'Fn::GetAtt': ['CollectionCollectorAsyncDlq741452FE', 'Arn'] },
    },
    {
      Action: ['cloudwatch:GetMetricData', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
      Effect: 'Allow',
      Resource: '*',
    },
    { Action: 'codebuild:BatchGetBuilds', Effect: 'Allow', Resource: codeBuildProjects },
    {
      Action: 'codebuild:BatchGetReports',
      Effect: 'Allow',
      Resource: stackArn('codebuild', 'report-group/*'),
    },
    {
      Action: 's3:PutObject',
      Effect: 'Allow',
      Resource: ['builds/', 'features/', 'pipelines/', 'pipeline-links/']
        .map(bucketObjects)
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    },
    { Action: 's3:GetObject', Effect: 'Allow', Resource: bucketObjects('pipeline-links/') },
    {
      Action: 's3:ListBucket',
      Effect: 'Allow',
      Resource: { 'Fn::GetAtt': ['DataLakeBucketEF1CCA5A', 'Arn'] },
    },
    {
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Effect: 'Allow',
      Resource: { 'Fn::GetAtt': ['DataLakeKey6ACD72F9', 'Arn'] },
    },
    {
      Action: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
      Effect: 'Allow',
      Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CompactedFeaturesDeliveryStream'), 'Arn'] },
    },
  ];
}

describe('BuildCollection in the stack, every project and pipeline', () => {
  const { template } = synthPipemend();

  test('the collector may read builds of every project, reports, metrics, and write only its data-lake prefixes', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: collectorStatements(stackArn('codebuild', 'project/*')),
      },
      Roles: [{ Ref: 'CollectionCollectorServiceRoleCC7838A3' }],
    });
  });

  test('the build rule matches terminal CodeBuild states of every project', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.codebuild'],
        'detail-type': ['CodeBuild Build State Change'],
        detail: { 'build-status': ['SUCCEEDED', 'FAILED', 'FAULT', 'STOPPED', 'TIMED_OUT'] },
      },
    });
  });

  test.each(['CodePipeline Action Execution State Change', 'CodePipeline Stage Execution State Change'])(
    'a rule matches %s of every pipeline',
    (detailType) => {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: { source: ['aws.codepipeline'], 'detail-type': [detailType] },
      });
    },
  );

  test('every rule targets the collector with a dead-letter queue and a bounded retry policy', () => {
    const rules = template.findResources('AWS::Events::Rule', {
      Properties: { Targets: [{ Arn: { 'Fn::GetAtt': ['CollectionCollector5BBBE8B3', 'Arn'] } }] },
    });
    expect(Object.keys(rules)).toHaveLength(3);
    for (const rule of Object.values(rules)) {
      expect(rule.Properties.Targets).toEqual([
        {
          Arn: { 'Fn::GetAtt': ['CollectionCollector5BBBE8B3', 'Arn'] },
          Id: 'Target0',
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['CollectionEventDlq4EBE02AF', 'Arn'] } },
          RetryPolicy: { MaximumEventAgeInSeconds: 7200, MaximumRetryAttempts: 8 },
        },
      ]);
    }
  });

  test('the event dead-letter queue is encrypted, TLS-only, kept 14 days, and only the rules may send to it', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1209600,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: 'CollectionEventDlq4EBE02AF' }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          {
            Action: 'sqs:SendMessage',
            Condition: {
              ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': ['CollectionBuildStateRule5F6A9894', 'Arn'] } },
            },
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Resource: { 'Fn::GetAtt': ['CollectionEventDlq4EBE02AF', 'Arn'] },
            Sid: Match.anyValue(),
          },
        ]),
      },
    });
  });

  test('the collector is a bounded ARM64 Node.js 24 function that knows its bucket', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Pipemend: collects finished CodeBuild builds and CodePipeline changes into the data lake',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 256,
      Timeout: 60,
      ReservedConcurrentExecutions: 10,
      TracingConfig: { Mode: 'Active' },
      DeadLetterConfig: { TargetArn: { 'Fn::GetAtt': ['CollectionCollectorAsyncDlq741452FE', 'Arn'] } },
      Environment: { Variables: Match.objectLike({ DATA_LAKE_BUCKET: { Ref: 'DataLakeBucketEF1CCA5A' } }) },
    });
  });

  test('the data-lake bucket is KMS-encrypted, private, TLS-only, versioned and has lifecycle rules', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: { 'Fn::GetAtt': ['DataLakeKey6ACD72F9', 'Arn'] },
            },
          },
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Id: 'tier-and-expire', Status: 'Enabled', ExpirationInDays: 730 }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: 'DataLakeBucketEF1CCA5A' },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  test('the builds table projects project (injected) and date partitions over builds/', () => {
    template.hasResourceProperties('AWS::Glue::Table', {
      DatabaseName: 'pipemend',
      TableInput: Match.objectLike({
        Name: 'builds',
        PartitionKeys: [
          { Name: 'project', Type: 'string' },
          { Name: 'date', Type: 'string' },
        ],
        Parameters: {
          classification: 'json',
          'projection.enabled': 'true',
          'projection.project.type': 'injected',
          'projection.date.type': 'date',
          'projection.date.format': 'yyyy-MM-dd',
          'projection.date.range': '2020-01-01,NOW',
          'projection.date.interval': '1',
          'projection.date.interval.unit': 'DAYS',
          'storage.location.template': {
            'Fn::Join': [
              '',
              ['s3://', { Ref: 'DataLakeBucketEF1CCA5A' }, '/builds/project=${project}/date=${date}/'],
            ],
          },
        },
        StorageDescriptor: Match.objectLike({
          SerdeInfo: {
            SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
            Parameters: { 'ignore.malformed.json': 'true' },
          },
        }),
      }),
    });
  });

  test('the features table has one double column per feature, in the model feature order', () => {
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'features',
        StorageDescriptor: Match.objectLike({
          Columns: [
            'durationseconds',
            'queuedseconds',
            'provisioningseconds',
            'downloadsourceseconds',
            'installseconds',
            'prebuildseconds',
            'buildseconds',
            'postbuildseconds',
            'uploadartifactsseconds',
            'testfailurerate',
            'cpuutilizedpercent',
            'memoryutilizedpercent',
          ].map((Name) => ({ Name, Type: 'double' })),
        }),
      }),
    });
  });
});

describe('BuildCollection with configured projects and pipelines', () => {
  const { template } = synthPipemend({
    config: { projects: ['app-build', 'lib-build'], pipelines: ['app-pipeline'] },
  });

  test('BatchGetBuilds is limited to the configured projects', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: collectorStatements([
          stackArn('codebuild', 'project/app-build'),
          stackArn('codebuild', 'project/lib-build'),
        ]),
      },
      Roles: [{ Ref: 'CollectionCollectorServiceRoleCC7838A3' }],
    });
  });

  test('the build rule matches only the configured projects', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.codebuild'],
        'detail-type': ['CodeBuild Build State Change'],
        detail: {
          'build-status': ['SUCCEEDED', 'FAILED', 'FAULT', 'STOPPED', 'TIMED_OUT'],
          'project-name': ['app-build', 'lib-build'],
        },
      },
    });
  });

  test('the pipeline rules match only the configured pipelines', () => {
    for (const detailType of [
      'CodePipeline Action Execution State Change',
      'CodePipeline Stage Execution State Change',
    ]) {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.codepipeline'],
          'detail-type': [detailType],
          detail: { pipeline: ['app-pipeline'] },
        },
      });
    }
  });

  test('the partitions are projected from the configured names', () => {
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'builds',
        Parameters: Match.objectLike({
          'projection.project.type': 'enum',
          'projection.project.values': 'app-build,lib-build',
        }),
      }),
    });
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'pipeline_transitions',
        Parameters: Match.objectLike({
          'projection.pipeline.type': 'enum',
          'projection.pipeline.values': 'app-pipeline',
        }),
      }),
    });
  });
});

describe('BuildCollection props validation', () => {
  const make = (props: Partial<ConstructorParameters<typeof BuildCollection>[2]>) => {
    const stack = new Stack(new App(), 'Test');
    const dataLake = new DataLake(stack, 'DataLake');
    return () => new BuildCollection(stack, 'Collection', { dataLake, ...props });
  };

  test('rejects an invalid project name', () => {
    expect(make({ projects: ['ok', 'no spaces'] })).toThrow('projects contains invalid names: no spaces');
  });

  test('rejects a pipeline listed twice', () => {
    expect(make({ pipelines: ['app', 'app'] })).toThrow('pipelines lists app more than once');
  });

  test('rejects an event age beyond EventBridge limits', () => {
    expect(make({ maxEventAge: Duration.hours(25) })).toThrow(
      'maxEventAge must be between 1 minute and 24 hours, got 90000 seconds',
    );
  });

  test('rejects an unbounded retry count', () => {
    expect(make({ retryAttempts: 200 })).toThrow('retryAttempts must be an integer from 0 to 185, got 200');
  });

  test('rejects a reserved concurrency of zero', () => {
    expect(make({ reservedConcurrency: 0 })).toThrow('reservedConcurrency must be a positive integer, got 0');
  });

  test('uses the given retry policy', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Test');
    new BuildCollection(stack, 'Collection', {
      dataLake: new DataLake(stack, 'DataLake'),
      maxEventAge: Duration.minutes(30),
      retryAttempts: 3,
    });
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', {
      Targets: [
        Match.objectLike({ RetryPolicy: { MaximumEventAgeInSeconds: 1800, MaximumRetryAttempts: 3 } }),
      ],
    });
  });
});
