import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { FEATURE_NAMES } from '../../core/collection/build-record';
import { DuckDbLake } from '../../local/duckdb-lake';
import { FileDataLake } from '../../local/file-data-lake';
import { featureColumn } from '../../sagemaker/training/parquet-window';

const row = (first: number): string => [first, ...FEATURE_NAMES.slice(1).map((_, i) => i)].join(',');

describe('DuckDbLake compaction (real Parquet on DuckDB)', () => {
  let dir: string;
  let files: FileDataLake;
  let lake: DuckDbLake;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pipemend-duckdb-'));
    files = new FileDataLake(dir);
    lake = await DuckDbLake.open(dir);
  });

  afterEach(async () => {
    lake.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Writes a per-build feature CSV with a given modification time (seconds since the epoch). */
  async function putFeature(project: string, date: string, buildId: string, body: string, at: number) {
    const key = `features/project=${project}/date=${date}/${buildId}.csv`;
    await files.put(key, body);
    await utimes(path.join(dir, key), at, at);
  }

  async function partitionRows(date: string) {
    return lake.query(
      `SELECT project, build_id, duration_seconds FROM read_parquet('${lake.partitionFile(date)}', union_by_name = true) ORDER BY build_id`,
    );
  }

  it('writes one row per build and is idempotent: a redelivered build stays one row, the latest wins', async () => {
    await putFeature('api', '2026-11-01', 'api:1', row(100), 1_000);
    await putFeature('web', '2026-11-01', 'web:2', row(200), 1_000);
    await lake.compactPartition('2026-11-01');
    await lake.compactPartition('2026-11-01');
    expect(await partitionRows('2026-11-01')).toEqual([
      { project: 'api', build_id: 'api:1', duration_seconds: 100 },
      { project: 'web', build_id: 'web:2', duration_seconds: 200 },
    ]);

    // The collector receives api:1's event again and rewrites its object with corrected values.
    await putFeature('api', '2026-11-01', 'api:1', row(110), 2_000);
    await lake.compactStale();
    await lake.compactStale();
    expect(await partitionRows('2026-11-01')).toEqual([
      { project: 'api', build_id: 'api:1', duration_seconds: 110 },
      { project: 'web', build_id: 'web:2', duration_seconds: 200 },
    ]);
  });

  it('recompacts a day that receives a late build, keeping rows whose per-build objects have expired', async () => {
    await putFeature('api', '2026-11-01', 'api:1', row(100), 1_000);
    await lake.compactStale();
    // Lifecycle expiry removes the per-build object; the compacted row must survive the recompaction.
    await rm(path.join(dir, 'features/project=api/date=2026-11-01/api:1.csv'));
    await putFeature('api', '2026-11-01', 'api:late', row(300), Date.now() / 1000 + 10);
    const results = await lake.compactStale();
    expect(results).toEqual([{ partition: 'date=2026-11-01', rows: 2 }]);
    expect(await partitionRows('2026-11-01')).toEqual([
      { project: 'api', build_id: 'api:1', duration_seconds: 100 },
      { project: 'api', build_id: 'api:late', duration_seconds: 300 },
    ]);
    // Nothing newer than the Parquet file: nothing to do.
    expect(await lake.compactStale()).toEqual([]);
  });

  it('reads older partitions without a new feature column as NULL (union_by_name)', async () => {
    const evolved = [...FEATURE_NAMES, 'diskUtilizedPercent'];
    await putFeature('api', '2026-11-01', 'api:old', row(100), 1_000);
    await lake.compactPartition('2026-11-01');
    await putFeature('api', '2026-11-02', 'api:new', `${row(200)},55`, 1_000);
    await lake.compactPartition('2026-11-02', evolved);
    const rows = await lake.query(
      `SELECT date, build_id, ${featureColumn('diskUtilizedPercent')} AS disk
       FROM read_parquet('${dir}/compacted/features/*/*.parquet', hive_partitioning = true, hive_types = {'date': VARCHAR}, union_by_name = true)
       ORDER BY date`,
    );
    expect(rows).toEqual([
      { date: '2026-11-01', build_id: 'api:old', disk: null },
      { date: '2026-11-02', build_id: 'api:new', disk: 55 },
    ]);
    // A late build of the old day, compacted with the new schema, merges with the old file by name.
    await putFeature('api', '2026-11-01', 'api:old2', `${row(150)},60`, Date.now() / 1000 + 10);
    await lake.compactPartition('2026-11-01', evolved);
    expect(
      await lake.query(
        `SELECT build_id, ${featureColumn('diskUtilizedPercent')} AS disk FROM read_parquet('${lake.partitionFile('2026-11-01')}') ORDER BY build_id`,
      ),
    ).toEqual([
      { build_id: 'api:old', disk: null },
      { build_id: 'api:old2', disk: 60 },
    ]);
  });

  it('drops malformed per-build rows instead of guessing', async () => {
    await putFeature('api', '2026-11-01', 'api:1', row(100), 1_000);
    await putFeature('api', '2026-11-01', 'api:bad', '1,2,3', 1_000);
    await putFeature('api', '2026-11-01', 'api:nan', row(100).replace(/^100/, 'x'), 1_000);
    expect(await lake.compactPartition('2026-11-01')).toEqual({
      partition: 'date=2026-11-01',
      rows: 1,
    });
  });

  it('samples the window: whole projects when small, an expected k per project when large', async () => {
    for (let d = 1; d <= 3; d++) {
      const date = `2026-11-0${d}`;
      for (let b = 0; b < 400; b++) await putFeature('big', date, `big:${d}-${b}`, row(100 + (b % 7)), 1_000);
      for (let b = 0; b < 10; b++) await putFeature('small', date, `small:${d}-${b}`, row(50 + b), 1_000);
    }
    await lake.compactStale();
    const plan = {
      baselineSampleSize: 300,
      forestRows: 100,
      maxSampledRows: 1_000_000,
      minBuildsPerProject: 20,
      seed: 42,
    };
    const sample = await lake.readWindowSample('2026-11-01', plan);
    expect(sample.projectBuilds).toEqual({ big: 1200, small: 30 });
    expect(Object.keys(sample.baselines).sort()).toEqual(['big', 'small']);
    // small: rate 1 (every build); big: Bernoulli 300/1200 for the baseline, ≈ 50 for the forest.
    expect(sample.baselines.small!.count).toBe(30);
    expect(sample.baselines.big!.count).toBeGreaterThan(240);
    expect(sample.baselines.big!.count).toBeLessThan(360);
    expect(sample.baselines.big!.median[0]).toBe(103);
    const bigForest = sample.rows.filter((r) => r.projectName === 'big').length;
    expect(bigForest).toBeGreaterThan(30);
    expect(bigForest).toBeLessThan(75);
    expect(sample.rows.filter((r) => r.projectName === 'small')).toHaveLength(30);
    // Deterministic: the same builds on every run.
    expect((await lake.readWindowSample('2026-11-01', plan)).rows).toEqual(sample.rows);
    // The window start is respected.
    expect((await lake.readWindowSample('2026-11-03', plan)).projectBuilds).toEqual({ big: 400, small: 10 });
  });

  it('keeps the latest copy of a build delivered twice (an at-least-once writer such as Firehose)', async () => {
    await putFeature('api', '2026-11-01', 'api:1', row(100), 1_000);
    await putFeature('api', '2026-11-01', 'api:2', row(200), 1_000);
    await lake.compactStale();
    // A second file in the same day holding a later copy of api:1.
    const second = lake.partitionFile('2026-11-01').replace('part.parquet', 'part-2.parquet');
    await lake.query(
      `COPY (SELECT project, build_id, ingested_at + INTERVAL 1 HOUR AS ingested_at, * EXCLUDE (project, build_id, ingested_at) REPLACE (150.0 AS duration_seconds)
       FROM read_parquet('${lake.partitionFile('2026-11-01')}') WHERE build_id = 'api:1') TO '${second}' (FORMAT PARQUET)`,
    );
    const plan = {
      baselineSampleSize: 100,
      forestRows: 100,
      maxSampledRows: 1_000,
      minBuildsPerProject: 1,
      seed: 1,
    };
    const sample = await lake.readWindowSample('2026-11-01', plan);
    expect(sample.rows.map((r) => [r.buildId, r.values[0]])).toEqual([
      ['api:1', 150],
      ['api:2', 200],
    ]);
  });
});
