import { FEATURE_DIMENSION } from '../../../core/collection/build-record';
import { computeBaseline } from '../../../core/scoring/baseline';
import { ModelManifest } from '../../../core/scoring/model-manifest';
import { trainEmbeddedModel } from '../../../sagemaker/training/embedded-training';
import {
  athenaUnloadSampleSql,
  featureColumn,
  parseSampleCsvLine,
  WindowSampleAccumulator,
} from '../../../sagemaker/training/parquet-window';
import { assembleTrainingWindow } from '../../../sagemaker/training/window';

const values = (first: number): number[] =>
  Array.from({ length: FEATURE_DIMENSION }, (_, f) => (f ? f : first));

describe('WindowSampleAccumulator', () => {
  it('computes each project’s baseline from its whole sample and keeps only the forest rows', () => {
    const accumulator = new WindowSampleAccumulator(3);
    const rows = [
      ['api', 10, true],
      ['api', 20, false],
      ['api', 30, true],
      ['tiny', 5, true],
    ] as const;
    rows.forEach(([project, first, inForest], i) =>
      accumulator.add({
        project,
        date: '2026-11-01',
        buildId: `${project}:${i}`,
        values: values(first),
        projectBuilds: project === 'api' ? 300 : 2,
        inForest,
      }),
    );
    const sample = accumulator.finish();
    expect(sample.baselines.api!.median[0]).toBe(20);
    expect(sample.baselines.api!.count).toBe(3);
    expect(sample.baselines.tiny).toBeUndefined();
    expect(sample.projectBuilds).toEqual({ api: 300, tiny: 2 });
    expect(sample.rows.map((r) => r.buildId)).toEqual(['api:0', 'api:2', 'tiny:3']);
    expect(sample.sampledRows).toBe(4);
  });

  it('refuses rows that are not ordered by project', () => {
    const accumulator = new WindowSampleAccumulator(1);
    const row = { date: '2026-11-01', buildId: 'x', values: values(1), projectBuilds: 1, inForest: true };
    accumulator.add({ ...row, project: 'a' });
    accumulator.add({ ...row, project: 'b' });
    expect(() => accumulator.add({ ...row, project: 'a' })).toThrow(/not contiguous/);
  });
});

describe('assembleTrainingWindow with a sample', () => {
  it('uses the given baselines and whole-window counts', () => {
    const big = computeBaseline('big', [values(100), values(200), values(300)]);
    const quiet = computeBaseline('quiet', [values(50)]);
    const rows = [
      { projectName: 'big', buildId: 'big:1', date: '2026-11-01', values: values(200) },
      { projectName: 'few', buildId: 'few:1', date: '2026-11-01', values: values(1) },
    ];
    const window = assembleTrainingWindow(rows, {
      minTrainingRows: 1,
      minBuildsPerProject: 20,
      evaluationFrom: '2026-11-01',
      baselines: { big, quiet },
      projectBuilds: { big: 5_000, few: 3, quiet: 40 },
    });
    expect(window.baselines.big).toBe(big);
    // In the sample's baselines but none of its rows in the forest sample: still scored by the model.
    expect(window.baselines.quiet).toBe(quiet);
    expect(window.excludedProjects).toEqual({ few: 3 });
    expect(window.training.map((r) => r.buildId)).toEqual(['big:1']);
  });
});

describe('the Athena side', () => {
  it('unloads the sample as gzip CSV and parses its lines', () => {
    const sql = athenaUnloadSampleSql(
      'pipemend.features_compacted',
      '2026-08-24',
      {
        baselineSampleSize: 1000,
        forestRows: 100_000,
        maxSampledRows: 4_000_000,
        minBuildsPerProject: 20,
        seed: 42,
      },
      's3://lake/training/run-1/sample/',
    );
    expect(sql).toMatch(/^UNLOAD \(SELECT \*, .* AS project_bucket\nFROM \(WITH counts AS/);
    expect(sql).toContain("TO 's3://lake/training/run-1/sample/'");
    expect(sql).toContain(
      "WITH (format = 'TEXTFILE', field_delimiter = ',', partitioned_by = ARRAY['project_bucket'])",
    );
    expect(sql).toContain('xxhash64(to_utf8(');
    expect(sql).toContain(`coalesce(CAST(${featureColumn('durationSeconds')} AS DOUBLE), 0)`);
    const line = ['api', '2026-11-01', 'api:1', ...values(42), '4500', 'true'].join(',');
    expect(parseSampleCsvLine(line)).toEqual({
      project: 'api',
      date: '2026-11-01',
      buildId: 'api:1',
      values: values(42),
      projectBuilds: 4500,
      inForest: true,
    });
    expect(() => parseSampleCsvLine('api,2026-11-01')).toThrow(/columns/);
  });
});

test('the embedded trainer trains on the store’s window sample when it has one', async () => {
  const rows = Array.from({ length: 400 }, (_, i) => ({
    projectName: 'api',
    buildId: `api:${String(i).padStart(3, '0')}`,
    date: new Date(Date.UTC(2026, 10, 21) - (39 - Math.floor(i / 10)) * 86_400_000)
      .toISOString()
      .slice(0, 10),
    values: values(100 + (i % 13)),
  }));
  const sampleBaseline = computeBaseline('api', [values(1000), values(1001)]);
  const objects = new Map<string, unknown>();
  const result = await trainEmbeddedModel(
    {
      readFeatureRows: () => Promise.reject(new Error('not read when a sample is offered')),
      readWindowSample: async () => ({
        rows,
        baselines: { api: sampleBaseline },
        projectBuilds: { api: 40_000 },
        malformed: [],
        sampledRows: 1_000,
      }),
      readLabelTexts: async () => [],
      readJson: async (key) => objects.get(key) ?? null,
      writeJson: async (key, value) => void objects.set(key, value),
    },
    {
      windowDays: 90,
      evaluationDays: 7,
      minTrainingRows: 100,
      minBuildsPerProject: 20,
      numTrees: 20,
      sampleSize: 64,
      seed: 1,
      noWorseTolerance: 0.02,
    },
    new Date('2026-11-21T20:00:00.000Z'),
  );
  expect(result.trainingRows).toBe(400);
  const manifest = objects.get('models/current.json') as ModelManifest;
  expect(manifest.baselines.api).toEqual(sampleBaseline);
});
