import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';

import { AnomalyScoreAlarm } from './anomaly-score-alarm';
import { BuildCollection } from './build-collection';
import { BuildScoring } from './build-scoring';
import { CompactedFeatures } from './compaction';
import { PipemendConfig } from './config';
import { DataLake } from './data-lake';
import { EmbeddedTraining } from './embedded-training';
import { FixSuggestions } from './fix-suggestions';
import { ModelEndpoint } from './model-endpoint';
import { OperationalAlarms } from './operational-alarms';
import { PipemendEvents } from './pipemend-events';
import { Remediation } from './remediation';
import { TrainingPipeline } from './training-pipeline';

/**
 * With `trainingSource: 'compacted'`, days the per-build feature CSVs are kept: the scorer's cold-start
 * baseline reads up to 30 days of them (the trainers and the drift check read the compacted table).
 */
export const PER_BUILD_FEATURES_DAYS_WHEN_COMPACTED = 35;

export interface PipemendStackProps extends StackProps {
  readonly config: PipemendConfig;
}

/** Wires Pipemend's capabilities together; each capability is its own construct. */
export class PipemendStack extends Stack {
  /** The configuration the stack was built with (defaults filled in). */
  public readonly config: PipemendConfig;
  public readonly dataLake: DataLake;
  public readonly events: PipemendEvents;
  public readonly collection: BuildCollection;
  /** The Glue table of the compacted (daily Parquet) feature rows; see docs/data-lake.md. */
  public readonly compactedFeatures: CompactedFeatures;
  public readonly scoring: BuildScoring;
  public readonly anomalyAlarm: AnomalyScoreAlarm;
  public readonly remediation: Remediation;
  public readonly fixSuggestions: FixSuggestions;
  /** `scorer: 'endpoint'`: the SageMaker training pipeline and the endpoint it deploys to. */
  public readonly trainingPipeline?: TrainingPipeline;
  public readonly modelEndpoint?: ModelEndpoint;
  /** `scorer: 'embedded'`: Pipemend's own RCF trained by a Lambda, no endpoint. */
  public readonly embeddedTraining?: EmbeddedTraining;
  /** Alarms on every dead-letter queue and every failure, and the health dashboard. Created last. */
  public readonly operationalAlarms: OperationalAlarms;

  constructor(scope: Construct, id: string, props: PipemendStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.config = config;
    // Every physical name derives from the stack name, so two installations (say staging and
    // production) live side by side in one account and region. 'Pipemend' keeps the names it always had.
    const endpointName = config.endpointName ?? `${this.stackName.toLowerCase()}-rcf`;
    this.dataLake = new DataLake(this, 'DataLake');
    this.events = new PipemendEvents(this, 'Events', {
      encryptionKey: this.dataLake.key,
      notificationEmail: config.notificationEmail,
    });
    this.collection = new BuildCollection(this, 'Collection', {
      dataLake: this.dataLake,
      projects: config.projects,
      pipelines: config.pipelines,
    });
    const compactedTraining = config.trainingSource === 'compacted';
    this.compactedFeatures = new CompactedFeatures(this, 'CompactedFeatures', {
      dataLake: this.dataLake,
      // Once training reads the compacted table: the scorer's cold-start baseline reads 30 days of CSVs.
      perBuildFeaturesExpireAfterDays: compactedTraining ? PER_BUILD_FEATURES_DAYS_WHEN_COMPACTED : undefined,
    });
    this.compactedFeatures.connectCollector(this.collection.collector);
    this.scoring = new BuildScoring(this, 'Scoring', {
      dataLake: this.dataLake,
      eventBus: this.events.bus,
      modelKind: config.scorer,
      endpointName: config.scorer === 'endpoint' ? endpointName : undefined,
      projects: config.projects,
      pipelines: config.pipelines,
      trend: config.trend,
    });
    if (config.scorer === 'endpoint') {
      const instanceType = config.endpointInstanceType ?? 'ml.t2.medium';
      this.trainingPipeline = new TrainingPipeline(this, 'TrainingPipeline', {
        dataLake: this.dataLake,
        endpointName,
        inferenceInstanceTypes: [instanceType],
        approval: config.trainingApproval,
        windowDays: config.trainingWindowDays,
        compacted: compactedTraining ? this.compactedFeatures : undefined,
      });
      this.modelEndpoint = new ModelEndpoint(this, 'ModelEndpoint', {
        dataLake: this.dataLake,
        endpointName,
        modelPackageGroupName: this.trainingPipeline.modelPackageGroupName,
        instanceType,
        autoscaling: config.endpointAutoscaling,
      });
    } else {
      this.embeddedTraining = new EmbeddedTraining(this, 'EmbeddedTraining', {
        dataLake: this.dataLake,
        windowDays: config.trainingWindowDays,
        compacted: compactedTraining ? this.compactedFeatures : undefined,
      });
    }
    this.anomalyAlarm = new AnomalyScoreAlarm(this, 'AnomalyAlarm', { topic: this.events.topic });
    this.remediation = new Remediation(this, 'Remediation', {
      bus: this.events.bus,
      topic: this.events.topic,
      dataLakeBucket: this.dataLake.bucket,
      encryptionKey: this.dataLake.key,
      projects: config.projects,
      pipelines: config.pipelines,
      defaultMode: config.defaultMode,
      healthAlarms: config.healthAlarms,
      requireRollbackApproval: config.requireRollbackApproval,
      limits: config.remediationLimits,
      owners: config.owners,
    });
    this.fixSuggestions = new FixSuggestions(this, 'FixSuggestions', {
      dataLake: this.dataLake,
      events: this.events,
      bedrockModelId: config.bedrockModelId,
      bedrockGuardrail: config.bedrockGuardrailId
        ? { id: config.bedrockGuardrailId, version: config.bedrockGuardrailVersion ?? '' }
        : undefined,
      projects: config.projects,
    });
    // Last: it alarms on every queue of the stack, and refuses to synthesize if one is created after it.
    this.operationalAlarms = new OperationalAlarms(this, 'OperationalAlarms', {
      topic: this.events.topic,
      stateMachine: this.remediation.stateMachine,
      trainingPipelineName: this.trainingPipeline?.pipeline.pipelineName,
      trainer: this.embeddedTraining?.trainer,
      notificationDigest: this.remediation.digest.function,
      additionalAlarms: [this.anomalyAlarm.alarm],
    });
    this.addOutputs();
  }

  /**
   * What a user needs next, under stable output names, each exported as `<stack name>-<output>` so other
   * stacks can import it and the `pipemend` CLI finds it from the stack name.
   */
  private addOutputs(): void {
    const outputs: Record<string, { value: string; description: string }> = {
      ScorerFunctionArn: {
        value: this.scoring.scorer.functionArn,
        description: 'The scorer function: give it to BuildScoringAction in your pipeline stacks',
      },
      DataLakeBucketName: {
        value: this.dataLake.bucket.bucketName,
        description: 'The data-lake bucket (pipemend backfill --bucket)',
      },
      NotificationTopicArn: {
        value: this.events.topic.topicArn,
        description: 'Verdicts, suggestions, approvals and alarms: subscribe your team here',
      },
      EventBusName: {
        value: this.events.bus.eventBusName,
        description: "Pipemend's event bus: build verdicts and suggestions as events",
      },
      RemediationStateMachineArn: {
        value: this.remediation.stateMachine.stateMachineArn,
        description: 'The remediation state machine (pipemend approve|deny take its execution ARNs)',
      },
      DefaultRemediationMode: {
        value: this.config.defaultMode,
        description: 'The remediation mode of pipelines and projects without their own (pipemend mode set)',
      },
      FeatureStreamName: {
        value: this.compactedFeatures.deliveryStreamName,
        description:
          "The compacted feature table's Firehose stream (pipemend backfill delivers history into it)",
      },
      RemediationStateTableName: {
        value: this.remediation.table.tableName,
        description: 'Remediation modes, budgets, breakers and records (pipemend remediation-status --table)',
      },
    };
    for (const [name, { value, description }] of Object.entries(outputs)) {
      new CfnOutput(this, name, { value, description, exportName: `${this.stackName}-${name}` });
    }
  }
}
