/** The remediation state machine's workflow: its states, retries and catches, and the policies its service integrations need. */
import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';

import {
  APPROVAL_DENIED_ERROR,
  REMEDIATION_MARKER_VARIABLE,
  REMEDIATION_STATES,
} from '../../core/remediation/remediation';
import { NotificationOwners } from '../notification-owners';
import { PipemendFunction } from '../pipemend-function';
import {
  CODEBUILD_NOT_STARTED_ERRORS,
  CODEBUILD_THROTTLING_ERRORS,
  CODEPIPELINE_TRANSIENT_ERRORS,
  DENIED_START_BUILD_OVERRIDES,
  LAMBDA_TRANSIENT_ERRORS,
  REMEDIATE_TAG_KEY,
  REMEDIATE_TAG_VALUE,
} from './limits';

/** The first state: it keeps the trigger event under `$.event` and sets every path the record reads. */
export const REMEDIATION_START_STATE = 'Start';

export interface DefinitionProps {
  readonly classify: PipemendFunction;
  readonly guard: PipemendFunction;
  readonly pipelineTarget: PipemendFunction;
  readonly recordOutcome: PipemendFunction;
  /** The main topic: approval requests, a record that failed, and every scope without an owner. */
  readonly topic: sns.ITopic;
  /** The owners' topics: a record's notification goes to the topic record-outcome names (`$.recorded.topicArn`). */
  readonly owners?: NotificationOwners;
  /** ARNs of the configured projects; absent: only projects tagged for Pipemend may be rerun. */
  readonly projectArns?: string[];
  /** ARNs of the configured pipelines; absent: only pipelines tagged for Pipemend may be retried or rolled back. */
  readonly pipelineArns?: string[];
  readonly approval: boolean;
  readonly approvalTimeout: Duration;
  readonly rerunTimeout: Duration;
  readonly pollInterval: Duration;
}

/** The state machine's states and the policies its service integrations need. */
export class RemediationDefinition {
  public readonly start: sfn.IChainable;
  private readonly policies: iam.PolicyStatement[] = [];
  private readonly record: sfn.IChainable;
  private readonly escalateTaskFailure: sfn.Pass;

  constructor(
    private readonly scope: Construct,
    private readonly props: DefinitionProps,
  ) {
    this.record = this.recordChain();
    // Whatever fails, RecordOutcome must find every path it reads: start with all of them present (null).
    // (A CustomState: a Pass's parameters would drop the null values.)
    const start = new sfn.CustomState(scope, REMEDIATION_START_STATE, {
      stateJson: {
        Type: 'Pass',
        Parameters: { 'event.$': '$', classification: null, guard: null, error: null },
      },
    });
    this.escalateTaskFailure = this.outcome(
      'EscalateTaskFailure',
      'ESCALATED',
      sfn.JsonPath.stringAt('$.error.Cause'),
    );
    this.escalateTaskFailure.next(this.record);

    const classify = this.lambda(
      REMEDIATION_STATES.classify,
      props.classify,
      {
        event: sfn.JsonPath.objectAt('$.event'),
      },
      '$.classification',
    );
    const guard = this.lambda(
      REMEDIATION_STATES.guard,
      props.guard,
      {
        classification: sfn.JsonPath.objectAt('$.classification'),
        executionId: sfn.JsonPath.executionId,
      },
      '$.guard',
    );
    // A second execution for the same failure waits for the first to finish deciding, then sees DUPLICATE.
    guard.addRetry({
      errors: ['IdempotencyAlreadyInProgressError'],
      interval: Duration.seconds(2),
      maxAttempts: 5,
      backoffRate: 2,
    });

    const byAction = new sfn.Choice(scope, 'ByAction')
      .when(
        sfn.Condition.stringEquals('$.classification.decision.action', 'NOTIFY'),
        this.toRecord('Notified', 'NOTIFIED', 'notification sent'),
      )
      .when(
        sfn.Condition.and(
          sfn.Condition.stringEquals('$.classification.decision.action', 'RERUN_CLEAN'),
          sfn.Condition.stringEquals('$.classification.target.kind', 'codebuild-project'),
        ),
        this.rerunBuild(),
      )
      .when(
        sfn.Condition.and(
          sfn.Condition.stringEquals('$.classification.decision.action', 'RERUN_CLEAN'),
          sfn.Condition.stringEquals('$.classification.target.kind', 'pipeline-stage'),
        ),
        this.retryStage(),
      )
      .when(
        sfn.Condition.and(
          sfn.Condition.stringEquals('$.classification.decision.action', 'ROLLBACK'),
          sfn.Condition.stringEquals('$.classification.target.kind', 'pipeline-stage'),
        ),
        this.rollback(),
      )
      .otherwise(this.toRecord('UnsupportedAction', 'ESCALATED', 'the action does not apply to this target'));

    const byGuard = new sfn.Choice(scope, 'ByGuardOutcome')
      .when(sfn.Condition.stringEquals('$.guard.outcome', 'SKIP'), new sfn.Succeed(scope, 'NothingToDo'))
      .when(
        sfn.Condition.stringEquals('$.guard.outcome', 'DUPLICATE'),
        new sfn.Succeed(scope, 'AlreadyHandled'),
      )
      .when(
        sfn.Condition.stringEquals('$.guard.outcome', 'SHADOW'),
        this.toRecord('Shadowed', 'SHADOWED', 'shadow mode'),
      )
      .when(
        sfn.Condition.stringEquals('$.guard.outcome', 'SUGGEST'),
        this.toRecord('Suggested', 'SUGGESTED', 'suggest mode'),
      )
      .when(
        sfn.Condition.stringEquals('$.guard.outcome', 'ESCALATE'),
        this.toRecord('Escalated', 'ESCALATED', 'guard escalation'),
      )
      .when(
        sfn.Condition.stringEquals('$.guard.outcome', 'SUPPRESS'),
        this.toRecord('Suppressed', 'SUPPRESSED', 'guard suppression'),
      )
      .when(sfn.Condition.stringEquals('$.guard.outcome', 'PROCEED'), byAction)
      .otherwise(
        new sfn.Fail(scope, 'UnknownGuardOutcome', {
          error: 'UnknownGuardOutcome',
          causePath: '$.guard.outcome',
        }),
      );

    this.start = start.next(classify).next(guard).next(byGuard);
  }

  /** Grants the state machine what its service integrations call. */
  grant(stateMachine: sfn.StateMachine): void {
    for (const statement of this.policies) stateMachine.addToRolePolicy(statement);
    this.props.topic.grantPublish(stateMachine);
    this.props.owners?.grantPublish(stateMachine);
  }

  private lambda(
    id: string,
    fn: PipemendFunction,
    payload: Record<string, unknown>,
    resultPath: string,
  ): tasks.LambdaInvoke {
    const task = new tasks.LambdaInvoke(this.scope, id, {
      lambdaFunction: fn,
      payload: sfn.TaskInput.fromObject(payload),
      payloadResponseOnly: true,
      resultPath,
      retryOnServiceExceptions: true,
      taskTimeout: sfn.Timeout.duration(Duration.minutes(2)),
    });
    task.addRetry({
      errors: LAMBDA_TRANSIENT_ERRORS,
      interval: Duration.seconds(2),
      maxAttempts: 3,
      backoffRate: 2,
    });
    if (fn !== this.props.recordOutcome) {
      task.addCatch(this.escalateTaskFailure, { errors: ['States.ALL'], resultPath: '$.error' });
    }
    return task;
  }

  /** A Pass that sets `$.outcome` for the record. */
  private outcome(id: string, status: string, detail: string): sfn.Pass {
    return new sfn.Pass(this.scope, id, {
      parameters: { status, detail },
      resultPath: '$.outcome',
    });
  }

  private toRecord(id: string, status: string, detail: string): sfn.IChainable {
    return this.outcome(id, status, detail).next(this.record);
  }

  private recordChain(): sfn.IChainable {
    const { scope, props } = this;
    const record = this.lambda(
      REMEDIATION_STATES.record,
      props.recordOutcome,
      {
        // Every path below exists in every execution (the start state sets them, null until known).
        event: sfn.JsonPath.objectAt('$.event'),
        executionId: sfn.JsonPath.executionId,
        executionName: sfn.JsonPath.executionName,
        classification: sfn.JsonPath.objectAt('$.classification'),
        guard: sfn.JsonPath.objectAt('$.guard'),
        error: sfn.JsonPath.objectAt('$.error'),
        status: sfn.JsonPath.stringAt('$.outcome.status'),
        detail: sfn.JsonPath.stringAt('$.outcome.detail'),
      },
      '$.recorded',
    );
    const recordFailed = new tasks.SnsPublish(scope, REMEDIATION_STATES.publishRecordFailure, {
      topic: props.topic,
      subject: 'Pipemend: a remediation could not be recorded',
      message: sfn.TaskInput.fromObject({
        kind: 'record-failure',
        executionArn: sfn.JsonPath.executionId,
        outcome: sfn.JsonPath.objectAt('$.outcome'),
        recordError: sfn.JsonPath.objectAt('$.recordError'),
        error: sfn.JsonPath.objectAt('$.error'),
        classification: sfn.JsonPath.objectAt('$.classification'),
        guard: sfn.JsonPath.objectAt('$.guard'),
      }),
      resultPath: sfn.JsonPath.DISCARD,
    });
    this.retrySns(recordFailed);
    recordFailed.next(
      new sfn.Fail(scope, 'RecordFailed', {
        error: 'RecordFailed',
        cause: 'The decision record could not be written',
      }),
    );
    // The task error that led here stays in $.error; the record's own failure goes beside it.
    record.addCatch(recordFailed, { errors: ['States.ALL'], resultPath: '$.recordError' });

    // The topic is record-outcome's answer (the owner's, or the main topic), so not a fixed one: the
    // optimized sns:publish integration with a dynamic TopicArn (SnsPublish takes only a fixed topic).
    // Its errors keep the optimized integration's names (SNS.*), which retrySns matches. The role may
    // publish to the main topic and the owners' topics only (grant()).
    const publish = new sfn.CustomState(scope, REMEDIATION_STATES.publish, {
      stateJson: {
        Type: 'Task',
        Resource: `arn:${Stack.of(scope).partition}:states:::sns:publish`,
        Parameters: {
          'TopicArn.$': '$.recorded.topicArn',
          'Subject.$': '$.recorded.subject',
          'Message.$': '$.recorded.message',
        },
        ResultPath: null,
      },
    });
    this.retrySns(publish);
    // The record is saved; the execution fails so the ExecutionsFailed metric (and its alarm) sees it.
    publish.addCatch(
      new sfn.Fail(scope, 'NotificationFailed', {
        error: 'NotificationFailed',
        causePath: '$.publishError.Cause',
      }),
      { errors: ['States.ALL'], resultPath: '$.publishError' },
    );
    const done = new sfn.Succeed(scope, 'Done');
    return record.next(
      new sfn.Choice(scope, 'ShouldNotify')
        .when(sfn.Condition.booleanEquals('$.recorded.notify', true), publish.next(done))
        .otherwise(done),
    );
  }

  private retrySns(task: sfn.TaskStateBase | sfn.CustomState): void {
    task.addRetry({
      errors: ['SNS.ThrottledException', 'SNS.InternalErrorException', 'SNS.KMSThrottlingException'],
      interval: Duration.seconds(2),
      maxAttempts: 3,
      backoffRate: 2,
    });
  }

  /** CodeBuild StartBuild without cache, marked as Pipemend's, waiting for the build (`.sync`). */
  private rerunBuild(): sfn.IChainable {
    const { scope, props } = this;
    const detailSucceeded = new sfn.Pass(scope, 'RerunSucceeded', {
      parameters: {
        status: 'SUCCEEDED',
        'detail.$': "States.Format('clean rerun {} succeeded', $.rerun.buildId)",
      },
      resultPath: '$.outcome',
    });
    const detailFailed = new sfn.Pass(scope, 'RerunFailed', {
      parameters: { status: 'FAILED', 'detail.$': "States.Format('clean rerun failed: {}', $.error.Cause)" },
      resultPath: '$.outcome',
    });
    // No build ran (throttled past the retries, over the account's build limit, project gone or not allowed):
    // nothing was tried, so nothing counts for the circuit breaker; a human hears of it as an escalation.
    const notStarted = new sfn.Pass(scope, 'RerunNotStarted', {
      parameters: {
        status: 'ESCALATED',
        'detail.$': "States.Format('the clean rerun did not start: {}', $.error.Cause)",
      },
      resultPath: '$.outcome',
    });
    detailSucceeded.next(this.record);
    detailFailed.next(this.record);
    notStarted.next(this.record);
    const rerun = (id: string, withRevision: boolean): sfn.CustomState => {
      const state = new sfn.CustomState(scope, id, {
        stateJson: {
          Type: 'Task',
          Resource: `arn:${Stack.of(scope).partition}:states:::codebuild:startBuild.sync`,
          TimeoutSeconds: props.rerunTimeout.toSeconds(),
          Parameters: {
            'ProjectName.$': '$.classification.target.projectName',
            ...(withRevision ? { 'SourceVersion.$': '$.classification.target.revision' } : {}),
            CacheOverride: { Type: 'NO_CACHE' },
            'ComputeTypeOverride.$': '$.classification.rerun.computeType',
            EnvironmentVariablesOverride: [
              { Name: REMEDIATION_MARKER_VARIABLE, 'Value.$': '$.guard.remediationId', Type: 'PLAINTEXT' },
            ],
          },
          ResultSelector: { 'buildId.$': '$.Build.Id', 'buildStatus.$': '$.Build.BuildStatus' },
          ResultPath: '$.rerun',
        },
      });
      state.addRetry({
        errors: CODEBUILD_THROTTLING_ERRORS,
        interval: Duration.seconds(30),
        maxAttempts: 3,
        backoffRate: 2,
      });
      state.addCatch(notStarted, { errors: CODEBUILD_NOT_STARTED_ERRORS, resultPath: '$.error' });
      // A rerun that ran and failed is a failed remediation, not a task error; either way a human hears.
      state.addCatch(detailFailed, { errors: ['States.ALL'], resultPath: '$.error' });
      return state;
    };
    const everyProject = Stack.of(scope).formatArn({
      service: 'codebuild',
      resource: 'project',
      resourceName: '*',
    });
    this.policies.push(
      this.scoped(['codebuild:StartBuild', 'codebuild:StopBuild'], props.projectArns, [everyProject]),
      new iam.PolicyStatement({
        actions: ['codebuild:BatchGetBuilds'],
        resources: props.projectArns ?? [everyProject],
      }),
      // A clean rerun changes the cache, the compute type and Pipemend's marker variable, nothing else.
      ...DENIED_START_BUILD_OVERRIDES.map(
        (key) =>
          new iam.PolicyStatement({
            effect: iam.Effect.DENY,
            actions: ['codebuild:StartBuild'],
            resources: [everyProject],
            conditions: { Null: { [key]: 'false' } },
          }),
      ),
      new iam.PolicyStatement({
        actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
        resources: [
          Stack.of(scope).formatArn({
            service: 'events',
            resource: 'rule',
            resourceName: 'StepFunctionsGetEventForCodeBuildStartBuildRule',
          }),
        ],
      }),
    );
    const computeTypeKnown = sfn.Condition.isPresent('$.classification.rerun.computeType');
    return new sfn.Choice(scope, 'RerunFromRevision')
      .when(
        sfn.Condition.and(computeTypeKnown, sfn.Condition.isPresent('$.classification.target.revision')),
        rerun(REMEDIATION_STATES.rerunBuildFromRevision, true).next(detailSucceeded),
      )
      .when(computeTypeKnown, rerun(REMEDIATION_STATES.rerunBuild, false).next(detailSucceeded))
      .otherwise(
        this.toRecord('RerunNotPossible', 'ESCALATED', 'the build to rerun has no known compute type'),
      );
  }

  private retryStage(): sfn.IChainable {
    const { props } = this;
    const find = this.lambda(
      REMEDIATION_STATES.findRetryExecution,
      props.pipelineTarget,
      {
        operation: 'retry-execution',
        classification: sfn.JsonPath.objectAt('$.classification'),
      },
      '$.retryExecution',
    );
    const retry = this.codePipeline(
      REMEDIATION_STATES.retryStage,
      'retryStageExecution',
      {
        'PipelineName.$': '$.classification.target.pipelineName',
        'StageName.$': '$.classification.target.stageName',
        'PipelineExecutionId.$': '$.retryExecution.pipelineExecutionId',
        RetryMode: 'FAILED_ACTIONS',
      },
      '$.retry',
    );
    return find.next(retry).next(this.watch('Retry', '$.retryExecution.pipelineExecutionId'));
  }

  private rollback(): sfn.IChainable {
    const { scope, props } = this;
    const find = this.lambda(
      REMEDIATION_STATES.findRollbackTarget,
      props.pipelineTarget,
      {
        operation: 'rollback-target',
        classification: sfn.JsonPath.objectAt('$.classification'),
      },
      '$.rollbackTarget',
    );
    const rollback = this.codePipeline(
      REMEDIATION_STATES.rollbackStage,
      'rollbackStage',
      {
        'PipelineName.$': '$.classification.target.pipelineName',
        'StageName.$': '$.classification.target.stageName',
        'TargetPipelineExecutionId.$': '$.rollbackTarget.pipelineExecutionId',
      },
      '$.rollback',
    );
    const act = find.next(rollback).next(this.watch('Rollback', '$.rollback.PipelineExecutionId'));
    if (!props.approval) return act;

    // A rollback acts on a pipeline: its owner (context `owners`) is asked, else the main topic.
    const owned = [...(props.owners?.topicByScope ?? [])].filter(([where]) => where.startsWith('pipeline:'));
    const approval = new sfn.CustomState(scope, REMEDIATION_STATES.requestApproval, {
      stateJson: {
        Type: 'Task',
        Resource: `arn:${Stack.of(scope).partition}:states:::sns:publish.waitForTaskToken`,
        TimeoutSeconds: props.approvalTimeout.toSeconds(),
        Parameters: {
          ...(owned.length > 0
            ? { 'TopicArn.$': '$.approvalTopic.arn' }
            : { TopicArn: props.topic.topicArn }),
          Subject: 'Pipemend: approve a rollback?',
          Message: {
            kind: 'rollback-approval-request',
            'executionArn.$': '$$.Execution.Id',
            'taskToken.$': '$$.Task.Token',
            'answer.$':
              "States.Format('pipemend approve {}   or   pipemend deny {}', $$.Execution.Id, $$.Execution.Id)",
            'decision.$': '$.classification.decision',
            'target.$': '$.classification.target',
          },
        },
        ResultPath: '$.approval',
      },
    });
    this.retrySns(approval);
    approval.addCatch(
      new sfn.Pass(scope, 'RollbackDenied', {
        parameters: { status: 'DENIED', 'detail.$': '$.error.Cause' },
        resultPath: '$.outcome',
      }).next(this.record),
      { errors: [APPROVAL_DENIED_ERROR], resultPath: '$.error' },
    );
    approval.addCatch(
      this.toRecord('ApprovalTimedOut', 'APPROVAL_TIMED_OUT', 'nobody answered the approval request in time'),
      {
        errors: ['States.Timeout'],
        resultPath: '$.error',
      },
    );
    approval.addCatch(this.escalateTaskFailure, { errors: ['States.ALL'], resultPath: '$.error' });
    approval.next(act);
    if (owned.length === 0) return approval;
    const topicOf = (id: string, topic: sns.ITopic): sfn.IChainable =>
      new sfn.Pass(scope, id, { parameters: { arn: topic.topicArn }, resultPath: '$.approvalTopic' }).next(
        approval,
      );
    const route = new sfn.Choice(scope, 'ApprovalTopic');
    owned.forEach(([where, topic], index) =>
      route.when(
        sfn.Condition.stringEquals('$.classification.target.pipelineName', where.slice('pipeline:'.length)),
        topicOf(`ApprovalToOwner${index + 1}`, topic),
      ),
    );
    return route.otherwise(topicOf('ApprovalToMainTopic', props.topic));
  }

  private codePipeline(
    id: string,
    action: 'retryStageExecution' | 'rollbackStage',
    parameters: Record<string, string>,
    resultPath: string,
  ): sfn.CustomState {
    const task = new sfn.CustomState(this.scope, id, {
      stateJson: {
        Type: 'Task',
        Resource: `arn:${Stack.of(this.scope).partition}:states:::aws-sdk:codepipeline:${action}`,
        TimeoutSeconds: Duration.minutes(2).toSeconds(),
        Parameters: parameters,
        ResultPath: resultPath,
      },
    });
    task.addRetry({
      errors: CODEPIPELINE_TRANSIENT_ERRORS,
      interval: Duration.seconds(10),
      maxAttempts: 3,
      backoffRate: 2,
    });
    task.addCatch(this.escalateTaskFailure, { errors: ['States.ALL'], resultPath: '$.error' });
    // RetryStageExecution acts on the stage resource (`<pipeline>/<stage>`), RollbackStage on the pipeline.
    const everyPipeline = Stack.of(this.scope).formatArn({ service: 'codepipeline', resource: '*' });
    this.policies.push(
      this.scoped(
        [`codepipeline:${action[0]?.toUpperCase()}${action.slice(1)}`],
        this.props.pipelineArns?.flatMap((arn) => [arn, `${arn}/*`]),
        [everyPipeline],
      ),
    );
    return task;
  }

  /**
   * Allows `actions` on the configured resources, or, when none are configured, on every resource of the
   * account and region that is tagged `pipemend:remediate` = `true`.
   */
  private scoped(actions: string[], configured: string[] | undefined, every: string[]): iam.PolicyStatement {
    return new iam.PolicyStatement({
      actions,
      resources: configured ?? every,
      ...(configured
        ? {}
        : {
            conditions: { StringEquals: { [`aws:ResourceTag/${REMEDIATE_TAG_KEY}`]: REMEDIATE_TAG_VALUE } },
          }),
    });
  }

  /** Polls the execution until it ends: SUCCEEDED (and healthy, for a rollback with a health alarm) or FAILED. */
  private watch(name: 'Retry' | 'Rollback', executionIdPath: string): sfn.IChainable {
    const { scope, props } = this;
    const init = new sfn.Pass(scope, `Start${name}Watch`, {
      parameters: { checks: 0 },
      resultPath: '$.watch',
    });
    const wait = new sfn.Wait(
      scope,
      name === 'Retry' ? REMEDIATION_STATES.waitRetry : REMEDIATION_STATES.waitRollback,
      {
        time: sfn.WaitTime.duration(props.pollInterval),
      },
    );
    const check = this.lambda(
      name === 'Retry' ? REMEDIATION_STATES.watchRetry : REMEDIATION_STATES.watchRollback,
      props.pipelineTarget,
      {
        operation: 'watch',
        classification: sfn.JsonPath.objectAt('$.classification'),
        pipelineExecutionId: sfn.JsonPath.stringAt(executionIdPath),
        checkHealth: name === 'Rollback',
        checks: sfn.JsonPath.numberAt('$.watch.checks'),
      },
      '$.watch',
    );
    const succeeded = new sfn.Pass(scope, `${name}Succeeded`, {
      parameters: { status: 'SUCCEEDED', 'detail.$': '$.watch.detail' },
      resultPath: '$.outcome',
    });
    const failed = new sfn.Pass(scope, `${name}Failed`, {
      parameters: { status: 'FAILED', 'detail.$': '$.watch.detail' },
      resultPath: '$.outcome',
    });
    succeeded.next(this.record);
    failed.next(this.record);
    return init
      .next(wait)
      .next(check)
      .next(
        new sfn.Choice(scope, `${name}Ended`)
          .when(sfn.Condition.stringEquals('$.watch.status', 'IN_PROGRESS'), wait)
          .when(sfn.Condition.stringEquals('$.watch.status', 'SUCCEEDED'), succeeded)
          .otherwise(failed),
      );
  }
}
