import { BuildRecord } from '../../../core/collection/build-record';
import {
  BuildMetric,
  collectEvent,
  CollectorPorts,
  FeatureRowSink,
} from '../../../core/collection/collector';
import { CompactedFeatureRow, FEATURE_COLUMNS } from '../../../core/collection/compacted-feature-row';
import { recordedCodeBuildPorts } from '../../../local/recorded-codebuild';
import { MemoryDataLake } from '../../helpers/memory-data-lake';
import { sampleCodeBuild, sampleEvent } from '../../helpers/sample-events';

const API_RECORD =
  'builds/project=api-build/date=2026-11-20/api-build:5f0c1a9e-3b7d-4e52-9a61-0c2f4d8b7e11.json';
const API_FEATURES =
  'features/project=api-build/date=2026-11-20/api-build:5f0c1a9e-3b7d-4e52-9a61-0c2f4d8b7e11.csv';
const WEB_RECORD =
  'builds/project=web-build/date=2026-11-20/web-build:c41f8e2a-0d6b-4c79-8e13-2a5b9f7d1c33.json';

function harness(overrides: Partial<CollectorPorts> = {}) {
  const store = new MemoryDataLake();
  const emitted: { projectName: string; metrics: readonly BuildMetric[] }[] = [];
  const ports: CollectorPorts = {
    ...recordedCodeBuildPorts(sampleCodeBuild()),
    store,
    emitMetrics: (projectName, metrics) => emitted.push({ projectName, metrics }),
    ...overrides,
  };
  return { store, emitted, ports };
}

describe('collectEvent on a CodeBuild Build State Change', () => {
  test('stores the record and its feature row at the deterministic keys', async () => {
    const { store, ports } = harness();
    const outcome = await collectEvent(sampleEvent('01-codebuild-succeeded'), ports);
    expect(outcome).toMatchObject({ status: 'stored', recordKey: API_RECORD, featuresKey: API_FEATURES });
    expect(store.json(API_RECORD)).toMatchObject({
      buildId: 'api-build:5f0c1a9e-3b7d-4e52-9a61-0c2f4d8b7e11',
      tests: { total: 412, failed: 0, error: 0, skipped: 3 },
      utilization: { cpuUtilizedPercent: 94, memoryUtilizedPercent: 43.3 },
      missing: { tests: false, utilization: false },
    });
    expect(store.objects.get(API_FEATURES)).toEqual({
      body: '298,4,23,6,41,3,212,2,5,0,94,43.3\n',
      contentType: 'text/csv',
    });
  });

  test('emits build duration, queued duration, test failure rate, CPU and memory under the project', async () => {
    const { emitted, ports } = harness();
    await collectEvent(sampleEvent('02-codebuild-failed'), ports);
    expect(emitted).toEqual([
      {
        projectName: 'api-build',
        metrics: [
          { name: 'BuildsCollected', unit: 'Count', value: 1 },
          { name: 'BuildDuration', unit: 'Seconds', value: 531 },
          { name: 'QueuedDuration', unit: 'Seconds', value: 61 },
          { name: 'TestFailureRate', unit: 'Percent', value: (14 / 412) * 100 },
          { name: 'CPUUtilizedPercent', unit: 'Percent', value: 99.5 },
          { name: 'MemoryUtilizedPercent', unit: 'Percent', value: 92.8 },
        ],
      },
    ]);
  });

  test('a build without test report or utilisation metrics is stored with missing flags and fewer metrics', async () => {
    const { store, emitted, ports } = harness();
    const outcome = await collectEvent(sampleEvent('04-codebuild-succeeded-in-pipeline'), ports);
    expect(outcome.status).toBe('stored');
    expect(store.json(WEB_RECORD)).toMatchObject({
      tests: null,
      utilization: null,
      missing: { tests: true, utilization: true },
    });
    expect(emitted[0]?.metrics.map((metric) => metric.name)).toEqual([
      'BuildsCollected',
      'BuildDuration',
      'QueuedDuration',
    ]);
  });

  test('a redelivered event overwrites the same two objects', async () => {
    const { store, ports } = harness();
    await collectEvent(sampleEvent('01-codebuild-succeeded'), ports);
    const first = store.objects.get(API_RECORD)?.body;
    await collectEvent(sampleEvent('07-codebuild-succeeded-redelivered'), ports);
    expect([...store.objects.keys()].sort()).toEqual([API_RECORD, API_FEATURES].sort());
    expect(store.objects.get(API_RECORD)?.body).toBe(first);
  });

  test.each(['SUCCEEDED', 'FAILED', 'FAULT', 'STOPPED', 'TIMED_OUT'])(
    'a build that ended %s is stored with that status',
    async (status) => {
      const build = { ...sampleCodeBuild().builds[0]!, buildStatus: status };
      const { store, ports } = harness({ getBuild: async () => build });
      const event = sampleEvent('01-codebuild-succeeded');
      event.detail['build-status'] = status;
      expect(await collectEvent(event, ports)).toMatchObject({ status: 'stored', record: { status } });
      expect((store.json(API_RECORD) as BuildRecord).status).toBe(status);
    },
  );

  test('a build no pipeline started is collected without looking for a pipeline link', async () => {
    const { store, ports } = harness();
    const get = jest.spyOn(store, 'get');
    await collectEvent(sampleEvent('01-codebuild-succeeded'), ports);
    expect(get).not.toHaveBeenCalled();
  });

  test('an IN_PROGRESS event is ignored without touching CodeBuild', async () => {
    const getBuild = jest.fn();
    const { store, ports } = harness({ getBuild });
    const event = sampleEvent('01-codebuild-succeeded');
    event.detail['build-status'] = 'IN_PROGRESS';
    expect(await collectEvent(event, ports)).toEqual({
      status: 'ignored',
      reason: expect.stringContaining('is IN_PROGRESS, not finished'),
    });
    expect(getBuild).not.toHaveBeenCalled();
    expect(store.puts).toBe(0);
  });

  test('a build CodeBuild does not know is rejected, not retried', async () => {
    const { store, ports } = harness({ getBuild: async () => undefined });
    expect(await collectEvent(sampleEvent('01-codebuild-succeeded'), ports)).toEqual({
      status: 'rejected',
      eventId: '6a0f3b1c-2d4e-4f5a-8b6c-7d8e9f0a1b01',
      reason:
        "CodeBuild does not know build api-build:5f0c1a9e-3b7d-4e52-9a61-0c2f4d8b7e11 (deleted, or another account's)",
    });
    expect(store.puts).toBe(0);
  });

  test('a build CodeBuild returns without timestamps is rejected with the reason', async () => {
    const build = sampleCodeBuild().builds[0]!;
    const { ports } = harness({ getBuild: async () => ({ ...build, endTime: undefined }) });
    expect(await collectEvent(sampleEvent('01-codebuild-succeeded'), ports)).toMatchObject({
      status: 'rejected',
      reason: expect.stringContaining('lacks a valid startTime or endTime'),
    });
  });

  test('a transient CodeBuild failure propagates so the event is retried', async () => {
    const { store, ports } = harness({
      getBuild: async () => {
        throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      },
    });
    await expect(collectEvent(sampleEvent('01-codebuild-succeeded'), ports)).rejects.toThrow('Rate exceeded');
    expect(store.puts).toBe(0);
  });

  test('a transient report failure propagates too (no record without its tests)', async () => {
    const { ports } = harness({
      getReports: async () => {
        throw new Error('socket hang up');
      },
    });
    await expect(collectEvent(sampleEvent('01-codebuild-succeeded'), ports)).rejects.toThrow(
      'socket hang up',
    );
  });
});

describe('collectEvent on CodePipeline events', () => {
  test('a stage state change is recorded under pipelines/ by execution, stage, state and attempt', async () => {
    const { store, ports } = harness();
    const outcome = await collectEvent(sampleEvent('03-codepipeline-stage-started'), ports);
    const key =
      'pipelines/pipeline=web-pipeline/date=2026-11-20/3f9a2c1e-7b4d-4e8a-9c6f-1d2e3f4a5b6c.Build._stage.STARTED.1.json';
    expect(outcome).toEqual({ status: 'recorded', transitionKey: key });
    expect(store.json(key)).toEqual({
      schemaVersion: 1,
      eventId: '8c2b5d3e-4f6a-4b7c-8d8e-9f0a1b2c3d03',
      level: 'stage',
      pipelineName: 'web-pipeline',
      executionId: '3f9a2c1e-7b4d-4e8a-9c6f-1d2e3f4a5b6c',
      stageName: 'Build',
      state: 'STARTED',
      time: '2026-11-20T11:30:12.000Z',
      pipelineVersion: 4,
      attempt: 1,
    });
  });

  test('a finished CodeBuild action links its build to the pipeline and rewrites the record with the context', async () => {
    const { store, emitted, ports } = harness();
    await collectEvent(sampleEvent('04-codebuild-succeeded-in-pipeline'), ports);
    const outcome = await collectEvent(sampleEvent('05-codepipeline-action-succeeded'), ports);
    expect(outcome).toMatchObject({
      status: 'stored',
      recordKey: WEB_RECORD,
      transitionKey:
        'pipelines/pipeline=web-pipeline/date=2026-11-20/3f9a2c1e-7b4d-4e8a-9c6f-1d2e3f4a5b6c.Build.BuildAndTest.SUCCEEDED.1.json',
    });
    expect((store.json(WEB_RECORD) as BuildRecord).pipeline).toEqual({
      pipelineName: 'web-pipeline',
      stageName: 'Build',
      actionName: 'BuildAndTest',
      executionId: '3f9a2c1e-7b4d-4e8a-9c6f-1d2e3f4a5b6c',
    });
    // The build's metrics were published once, by the build event.
    expect(emitted).toHaveLength(1);
  });

  test('a build event after its action event keeps the full pipeline context', async () => {
    const { store, ports } = harness();
    await collectEvent(sampleEvent('05-codepipeline-action-succeeded'), ports);
    await collectEvent(sampleEvent('04-codebuild-succeeded-in-pipeline'), ports);
    expect((store.json(WEB_RECORD) as BuildRecord).pipeline?.actionName).toBe('BuildAndTest');
  });

  test.each(['STARTED', 'SUCCEEDED', 'FAILED', 'CANCELED', 'SUPERSEDED', 'RESUMED', 'STOPPED', 'STOPPING'])(
    'a stage that is %s is recorded under its own key',
    async (state) => {
      const { store, ports } = harness();
      const event = sampleEvent('06-codepipeline-stage-succeeded');
      event.detail.state = state;
      const outcome = await collectEvent(event, ports);
      expect(outcome).toEqual({
        status: 'recorded',
        transitionKey: expect.stringContaining(`.Build._stage.${state}.1.json`),
      });
      expect(store.puts).toBe(1);
    },
  );

  test('an action of another provider is recorded without touching CodeBuild', async () => {
    const getBuild = jest.fn();
    const { ports } = harness({ getBuild });
    const event = sampleEvent('05-codepipeline-action-succeeded');
    event.detail.type = { owner: 'AWS', provider: 'CodeDeploy', category: 'Deploy', version: '1' };
    expect(await collectEvent(event, ports)).toMatchObject({ status: 'recorded' });
    expect(getBuild).not.toHaveBeenCalled();
  });

  test('a started CodeBuild action is recorded without collecting the unfinished build', async () => {
    const getBuild = jest.fn();
    const { ports } = harness({ getBuild });
    const event = sampleEvent('05-codepipeline-action-succeeded');
    event.detail.state = 'STARTED';
    delete event.detail['execution-result'];
    expect(await collectEvent(event, ports)).toMatchObject({ status: 'recorded' });
    expect(getBuild).not.toHaveBeenCalled();
  });
});

describe('collectEvent on bad input', () => {
  test.each([
    [
      'an unknown detail-type',
      sampleEvent('08-codebuild-phase-change-unsupported'),
      /^unsupported detail-type/,
    ],
    ['a non-object', 'hello', /^event is not a JSON object$/],
    ['an event with no detail', { ...sampleEvent('02-codebuild-failed'), detail: undefined }, /detail:/],
    [
      'a stage event missing its execution id',
      (() => {
        const event = sampleEvent('06-codepipeline-stage-succeeded');
        delete event.detail['execution-id'];
        return event;
      })(),
      /detail\.execution-id/,
    ],
  ])('%s is rejected with a reason and nothing is written', async (_label, event, reason) => {
    const { store, emitted, ports } = harness();
    const outcome = await collectEvent(event, ports);
    expect(outcome).toMatchObject({ status: 'rejected', reason: expect.stringMatching(reason) });
    expect(store.puts).toBe(0);
    expect(emitted).toHaveLength(0);
  });
});

describe('collectEvent with the compacted data lake intake', () => {
  const ingestedAt = new Date('2026-11-20T09:19:05.123Z');

  function withSink(send: FeatureRowSink['send'] = async () => {}) {
    const sent: CompactedFeatureRow[] = [];
    const sink: FeatureRowSink = {
      send: async (rows) => {
        await send(rows);
        sent.push(...rows);
      },
    };
    return { sent, ...harness({ featureSink: sink, now: () => ingestedAt }) };
  }

  test('sends the build feature row with its day and the ingestion time, beside the per-build CSV', async () => {
    const { sent, store, ports } = withSink();
    await collectEvent(sampleEvent('01-codebuild-succeeded'), ports);
    expect(sent).toEqual([
      {
        project: 'api-build',
        build_id: 'api-build:5f0c1a9e-3b7d-4e52-9a61-0c2f4d8b7e11',
        ingested_at: '2026-11-20T09:19:05.123Z',
        date: '2026-11-20',
        ...Object.fromEntries(
          FEATURE_COLUMNS.map((c, i) => [c, [298, 4, 23, 6, 41, 3, 212, 2, 5, 0, 94, 43.3][i]]),
        ),
      },
    ]);
    expect(store.objects.has(API_FEATURES)).toBe(true);
  });

  test('does not send the row again when a pipeline action rewrites the record with its context', async () => {
    const { sent, ports } = withSink();
    await collectEvent(sampleEvent('04-codebuild-succeeded-in-pipeline'), ports);
    await collectEvent(sampleEvent('05-codepipeline-action-succeeded'), ports);
    expect(sent).toHaveLength(1);
  });

  test('a sink failure propagates so the event is retried, after the per-build objects are written', async () => {
    const { store, ports } = withSink(async () => {
      throw new Error('1 of 1 feature rows were not accepted');
    });
    await expect(collectEvent(sampleEvent('01-codebuild-succeeded'), ports)).rejects.toThrow(
      '1 of 1 feature rows were not accepted',
    );
    expect(store.objects.has(API_RECORD)).toBe(true);
  });
});
