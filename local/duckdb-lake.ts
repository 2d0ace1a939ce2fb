/**
 * The compacted data lake on a local directory, with DuckDB (an embedded SQL engine, real Parquet): the
 * compaction of per-build feature CSVs into one Parquet file per project and day, and the training
 * window's stratified sample read back from those files. The replay and the scale bench use it; the SQL of
 * the window sample is the same text Athena runs in AWS (`sagemaker/training/parquet-window.ts`).
 */
import { mkdir, readdir, rename, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { DuckDBConnection, DuckDBInstance, DuckDBVector } from '@duckdb/node-api';

import { FEATURE_NAMES } from '../core/collection/build-record';
import {
  COMPACTED_FEATURES_PREFIX,
  compactedPartitionKey,
  duckdbWindowSampleSql,
  featureColumn,
  WindowSample,
  WindowSampleAccumulator,
  WindowSamplePlan,
} from '../sagemaker/training/parquet-window';

export interface DuckDbLakeOptions {
  /** DuckDB worker threads. @default 1 (the trainer Lambda's one vCPU) */
  readonly threads?: number;
  /** DuckDB's memory limit, e.g. '1GB'; it spills to disk beyond it. @default '1GB' */
  readonly memoryLimit?: string;
}

export interface CompactionResult {
  readonly partition: string;
  /** Rows in the partition's Parquet file after compaction (one per build id). */
  readonly rows: number;
}

function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** SQL: one CSV feature row (no header, FEATURE_NAMES order) per file → typed columns; malformed rows dropped. */
function perBuildRowsSql(csvGlob: string, featureNames: readonly string[]): string {
  const cells = featureNames.map(
    (name, i) => `TRY_CAST(trim(cells[${i + 1}]) AS DOUBLE) AS ${featureColumn(name)}`,
  );
  const valid = featureNames.map((name) => `${featureColumn(name)} IS NOT NULL`).join(' AND ');
  return `SELECT * FROM (
    SELECT replace(regexp_extract(filename, 'project=([^/]+)/date=', 1), '%2F', '/') AS project,
      replace(regexp_extract(filename, '([^/]+)\\.csv$', 1), '%2F', '/') AS build_id,
      CAST(last_modified AS TIMESTAMP) AS ingested_at, ${cells.join(', ')}
    FROM (
      SELECT filename, last_modified, string_split(split_part(trim(content), chr(10), 1), ',') AS cells
      FROM read_text(${sqlString(csvGlob)})
    ) WHERE len(cells) = ${featureNames.length}
  ) WHERE ${valid}`;
}

export class DuckDbLake {
  private constructor(
    readonly root: string,
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  static async open(root: string, options: DuckDbLakeOptions = {}): Promise<DuckDbLake> {
    const instance = await DuckDBInstance.create(':memory:', {
      threads: String(options.threads ?? 1),
      memory_limit: options.memoryLimit ?? '1GB',
      // Sorting a large sample spills here rather than failing at the memory limit.
      temp_directory: path.join(tmpdir(), `pipemend-duckdb-${process.pid}`),
    });
    const connection = await instance.connect();
    return new DuckDbLake(path.resolve(root), instance, connection);
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }

  /** Runs SQL and returns its rows as JS objects (small results only). */
  async query(sql: string): Promise<Record<string, unknown>[]> {
    const reader = await this.connection.runAndReadAll(sql);
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  }

  /** The Parquet file of a day's partition. */
  partitionFile(date: string): string {
    return path.join(this.root, ...compactedPartitionKey(date).split('/'));
  }

  /**
   * Compacts one day: the per-build CSVs of every project (`features/project=<any>/date=<date>/`) plus the
   * day's previous Parquet file, deduplicated by build id with the latest `ingested_at` (the object's
   * last-modified time) winning, sorted by project and build id, written to a temporary file and renamed
   * over the old one. Idempotent: compacting again yields the same rows. `featureNames` defaults to
   * today's features; older files without a newer column read as NULL (`union_by_name`).
   */
  async compactPartition(
    date: string,
    featureNames: readonly string[] = FEATURE_NAMES,
  ): Promise<CompactionResult> {
    const target = this.partitionFile(date);
    // Taken before reading: a per-build object written while compacting is newer, so compacted next time.
    const newest = await this.newestCsvTime(date);
    const hasCsv = newest !== undefined;
    const hasPrevious = await exists(target);
    const partition = `date=${date}`;
    if (!hasCsv && !hasPrevious) return { partition, rows: 0 };
    const sources = [
      ...(hasPrevious ? [`SELECT * FROM read_parquet(${sqlString(target)}, union_by_name = true)`] : []),
      ...(hasCsv
        ? [
            perBuildRowsSql(
              path.join(this.root, 'features', 'project=*', `date=${date}`, '*.csv'),
              featureNames,
            ),
          ]
        : []),
    ];
    const temporary = `${target}.${process.pid}.tmp`;
    await mkdir(path.dirname(target), { recursive: true });
    await this.connection.run(`COPY (
  SELECT * EXCLUDE (rn) FROM (
    SELECT *, row_number() OVER (PARTITION BY build_id ORDER BY ingested_at DESC) AS rn
    FROM (${sources.join('\n      UNION ALL BY NAME\n')})
  ) WHERE rn = 1 ORDER BY project, build_id
) TO ${sqlString(temporary)} (FORMAT PARQUET, COMPRESSION ZSTD)`);
    await rename(temporary, target);
    // The file's time is that of the newest source it holds: a per-build object newer than it is news.
    if (newest !== undefined) await utimes(target, newest / 1000, newest / 1000);
    const [count] = await this.query(`SELECT count(*) AS n FROM read_parquet(${sqlString(target)})`);
    return { partition, rows: Number(count?.n ?? 0) };
  }

  /**
   * Compacts every day with a per-build CSV newer than its Parquet file (or without one): new days, and
   * days that received a late or redelivered build after they were compacted.
   */
  async compactStale(): Promise<CompactionResult[]> {
    const results: CompactionResult[] = [];
    for (const date of await this.perBuildDates()) {
      const target = this.partitionFile(date);
      const compactedAt = (await exists(target)) ? (await stat(target)).mtimeMs : -Infinity;
      const newest = await this.newestCsvTime(date);
      // 1 ms of slack: file times set through utimes lose sub-millisecond precision.
      if (newest !== undefined && newest > compactedAt + 1) results.push(await this.compactPartition(date));
    }
    return results;
  }

  /** The training window's stratified sample from the compacted files, streamed into baselines and forest rows. */
  async readWindowSample(fromDate: string, plan: WindowSamplePlan): Promise<WindowSample> {
    const accumulator = new WindowSampleAccumulator(plan.minBuildsPerProject);
    if (!(await exists(path.join(this.root, ...COMPACTED_FEATURES_PREFIX.split('/'))))) {
      return accumulator.finish();
    }
    const result = await this.connection.stream(duckdbWindowSampleSql(this.root, fromDate, plan));
    const dimension = FEATURE_NAMES.length;
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      // Vectors read item by item: doubles straight from their buffers, strings only where needed.
      const vectors = Array.from({ length: chunk.columnCount }, (_, c) => chunk.getColumnVector(c));
      const [projects, dates, buildIds] = vectors as [DuckDBVector, DuckDBVector, DuckDBVector];
      const builds = vectors[3 + dimension]!;
      const forest = vectors[4 + dimension]!;
      for (let i = 0; i < chunk.rowCount; i++) {
        const values = new Array<number>(dimension);
        for (let f = 0; f < dimension; f++) values[f] = Number(vectors[3 + f]!.getItem(i));
        const inForest = forest.getItem(i) === true;
        accumulator.add({
          project: String(projects.getItem(i)),
          date: inForest ? String(dates.getItem(i)) : '',
          buildId: inForest ? String(buildIds.getItem(i)) : '',
          values,
          projectBuilds: Number(builds.getItem(i)),
          inForest,
        });
      }
    }
    return accumulator.finish();
  }

  /** The dates that have per-build feature CSVs, over all projects. */
  private async perBuildDates(): Promise<string[]> {
    const featuresDir = path.join(this.root, 'features');
    const dates = new Set<string>();
    for (const projectDir of await this.subdirs(featuresDir, 'project=')) {
      for (const dateDir of await this.subdirs(path.join(featuresDir, projectDir), 'date=')) {
        dates.add(dateDir.slice('date='.length));
      }
    }
    return [...dates].sort();
  }

  /** The latest modification time (ms) of a day's per-build CSVs (all projects), or undefined without any. */
  private async newestCsvTime(date: string): Promise<number | undefined> {
    const featuresDir = path.join(this.root, 'features');
    let newest: number | undefined;
    for (const projectDir of await this.subdirs(featuresDir, 'project=')) {
      const dir = path.join(featuresDir, projectDir, `date=${date}`);
      for (const file of await this.csvFiles(dir)) {
        const time = (await stat(path.join(dir, file))).mtimeMs;
        if (newest === undefined || time > newest) newest = time;
      }
    }
    return newest;
  }

  private async csvFiles(dir: string): Promise<string[]> {
    try {
      return (await readdir(dir)).filter((name) => name.endsWith('.csv'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  private async subdirs(dir: string, prefix: string): Promise<string[]> {
    try {
      return (await readdir(dir)).filter((name) => name.startsWith(prefix)).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }
}
