import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';

import { BuildScoring } from '../../lib/build-scoring';
import { DataLake } from '../../lib/data-lake';
import { stackArn } from '../helpers/arn';
import { synthPipemend, testApp } from '../helpers/synth';

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Effect: string;
  Condition?: unknown;
}

function scorerStatements(template: Template): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { PolicyName: Match.stringLikeRegexp('^ScoringScorerServiceRoleDefaultPolicy') },
  });
  const [policy] = Object.values(policies) as {
    Properties: { PolicyDocument: { Statement: Statement[] } };
  }[];
  if (!policy) throw new Error('the scorer has no default policy');
  return policy.Properties.PolicyDocument.Statement;
}

function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

describe('BuildScoring in the Pipemend stack', () => {
  const endpoint = synthPipemend({ config: { scorer: 'endpoint', endpointName: 'Pipemend-RCF' } }).template;
  const embedded = synthPipemend().template;

  test('sagemaker:InvokeEndpoint is scoped to the configured endpoint ARN (lower-cased, as SageMaker names it)', () => {
    const invoke = scorerStatements(endpoint).filter((s) =>
      actionsOf(s).includes('sagemaker:InvokeEndpoint'),
    );
    expect(invoke).toEqual([
      {
        Action: 'sagemaker:InvokeEndpoint',
        Effect: 'Allow',
        Resource: stackArn('sagemaker', 'endpoint/pipemend-rcf'),
      },
    ]);
  });

  test('with the embedded scorer there is no SageMaker permission at all', () => {
    const sagemaker = scorerStatements(embedded).filter((s) =>
      actionsOf(s).some((a) => a.startsWith('sagemaker:')),
    );
    expect(sagemaker).toEqual([]);
  });

  test('PutJob*Result is the only statement of ours on "*" (merged with the X-Ray upload that tracing adds)', () => {
    const onStar = scorerStatements(endpoint).filter((s) => s.Resource === '*');
    expect(onStar).toEqual([
      {
        Action: [
          'codepipeline:PutJobFailureResult',
          'codepipeline:PutJobSuccessResult',
          'xray:PutTelemetryRecords',
          'xray:PutTraceSegments',
        ],
        Effect: 'Allow',
        Resource: '*',
      },
    ]);
  });

  test('the whole scorer policy: exactly these statements and nothing else', () => {
    const bucketArn = { 'Fn::GetAtt': [expect.stringMatching(/^DataLakeBucket/), 'Arn'] };
    const objects = (prefix: string) => ({ 'Fn::Join': ['', [bucketArn, `/${prefix}*`]] });
    expect(scorerStatements(endpoint)).toEqual([
      {
        Action: 'sqs:SendMessage',
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^ScoringScorerAsyncDlq/), 'Arn'] },
      },
      expect.objectContaining({ Resource: '*' }),
      {
        Action: 's3:GetObject',
        Effect: 'Allow',
        Resource: ['builds/', 'features/', 'models/', 'scoring/baselines/'].map(objects),
      },
      { Action: 's3:PutObject', Effect: 'Allow', Resource: objects('scoring/baselines/') },
      {
        Action: 's3:ListBucket',
        Condition: { StringLike: { 's3:prefix': ['builds/*', 'features/*'] } },
        Effect: 'Allow',
        Resource: bucketArn,
      },
      {
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^DataLakeKey/), 'Arn'] },
      },
      {
        Action: 'events:PutEvents',
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^EventsBus/), 'Arn'] },
      },
      expect.objectContaining({ Action: 'sagemaker:InvokeEndpoint' }),
      {
        Action: 'codepipeline:ListActionExecutions',
        Effect: 'Allow',
        Resource: stackArn('codepipeline', '*'),
      },
    ]);
  });

  test('with no pipelines configured, ListActionExecutions covers the pipelines of the account and region', () => {
    const list = scorerStatements(embedded).filter((s) =>
      actionsOf(s).includes('codepipeline:ListActionExecutions'),
    );
    expect(list).toEqual([
      {
        Action: 'codepipeline:ListActionExecutions',
        Effect: 'Allow',
        Resource: stackArn('codepipeline', '*'),
      },
    ]);
  });

  test('events:PutEvents only on the Pipemend bus', () => {
    const put = scorerStatements(embedded).filter((s) => actionsOf(s).includes('events:PutEvents'));
    expect(put).toEqual([
      {
        Action: 'events:PutEvents',
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^EventsBus/), 'Arn'] },
      },
    ]);
  });

  test('the function gets its configuration from the environment', () => {
    endpoint.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Pipemend: scores each finished build'),
      Timeout: 61,
      Environment: {
        Variables: Match.objectLike({
          DATA_LAKE_BUCKET: { Ref: Match.stringLikeRegexp('^DataLakeBucket') },
          EVENT_BUS_NAME: { Ref: Match.stringLikeRegexp('^EventsBus') },
          MODEL_KIND: 'endpoint',
          ENDPOINT_NAME: 'Pipemend-RCF',
          RECORD_WAIT_ATTEMPTS: '6',
        }),
      },
    });
  });

  test('without trend settings the scorer has no TREND_SETTINGS: it keeps the defaults', () => {
    embedded.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Pipemend: scores each finished build'),
      Environment: { Variables: Match.objectLike({ TREND_SETTINGS: Match.absent() }) },
    });
  });

  test('the trend context key reaches the scorer as TREND_SETTINGS', () => {
    const trend = { features: ['memoryUtilizedPercent', 'buildSeconds'], minZ: 5 };
    synthPipemend({ config: { trend } }).template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Pipemend: scores each finished build'),
      Environment: {
        Variables: Match.objectLike({
          TREND_SETTINGS: '{"features":["memoryUtilizedPercent","buildSeconds"],"minZ":5}',
        }),
      },
    });
  });

  test('the rule sends finished builds not started by CodePipeline, with a DLQ and bounded retries', () => {
    embedded.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.codebuild'],
        'detail-type': ['CodeBuild Build State Change'],
        detail: {
          'build-status': ['SUCCEEDED', 'FAILED', 'FAULT', 'STOPPED', 'TIMED_OUT'],
          'additional-information': { initiator: [{ 'anything-but': { prefix: 'codepipeline/' } }] },
        },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ScoringScorer'), 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ScoringEventDlq'), 'Arn'] } },
          RetryPolicy: { MaximumEventAgeInSeconds: 7200, MaximumRetryAttempts: 4 },
        }),
      ],
    });
  });

  test('configured projects narrow the rule', () => {
    const { template } = synthPipemend({ config: { projects: ['app-build'] } });
    template.hasResourceProperties('AWS::Events::Rule', {
      Description: Match.stringLikeRegexp('outside CodePipeline'),
      EventPattern: Match.objectLike({ detail: Match.objectLike({ 'project-name': ['app-build'] }) }),
    });
  });

  test('the anomaly alarm watches the highest score/threshold ratio of any project and notifies the topic', () => {
    embedded.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: [
        {
          Expression: 'SELECT MAX(AnomalyScoreRatio) FROM SCHEMA("Pipemend", project, service)',
          Id: 'expr_1',
          Label: 'Highest anomaly score / threshold of any project',
          Period: 3600,
          ReturnData: true,
        },
      ],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^EventsNotifications') }],
      OKActions: [{ Ref: Match.stringLikeRegexp('^EventsNotifications') }],
    });
  });
});

describe('BuildScoring for stage-condition rules', () => {
  test('the scorer may list the action executions of the watched pipelines, and only those', () => {
    const stack = new Stack(testApp(), 'S');
    new BuildScoring(stack, 'Scoring', {
      dataLake: new DataLake(stack, 'Lake'),
      eventBus: new events.EventBus(stack, 'Bus'),
      pipelines: ['app-pipeline', 'infra-pipeline'],
    });
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: Match.stringLikeRegexp('^ScoringScorerServiceRoleDefaultPolicy'),
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 'codepipeline:ListActionExecutions',
            Effect: 'Allow',
            Resource: [stackArn('codepipeline', 'app-pipeline'), stackArn('codepipeline', 'infra-pipeline')],
          },
        ]),
      },
    });
  });
});

describe('BuildScoring validation', () => {
  function make(props: Partial<ConstructorParameters<typeof BuildScoring>[2]>): () => BuildScoring {
    return () => {
      const stack = new Stack(testApp(), 'S');
      return new BuildScoring(stack, 'Scoring', {
        dataLake: new DataLake(stack, 'Lake'),
        eventBus: new events.EventBus(stack, 'Bus'),
        ...props,
      });
    };
  }

  test('the endpoint scorer needs an endpoint name', () => {
    expect(make({ modelKind: 'endpoint' })).toThrow("endpointName is required when modelKind is 'endpoint'");
  });

  test('an endpoint name without the endpoint scorer is refused', () => {
    expect(make({ endpointName: 'x' })).toThrow(
      "endpointName is only used with modelKind 'endpoint'; remove it or set modelKind: 'endpoint'",
    );
  });

  test('recordWaitAttempts is bounded so the wait fits the function timeout', () => {
    expect(make({ recordWaitAttempts: 9 })).toThrow(
      'recordWaitAttempts must be an integer from 1 to 7, got 9',
    );
  });

  test('retryAttempts is bounded by what EventBridge allows', () => {
    expect(make({ retryAttempts: 200 })).toThrow('retryAttempts must be an integer from 0 to 185, got 200');
  });

  test('maxEventAge is bounded by what EventBridge allows', () => {
    expect(make({ maxEventAge: Duration.hours(25) })).toThrow(
      'maxEventAge must be between 1 minute and 24 hours, got 1 day 1 hour',
    );
  });

  test('an invalid pipeline name is named', () => {
    expect(make({ pipelines: ['my pipeline'] })).toThrow(
      "pipelines: 'my pipeline' is not a valid CodePipeline pipeline name",
    );
  });

  test('invalid trend settings are refused naming the prop and the field', () => {
    expect(make({ trend: { minZ: 1 } })).toThrow('trend: minZ: Too small: expected number to be >=2');
  });

  test('an invalid project name is named', () => {
    expect(make({ projects: ['bad name'] })).toThrow(
      "projects: 'bad name' is not a valid CodeBuild project name",
    );
  });
});
