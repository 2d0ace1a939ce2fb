import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';

import { CompactedFeatures } from './compaction';
import { DataLake } from './data-lake';
import { DeadLetterQueue } from './dead-letter-queue';
import { PipemendFunction } from './pipemend-function';
import { acknowledgeTrainingFunction, grantDataLakePrefixes } from './training-access';

/** What a retraining starts: the SageMaker pipeline, or the embedded trainer Lambda. */
export type RetrainingTarget =
  | {
      readonly kind: 'pipeline';
      /** Builds the Scheduler target with the role and dead-letter queue of these triggers. */
      readonly target: (options: targets.ScheduleTargetBaseProps) => scheduler.IScheduleTarget;
      readonly pipelineName: string;
      readonly pipelineArn: string;
    }
  | { readonly kind: 'embedded'; readonly trainer: lambda.IFunction };

export interface RetrainingTriggersProps {
  readonly dataLake: DataLake;
  readonly retraining: RetrainingTarget;
  /**
   * When the scheduled retraining runs.
   * @default - weekly, Mondays 03:00 UTC
   */
  readonly schedule?: scheduler.ScheduleExpression;
  /**
   * When the drift check runs.
   * @default - daily, 05:00 UTC
   */
  readonly driftCheckSchedule?: scheduler.ScheduleExpression;
  /**
   * Shift of a project's recent median, in robust standard deviations, that counts as drift.
   * @default 1.5
   */
  readonly driftShiftThreshold?: number;
  /**
   * Read the drift check's recent builds from this compacted table through Athena, as the trainers read
   * their window, instead of the per-build feature CSVs.
   * @default - the per-build CSVs
   */
  readonly compacted?: CompactedFeatures;
}

/**
 * Keeps the model current: an EventBridge Scheduler schedule retrains weekly, and a daily drift check
 * retrains early when recent builds moved away from the model's baselines.
 */
export class RetrainingTriggers extends Construct {
  public readonly schedule: scheduler.Schedule;
  public readonly driftCheck: PipemendFunction;
  public readonly driftSchedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: RetrainingTriggersProps) {
    super(scope, id);
    const threshold = props.driftShiftThreshold ?? 1.5;
    if (!(threshold > 0)) throw new Error(`driftShiftThreshold must be positive, got ${threshold}`);
    const deadLetterQueue = new DeadLetterQueue(this, 'ScheduleDlq');
    // Our own role (not the targets' shared one) so its findings are acknowledged right here.
    const role = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'Pipemend: EventBridge Scheduler starting retraining and drift checks',
    });
    const targetOptions: targets.ScheduleTargetBaseProps = { role, deadLetterQueue, retryAttempts: 2 };
    const { retraining } = props;
    const retrainTarget =
      retraining.kind === 'pipeline'
        ? retraining.target(targetOptions)
        : new targets.LambdaInvoke(retraining.trainer, targetOptions);
    this.schedule = new scheduler.Schedule(this, 'Weekly', {
      description: 'Pipemend: retrain the anomaly model on the latest training window',
      schedule:
        props.schedule ?? scheduler.ScheduleExpression.cron({ minute: '0', hour: '3', weekDay: 'MON' }),
      target: retrainTarget,
    });

    this.driftCheck = new PipemendFunction(this, 'DriftCheck', {
      handlerDir: 'drift-check',
      description: "Pipemend: retrain when recent builds drift from the model's baselines",
      memorySize: 1024,
      timeout: Duration.minutes(5),
      encryptionKey: props.dataLake.key,
      environment: {
        DATA_LAKE_BUCKET: props.dataLake.bucket.bucketName,
        SHIFT_THRESHOLD: String(threshold),
        ...(retraining.kind === 'pipeline'
          ? { PIPELINE_NAME: retraining.pipelineName }
          : { TRAINER_FUNCTION_NAME: retraining.trainer.functionName }),
      },
    });
    // The current model's manifest, and the recent builds: per-build CSVs, or the compacted table.
    const prefixes = grantDataLakePrefixes(this.driftCheck, props.dataLake, {
      read: props.compacted ? ['models/'] : ['features/', 'models/'],
    });
    // Of its 5 minutes: up to 3 for Athena's UNLOAD of 7 days, the rest to read the sample.
    const compactedPrefixes =
      props.compacted?.grantWindowQuery(this.driftCheck, { athenaTimeout: Duration.minutes(3) }) ?? [];
    if (retraining.kind === 'pipeline') {
      this.driftCheck.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['sagemaker:StartPipelineExecution', 'sagemaker:ListPipelineExecutions'],
          resources: [retraining.pipelineArn],
        }),
      );
    } else {
      retraining.trainer.grantInvoke(this.driftCheck);
    }
    const granted = [...prefixes, ...compactedPrefixes];
    acknowledgeTrainingFunction(this.driftCheck, props.dataLake.bucket, granted, [
      ...(retraining.kind === 'embedded'
        ? [
            {
              id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${this.logicalIdOf(retraining.trainer)}.Arn>:*]`,
              reason:
                'Lambda grantInvoke covers the trainer function and its versions/aliases (":*"), nothing else.',
            },
          ]
        : []),
    ]);
    this.driftSchedule = new scheduler.Schedule(this, 'DailyDriftCheck', {
      description: 'Pipemend: compare recent builds with the model and retrain on drift',
      schedule: props.driftCheckSchedule ?? scheduler.ScheduleExpression.cron({ minute: '0', hour: '5' }),
      target: new targets.LambdaInvoke(this.driftCheck, targetOptions),
    });
    const invoked = [this.driftCheck, ...(retraining.kind === 'embedded' ? [retraining.trainer] : [])];
    Validations.of(role).acknowledge(
      ...invoked.map((fn) => ({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${this.logicalIdOf(fn)}.Arn>:*]`,
        reason: 'lambda:InvokeFunction on this function and its versions/aliases (":*"), nothing else.',
      })),
    );
  }

  private logicalIdOf(fn: lambda.IFunction): string {
    const stack = fn.stack;
    return stack.resolve(stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)) as string;
  }
}
