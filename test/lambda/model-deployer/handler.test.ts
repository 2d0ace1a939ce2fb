import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  DescribeModelPackageCommand,
  SageMakerClient,
  UpdateEndpointCommand,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';

import { FEATURE_DIMENSION } from '../../../core/collection/build-record';
import { EndpointBusyError, handleDeployerEvent } from '../../../lambda/model-deployer/handler';
import { S3TrainingData } from '../../../sagemaker/training/s3-training-data';
import { FakeLake } from '../../sagemaker/training/fake-lake';

const settings = {
  endpointName: 'pipemend-scorer',
  modelPackageGroupName: 'pipemend-rcf',
  modelExecutionRoleArn: 'arn:aws:iam::1:role/model',
  instanceType: 'ml.t2.medium',
  initialInstanceCount: 1,
  rollbackAlarmNames: ['pipemend-endpoint-5xx', 'pipemend-endpoint-latency'],
  bakeSeconds: 600,
};
const packageArn = 'arn:aws:sagemaker:eu-west-1:1:model-package/pipemend-rcf/4';
const approval = {
  'detail-type': 'SageMaker Model Package State Change',
  source: 'aws.sagemaker',
  detail: {
    ModelPackageArn: packageArn,
    ModelPackageGroupName: 'pipemend-rcf',
    ModelApprovalStatus: 'Approved',
  },
};
const inService = {
  'detail-type': 'SageMaker Endpoint State Change',
  detail: { EndpointName: 'pipemend-scorer', EndpointStatus: 'IN_SERVICE' },
};
const manifest = (modelVersion: string) => ({
  modelVersion,
  featureSchemaVersion: 1,
  kind: 'endpoint',
  endpointName: 'pipemend-scorer',
  threshold: 2.5,
  scoreMean: 1,
  scoreStd: 0.5,
  trainedAt: '2026-11-21T12:00:00.000Z',
  trainingRows: 900,
  minBuildsPerProject: 20,
  baselines: {
    api: {
      projectName: 'api',
      count: 900,
      median: Array.from({ length: FEATURE_DIMENSION }, () => 1),
      mad: Array.from({ length: FEATURE_DIMENSION }, () => 1),
    },
  },
});

function setup() {
  const lake = new FakeLake();
  lake.put('models/sm-new/manifest.json', JSON.stringify(manifest('sm-new')));
  lake.put('models/sm-old/manifest.json', JSON.stringify(manifest('sm-old')));
  const sagemaker = new SageMakerClient({ region: 'eu-west-1' });
  const sm = mockClient(sagemaker);
  sm.on(DescribeModelPackageCommand).resolves({
    ModelApprovalStatus: 'Approved',
    InferenceSpecification: {
      Containers: [{ Image: 'rcf:1', ModelDataUrl: 's3://lake/training/sm-new/model/model.tar.gz' }],
      SupportedContentTypes: [],
      SupportedResponseMIMETypes: [],
    },
  });
  sm.on(CreateModelCommand).resolves({});
  sm.on(CreateEndpointConfigCommand).resolves({});
  sm.on(UpdateEndpointCommand).resolves({});
  sm.on(CreateEndpointCommand).resolves({});
  return { lake, sm, deps: { sagemaker, data: new S3TrainingData(lake.s3, 'lake'), settings } };
}

test('an approved version updates the endpoint blue/green with alarm rollback', async () => {
  const { sm, deps } = setup();
  sm.on(DescribeEndpointCommand).resolves({
    EndpointStatus: 'InService',
    EndpointConfigName: 'pipemend-scorer--sm-old',
  });
  expect(await handleDeployerEvent(approval, deps)).toEqual({ action: 'updated', modelVersion: 'sm-new' });
  expect(sm).toHaveReceivedCommandWith(CreateModelCommand, {
    ModelName: 'pipemend-scorer--sm-new',
    ExecutionRoleArn: settings.modelExecutionRoleArn,
    PrimaryContainer: { Image: 'rcf:1', ModelDataUrl: 's3://lake/training/sm-new/model/model.tar.gz' },
    EnableNetworkIsolation: true,
  });
  expect(sm).toHaveReceivedCommandWith(CreateEndpointConfigCommand, {
    EndpointConfigName: 'pipemend-scorer--sm-new',
    ProductionVariants: [
      {
        VariantName: 'AllTraffic',
        ModelName: 'pipemend-scorer--sm-new',
        InstanceType: 'ml.t2.medium',
        InitialInstanceCount: 1,
      },
    ],
  });
  expect(sm).toHaveReceivedCommandWith(UpdateEndpointCommand, {
    EndpointName: 'pipemend-scorer',
    EndpointConfigName: 'pipemend-scorer--sm-new',
    DeploymentConfig: {
      BlueGreenUpdatePolicy: {
        TrafficRoutingConfiguration: { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 600 },
        TerminationWaitInSeconds: 600,
        MaximumExecutionTimeoutInSeconds: 3600,
      },
      AutoRollbackConfiguration: {
        Alarms: [{ AlarmName: 'pipemend-endpoint-5xx' }, { AlarmName: 'pipemend-endpoint-latency' }],
      },
    },
  });
});

test('the version is read from the artifact’s training/<version>/model/ location', async () => {
  const { sm, deps } = setup();
  sm.on(DescribeModelPackageCommand).resolves({
    ModelApprovalStatus: 'Approved',
    InferenceSpecification: {
      Containers: [
        { Image: 'rcf:1', ModelDataUrl: 's3://lake/training/sm-new/model/pipelines-x/output/model.tar.gz' },
      ],
      SupportedContentTypes: [],
      SupportedResponseMIMETypes: [],
    },
  });
  sm.on(DescribeEndpointCommand).resolves({
    EndpointStatus: 'InService',
    EndpointConfigName: 'pipemend-scorer--sm-old',
  });
  expect(await handleDeployerEvent(approval, deps)).toEqual({ action: 'updated', modelVersion: 'sm-new' });
});

test('the first approved version creates the endpoint', async () => {
  const { sm, deps } = setup();
  sm.on(DescribeEndpointCommand).rejects(
    Object.assign(new Error('Could not find endpoint "pipemend-scorer".'), { name: 'ValidationException' }),
  );
  expect(await handleDeployerEvent(approval, deps)).toEqual({ action: 'created', modelVersion: 'sm-new' });
  expect(sm).toHaveReceivedCommandWith(CreateEndpointCommand, {
    EndpointName: 'pipemend-scorer',
    EndpointConfigName: 'pipemend-scorer--sm-new',
  });
});

test('a redelivered approval finds everything in place and changes nothing', async () => {
  const { sm, deps } = setup();
  sm.on(CreateModelCommand).rejects(
    Object.assign(new Error('Cannot create already existing model'), { name: 'ValidationException' }),
  );
  sm.on(CreateEndpointConfigCommand).rejects(
    Object.assign(new Error('Cannot create already existing endpoint configuration'), {
      name: 'ValidationException',
    }),
  );
  sm.on(DescribeEndpointCommand).resolves({
    EndpointStatus: 'InService',
    EndpointConfigName: 'pipemend-scorer--sm-new',
  });
  expect(await handleDeployerEvent(approval, deps)).toEqual({
    action: 'already-deployed',
    modelVersion: 'sm-new',
  });
  expect(sm).not.toHaveReceivedCommand(UpdateEndpointCommand);
});

test('an endpoint mid-deployment fails the event with a retryable, explicit error', async () => {
  const { sm, deps } = setup();
  sm.on(DescribeEndpointCommand).resolves({
    EndpointStatus: 'Updating',
    EndpointConfigName: 'pipemend-scorer--sm-old',
  });
  await expect(handleDeployerEvent(approval, deps)).rejects.toThrow(
    new EndpointBusyError(
      'Endpoint pipemend-scorer is Updating; model version sm-new will be deployed on retry or redrive',
    ),
  );
});

test('a version no longer approved when the event arrives is not deployed', async () => {
  const { sm, deps } = setup();
  sm.on(DescribeModelPackageCommand).resolves({ ModelApprovalStatus: 'Rejected' });
  expect(await handleDeployerEvent(approval, deps)).toEqual({
    action: 'ignored',
    reason: `${packageArn} is Rejected, not Approved`,
  });
  expect(sm).not.toHaveReceivedCommand(CreateModelCommand);
});

test('a version without its manifest is not deployed (the scorer could not use it)', async () => {
  const { lake, sm, deps } = setup();
  lake.objects.delete('models/sm-new/manifest.json');
  await expect(handleDeployerEvent(approval, deps)).rejects.toThrow(
    'model version sm-new has no manifest at models/sm-new/manifest.json; it was not produced by the evaluation step',
  );
  expect(sm).not.toHaveReceivedCommand(CreateModelCommand);
});

test('when the endpoint is in service, the served version becomes models/current.json', async () => {
  const { lake, sm, deps } = setup();
  sm.on(DescribeEndpointCommand).resolves({
    EndpointStatus: 'InService',
    EndpointConfigName: 'pipemend-scorer--sm-new',
  });
  expect(await handleDeployerEvent(inService, deps)).toEqual({ action: 'published', modelVersion: 'sm-new' });
  expect(lake.json('models/current.json')).toEqual(manifest('sm-new'));
});

test('after an automatic rollback the old version stays current', async () => {
  const { lake, sm, deps } = setup();
  sm.on(DescribeEndpointCommand).resolves({
    EndpointStatus: 'InService',
    EndpointConfigName: 'pipemend-scorer--sm-old',
  });
  await handleDeployerEvent(inService, deps);
  expect(lake.json('models/current.json')).toMatchObject({ modelVersion: 'sm-old' });
});

test('events of other model groups are ignored', async () => {
  const { deps } = setup();
  const other = { ...approval, detail: { ...approval.detail, ModelPackageGroupName: 'someone-else' } };
  expect(await handleDeployerEvent(other, deps)).toEqual({
    action: 'ignored',
    reason: "model package group someone-else is not Pipemend's",
  });
});

test('an unknown event is rejected with what was wrong', async () => {
  const { deps } = setup();
  await expect(handleDeployerEvent({ 'detail-type': 'Nope' }, deps)).rejects.toThrow(
    /Unsupported model deployer event/,
  );
});
