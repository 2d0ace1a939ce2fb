import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';

import { RemediationMode } from './config';
import { DeadLetterQueue } from './dead-letter-queue';
import { PipemendFunction } from './pipemend-function';
import { DEFAULT_GUARD_LIMITS, GuardLimits, validateGuardLimits } from '../core/remediation/guards';
import {
  APPROVAL_DENIED_ERROR,
  REMEDIATION_MARKER_VARIABLE,
  REMEDIATION_STATES,
} from '../core/remediation/remediation';
import { PIPEMEND_EVENT_SOURCE, VERDICT_DETAIL_TYPE } from '../core/scoring/verdict';

/** The first state: it keeps the trigger event under `$.event` and sets every path the record reads. */
export const REMEDIATION_START_STATE = 'Start';

// The state names are part of this construct's contract (the local runner and the replay address them).
export { APPROVAL_DENIED_ERROR, REMEDIATION_STATES };

/** A deployment's health signal: the alarm that says whether what a pipeline stage deployed is healthy. */
export interface HealthAlarm {
  readonly pipelineName: string;
  /** The stage that deploys; rolled back when the alarm fires. */
  readonly stageName: string;
  readonly alarmName: string;
}

export interface RemediationProps {
  /** Pipemend's bus, which carries the `Pipemend Build Verdict` events. */
  readonly bus: events.IEventBus;
  /** Where suggestions, approvals, escalations and outcomes are published. */
  readonly topic: sns.ITopic;
  /** The data lake: decision history under `remediations/`, labels under `labels/`, test history. */
  readonly dataLakeBucket: s3.IBucket;
  /** Key of the data lake, the topic and the remediation table. */
  readonly encryptionKey: kms.IKey;
  /**
   * CodeBuild projects Pipemend may rerun; IAM is scoped to them.
   * @default - the projects of the account and region tagged `pipemend:remediate` = `true`
   */
  readonly projects?: string[];
  /**
   * CodePipeline pipelines Pipemend may retry and roll back; IAM is scoped to them.
   * @default - the pipelines of the account and region tagged `pipemend:remediate` = `true`
   */
  readonly pipelines?: string[];
  /**
   * Mode of every scope without its own `mode#<scope>` item in the remediation table.
   * @default 'shadow'
   */
  readonly defaultMode?: RemediationMode;
  /**
   * Retry budgets and circuit breaker.
   * @default DEFAULT_GUARD_LIMITS (1 action per revision, 3 per hour, breaker after 3 failures for 6 hours)
   */
  readonly limits?: Partial<GuardLimits>;
  /**
   * Health alarms of deploying stages: an alarm going to ALARM proposes a rollback of its stage.
   * @default - none: rollbacks are never proposed
   */
  readonly healthAlarms?: HealthAlarm[];
  /**
   * Ask a human (task token via SNS, `pipemend approve|deny EXECUTION`) before every rollback.
   * @default true
   */
  readonly requireRollbackApproval?: boolean;
  /**
   * How long an approval may take before the rollback is escalated instead.
   * @default Duration.hours(4)
   */
  readonly approvalTimeout?: Duration;
  /**
   * How long a clean rerun of a CodeBuild build may take.
   * @default Duration.hours(2)
   */
  readonly rerunTimeout?: Duration;
  /**
   * Pause between checks of a retried or rolled-back pipeline execution.
   * @default Duration.minutes(1)
   */
  readonly pollInterval?: Duration;
  /**
   * Limit of one remediation, approval included.
   * @default Duration.hours(12)
   */
  readonly timeout?: Duration;
}

/**
 * Errors worth retrying on the Lambda tasks. `Lambda.*` names are what Step Functions reports when the Lambda
 * service refuses or fails the invocation (`Lambda.TooManyRequestsException` when the function is throttled);
 * the bare names are errors the function itself lets escape from the AWS SDK calls it makes.
 * `retryOnServiceExceptions` adds Lambda.ServiceException, Lambda.AWSLambdaException,
 * Lambda.SdkClientException and Lambda.ClientExecutionTimeoutException. See docs/aws-contracts.md.
 */
export const LAMBDA_TRANSIENT_ERRORS = [
  'Lambda.TooManyRequestsException',
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ServiceUnavailable',
  'InternalServerError',
  'TimeoutError',
];

/**
 * Errors of the optimized `codebuild:startBuild` integration that mean the build never started: throttling
 * (not in CodeBuild's API model, so it surfaces as the integration's base exception) and the account's
 * concurrent-build limit. See docs/aws-contracts.md.
 */
export const CODEBUILD_THROTTLING_ERRORS = [
  'CodeBuild.AccountLimitExceededException',
  'CodeBuild.AWSCodeBuildException',
  'CodeBuild.CodeBuildException',
];

/** StartBuild errors after which no build ran: the rerun did not happen and must not feed the breaker. */
export const CODEBUILD_NOT_STARTED_ERRORS = [
  ...CODEBUILD_THROTTLING_ERRORS,
  'CodeBuild.InvalidInputException',
  'CodeBuild.ResourceNotFoundException',
  'States.Permissions',
];

/**
 * Errors of the `aws-sdk:codepipeline` integration worth retrying: a busy pipeline, too many executions, and
 * throttling, which CodePipeline's API model does not declare and so surfaces as the SDK's base exception.
 */
export const CODEPIPELINE_TRANSIENT_ERRORS = [
  'CodePipeline.ConcurrentPipelineExecutionsLimitExceededException',
  'CodePipeline.ConflictException',
  'CodePipeline.CodePipelineException',
];

/**
 * The tag that opts a CodeBuild project or a CodePipeline pipeline in to remediation when no `projects` or
 * `pipelines` are configured: the state machine may only rerun, retry or roll back resources tagged
 * `pipemend:remediate` = `true` (an IAM `aws:ResourceTag` condition).
 */
export const REMEDIATE_TAG_KEY = 'pipemend:remediate';
export const REMEDIATE_TAG_VALUE = 'true';

/**
 * StartBuild overrides a clean rerun never needs, each denied by its CodeBuild condition key (the key is
 * present, i.e. `Null` is false, when the request sets the override): a rerun may not change what runs,
 * on which image, with which privileges or credentials.
 */
export const DENIED_START_BUILD_OVERRIDES = [
  'codebuild:source.buildspec',
  'codebuild:source.location',
  'codebuild:secondarySources',
  'codebuild:artifacts',
  'codebuild:secondaryArtifacts',
  'codebuild:environment.image',
  'codebuild:environment.type',
  'codebuild:environment.privilegedMode',
  'codebuild:environment.certificate',
  'codebuild:environment.registryCredential',
  'codebuild:environment.imagePullCredentialsType',
  'codebuild:serviceRole',
  'codebuild:encryptionKey',
  'codebuild:logsConfig',
];

/**
 * Remediation: a Step Functions state machine that classifies a failed or anomalous build, guards the
 * decision (modes, budgets, circuit breaker, one action per failure) and acts: a clean rerun, a stage
 * retry, a rollback after approval, or a notification, then records the outcome and its label.
 */
export class Remediation extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  /** Budgets, breakers, modes (`mode#<scope>`), decision summaries (`record#<id>`) and idempotency claims. */
  public readonly table: dynamodb.Table;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: RemediationProps) {
    super(scope, id);
    const limits = validateGuardLimits({ ...DEFAULT_GUARD_LIMITS, ...props.limits });
    const healthAlarms = props.healthAlarms ?? [];
    for (const alarm of healthAlarms) {
      if (!alarm.pipelineName || !alarm.stageName || !alarm.alarmName) {
        throw new Error('healthAlarms entries need pipelineName, stageName and alarmName');
      }
      if (props.pipelines?.length && !props.pipelines.includes(alarm.pipelineName)) {
        throw new Error(`healthAlarms names pipeline '${alarm.pipelineName}', which is not in pipelines`);
      }
    }
    const timeout = props.timeout ?? Duration.hours(12);
    const approvalTimeout = props.approvalTimeout ?? Duration.hours(4);
    if (approvalTimeout.toSeconds() >= timeout.toSeconds()) {
      throw new Error(
        `approvalTimeout (${approvalTimeout.toHumanString()}) must be shorter than timeout (${timeout.toHumanString()})`,
      );
    }
    const pollInterval = props.pollInterval ?? Duration.minutes(1);
    if (pollInterval.toSeconds() < 10) throw new Error('pollInterval must be at least 10 seconds');

    const stack = Stack.of(this);
    const projectArns = props.projects?.length
      ? props.projects.map((name) =>
          stack.formatArn({ service: 'codebuild', resource: 'project', resourceName: name }),
        )
      : // No project list configured: every project of this account and region is in scope.
        [stack.formatArn({ service: 'codebuild', resource: 'project', resourceName: '*' })];
    const pipelineArns = props.pipelines?.length
      ? props.pipelines.map((name) => stack.formatArn({ service: 'codepipeline', resource: name }))
      : // No pipeline list configured: every pipeline of this account and region is in scope.
        [stack.formatArn({ service: 'codepipeline', resource: '*' })];
    const alarmArns = healthAlarms.map((alarm) =>
      stack.formatArn({
        service: 'cloudwatch',
        resource: 'alarm',
        resourceName: alarm.alarmName,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    );

    this.table = new dynamodb.Table(this, 'State', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.encryptionKey,
      timeToLiveAttribute: 'expiresAt',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const classify = new PipemendFunction(this, 'Classify', {
      handlerDir: 'classify',
      description: 'Pipemend remediation: classify a failed or anomalous build into one action',
      timeout: Duration.seconds(60),
      memorySize: 512,
      encryptionKey: props.encryptionKey,
      environment: {
        DATA_LAKE_BUCKET: props.dataLakeBucket.bucketName,
        HEALTH_ALARMS: JSON.stringify(healthAlarms),
        // Builds this role starts are Pipemend's own reruns; CodeBuild reports them as `<role>/<session>`.
        OWN_INITIATOR_PREFIXES: '',
      },
    });
    const guard = new PipemendFunction(this, 'Guard', {
      handlerDir: 'guard',
      description: 'Pipemend remediation: modes, retry budgets, circuit breaker, one action per failure',
      encryptionKey: props.encryptionKey,
      environment: {
        REMEDIATION_TABLE: this.table.tableName,
        DEFAULT_MODE: props.defaultMode ?? 'shadow',
        MAX_ACTIONS_PER_REVISION: String(limits.maxActionsPerRevision),
        MAX_ACTIONS_PER_WINDOW: String(limits.maxActionsPerWindow),
        BUDGET_WINDOW_SECONDS: String(limits.windowSeconds),
        BREAKER_THRESHOLD: String(limits.breakerThreshold),
        BREAKER_COOLDOWN_SECONDS: String(limits.breakerCooldownSeconds),
      },
    });
    const pipelineTarget = new PipemendFunction(this, 'PipelineTarget', {
      handlerDir: 'pipeline-target',
      description: 'Pipemend remediation: find the execution to retry or roll back to, and watch it',
      encryptionKey: props.encryptionKey,
    });
    const recordOutcome = new PipemendFunction(this, 'RecordOutcome', {
      handlerDir: 'record-outcome',
      description: 'Pipemend remediation: decision record, circuit breaker, outcome label',
      encryptionKey: props.encryptionKey,
      environment: {
        REMEDIATION_TABLE: this.table.tableName,
        DATA_LAKE_BUCKET: props.dataLakeBucket.bucketName,
      },
    });
    this.grantClassify(classify, props, projectArns, pipelineArns, alarmArns);
    for (const fn of [guard, recordOutcome]) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
          resources: [this.table.tableArn],
        }),
      );
      fn.addToRolePolicy(
        this.keyUse(props.encryptionKey, [
          'kms:Decrypt',
          'kms:DescribeKey',
          'kms:Encrypt',
          'kms:GenerateDataKey',
        ]),
      );
    }
    recordOutcome.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        resources: [
          props.dataLakeBucket.arnForObjects('remediations/*'),
          props.dataLakeBucket.arnForObjects('labels/*'),
        ],
      }),
    );
    pipelineTarget.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'codepipeline:GetPipeline',
          'codepipeline:GetPipelineState',
          'codepipeline:GetPipelineExecution',
          'codepipeline:ListPipelineExecutions',
        ],
        resources: pipelineArns,
      }),
    );
    if (alarmArns.length > 0) {
      pipelineTarget.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['cloudwatch:DescribeAlarms'], resources: alarmArns }),
      );
    }

    // Execution data holds raw CodeBuild events (PLAINTEXT environment values), log lines and approval
    // task tokens: the log records state transitions and errors only, never the data.
    this.logGroup = new logs.LogGroup(this, 'StateMachineLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // States get their own scope: their ids are the state names, which may repeat construct ids above.
    const definition = new RemediationDefinition(new Construct(this, 'States'), {
      classify,
      guard,
      pipelineTarget,
      recordOutcome,
      topic: props.topic,
      projectArns: props.projects?.length ? projectArns : undefined,
      pipelineArns: props.pipelines?.length ? pipelineArns : undefined,
      approval: props.requireRollbackApproval ?? true,
      approvalTimeout,
      rerunTimeout: props.rerunTimeout ?? Duration.hours(2),
      pollInterval,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(definition.start),
      timeout,
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    definition.grant(this.stateMachine);
    classify.addEnvironment('OWN_INITIATOR_PREFIXES', `${this.stateMachine.role.roleName}/`);

    this.addRules(props, healthAlarms);
    this.acknowledgeFindings([classify, guard, pipelineTarget, recordOutcome], props, this.stateMachine);
  }

  private grantClassify(
    classify: PipemendFunction,
    props: RemediationProps,
    projectArns: string[],
    pipelineArns: string[],
    alarmArns: string[],
  ): void {
    const stack = Stack.of(this);
    classify.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['codebuild:BatchGetBuilds'], resources: projectArns }),
    );
    classify.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['codebuild:DescribeTestCases'],
        // Report groups are named by each project's buildspec, so they cannot be listed here.
        resources: [stack.formatArn({ service: 'codebuild', resource: 'report-group', resourceName: '*' })],
      }),
    );
    classify.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['logs:GetLogEvents'],
        resources: (props.projects?.length ? props.projects : ['*']).map((project) =>
          // CodeBuild's default log group per project; `*` when every project is watched.
          stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: `/aws/codebuild/${project}:log-stream:*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ),
      }),
    );
    classify.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['codepipeline:ListActionExecutions', 'codepipeline:GetPipelineState'],
        resources: pipelineArns,
      }),
    );
    if (alarmArns.length > 0) {
      classify.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['cloudwatch:DescribeAlarms'], resources: alarmArns }),
      );
    }
    classify.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [props.dataLakeBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': ['test-history/*'] } },
      }),
    );
    classify.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [props.dataLakeBucket.arnForObjects('test-history/*')],
      }),
    );
    classify.addToRolePolicy(this.keyUse(props.encryptionKey, ['kms:Decrypt', 'kms:GenerateDataKey']));
  }

  private keyUse(key: kms.IKey, actions: string[]): iam.PolicyStatement {
    return new iam.PolicyStatement({ actions, resources: [key.keyArn] });
  }

  /** cdk-nag findings that are deliberate, acknowledged on the narrowest construct with the reason. */
  private acknowledgeFindings(
    functions: readonly PipemendFunction[],
    props: RemediationProps,
    stateMachine: sfn.StateMachine,
  ): void {
    const stack = Stack.of(this);
    const bucketToken = stack.resolve(
      stack.getLogicalId(props.dataLakeBucket.node.defaultChild as s3.CfnBucket),
    ) as string;
    const everyProject = !props.projects?.length;
    const everyPipeline = !props.pipelines?.length;
    const scopeAcknowledgements = [
      ...(everyProject
        ? [
            {
              id: 'AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:codebuild:<AWS::Region>:<AWS::AccountId>:project/*]',
              reason:
                'No projects are configured: builds of any project may be read, and only projects tagged pipemend:remediate=true may be rerun (aws:ResourceTag condition).',
            },
          ]
        : []),
      ...(everyPipeline
        ? [
            {
              id: 'AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:codepipeline:<AWS::Region>:<AWS::AccountId>:*]',
              reason:
                'No pipelines are configured: any pipeline may be read, and only pipelines tagged pipemend:remediate=true may be retried or rolled back (aws:ResourceTag condition).',
            },
          ]
        : []),
    ];
    for (const fn of functions) {
      const policy = fn.role?.node.tryFindChild('DefaultPolicy');
      if (policy) {
        Validations.of(policy).acknowledge(
          {
            id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
            reason: 'X-Ray trace upload has no resource-level permissions.',
          },
          ...scopeAcknowledgements,
        );
      }
    }
    const [classify, , , recordOutcome] = functions;
    const classifyPolicy = classify?.role?.node.tryFindChild('DefaultPolicy');
    if (classifyPolicy) {
      Validations.of(classifyPolicy).acknowledge(
        {
          id: 'AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:codebuild:<AWS::Region>:<AWS::AccountId>:report-group/*]',
          reason: 'Test reports may belong to any report group (named freely in buildspecs); read-only.',
        },
        {
          id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${bucketToken}.Arn>/test-history/*]`,
          reason: 'One test-history object per build; keys are only known at run time.',
        },
        ...(props.projects?.length ? props.projects : ['*']).map((project) => ({
          id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/codebuild/${project}:log-stream:*]`,
          reason:
            'Each build writes its own log stream in its project log group; streams are named at run time.',
        })),
      );
    }
    const recordPolicy = recordOutcome?.role?.node.tryFindChild('DefaultPolicy');
    if (recordPolicy) {
      Validations.of(recordPolicy).acknowledge(
        ...['remediations', 'labels'].map((prefix) => ({
          id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${bucketToken}.Arn>/${prefix}/*]`,
          reason: `One object per remediation under ${prefix}/; keys are only known at run time.`,
        })),
      );
    }
    const machinePolicy = stateMachine.role.node.tryFindChild('DefaultPolicy');
    if (machinePolicy) {
      Validations.of(machinePolicy).acknowledge(
        {
          id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
          reason:
            'X-Ray tracing and CloudWatch Logs delivery for Step Functions have no resource-level permissions.',
        },
        {
          id: 'AwsSolutions::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
          reason:
            'Publishing to the KMS-encrypted notification topic needs a data key from its key (granted by the topic).',
        },
        ...functions.map((fn) => ({
          id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${stack.resolve(stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)) as string}.Arn>:*]`,
          reason: 'Invoking the versions and aliases of this one function.',
        })),
        ...(props.pipelines ?? []).map((pipeline) => ({
          id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:codepipeline:<AWS::Region>:<AWS::AccountId>:${pipeline}/*]`,
          reason:
            'RetryStageExecution acts on the stage resource (<pipeline>/<stage>) of this configured pipeline; the failed stage is only known at run time.',
        })),
        ...scopeAcknowledgements,
      );
    }
  }

  private addRules(props: RemediationProps, healthAlarms: readonly HealthAlarm[]): void {
    const deadLetterQueue = new DeadLetterQueue(this, 'TriggerDlq');
    const target = new targets.SfnStateMachine(this.stateMachine, {
      deadLetterQueue,
      retryAttempts: 10,
      maxEventAge: Duration.hours(6),
    });
    new events.Rule(this, 'OnVerdict', {
      description: 'Pipemend verdicts start remediation',
      eventBus: props.bus,
      eventPattern: { source: [PIPEMEND_EVENT_SOURCE], detailType: [VERDICT_DETAIL_TYPE] },
      targets: [target],
    });
    new events.Rule(this, 'OnFailedBuild', {
      description: 'Failed CodeBuild builds start remediation',
      eventPattern: {
        source: ['aws.codebuild'],
        detailType: ['CodeBuild Build State Change'],
        detail: {
          'build-status': ['FAILED'],
          ...(props.projects?.length ? { 'project-name': props.projects } : {}),
        },
      },
      targets: [target],
    });
    new events.Rule(this, 'OnFailedStage', {
      description: 'Failed CodePipeline stages start remediation',
      eventPattern: {
        source: ['aws.codepipeline'],
        detailType: ['CodePipeline Stage Execution State Change'],
        detail: { state: ['FAILED'], ...(props.pipelines?.length ? { pipeline: props.pipelines } : {}) },
      },
      targets: [target],
    });
    if (healthAlarms.length > 0) {
      new events.Rule(this, 'OnHealthAlarm', {
        description: 'Deployment health alarms start remediation',
        eventPattern: {
          source: ['aws.cloudwatch'],
          detailType: ['CloudWatch Alarm State Change'],
          detail: { alarmName: healthAlarms.map((alarm) => alarm.alarmName), state: { value: ['ALARM'] } },
        },
        targets: [target],
      });
    }
  }
}

interface DefinitionProps {
  readonly classify: PipemendFunction;
  readonly guard: PipemendFunction;
  readonly pipelineTarget: PipemendFunction;
  readonly recordOutcome: PipemendFunction;
  readonly topic: sns.ITopic;
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
class RemediationDefinition {
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

    const publish = new tasks.SnsPublish(scope, REMEDIATION_STATES.publish, {
      topic: props.topic,
      subject: sfn.JsonPath.stringAt('$.recorded.subject'),
      message: sfn.TaskInput.fromJsonPathAt('$.recorded.message'),
      resultPath: sfn.JsonPath.DISCARD,
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

  private retrySns(task: sfn.TaskStateBase): void {
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

    const approval = new tasks.SnsPublish(scope, REMEDIATION_STATES.requestApproval, {
      topic: props.topic,
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      subject: 'Pipemend: approve a rollback?',
      message: sfn.TaskInput.fromObject({
        kind: 'rollback-approval-request',
        executionArn: sfn.JsonPath.executionId,
        taskToken: sfn.JsonPath.taskToken,
        answer: sfn.JsonPath.format(
          'pipemend approve {}   or   pipemend deny {}',
          sfn.JsonPath.executionId,
          sfn.JsonPath.executionId,
        ),
        decision: sfn.JsonPath.objectAt('$.classification.decision'),
        target: sfn.JsonPath.objectAt('$.classification.target'),
      }),
      taskTimeout: sfn.Timeout.duration(props.approvalTimeout),
      resultPath: '$.approval',
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
    return approval.next(act);
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
