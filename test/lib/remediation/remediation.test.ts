import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';

import { DENIED_START_BUILD_OVERRIDES, Remediation, RemediationProps } from '../../../lib/remediation';
import { remediationDefinition } from '../../../local/remediation-runner';
import { stackArn } from '../../helpers/arn';
import { synthPipemend } from '../../helpers/synth';

const { template } = synthPipemend({ config: { projects: ['app-build'], pipelines: ['app'] } });
const definition = remediationDefinition(template.toJSON() as Parameters<typeof remediationDefinition>[0]);
/** No projects or pipelines configured: remediation acts only on resources tagged for Pipemend. */
const { template: unscoped } = synthPipemend({});

/** The statements of the default policy of the role whose logical id starts with `rolePrefix`. */
function statementsOf(rolePrefix: string, of: Template = template): unknown[] {
  const policies = Object.entries(of.findResources('AWS::IAM::Policy')).filter(([id]) =>
    id.startsWith(rolePrefix),
  );
  expect(policies).toHaveLength(1);
  return (policies[0]?.[1] as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties
    .PolicyDocument.Statement;
}

function remediation(props: Partial<RemediationProps>): () => Remediation {
  const stack = new Stack(new App(), 'Test');
  const key = new kms.Key(stack, 'Key');
  return () =>
    new Remediation(stack, 'Remediation', {
      bus: new events.EventBus(stack, 'Bus'),
      topic: new sns.Topic(stack, 'Topic'),
      dataLakeBucket: new s3.Bucket(stack, 'Bucket'),
      encryptionKey: key,
      ...props,
    });
}

describe('Remediation construct', () => {
  test('the state machine logs every event but never execution data (events, log lines, task tokens), is traced and has a timeout', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
      TracingConfiguration: { Enabled: true },
    });
    expect(definition.TimeoutSeconds).toBe(12 * 3600);
  });

  test('every Task has bounded retries and a catch (the record step publishes its own failure)', () => {
    for (const [name, state] of Object.entries(definition.States)) {
      if (state.Type !== 'Task') continue;
      const task = state as { Retry?: { MaxAttempts?: number }[]; Catch?: unknown[] };
      expect({ name, retries: (task.Retry ?? []).every((retry) => (retry.MaxAttempts ?? 3) <= 6) }).toEqual({
        name,
        retries: true,
      });
      if (!['PublishNotification', 'PublishRecordFailure'].includes(name)) {
        expect({ name, catches: (task.Catch ?? []).length > 0 }).toEqual({ name, catches: true });
      }
    }
  });

  test("clean reruns use no cache, mark the build as Pipemend's and wait for it (.sync)", () => {
    expect(definition.States.RerunBuildCleanFromRevision).toMatchObject({
      Resource: 'arn:aws:states:::codebuild:startBuild.sync',
      Parameters: {
        CacheOverride: { Type: 'NO_CACHE' },
        EnvironmentVariablesOverride: [
          { Name: 'PIPEMEND_REMEDIATION_ID', 'Value.$': '$.guard.remediationId', Type: 'PLAINTEXT' },
        ],
      },
    });
  });

  const overrideDenials = DENIED_START_BUILD_OVERRIDES.map((key) => ({
    Action: 'codebuild:StartBuild',
    Effect: 'Deny',
    Resource: stackArn('codebuild', 'project/*'),
    Condition: { Null: { [key]: 'false' } },
  }));

  test('the state machine may start, stop and read builds, and retry or roll back stages, of the configured projects and pipelines only', () => {
    const statements = statementsOf('RemediationStateMachineRoleDefaultPolicy');
    expect(statements).toEqual(
      expect.arrayContaining([
        {
          Action: ['codebuild:BatchGetBuilds', 'codebuild:StartBuild', 'codebuild:StopBuild'],
          Effect: 'Allow',
          Resource: stackArn('codebuild', 'project/app-build'),
        },
        {
          Action: ['codepipeline:RetryStageExecution', 'codepipeline:RollbackStage'],
          Effect: 'Allow',
          Resource: [stackArn('codepipeline', 'app'), stackArn('codepipeline', 'app/*')],
        },
        {
          Action: ['events:DescribeRule', 'events:PutRule', 'events:PutTargets'],
          Effect: 'Allow',
          Resource: stackArn('events', 'rule/StepFunctionsGetEventForCodeBuildStartBuildRule'),
        },
      ]),
    );
    const acting = (statements as { Action: string | string[] }[]).filter((statement) =>
      [statement.Action]
        .flat()
        .some((action) =>
          ['codebuild:StartBuild', 'codepipeline:RetryStageExecution', 'codepipeline:RollbackStage'].includes(
            action,
          ),
        ),
    );
    expect(acting).toHaveLength(2 + DENIED_START_BUILD_OVERRIDES.length);
  });

  test('without configured projects or pipelines the state machine acts only on resources tagged pipemend:remediate=true', () => {
    const statements = statementsOf('RemediationStateMachineRoleDefaultPolicy', unscoped);
    const tagged = { StringEquals: { 'aws:ResourceTag/pipemend:remediate': 'true' } };
    expect(statements).toEqual(
      expect.arrayContaining([
        {
          Action: ['codebuild:StartBuild', 'codebuild:StopBuild'],
          Condition: tagged,
          Effect: 'Allow',
          Resource: stackArn('codebuild', 'project/*'),
        },
        {
          Action: ['codepipeline:RetryStageExecution', 'codepipeline:RollbackStage'],
          Condition: tagged,
          Effect: 'Allow',
          Resource: stackArn('codepipeline', '*'),
        },
      ]),
    );
    const unconditioned = (statements as { Action: string | string[]; Effect: string; Condition?: unknown }[])
      .filter((statement) => statement.Effect === 'Allow' && statement.Condition === undefined)
      .flatMap((statement) => [statement.Action].flat());
    for (const action of [
      'codebuild:StartBuild',
      'codebuild:StopBuild',
      'codepipeline:RetryStageExecution',
      'codepipeline:RollbackStage',
    ]) {
      expect(unconditioned).not.toContain(action);
    }
  });

  test.each([
    ['configured projects', template],
    ['tagged projects', unscoped],
  ])(
    'StartBuild (%s) is denied every override beyond a clean rerun: buildspec, source, image, privileged mode, role…',
    (_, of) => {
      expect(statementsOf('RemediationStateMachineRoleDefaultPolicy', of)).toEqual(
        expect.arrayContaining(overrideDenials),
      );
      expect(DENIED_START_BUILD_OVERRIDES).toEqual(
        expect.arrayContaining([
          'codebuild:source.buildspec',
          'codebuild:environment.image',
          'codebuild:environment.privilegedMode',
          'codebuild:serviceRole',
        ]),
      );
    },
  );

  test("retriers name the errors Step Functions reports: Lambda.TooManyRequestsException, the integrations' throttling", () => {
    const retried = (state: string): string[] =>
      ((definition.States[state] as { Retry?: { ErrorEquals: string[] }[] }).Retry ?? []).flatMap(
        (retry) => retry.ErrorEquals,
      );
    for (const state of [
      'Classify',
      'Guard',
      'FindRetryExecution',
      'WatchRetriedExecution',
      'RecordOutcome',
    ]) {
      expect({ state, errors: retried(state) }).toEqual({
        state,
        errors: expect.arrayContaining([
          'Lambda.TooManyRequestsException',
          'Lambda.ServiceException',
          'Lambda.AWSLambdaException',
          'Lambda.SdkClientException',
        ]),
      });
    }
    for (const state of ['RerunBuildClean', 'RerunBuildCleanFromRevision']) {
      expect(retried(state)).toEqual([
        'CodeBuild.AccountLimitExceededException',
        'CodeBuild.AWSCodeBuildException',
        'CodeBuild.CodeBuildException',
      ]);
    }
    for (const state of ['RetryStage', 'RollbackStage']) {
      expect(retried(state)).toEqual([
        'CodePipeline.ConcurrentPipelineExecutionsLimitExceededException',
        'CodePipeline.ConflictException',
        'CodePipeline.CodePipelineException',
      ]);
    }
    const everyName = Object.keys(definition.States).flatMap(retried);
    expect(everyName).not.toContain('CodeBuild.ThrottlingException');
    expect(everyName).not.toContain('CodePipeline.ThrottlingException');
  });

  test('every Catch keeps the error where the next state expects it, and the record reads only paths the start state sets', () => {
    for (const [name, state] of Object.entries(definition.States)) {
      for (const catcher of (state as { Catch?: { ResultPath?: string }[] }).Catch ?? []) {
        expect({ name, resultPath: catcher.ResultPath }).toEqual({
          name,
          resultPath: expect.stringMatching(/^\$\.(error|recordError|publishError)$/),
        });
      }
    }
    expect(definition.StartAt).toBe('Start');
    expect(definition.States.Start).toMatchObject({
      Type: 'Pass',
      Parameters: { 'event.$': '$', classification: null, guard: null, error: null },
    });
    expect((definition.States.RecordOutcome as { Parameters: unknown }).Parameters).toEqual({
      'event.$': '$.event',
      'executionId.$': '$$.Execution.Id',
      'executionName.$': '$$.Execution.Name',
      'classification.$': '$.classification',
      'guard.$': '$.guard',
      'error.$': '$.error',
      'status.$': '$.outcome.status',
      'detail.$': '$.outcome.detail',
    });
    expect(definition.States.NotificationFailed).toMatchObject({
      Type: 'Fail',
      CausePath: '$.publishError.Cause',
    });
  });

  test('the guard may only read and write items of the remediation table', () => {
    expect(statementsOf('RemediationGuardServiceRoleDefaultPolicy')).toEqual(
      expect.arrayContaining([
        {
          Action: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
          Effect: 'Allow',
          Resource: { 'Fn::GetAtt': [expect.stringMatching(/^RemediationState/), 'Arn'] },
        },
      ]),
    );
  });

  test('the recorder may only write decision history, labels and flaky-test evidence in the data lake', () => {
    expect(statementsOf('RemediationRecordOutcomeServiceRoleDefaultPolicy')).toEqual(
      expect.arrayContaining([
        {
          Action: 's3:PutObject',
          Effect: 'Allow',
          Resource: [
            {
              'Fn::Join': [
                '',
                [{ 'Fn::GetAtt': [expect.stringMatching(/^DataLakeBucket/), 'Arn'] }, '/labels/*'],
              ],
            },
            {
              'Fn::Join': [
                '',
                [{ 'Fn::GetAtt': [expect.stringMatching(/^DataLakeBucket/), 'Arn'] }, '/remediations/*'],
              ],
            },
            {
              'Fn::Join': [
                '',
                [
                  { 'Fn::GetAtt': [expect.stringMatching(/^DataLakeBucket/), 'Arn'] },
                  '/test-history/flaky/*',
                ],
              ],
            },
          ],
        },
      ]),
    );
  });

  test('the recorder may read flaky-test evidence only, to add each rescue to its list', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: Match.stringLikeRegexp('^RemediationRecordOutcomeServiceRoleDefaultPolicy'),
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 's3:GetObject',
            Effect: 'Allow',
            Resource: {
              'Fn::Join': [
                '',
                [
                  { 'Fn::GetAtt': [Match.stringLikeRegexp('^DataLakeBucket'), 'Arn'] },
                  '/test-history/flaky/*',
                ],
              ],
            },
          },
        ]),
      },
    });
  });

  test('classify may read the quarantine files only, and list their keys', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: Match.stringLikeRegexp('^RemediationClassifyServiceRoleDefaultPolicy'),
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 's3:ListBucket',
            Condition: { StringLike: { 's3:prefix': ['test-history/*', 'quarantine/*'] } },
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DataLakeBucket'), 'Arn'] },
          },
          {
            Action: 's3:GetObject',
            Effect: 'Allow',
            Resource: {
              'Fn::Join': [
                '',
                [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^DataLakeBucket'), 'Arn'] }, '/quarantine/*'],
              ],
            },
          },
        ]),
      },
    });
  });

  test('the remediation table is encrypted with the data-lake key, expires items and has point-in-time recovery', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      SSESpecification: {
        SSEEnabled: true,
        SSEType: 'KMS',
        KMSMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DataLakeKey'), 'Arn'] },
      },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  test('verdicts on the Pipemend bus, failed builds and failed stages start the state machine, with a DLQ', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: Match.stringLikeRegexp('^EventsBus') },
      EventPattern: { source: ['pipemend'], 'detail-type': ['Pipemend Build Verdict'] },
      Targets: [
        Match.objectLike({
          DeadLetterConfig: Match.anyValue(),
          RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 21600 },
        }),
      ],
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.codebuild'],
        'detail-type': ['CodeBuild Build State Change'],
        detail: { 'build-status': ['FAILED'], 'project-name': ['app-build'] },
      },
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.codepipeline'],
        'detail-type': ['CodePipeline Stage Execution State Change'],
        detail: { state: ['FAILED'], pipeline: ['app'] },
      },
    });
  });

  test('a new installation defaults to shadow mode', () => {
    const { template: defaults } = synthPipemend({});
    defaults.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ DEFAULT_MODE: 'shadow', MAX_ACTIONS_PER_REVISION: '1' }) },
    });
  });

  test('health alarms, rollback approval and limits from the pipemend context reach the remediation', () => {
    const { template: configured } = synthPipemend({
      config: {
        pipelines: ['app'],
        healthAlarms: [{ pipelineName: 'app', stageName: 'Deploy', alarmName: 'api-5xx' }],
        remediationLimits: { maxActionsPerRevision: 2 },
      },
    });
    configured.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ detail: { alarmName: ['api-5xx'], state: { value: ['ALARM'] } } }),
    });
    configured.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ MAX_ACTIONS_PER_REVISION: '2' }) },
    });
  });

  test('health alarms add an alarm rule and let the classifier read only those alarms', () => {
    const build = remediation({
      pipelines: ['app'],
      healthAlarms: [{ pipelineName: 'app', stageName: 'Deploy', alarmName: 'api-5xx' }],
    });
    const construct = build();
    const alarms = Template.fromStack(Stack.of(construct));
    alarms.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        detail: { alarmName: ['api-5xx'], state: { value: ['ALARM'] } },
      },
    });
    alarms.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 'cloudwatch:DescribeAlarms',
            Effect: 'Allow',
            Resource: stackArn('cloudwatch', 'alarm:api-5xx'),
          },
        ]),
      },
    });
  });

  test.each([
    [
      { approvalTimeout: Duration.hours(12) },
      'approvalTimeout (12 hours) must be shorter than timeout (12 hours)',
    ],
    [{ pollInterval: Duration.seconds(5) }, 'pollInterval must be at least 10 seconds'],
    [
      { limits: { maxActionsPerWindow: 0 } },
      'Guard limit maxActionsPerWindow must be a positive integer, got 0',
    ],
    [
      { pipelines: ['app'], healthAlarms: [{ pipelineName: 'other', stageName: 'Deploy', alarmName: 'a' }] },
      "healthAlarms names pipeline 'other', which is not in pipelines",
    ],
  ])('rejects %j', (props, message) => {
    expect(remediation(props as Partial<RemediationProps>)).toThrow(message);
  });
});
