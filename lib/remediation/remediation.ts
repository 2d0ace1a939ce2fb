import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

import { DEFAULT_GUARD_LIMITS, GuardLimits, validateGuardLimits } from '../../core/remediation/guards';
import { DIGEST_DAY_ATTRIBUTE, DIGEST_INDEX_NAME } from '../../core/remediation/notification-digest';
import { APPROVAL_DENIED_ERROR, REMEDIATION_STATES } from '../../core/remediation/remediation';
import { PIPEMEND_EVENT_SOURCE, VERDICT_DETAIL_TYPE } from '../../core/scoring/verdict';
import { RemediationMode } from '../config';
import { DeadLetterQueue } from '../dead-letter-queue';
import { NotificationDigest } from '../notification-digest';
import { NotificationOwner, NotificationOwners } from '../notification-owners';
import { PipemendFunction } from '../pipemend-function';
import { RemediationDefinition } from './workflow';
export { REMEDIATION_START_STATE } from './workflow';

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
  /**
   * Owners of projects and pipelines: their notifications, escalations and digests go to the owner's
   * topic instead of `topic`.
   * @default - none: everything goes to `topic`
   */
  readonly owners?: readonly NotificationOwner[];
  /**
   * When the digest of the previous UTC day's repeated failures is sent.
   * @default every day at 08:00 UTC
   */
  readonly digestSchedule?: scheduler.ScheduleExpression;
}

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
  /** The owners' topics (context `owners`). */
  public readonly owners: NotificationOwners;
  /** The daily digest of repeated failures (its function is watched by the operational alarms). */
  public readonly digest: NotificationDigest;

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
    // Sparse: only the daily digest items carry the day attribute.
    this.table.addGlobalSecondaryIndex({
      indexName: DIGEST_INDEX_NAME,
      partitionKey: { name: DIGEST_DAY_ATTRIBUTE, type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    this.owners = new NotificationOwners(this, 'Owners', {
      owners: props.owners ?? [],
      encryptionKey: props.encryptionKey,
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
        NOTIFICATION_TOPIC_ARN: props.topic.topicArn,
        OWNER_TOPICS: this.owners.ownerTopicsJson(),
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
          props.dataLakeBucket.arnForObjects('test-history/flaky/*'),
        ],
      }),
    );
    // A flaky test's object lists its rescues: each one is added by a conditional read-modify-write.
    recordOutcome.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [props.dataLakeBucket.arnForObjects('test-history/flaky/*')],
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
      owners: this.owners,
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

    this.digest = new NotificationDigest(this, 'Digest', {
      table: this.table,
      encryptionKey: props.encryptionKey,
      topic: props.topic,
      owners: this.owners,
      schedule: props.digestSchedule,
    });

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
        // quarantine/*: listing the project's file tells a missing one (no quarantine) from a denied read.
        conditions: { StringLike: { 's3:prefix': ['test-history/*', 'quarantine/*'] } },
      }),
    );
    classify.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [props.dataLakeBucket.arnForObjects('test-history/*')],
      }),
    );
    // The quarantine files (read only): a failure of quarantined tests alone pages nobody.
    classify.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [props.dataLakeBucket.arnForObjects('quarantine/*')],
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
        {
          id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${bucketToken}.Arn>/quarantine/*]`,
          reason:
            'One quarantine file per CodeBuild project, read only; projects are only known at run time.',
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
        ...['remediations', 'labels', 'test-history/flaky'].map((prefix) => ({
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
