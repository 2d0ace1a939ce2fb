import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

import { ANOMALY_SCORE_RATIO_METRIC, PROJECT_DIMENSION } from '../core/scoring/scoring-metrics';

/** The namespace of the shared Powertools metrics (lambda/shared/powertools.ts). */
const NAMESPACE = 'Pipemend';

export interface AnomalyScoreAlarmProps {
  /**
   * Project to watch.
   * @default - every project: the highest ratio of any project (a CloudWatch Metrics Insights query)
   */
  readonly projectName?: string;
  /**
   * Alarm when the anomaly score divided by its scorer's threshold exceeds this (1 = at the threshold).
   * @default 1
   */
  readonly threshold?: number;
  /**
   * Length of one evaluation period.
   * @default Duration.hours(1)
   */
  readonly period?: Duration;
  /**
   * Periods evaluated.
   * @default 3
   */
  readonly evaluationPeriods?: number;
  /**
   * Breaching periods among them that raise the alarm: anomalies that persist, not a single odd build.
   * @default 2
   */
  readonly datapointsToAlarm?: number;
  /**
   * Topic notified when the alarm fires and when it clears.
   * @default - no actions
   */
  readonly topic?: sns.ITopic;
}

/**
 * Alarms on the `AnomalyScore` the scorer emits, normalised by each verdict's threshold
 * (`AnomalyScoreRatio`) so that one threshold serves every scorer and project.
 */
export class AnomalyScoreAlarm extends Construct {
  public readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: AnomalyScoreAlarmProps = {}) {
    super(scope, id);
    const threshold = props.threshold ?? 1;
    const period = props.period ?? Duration.hours(1);
    const evaluationPeriods = props.evaluationPeriods ?? 3;
    const datapointsToAlarm = props.datapointsToAlarm ?? 2;
    if (!(threshold > 0)) throw new Error(`threshold must be positive, got ${threshold}`);
    if (!Number.isInteger(evaluationPeriods) || evaluationPeriods < 1) {
      throw new Error(`evaluationPeriods must be a positive integer, got ${evaluationPeriods}`);
    }
    if (
      !Number.isInteger(datapointsToAlarm) ||
      datapointsToAlarm < 1 ||
      datapointsToAlarm > evaluationPeriods
    ) {
      throw new Error(
        `datapointsToAlarm must be an integer from 1 to evaluationPeriods (${evaluationPeriods}), got ${datapointsToAlarm}`,
      );
    }
    if (props.projectName !== undefined && !/^[A-Za-z0-9][A-Za-z0-9\-_]{1,254}$/.test(props.projectName)) {
      throw new Error(`projectName '${props.projectName}' is not a valid CodeBuild project name`);
    }
    const metric: cloudwatch.IMetric = props.projectName
      ? new cloudwatch.Metric({
          namespace: NAMESPACE,
          metricName: ANOMALY_SCORE_RATIO_METRIC,
          // Powertools adds the `service` dimension to every metric it emits.
          dimensionsMap: { service: 'pipemend', [PROJECT_DIMENSION]: props.projectName },
          statistic: cloudwatch.Stats.MAXIMUM,
          period,
        })
      : new cloudwatch.MathExpression({
          expression: `SELECT MAX(${ANOMALY_SCORE_RATIO_METRIC}) FROM SCHEMA("${NAMESPACE}", ${PROJECT_DIMENSION}, service)`,
          label: 'Highest anomaly score / threshold of any project',
          usingMetrics: {},
          period,
        });
    this.alarm = new cloudwatch.Alarm(this, 'Alarm', {
      alarmDescription: props.projectName
        ? `Pipemend: builds of ${props.projectName} keep scoring above ${threshold} × their anomaly threshold`
        : `Pipemend: builds keep scoring above ${threshold} × their anomaly threshold`,
      metric,
      threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods,
      datapointsToAlarm,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.topic) {
      this.alarm.addAlarmAction(new cloudwatchActions.SnsAction(props.topic));
      this.alarm.addOkAction(new cloudwatchActions.SnsAction(props.topic));
    }
  }
}
