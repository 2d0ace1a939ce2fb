import { Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';

import { AnomalyScoreAlarm } from './anomaly-score-alarm';
import { BuildCollection } from './build-collection';
import { BuildScoring } from './build-scoring';
import { PipemendConfig } from './config';
import { DataLake } from './data-lake';
import { EmbeddedTraining } from './embedded-training';
import { FixSuggestions } from './fix-suggestions';
import { ModelEndpoint } from './model-endpoint';
import { PipemendEvents } from './pipemend-events';
import { Remediation } from './remediation';
import { TrainingPipeline } from './training-pipeline';

export interface PipemendStackProps extends StackProps {
  readonly config: PipemendConfig;
}

/** Wires Pipemend's capabilities together; each capability is its own construct. */
export class PipemendStack extends Stack {
  public readonly dataLake: DataLake;
  public readonly events: PipemendEvents;
  public readonly collection: BuildCollection;
  public readonly scoring: BuildScoring;
  public readonly anomalyAlarm: AnomalyScoreAlarm;
  public readonly remediation: Remediation;
  public readonly fixSuggestions: FixSuggestions;
  /** `scorer: 'endpoint'`: the SageMaker training pipeline and the endpoint it deploys to. */
  public readonly trainingPipeline?: TrainingPipeline;
  public readonly modelEndpoint?: ModelEndpoint;
  /** `scorer: 'embedded'`: Pipemend's own RCF trained by a Lambda, no endpoint. */
  public readonly embeddedTraining?: EmbeddedTraining;

  constructor(scope: Construct, id: string, props: PipemendStackProps) {
    super(scope, id, props);
    const { config } = props;
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
    this.scoring = new BuildScoring(this, 'Scoring', {
      dataLake: this.dataLake,
      eventBus: this.events.bus,
      modelKind: config.scorer,
      endpointName: config.scorer === 'endpoint' ? config.endpointName : undefined,
      projects: config.projects,
    });
    if (config.scorer === 'endpoint') {
      const instanceType = config.endpointInstanceType ?? 'ml.t2.medium';
      const { endpointName } = config;
      this.trainingPipeline = new TrainingPipeline(this, 'TrainingPipeline', {
        dataLake: this.dataLake,
        endpointName,
        inferenceInstanceTypes: [instanceType],
        approval: config.trainingApproval,
        windowDays: config.trainingWindowDays,
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
  }
}
