import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

import { DataLake } from './data-lake';
import { DeadLetterQueue } from './dead-letter-queue';
import { PipemendFunction } from './pipemend-function';
import {
  acknowledgeTrainingFunction,
  grantDataLakePrefixes,
  grantSagemakerLogWrites,
  prefixFindingId,
  sagemakerRole,
} from './training-access';
import { endpointResourcePattern, MAX_ENDPOINT_NAME_LENGTH } from '../sagemaker/training/model-version';

/** A SageMaker endpoint name without '--', the separator of its models' names. */
const ENDPOINT_NAME = /^[a-zA-Z0-9](-?[a-zA-Z0-9])*$/;

export interface EndpointAutoscaling {
  readonly minCapacity: number;
  readonly maxCapacity: number;
  /** Target of `SageMakerVariantInvocationsPerInstance` (invocations per instance per minute). */
  readonly invocationsPerInstancePerMinute: number;
}

export interface ModelEndpointProps {
  readonly dataLake: DataLake;
  /** Name of the SageMaker endpoint the scorer invokes. */
  readonly endpointName: string;
  /** Model package group whose approved versions are deployed. */
  readonly modelPackageGroupName: string;
  /**
   * Instance type of the endpoint's variant.
   * @default 'ml.t2.medium'
   */
  readonly instanceType?: string;
  /**
   * Instances the variant starts with.
   * @default 1
   */
  readonly initialInstanceCount?: number;
  /**
   * Target-tracking autoscaling of the variant. Application Auto Scaling validates that the endpoint
   * exists, so enable it once the first approved version has been deployed.
   * @default - no autoscaling (a fixed instance count)
   */
  readonly autoscaling?: EndpointAutoscaling;
  /**
   * How long a new fleet serves all traffic, watched by the rollback alarms, before the old one is removed.
   * @default Duration.minutes(10)
   */
  readonly bakeTime?: Duration;
}

/**
 * The hosted RCF endpoint: it is created and updated by a deployer Lambda when a model version is
 * approved (blue/green, rolled back by alarm), so CloudFormation never needs a model that does not exist
 * yet. Here: the rollback alarms, the hosted model's role, the deployer and its EventBridge rules, and
 * optional autoscaling.
 */
export class ModelEndpoint extends Construct {
  public readonly endpointName: string;
  public readonly endpointArn: string;
  public readonly instanceType: string;
  public readonly modelRole: iam.Role;
  public readonly deployer: PipemendFunction;
  public readonly errorAlarm: cloudwatch.Alarm;
  public readonly latencyAlarm: cloudwatch.Alarm;
  public readonly scalableTarget?: appscaling.ScalableTarget;

  constructor(scope: Construct, id: string, props: ModelEndpointProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.endpointName = props.endpointName;
    this.instanceType = props.instanceType ?? 'ml.t2.medium';
    const initialInstanceCount = props.initialInstanceCount ?? 1;
    const bakeSeconds = (props.bakeTime ?? Duration.minutes(10)).toSeconds();
    if (!/^ml\.[a-z0-9]+\.[a-z0-9]+$/.test(this.instanceType)) {
      throw new Error(
        `instanceType must be a SageMaker instance type like ml.t2.medium, got '${this.instanceType}'`,
      );
    }
    if (!Number.isInteger(initialInstanceCount) || initialInstanceCount < 1) {
      throw new Error(`initialInstanceCount must be a positive integer, got ${initialInstanceCount}`);
    }
    if (bakeSeconds < 60 || bakeSeconds > 3600) {
      throw new Error(`bakeTime must be between 1 and 60 minutes, got ${bakeSeconds} seconds`);
    }
    if (!ENDPOINT_NAME.test(props.endpointName) || props.endpointName.length > MAX_ENDPOINT_NAME_LENGTH) {
      throw new Error(
        `endpointName must be letters, digits and single hyphens, at most ${MAX_ENDPOINT_NAME_LENGTH} characters (its models are named <endpointName>--<model version>), got '${props.endpointName}'`,
      );
    }
    const endpointResourceName = props.endpointName.toLowerCase();
    // SageMaker ARNs carry names in lower case.
    const resourcePattern = endpointResourcePattern(props.endpointName).toLowerCase();
    this.endpointArn = stack.formatArn({
      service: 'sagemaker',
      resource: 'endpoint',
      resourceName: endpointResourceName,
    });

    const dimensionsMap = { EndpointName: props.endpointName, VariantName: 'AllTraffic' };
    this.errorAlarm = new cloudwatch.Alarm(this, 'ErrorAlarm', {
      alarmDescription: 'Pipemend endpoint answers with 5xx errors: rolls a blue/green update back',
      metric: new cloudwatch.Metric({
        namespace: 'AWS/SageMaker',
        metricName: 'Invocation5XXErrors',
        dimensionsMap,
        statistic: 'Sum',
        period: Duration.minutes(1),
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.latencyAlarm = new cloudwatch.Alarm(this, 'LatencyAlarm', {
      alarmDescription: 'Pipemend endpoint p99 model latency above 1 s: rolls a blue/green update back',
      metric: new cloudwatch.Metric({
        namespace: 'AWS/SageMaker',
        metricName: 'ModelLatency',
        dimensionsMap,
        statistic: 'p99',
        period: Duration.minutes(1),
      }),
      // ModelLatency is in microseconds.
      threshold: 1_000_000,
      evaluationPeriods: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.modelRole = sagemakerRole(this, 'ModelRole', 'Pipemend: the hosted RCF model (reads its artifact)');
    grantDataLakePrefixes(this.modelRole, props.dataLake, { read: ['training/'] });
    grantSagemakerLogWrites(this.modelRole, '/aws/sagemaker/Endpoints/*');

    this.deployer = new PipemendFunction(this, 'Deployer', {
      handlerDir: 'model-deployer',
      description: 'Pipemend: deploy approved model versions blue/green; publish the served manifest',
      timeout: Duration.minutes(1),
      encryptionKey: props.dataLake.key,
      environment: {
        DATA_LAKE_BUCKET: props.dataLake.bucket.bucketName,
        ENDPOINT_NAME: props.endpointName,
        MODEL_PACKAGE_GROUP_NAME: props.modelPackageGroupName,
        MODEL_EXECUTION_ROLE_ARN: this.modelRole.roleArn,
        INSTANCE_TYPE: this.instanceType,
        INITIAL_INSTANCE_COUNT: String(initialInstanceCount),
        ROLLBACK_ALARM_NAMES: `${this.errorAlarm.alarmName},${this.latencyAlarm.alarmName}`,
        BAKE_SECONDS: String(bakeSeconds),
      },
    });
    const deployerPrefixes = grantDataLakePrefixes(this.deployer, props.dataLake, {
      read: ['models/'],
      write: ['models/'],
    });
    const group = props.modelPackageGroupName.toLowerCase();
    const sagemakerArn = (resource: string, resourceName: string) =>
      stack.formatArn({ service: 'sagemaker', resource, resourceName });
    this.deployer.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['sagemaker:DescribeModelPackage'],
        resources: [sagemakerArn('model-package', `${group}/*`)],
      }),
    );
    this.deployer.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['sagemaker:CreateModel', 'sagemaker:CreateEndpointConfig'],
        resources: [sagemakerArn('model', resourcePattern), sagemakerArn('endpoint-config', resourcePattern)],
      }),
    );
    this.deployer.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['sagemaker:CreateEndpoint', 'sagemaker:UpdateEndpoint', 'sagemaker:DescribeEndpoint'],
        resources: [this.endpointArn, sagemakerArn('endpoint-config', resourcePattern)],
      }),
    );
    this.deployer.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:DescribeAlarms'],
        resources: [this.errorAlarm.alarmArn, this.latencyAlarm.alarmArn],
      }),
    );
    this.deployer.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.modelRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
      }),
    );
    const wildcard = (resource: string, name: string, reason: string) => ({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:${resource}/${name}]`,
      reason,
    });
    acknowledgeTrainingFunction(this.deployer, props.dataLake.bucket, deployerPrefixes, [
      wildcard(
        'model-package',
        `${group}/*`,
        'Versions of Pipemend’s own model package group, numbered at registration.',
      ),
      wildcard(
        'model',
        resourcePattern,
        `Models are named ${resourcePattern.replace('*', '<model version>')}; versions are created by training.`,
      ),
      wildcard(
        'endpoint-config',
        resourcePattern,
        `Endpoint configs are named ${resourcePattern.replace('*', '<model version>')}.`,
      ),
    ]);
    const modelPolicy = this.modelRole.node.tryFindChild('DefaultPolicy');
    if (modelPolicy) {
      Validations.of(modelPolicy).acknowledge(
        {
          id: prefixFindingId(props.dataLake.bucket, 'training/'),
          reason: 'Model artifacts live under training/<model version>/model/.',
        },
        {
          id: 'AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/sagemaker/Endpoints/*]',
          reason:
            'SageMaker writes endpoint container logs to /aws/sagemaker/Endpoints/<endpoint> with per-instance streams.',
        },
      );
    }

    const deadLetterQueue = new DeadLetterQueue(this, 'DeployerEventsDlq');
    const target = new eventTargets.LambdaFunction(this.deployer, { deadLetterQueue, retryAttempts: 4 });
    new events.Rule(this, 'OnModelApproved', {
      description: 'Pipemend: deploy a model version when it is approved',
      eventPattern: {
        source: ['aws.sagemaker'],
        detailType: ['SageMaker Model Package State Change'],
        detail: { ModelPackageGroupName: [props.modelPackageGroupName], ModelApprovalStatus: ['Approved'] },
      },
      targets: [target],
    });
    new events.Rule(this, 'OnEndpointInService', {
      description: 'Pipemend: publish the manifest of the model version the endpoint serves',
      eventPattern: {
        source: ['aws.sagemaker'],
        detailType: ['SageMaker Endpoint State Change'],
        detail: { EndpointName: [props.endpointName], EndpointStatus: ['IN_SERVICE', 'InService'] },
      },
      targets: [target],
    });

    if (props.autoscaling) {
      const { minCapacity, maxCapacity, invocationsPerInstancePerMinute } = props.autoscaling;
      if (!(Number.isInteger(minCapacity) && minCapacity >= 1 && maxCapacity >= minCapacity)) {
        throw new Error(
          `autoscaling needs 1 <= minCapacity <= maxCapacity, got ${minCapacity}..${maxCapacity}`,
        );
      }
      this.scalableTarget = new appscaling.ScalableTarget(this, 'ScalableTarget', {
        serviceNamespace: appscaling.ServiceNamespace.SAGEMAKER,
        resourceId: `endpoint/${props.endpointName}/variant/AllTraffic`,
        scalableDimension: 'sagemaker:variant:DesiredInstanceCount',
        minCapacity,
        maxCapacity,
      });
      this.scalableTarget.scaleToTrackMetric('InvocationsPerInstance', {
        predefinedMetric: appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
        targetValue: invocationsPerInstancePerMinute,
        scaleInCooldown: Duration.minutes(10),
        scaleOutCooldown: Duration.minutes(2),
      });
    }
  }

  /** Lets a principal score builds with the endpoint. */
  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['sagemaker:InvokeEndpoint'],
      resourceArns: [this.endpointArn],
    });
  }
}
