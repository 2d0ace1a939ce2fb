import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct, IConstruct } from 'constructs';

import { PROJECT_DIMENSION, SCORING_ERRORS_METRIC } from '../core/scoring/scoring-metrics';

/** The namespace of the shared Powertools metrics (lambda/shared/powertools.ts). */
const NAMESPACE = 'Pipemend';
/** Where SageMaker Pipelines publishes its execution metrics, per `PipelineName`. */
export const SAGEMAKER_PIPELINE_NAMESPACE = 'AWS/Sagemaker/ModelBuildingPipeline';

export interface OperationalAlarmsProps {
  /** Notified when an alarm fires and when it clears. */
  readonly topic: sns.ITopic;
  /**
   * Dead-letter queues to watch.
   * @default - every `sqs.Queue` in the stack; synthesis fails if one is created after this construct
   */
  readonly deadLetterQueues?: readonly sqs.IQueue[];
  /**
   * The remediation state machine: its failed, timed-out and aborted executions.
   * @default - no state machine alarms
   */
  readonly stateMachine?: sfn.IStateMachine;
  /**
   * Name of the SageMaker training pipeline (`scorer: 'endpoint'`): its failed executions.
   * @default - no SageMaker pipeline alarm
   */
  readonly trainingPipelineName?: string;
  /**
   * The embedded trainer (`scorer: 'embedded'`): its failed invocations.
   * @default - no trainer alarm
   */
  readonly trainer?: lambda.IFunction;
  /**
   * The daily notification digest: its failed runs (a digest not sent, or not sent to every topic).
   * @default - no digest alarm
   */
  readonly notificationDigest?: lambda.IFunction;
  /**
   * Alarm on the scorer's `ScoringErrors` (builds a pipeline action could not score).
   * @default true
   */
  readonly scoringErrors?: boolean;
  /**
   * Other alarms shown on the health dashboard (they keep their own actions).
   * @default - none
   */
  readonly additionalAlarms?: readonly cloudwatch.IAlarm[];
  /**
   * Length of one evaluation period; every alarm fires on the first breaching period.
   * @default Duration.minutes(5)
   */
  readonly period?: Duration;
  /**
   * Name of the health dashboard.
   * @default - `<stack name>-health`, so that two Pipemend stacks in one account do not collide
   */
  readonly dashboardName?: string;
}

/**
 * Pipemend never fails silently: an alarm (notifying the topic) on every dead-letter queue that holds a
 * message, on the remediation state machine's failed, timed-out and aborted executions, on failed training
 * (SageMaker pipeline or embedded trainer), on the daily notification digest's failed runs and on the
 * scorer's `ScoringErrors`, all on one dashboard.
 */
export class OperationalAlarms extends Construct {
  /** One alarm per dead-letter queue, by the queue's construct path. */
  public readonly deadLetterAlarms: ReadonlyMap<string, cloudwatch.Alarm>;
  /** Every alarm this construct created. */
  public readonly alarms: readonly cloudwatch.Alarm[];
  public readonly dashboard: cloudwatch.Dashboard;

  private readonly topic: sns.ITopic;
  private readonly period: Duration;
  private readonly created: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: OperationalAlarmsProps) {
    super(scope, id);
    this.topic = props.topic;
    this.period = props.period ?? Duration.minutes(5);
    if (this.period.toSeconds() < 60 || this.period.toSeconds() % 60 !== 0) {
      throw new Error(`period must be a whole number of minutes, got ${this.period.toHumanString()}`);
    }
    const stack = Stack.of(this);
    const dashboardName = props.dashboardName ?? `${stack.stackName}-health`;
    if (!/^[A-Za-z0-9_-]{1,255}$/.test(dashboardName)) {
      throw new Error(`dashboardName '${dashboardName}' may hold only letters, digits, '-' and '_'`);
    }

    const queues = props.deadLetterQueues ?? queuesIn(stack);
    const deadLetterAlarms = new Map<string, cloudwatch.Alarm>();
    for (const queue of queues) {
      const path = queue.node.path;
      deadLetterAlarms.set(
        path,
        this.alarm(`DeadLetters${path.replace(/[^A-Za-z0-9]/g, '')}`, {
          description: `Pipemend: undeliverable messages in ${path}. Fix the cause, then replay them: pipemend redrive --queue <its name>`,
          metric: queue.metricApproximateNumberOfMessagesVisible({
            statistic: cloudwatch.Stats.MAXIMUM,
            period: this.period,
          }),
        }),
      );
    }
    this.deadLetterAlarms = deadLetterAlarms;
    if (!props.deadLetterQueues) {
      // A queue created after this construct would have no alarm: refuse to synthesize rather than miss it.
      this.node.addValidation({
        validate: () =>
          queuesIn(stack)
            .filter((queue) => !deadLetterAlarms.has(queue.node.path))
            .map(
              (queue) =>
                `${queue.node.path} has no alarm: create OperationalAlarms after every queue of the stack`,
            ),
      });
    }

    if (props.stateMachine) {
      const machine = props.stateMachine;
      const options = { statistic: cloudwatch.Stats.SUM, period: this.period };
      this.alarm('RemediationFailed', {
        description: 'Pipemend: a remediation execution failed',
        metric: machine.metricFailed(options),
      });
      this.alarm('RemediationTimedOut', {
        description: 'Pipemend: a remediation execution timed out',
        metric: machine.metricTimedOut(options),
      });
      this.alarm('RemediationAborted', {
        description: 'Pipemend: a remediation execution was aborted',
        metric: machine.metricAborted(options),
      });
    }
    if (props.trainingPipelineName) {
      this.alarm('TrainingPipelineFailed', {
        description: `Pipemend: an execution of the SageMaker training pipeline ${props.trainingPipelineName} failed`,
        metric: new cloudwatch.Metric({
          namespace: SAGEMAKER_PIPELINE_NAMESPACE,
          metricName: 'ExecutionFailed',
          dimensionsMap: { PipelineName: props.trainingPipelineName },
          statistic: cloudwatch.Stats.SUM,
          period: this.period,
        }),
      });
    }
    if (props.trainer) {
      this.alarm('TrainerFailed', {
        description: 'Pipemend: the embedded trainer failed (its failed events go to its dead-letter queue)',
        metric: props.trainer.metricErrors({ statistic: cloudwatch.Stats.SUM, period: this.period }),
      });
    }
    if (props.notificationDigest) {
      this.alarm('NotificationDigestFailed', {
        description:
          'Pipemend: the daily digest of repeated failures was not sent to every topic (its log names them; it resends only what is missing when invoked with {"day": "YYYY-MM-DD"})',
        metric: props.notificationDigest.metricErrors({
          statistic: cloudwatch.Stats.SUM,
          period: this.period,
        }),
      });
    }
    if (props.scoringErrors ?? true) {
      this.alarm('ScoringErrors', {
        description: 'Pipemend: builds could not be scored (model unavailable, malformed answer, no record)',
        // Powertools adds `service`; the scorer adds `project`. One series: the sum over every project.
        metric: new cloudwatch.MathExpression({
          expression: `SELECT SUM(${SCORING_ERRORS_METRIC}) FROM SCHEMA("${NAMESPACE}", ${PROJECT_DIMENSION}, service)`,
          label: 'Builds that could not be scored, every project',
          usingMetrics: {},
          period: this.period,
        }),
      });
    }
    this.alarms = [...this.created];

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName,
      widgets: [
        [
          new cloudwatch.TextWidget({
            markdown:
              '# Pipemend health\nEvery alarm here notifies the Pipemend topic. A dead-letter queue alarm means events were not processed: fix the cause, then `pipemend redrive --queue <name>`.',
            width: 24,
            height: 2,
          }),
        ],
        [
          new cloudwatch.AlarmStatusWidget({
            title: 'Pipemend health',
            alarms: [...this.created, ...(props.additionalAlarms ?? [])],
            width: 24,
            height: Math.max(
              3,
              Math.ceil((this.created.length + (props.additionalAlarms?.length ?? 0)) / 4) + 1,
            ),
          }),
        ],
      ],
    });
  }

  private alarm(id: string, options: { description: string; metric: cloudwatch.IMetric }): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmDescription: options.description,
      metric: options.metric,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new cloudwatchActions.SnsAction(this.topic));
    alarm.addOkAction(new cloudwatchActions.SnsAction(this.topic));
    this.created.push(alarm);
    return alarm;
  }
}

/** Every SQS queue in the stack (each one is a dead-letter queue in Pipemend). */
function queuesIn(stack: Stack): sqs.Queue[] {
  return stack.node.findAll().filter((c: IConstruct): c is sqs.Queue => c instanceof sqs.Queue);
}
