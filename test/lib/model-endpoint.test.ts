import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';

import { DataLake } from '../../lib/data-lake';
import { ModelEndpoint, ModelEndpointProps } from '../../lib/model-endpoint';
import { stackArn } from '../helpers/arn';
import { testApp } from '../helpers/synth';

function synth(props: Partial<ModelEndpointProps> = {}): Template {
  const stack = new Stack(testApp(), 'Test');
  const dataLake = new DataLake(stack, 'DataLake');
  new ModelEndpoint(stack, 'Endpoint', {
    dataLake,
    endpointName: 'pipemend-rcf',
    modelPackageGroupName: 'pipemend-rcf-versions',
    ...props,
  });
  return Template.fromStack(stack);
}

const template = synth();
const logicalId = (prefix: string, type: string) =>
  Object.keys(template.findResources(type)).find((id) => id.startsWith(prefix))!;

test('alarms on endpoint 5xx errors and p99 latency feed the blue/green rollback', () => {
  template.hasResourceProperties('AWS::CloudWatch::Alarm', {
    Namespace: 'AWS/SageMaker',
    MetricName: 'Invocation5XXErrors',
    Dimensions: [
      { Name: 'EndpointName', Value: 'pipemend-rcf' },
      { Name: 'VariantName', Value: 'AllTraffic' },
    ],
    Statistic: 'Sum',
    Period: 60,
    Threshold: 1,
    EvaluationPeriods: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
  });
  template.hasResourceProperties('AWS::CloudWatch::Alarm', {
    MetricName: 'ModelLatency',
    ExtendedStatistic: 'p99',
    Threshold: 1_000_000,
    EvaluationPeriods: 2,
  });
  template.hasResourceProperties('AWS::Lambda::Function', {
    Environment: {
      Variables: Match.objectLike({
        ENDPOINT_NAME: 'pipemend-rcf',
        MODEL_PACKAGE_GROUP_NAME: 'pipemend-rcf-versions',
        INSTANCE_TYPE: 'ml.t2.medium',
        INITIAL_INSTANCE_COUNT: '1',
        BAKE_SECONDS: '600',
        ROLLBACK_ALARM_NAMES: {
          'Fn::Join': [
            '',
            [
              { Ref: logicalId('EndpointErrorAlarm', 'AWS::CloudWatch::Alarm') },
              ',',
              { Ref: logicalId('EndpointLatencyAlarm', 'AWS::CloudWatch::Alarm') },
            ],
          ],
        },
      }),
    },
  });
});

test('the deployer runs on approvals in the group and on the endpoint going in service', () => {
  template.hasResourceProperties('AWS::Events::Rule', {
    EventPattern: {
      source: ['aws.sagemaker'],
      'detail-type': ['SageMaker Model Package State Change'],
      detail: { ModelPackageGroupName: ['pipemend-rcf-versions'], ModelApprovalStatus: ['Approved'] },
    },
    Targets: [
      Match.objectLike({
        Arn: { 'Fn::GetAtt': [logicalId('EndpointDeployer', 'AWS::Lambda::Function'), 'Arn'] },
        DeadLetterConfig: Match.anyValue(),
        RetryPolicy: { MaximumRetryAttempts: 4 },
      }),
    ],
  });
  template.hasResourceProperties('AWS::Events::Rule', {
    EventPattern: {
      source: ['aws.sagemaker'],
      'detail-type': ['SageMaker Endpoint State Change'],
      detail: { EndpointName: ['pipemend-rcf'], EndpointStatus: ['IN_SERVICE', 'InService'] },
    },
  });
});

test('the deployer passes the model role only to SageMaker and touches only the models and configs of its own endpoint (<endpoint>--*)', () => {
  const endpointArn = stackArn('sagemaker', 'endpoint/pipemend-rcf');
  const sagemakerArn = (resource: string) => stackArn('sagemaker', resource);
  template.hasResourceProperties('AWS::IAM::Policy', {
    Roles: [{ Ref: Match.stringLikeRegexp('^EndpointDeployerServiceRole') }],
    PolicyDocument: {
      Statement: Match.arrayWith([
        {
          Action: 'sagemaker:DescribeModelPackage',
          Effect: 'Allow',
          Resource: sagemakerArn('model-package/pipemend-rcf-versions/*'),
        },
        {
          Action: ['sagemaker:CreateEndpointConfig', 'sagemaker:CreateModel'],
          Effect: 'Allow',
          Resource: [sagemakerArn('endpoint-config/pipemend-rcf--*'), sagemakerArn('model/pipemend-rcf--*')],
        },
        {
          Action: ['sagemaker:CreateEndpoint', 'sagemaker:DescribeEndpoint', 'sagemaker:UpdateEndpoint'],
          Effect: 'Allow',
          Resource: [sagemakerArn('endpoint-config/pipemend-rcf--*'), endpointArn],
        },
        {
          Action: 'iam:PassRole',
          Condition: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
          Effect: 'Allow',
          Resource: { 'Fn::GetAtt': [logicalId('EndpointModelRole', 'AWS::IAM::Role'), 'Arn'] },
        },
      ]),
    },
  });
});

test('the hosted model reads only training/ objects (its artifacts)', () => {
  template.hasResourceProperties('AWS::IAM::Policy', {
    Roles: [{ Ref: logicalId('EndpointModelRole', 'AWS::IAM::Role') }],
    PolicyDocument: {
      Statement: Match.arrayWith([
        {
          Action: 's3:GetObject',
          Effect: 'Allow',
          Resource: {
            'Fn::Join': [
              '',
              [{ 'Fn::GetAtt': [logicalId('DataLakeBucket', 'AWS::S3::Bucket'), 'Arn'] }, '/training/*'],
            ],
          },
        },
      ]),
    },
  });
});

test('no autoscaling unless configured', () => {
  template.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 0);
});

test('autoscaling tracks invocations per instance on the AllTraffic variant', () => {
  const scaled = synth({
    autoscaling: { minCapacity: 1, maxCapacity: 3, invocationsPerInstancePerMinute: 200 },
  });
  scaled.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
    ServiceNamespace: 'sagemaker',
    ResourceId: 'endpoint/pipemend-rcf/variant/AllTraffic',
    ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
    MinCapacity: 1,
    MaxCapacity: 3,
  });
  scaled.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
    PolicyType: 'TargetTrackingScaling',
    TargetTrackingScalingPolicyConfiguration: Match.objectLike({
      PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
      TargetValue: 200,
    }),
  });
});

test('rejects an instance type that is not a SageMaker one', () => {
  expect(() => synth({ instanceType: 't3.micro' })).toThrow(
    "instanceType must be a SageMaker instance type like ml.t2.medium, got 't3.micro'",
  );
});

test('rejects autoscaling whose maximum is below its minimum', () => {
  expect(() =>
    synth({ autoscaling: { minCapacity: 3, maxCapacity: 2, invocationsPerInstancePerMinute: 10 } }),
  ).toThrow('autoscaling needs 1 <= minCapacity <= maxCapacity, got 3..2');
});
