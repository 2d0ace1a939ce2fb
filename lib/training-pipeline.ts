import { Duration, Resource, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';

import { CompactedFeatures } from './compaction';
import { DataLake } from './data-lake';
import { PipemendFunction } from './pipemend-function';
import { randomCutForestImageUri } from './rcf-image';
import { RetrainingTriggers } from './retraining-triggers';
import {
  acknowledgeTrainingFunction,
  grantDataLakePrefixes,
  grantSagemakerLogWrites,
  prefixFindingId,
  sagemakerRole,
} from './training-access';
import {
  buildTrainingPipelineDefinition,
  ModelApprovalStatus,
  TrainingParameterDefaults,
} from '../sagemaker/pipeline/definition';

export type ModelApproval = 'automatic' | 'manual';

export interface TrainingPipelineProps {
  readonly dataLake: DataLake;
  /** Endpoint the registered versions are deployed to (written into each version's manifest). */
  readonly endpointName: string;
  /** Instance types the registered versions declare for real-time inference. */
  readonly inferenceInstanceTypes: readonly string[];
  /**
   * `automatic` registers no-worse versions as Approved (the deployer ships them at once); `manual` as
   * PendingManualApproval, for a person to approve in SageMaker Studio or with UpdateModelPackage.
   * @default 'manual'
   */
  readonly approval?: ModelApproval;
  /**
   * Days of build history a training window covers.
   * @default 90
   */
  readonly windowDays?: number;
  /**
   * Pipeline parameter defaults beyond the window (hyperparameters, instance types, minimums).
   * @default - 7 evaluation days, 500 rows, 20 builds per project, 100 trees of 256 samples, ml.m5.large, tolerance 0.02
   */
  readonly parameterDefaults?: Partial<Omit<TrainingParameterDefaults, 'windowDays' | 'modelApprovalStatus'>>;
  /**
   * When the scheduled retraining runs.
   * @default - weekly, Mondays 03:00 UTC
   */
  readonly schedule?: scheduler.ScheduleExpression;
  /**
   * Assemble the window from this compacted table through Athena (a stratified sample) instead of the
   * per-build feature CSVs.
   * @default - the per-build CSVs
   */
  readonly compacted?: CompactedFeatures;
}

/**
 * The SageMaker Pipelines training pipeline (window → built-in RCF training → batch-transform scoring of
 * recent builds → evaluation → register if no worse), its model package group, the roles it runs with,
 * and the weekly / drift retraining triggers.
 */
export class TrainingPipeline extends Construct {
  public readonly pipeline: sagemaker.CfnPipeline;
  public readonly modelPackageGroup: sagemaker.CfnModelPackageGroup;
  public readonly modelPackageGroupName: string;
  /** Role of the training job, the candidate model and the transform job. */
  public readonly executionRole: iam.Role;
  /** Role SageMaker Pipelines runs the steps with. */
  public readonly pipelineRole: iam.Role;
  public readonly windowFunction: PipemendFunction;
  public readonly evaluateFunction: PipemendFunction;
  public readonly triggers: RetrainingTriggers;
  public readonly rcfImageUri: string;

  constructor(scope: Construct, id: string, props: TrainingPipelineProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { dataLake } = props;
    const approvalStatus: ModelApprovalStatus =
      (props.approval ?? 'manual') === 'automatic' ? 'Approved' : 'PendingManualApproval';
    if (props.inferenceInstanceTypes.length === 0)
      throw new Error('inferenceInstanceTypes must name at least one instance type');

    this.rcfImageUri = randomCutForestImageUri(this);
    this.modelPackageGroupName = `${props.endpointName}-versions`;
    this.modelPackageGroup = new sagemaker.CfnModelPackageGroup(this, 'ModelPackageGroup', {
      modelPackageGroupName: this.modelPackageGroupName,
      modelPackageGroupDescription: 'Pipemend RCF model versions, with their evaluation metrics',
    });
    const groupArn = stack.formatArn({
      service: 'sagemaker',
      resource: 'model-package-group',
      resourceName: this.modelPackageGroupName.toLowerCase(),
    });
    const packagesArn = stack.formatArn({
      service: 'sagemaker',
      resource: 'model-package',
      resourceName: `${this.modelPackageGroupName.toLowerCase()}/*`,
    });

    this.executionRole = sagemakerRole(
      this,
      'ExecutionRole',
      'Pipemend: RCF training job, candidate model and batch transform',
    );
    const executionPrefixes = grantDataLakePrefixes(this.executionRole, dataLake, {
      read: ['training/'],
      write: ['training/'],
    });
    grantSagemakerLogWrites(this.executionRole, '/aws/sagemaker/*');
    this.executionRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        // PutMetricData has no resource-level permissions; the condition pins the namespace.
        resources: ['*'],
        conditions: { StringLike: { 'cloudwatch:namespace': '/aws/sagemaker/*' } },
      }),
    );

    this.windowFunction = new PipemendFunction(this, 'WindowStep', {
      handlerDir: 'training-window',
      description: 'Pipemend pipeline step: assemble and normalise the training window',
      memorySize: 2048,
      // A Lambda step must answer within 10 minutes.
      timeout: Duration.minutes(10),
      encryptionKey: dataLake.key,
      environment: { DATA_LAKE_BUCKET: dataLake.bucket.bucketName },
    });
    const windowPrefixes = grantDataLakePrefixes(this.windowFunction, dataLake, {
      read: ['features/'],
      write: ['training/'],
    });
    // Of the 10 minutes a Lambda step has: up to 5 for Athena's UNLOAD, the rest to read it and write CSVs.
    const compactedPrefixes =
      props.compacted?.grantWindowQuery(this.windowFunction, { athenaTimeout: Duration.minutes(5) }) ?? [];
    acknowledgeTrainingFunction(this.windowFunction, dataLake.bucket, [
      ...windowPrefixes,
      ...compactedPrefixes,
    ]);

    this.evaluateFunction = new PipemendFunction(this, 'EvaluateStep', {
      handlerDir: 'training-evaluation',
      description: 'Pipemend pipeline step: evaluate the candidate model against the approved one',
      memorySize: 1024,
      timeout: Duration.minutes(10),
      encryptionKey: dataLake.key,
      environment: { DATA_LAKE_BUCKET: dataLake.bucket.bucketName, ENDPOINT_NAME: props.endpointName },
    });
    const evaluatePrefixes = grantDataLakePrefixes(this.evaluateFunction, dataLake, {
      read: ['training/', 'labels/'],
      write: ['training/', 'models/'],
    });
    this.evaluateFunction.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['sagemaker:ListModelPackages'], resources: ['*'] }),
    );
    this.evaluateFunction.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['sagemaker:DescribeModelPackage'], resources: [packagesArn] }),
    );
    acknowledgeTrainingFunction(this.evaluateFunction, dataLake.bucket, evaluatePrefixes, [
      {
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:model-package/${this.modelPackageGroupName.toLowerCase()}/*]`,
        reason: 'Versions of Pipemend’s own model package group; their numbers are assigned at registration.',
      },
    ]);

    this.pipelineRole = sagemakerRole(
      this,
      'PipelineRole',
      'Pipemend: SageMaker Pipelines orchestration of RCF training',
    );
    const jobArn = (resource: string) =>
      stack.formatArn({ service: 'sagemaker', resource, resourceName: '*' });
    this.pipelineRole.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'sagemaker:CreateTrainingJob',
          'sagemaker:DescribeTrainingJob',
          'sagemaker:StopTrainingJob',
          'sagemaker:CreateModel',
          'sagemaker:DescribeModel',
          'sagemaker:CreateTransformJob',
          'sagemaker:DescribeTransformJob',
          'sagemaker:StopTransformJob',
          'sagemaker:AddTags',
        ],
        resources: [jobArn('training-job'), jobArn('model'), jobArn('transform-job')],
      }),
    );
    this.pipelineRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['sagemaker:CreateModelPackage', 'sagemaker:DescribeModelPackage', 'sagemaker:AddTags'],
        resources: [groupArn, packagesArn],
      }),
    );
    this.pipelineRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.executionRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
      }),
    );
    this.windowFunction.grantInvoke(this.pipelineRole);
    this.evaluateFunction.grantInvoke(this.pipelineRole);

    const definition = buildTrainingPipelineDefinition({
      dataLakeBucketName: dataLake.bucket.bucketName,
      dataLakeKeyArn: dataLake.key.keyArn,
      executionRoleArn: this.executionRole.roleArn,
      rcfImageUri: this.rcfImageUri,
      windowFunctionArn: this.windowFunction.functionArn,
      evaluateFunctionArn: this.evaluateFunction.functionArn,
      modelPackageGroupName: this.modelPackageGroupName,
      inferenceInstanceTypes: props.inferenceInstanceTypes,
      defaults: {
        windowDays: props.windowDays ?? 90,
        evaluationDays: 7,
        minTrainingRows: 500,
        minBuildsPerProject: 20,
        numTrees: 100,
        numSamplesPerTree: 256,
        trainingInstanceType: 'ml.m5.large',
        transformInstanceType: 'ml.m5.large',
        noWorseTolerance: 0.02,
        ...props.parameterDefaults,
        modelApprovalStatus: approvalStatus,
      },
    });
    this.pipeline = new sagemaker.CfnPipeline(this, 'Pipeline', {
      pipelineName: `${props.endpointName}-training`,
      pipelineDescription: 'Pipemend: retrain the RCF build anomaly model on the latest training window',
      roleArn: this.pipelineRole.roleArn,
      pipelineDefinition: { PipelineDefinitionBody: stack.toJsonString(definition) },
    });
    this.pipeline.node.addDependency(this.modelPackageGroup);

    const handle = new PipelineHandle(this, 'PipelineHandle', this.pipeline);
    this.triggers = new RetrainingTriggers(this, 'Retraining', {
      dataLake,
      schedule: props.schedule,
      retraining: {
        kind: 'pipeline',
        pipelineName: this.pipeline.pipelineName,
        pipelineArn: handle.pipelineArn,
        target: (options) => new targets.SageMakerStartPipelineExecution(handle, options),
      },
      compacted: props.compacted,
    });

    const lambdaArnFinding = (fn: PipemendFunction) =>
      `AwsSolutions::AwsSolutions-IAM5[Resource::<${stack.resolve(stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction))}.Arn>:*]`;
    const pipelinePolicy = this.pipelineRole.node.tryFindChild('DefaultPolicy');
    if (pipelinePolicy) {
      Validations.of(pipelinePolicy).acknowledge(
        ...['training-job', 'model', 'transform-job'].map((resource) => ({
          id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:${resource}/*]`,
          reason: `SageMaker Pipelines names each ${resource} per execution (pipelines-<execution>-<step>); the name is not known in advance.`,
        })),
        {
          id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:model-package/${this.modelPackageGroupName.toLowerCase()}/*]`,
          reason:
            'Versions of Pipemend’s own model package group; their numbers are assigned at registration.',
        },
        {
          id: lambdaArnFinding(this.windowFunction),
          reason: 'Invoke of the window step function and its versions only.',
        },
        {
          id: lambdaArnFinding(this.evaluateFunction),
          reason: 'Invoke of the evaluation step function and its versions only.',
        },
      );
    }
    const executionPolicy = this.executionRole.node.tryFindChild('DefaultPolicy');
    if (executionPolicy) {
      Validations.of(executionPolicy).acknowledge(
        ...executionPrefixes.map((prefix) => ({
          id: prefixFindingId(dataLake.bucket, prefix),
          reason:
            'Training input, model artifacts and transform output live under training/<model version>/.',
        })),
        {
          id: 'AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/sagemaker/*]',
          reason:
            'SageMaker writes job logs to /aws/sagemaker/TrainingJobs and /TransformJobs with per-job streams.',
        },
        {
          id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
          reason:
            'cloudwatch:PutMetricData has no resource-level permissions; a condition pins the /aws/sagemaker namespaces.',
        },
      );
    }
  }
}

/** The CfnPipeline as the `IPipeline` the Scheduler target expects (aws-cdk-lib has no SageMaker pipeline L2). */
class PipelineHandle extends Resource implements sagemaker.IPipeline {
  public readonly pipelineArn: string;
  public readonly pipelineName: string;
  public readonly pipelineRef: sagemaker.CfnPipeline['pipelineRef'];

  constructor(scope: Construct, id: string, pipeline: sagemaker.CfnPipeline) {
    super(scope, id);
    this.pipelineName = pipeline.pipelineName;
    this.pipelineArn = Stack.of(this).formatArn({
      service: 'sagemaker',
      resource: 'pipeline',
      resourceName: pipeline.pipelineName.toLowerCase(),
    });
    this.pipelineRef = pipeline.pipelineRef;
  }

  public grantStartPipelineExecution(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['sagemaker:StartPipelineExecution'],
      resourceArns: [this.pipelineArn],
    });
  }
}
