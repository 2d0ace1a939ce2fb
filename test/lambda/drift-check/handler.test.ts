import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  ListPipelineExecutionsCommand,
  SageMakerClient,
  StartPipelineExecutionCommand,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';

import { FEATURE_DIMENSION } from '../../../core/collection/build-record';
import { computeBaseline } from '../../../core/scoring/baseline';
import { checkDrift, DriftCheckSettings } from '../../../lambda/drift-check/handler';
import { FakeLake } from '../../sagemaker/training/fake-lake';

const now = () => new Date('2026-11-21T06:00:00Z');
const row = (duration: number, i: number) =>
  Array.from({ length: FEATURE_DIMENSION }, (_, f) => (f === 0 ? duration + (i % 7) : 10 + (i % 3)));
const manifest = {
  modelVersion: 'sm-abc',
  featureSchemaVersion: 1,
  kind: 'endpoint',
  endpointName: 'pipemend-scorer',
  threshold: 3,
  scoreMean: 1,
  scoreStd: 0.6,
  trainedAt: '2026-11-14T06:00:00.000Z',
  trainingRows: 100,
  minBuildsPerProject: 20,
  baselines: {
    api: computeBaseline(
      'api',
      Array.from({ length: 100 }, (_, i) => row(300, i)),
    ),
  },
};
const pipeline: DriftCheckSettings = {
  recentDays: 7,
  minRecentBuilds: 10,
  shiftThreshold: 1.5,
  minRetrainIntervalHours: 24,
  target: { kind: 'pipeline', pipelineName: 'pipemend-training' },
};

function setup(recentDuration: number, settings: DriftCheckSettings = pipeline) {
  const lake = new FakeLake();
  lake.put('models/current.json', JSON.stringify(manifest));
  for (let i = 0; i < 15; i++) {
    lake.put(`features/project=api/date=2026-11-20/api:${i}.csv`, row(recentDuration, i).join(','));
  }
  const sagemaker = new SageMakerClient({ region: 'eu-west-1' });
  const sm = mockClient(sagemaker);
  sm.on(ListPipelineExecutionsCommand).resolves({ PipelineExecutionSummaries: [] });
  sm.on(StartPipelineExecutionCommand).resolves({});
  const lambda = new LambdaClient({ region: 'eu-west-1' });
  const lambdaMock = mockClient(lambda);
  lambdaMock.on(InvokeCommand).resolves({});
  return { lake, sm, lambdaMock, deps: { s3: lake.s3, bucket: 'lake', sagemaker, lambda, settings, now } };
}

test('builds that got longer start the training pipeline, once per model and day', async () => {
  const { sm, deps } = setup(480);
  const outcome = await checkDrift(deps);
  expect(outcome.action).toBe('retraining');
  expect(sm).toHaveReceivedCommandWith(StartPipelineExecutionCommand, {
    PipelineName: 'pipemend-training',
    PipelineExecutionDisplayName: 'drift-20261121',
    ClientRequestToken: 'pipemend-drift-retrain-20261121-sm-abc',
  });
});

test('unchanged builds start nothing', async () => {
  const { sm, deps } = setup(300);
  expect((await checkDrift(deps)).action).toBe('no-drift');
  expect(sm).not.toHaveReceivedCommand(StartPipelineExecutionCommand);
});

test('no second retraining while one is executing', async () => {
  const { sm, deps } = setup(480);
  sm.on(ListPipelineExecutionsCommand).resolves({
    PipelineExecutionSummaries: [{ PipelineExecutionStatus: 'Executing' }],
  });
  expect((await checkDrift(deps)).action).toBe('already-retraining');
  expect(sm).not.toHaveReceivedCommand(StartPipelineExecutionCommand);
});

test('a model trained in the last day is left alone', async () => {
  const { lake, sm, deps } = setup(480);
  lake.put('models/current.json', JSON.stringify({ ...manifest, trainedAt: '2026-11-21T01:00:00.000Z' }));
  expect((await checkDrift(deps)).action).toBe('recently-trained');
  expect(sm).not.toHaveReceivedCommand(ListPipelineExecutionsCommand);
});

test('in embedded mode the trainer function is invoked asynchronously', async () => {
  const { lambdaMock, deps } = setup(480, {
    ...pipeline,
    target: { kind: 'embedded', functionName: 'trainer' },
  });
  expect((await checkDrift(deps)).action).toBe('retraining');
  expect(lambdaMock).toHaveReceivedCommandWith(InvokeCommand, {
    FunctionName: 'trainer',
    InvocationType: 'Event',
  });
});

test('without a current model there is nothing to drift from', async () => {
  const { lake, deps } = setup(480);
  lake.objects.delete('models/current.json');
  expect((await checkDrift(deps)).action).toBe('no-model');
});
