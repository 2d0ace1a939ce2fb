import {
  AthenaClient,
  GetQueryExecutionCommand,
  QueryExecutionState,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  ListPipelineExecutionsCommand,
  SageMakerClient,
  StartPipelineExecutionCommand,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';

import { FEATURE_DIMENSION } from '../../../core/collection/build-record';
import { computeBaseline } from '../../../core/scoring/baseline';
import { checkDrift, DriftCheckSettings } from '../../../lambda/drift-check/handler';
import {
  AthenaQueryFailedError,
  AthenaQueryTimeoutError,
} from '../../../sagemaker/training/athena-window-sample';
import { compactedSource, fakeTime } from '../../sagemaker/training/compacted-source';
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

describe('with trainingSource compacted', () => {
  const RUN = '0b7e1f52-6a3c-4d9e-9f21-7c5a8e4b3d10';
  const QUERY_ID = 'q-drift-1';
  const status = (State: QueryExecutionState, StateChangeReason?: string) => ({
    QueryExecution: { QueryExecutionId: QUERY_ID, Status: { State, StateChangeReason } },
  });

  /** The drift check on the compacted table, the UNLOAD output holding 15 recent api builds of `recentDuration`. */
  function compactedSetup(recentDuration: number, timeoutMillis = 120_000) {
    const { lake, sm, deps } = setup(recentDuration);
    for (const key of [...lake.objects.keys()]) if (key.startsWith('features/')) lake.objects.delete(key);
    const lines = Array.from(
      { length: 15 },
      (_, i) => `api,2026-11-20,api:${i},${row(recentDuration, i).join(',')},15,false`,
    );
    lake.put(`athena-results/unload/${RUN}/project_bucket=7/part-0`, `${lines.join('\n')}\n`);
    const athenaClient = new AthenaClient({ region: 'eu-west-1' });
    const athena = mockClient(athenaClient);
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
    athena.on(GetQueryExecutionCommand).resolves(status(QueryExecutionState.SUCCEEDED));
    athena.on(StopQueryExecutionCommand).resolves({});
    const time = fakeTime(0);
    const compacted = {
      source: compactedSource({
        athena: athenaClient,
        s3: lake.s3,
        timing: { timeoutMillis, now: time.now, sleep: time.sleep },
      }),
      newRunId: () => RUN,
    };
    return { lake, sm, athena, deps: { ...deps, compacted } };
  }

  test('builds that got longer in the compacted table start the retraining', async () => {
    const { sm, deps } = compactedSetup(480);
    const outcome = await checkDrift(deps);
    expect(outcome.action).toBe('retraining');
    expect(outcome.detail).toMatch(/^api\.durationSeconds \+\d+\.\dσ/);
    expect(sm).toHaveReceivedCommandWith(StartPipelineExecutionCommand, {
      ClientRequestToken: 'pipemend-drift-retrain-20261121-sm-abc',
    });
  });

  test('unchanged builds in the compacted table start nothing', async () => {
    const { sm, deps } = compactedSetup(300);
    expect(await checkDrift(deps)).toEqual({ action: 'no-drift', detail: '1 projects within 1.5 σ' });
    expect(sm).not.toHaveReceivedCommand(StartPipelineExecutionCommand);
  });

  test('the recent days are UNLOADed from the compacted table through the workgroup into a fresh prefix', async () => {
    const { athena, deps } = compactedSetup(300);
    await checkDrift(deps);
    const start = athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input;
    expect(start).toMatchObject({
      WorkGroup: 'Pipemend-compacted',
      QueryExecutionContext: { Database: 'pipemend' },
      ClientRequestToken: RUN,
    });
    // 7 days up to 2026-11-21, projects counted from 10 recent builds, and no forest rows asked for.
    expect(start.QueryString).toContain("FROM pipemend.features_compacted WHERE date >= '2026-11-15'");
    expect(start.QueryString).toContain('WHERE project_builds >= 10');
    expect(start.QueryString).toContain(
      `* CAST(0 AS DOUBLE) / eligible.projects / counts.project_builds AS forest_below`,
    );
    expect(start.QueryString).toContain(`TO 's3://lake/athena-results/unload/${RUN}/'`);
  });

  test('the per-build feature CSVs are not read', async () => {
    const { lake, deps } = compactedSetup(300);
    await checkDrift(deps);
    const prefixes = lake.mock.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input.Prefix);
    expect(prefixes.filter((prefix) => !prefix?.startsWith('athena-results/'))).toEqual([]);
  });

  test("a FAILED query fails the check with Athena's reason and starts no retraining", async () => {
    const { athena, sm, deps } = compactedSetup(480);
    athena
      .on(GetQueryExecutionCommand)
      .resolves(status(QueryExecutionState.FAILED, 'HIVE_CANNOT_OPEN_SPLIT: Error opening Hive split'));
    const attempt = checkDrift(deps);
    await expect(attempt).rejects.toThrow(AthenaQueryFailedError);
    await expect(attempt).rejects.toThrow(
      'Athena query q-drift-1 ended FAILED: HIVE_CANNOT_OPEN_SPLIT: Error opening Hive split',
    );
    expect(sm).not.toHaveReceivedCommand(StartPipelineExecutionCommand);
  });

  test('a query still running at the end of its budget is stopped, fails the check and starts no retraining', async () => {
    const { athena, sm, deps } = compactedSetup(480, 30_000);
    athena.on(GetQueryExecutionCommand).resolves(status(QueryExecutionState.RUNNING));
    await expect(checkDrift(deps)).rejects.toThrow(AthenaQueryTimeoutError);
    expect(athena).toHaveReceivedCommandWith(StopQueryExecutionCommand, { QueryExecutionId: QUERY_ID });
    expect(sm).not.toHaveReceivedCommand(StartPipelineExecutionCommand);
  });
});
