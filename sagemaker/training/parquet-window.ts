/**
 * The compacted data lake and the training window read from it. Pure logic and SQL text, no engine: the
 * local replay and the scale bench run the SQL on DuckDB (`local/duckdb-lake.ts`), AWS runs the sample
 * query on Athena (`athenaWindowSampleSql`).
 *
 * Layout: Parquet partitioned by day, `compacted/features/date=<d>/` (locally one `part.parquet` sorted by
 * project and build id; in AWS the objects Firehose delivers), columns `project`, `build_id`,
 * `ingested_at` and one DOUBLE per feature (snake_case of FEATURE_NAMES). Partitioned by day only: a
 * window is 90 partitions however many projects there are (one file per project and day would be
 * 1.8 million files at 20,000 projects, the small-files problem again). The per-build
 * `features/.../<buildId>.csv` objects stay the source of truth until they expire; compaction is a pure
 * function of them and the partition's previous Parquet file (latest `ingested_at` wins per build id).
 *
 * The training window is a stratified sample, so that training time and memory stay flat however many
 * builds a day the installation runs:
 * - per project, a deterministic Bernoulli sample of expected
 *   max(min(`baselineSampleSize`, `maxSampledRows` / P), `forestRows` / P) builds (P = projects with at
 *   least `minBuildsPerProject` builds; rate min(1, k / n_p), decided by a
 *   hash of the build id, so the same build is in or out on every run and on every engine that hashes the
 *   same way); each project's median/MAD baseline is computed from it;
 * - of those, a nested sample of expected `forestRows` / P rows per project is what the forest is trained
 *   and its threshold calibrated on, in time order.
 * A project with fewer builds than the sample sizes is read whole, so a small installation trains on
 * exactly what it trained on before compaction.
 */
import { FeatureRow } from './window';
import { FEATURE_COLUMNS, featureColumn } from '../../core/collection/compacted-feature-row';
import { computeBaseline, ProjectBaseline } from '../../core/scoring/baseline';

/**
 * Where the AWS trainers read their window from: the per-build feature CSVs (object by object, today's
 * layout) or the compacted table through Athena (a stratified sample).
 */
export const TRAINING_SOURCES = ['per-build', 'compacted'] as const;
export type TrainingSource = (typeof TRAINING_SOURCES)[number];

/** Where compacted feature partitions live in the data lake. */
export const COMPACTED_FEATURES_PREFIX = 'compacted/features/';

// The Parquet columns of the features (snake case: Athena lower-cases names), shared with the collector.
export { FEATURE_COLUMNS, featureColumn };

/**
 * `compacted/features/date=<d>/part.parquet`: the key of a day's partition as the local compaction writes
 * it (one file). In AWS, Firehose writes many objects per day into the same `date=<d>/` prefix (named by
 * the stream, with a `.parquet` extension); Athena and the DuckDB glob read every object of a partition.
 */
export function compactedPartitionKey(date: string): string {
  return `${COMPACTED_FEATURES_PREFIX}date=${date}/part.parquet`;
}

export interface WindowSamplePlan {
  /** Expected builds per project the baseline is computed from, at least. @default 1000 */
  readonly baselineSampleSize: number;
  /** Expected rows the forest is trained on, over all projects. @default 100000 (today's 90-day window at 1,100 builds a day) */
  readonly forestRows: number;
  /** Projects with fewer builds in the window get no baseline (as before compaction). */
  readonly minBuildsPerProject: number;
  /**
   * Cap of the baseline sample over all projects: with more projects than maxSampledRows /
   * baselineSampleSize, each project's baseline comes from maxSampledRows / P builds instead.
   * @default 4000000 (1,000 per project up to 4,000 projects; 200 per project at 20,000)
   */
  readonly maxSampledRows: number;
  /** Changes which builds are sampled. @default 42 */
  readonly seed: number;
}

export const DEFAULT_SAMPLE_PLAN: Omit<WindowSamplePlan, 'minBuildsPerProject'> = {
  baselineSampleSize: 1000,
  forestRows: 100_000,
  maxSampledRows: 4_000_000,
  seed: 42,
};

/** Hash resolution of the Bernoulli samples: a build is sampled when its bucket < rate × HASH_BUCKETS. */
export const HASH_BUCKETS = 1_000_000;

type Dialect = 'duckdb' | 'athena';

/**
 * A number in [0, HASH_BUCKETS) from the build id and seed, the same for every row of a build. The two
 * engines hash differently (DuckDB's hash, Athena's xxhash64), so they draw different but equally
 * random samples; each is deterministic.
 */
function bucketExpression(dialect: Dialect, seed: number): string {
  return dialect === 'duckdb'
    ? `(hash(build_id, ${Math.trunc(seed)}) % ${HASH_BUCKETS})`
    : `(abs(from_big_endian_64(xxhash64(to_utf8(build_id || '#${Math.trunc(seed)}')))) % ${HASH_BUCKETS})`;
}

function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * The sample query on any relation `source` with columns project, date, build_id and the feature columns:
 * rows ordered by project then time, each with the project's build count `project_builds` and whether it
 * is in the forest sample. Features absent from older files (schema evolution) read as 0, as the
 * collector imputes missing inputs.
 */
function windowSampleSql(dialect: Dialect, source: string, fromDate: string, plan: WindowSamplePlan): string {
  const bucket = bucketExpression(dialect, plan.seed);
  const from = sqlString(fromDate);
  // Explicit doubles: Athena (Trino) divides integers as integers, DuckDB as doubles.
  const buckets = `CAST(${HASH_BUCKETS} AS DOUBLE)`;
  const perProject = `CAST(${plan.forestRows} AS DOUBLE) / eligible.projects`;
  // The source is read twice, never through a CTE of its rows (an engine may materialise a CTE used
  // twice: the whole window): once for the per-project counts (one column), once for the sampled rows.
  // Duplicates of a build (an at-least-once writer such as Firehose) hash alike, so they are sampled
  // together and only the latest ingested copy is kept; the counts may include a rare duplicate.
  return `WITH counts AS (
  SELECT project, count(*) AS project_builds FROM ${source} WHERE date >= ${from} GROUP BY project
),
eligible AS (
  SELECT greatest(count(*), 1) AS projects FROM counts WHERE project_builds >= ${Math.trunc(plan.minBuildsPerProject)}
),
rates AS (
  SELECT counts.project, counts.project_builds,
    ${buckets} * greatest(least(${plan.baselineSampleSize}, CAST(${plan.maxSampledRows} AS DOUBLE) / eligible.projects), ${perProject}) / counts.project_builds AS keep_below,
    ${buckets} * ${perProject} / counts.project_builds AS forest_below
  FROM counts CROSS JOIN eligible
),
sampled AS (
  SELECT s.project, s.date, s.build_id, ${FEATURE_COLUMNS.map((c) => `s.${c}`).join(', ')},
    rates.project_builds, rates.forest_below, ${bucket.replace(/build_id/g, 's.build_id')} AS bucket, s.ingested_at
  FROM ${source} s JOIN rates ON s.project = rates.project
  WHERE s.date >= ${from} AND ${bucket.replace(/build_id/g, 's.build_id')} < rates.keep_below
),
latest AS (
  SELECT build_id, ${['project', 'date', ...FEATURE_COLUMNS, 'project_builds', 'forest_below', 'bucket']
    .map((c) => `max_by(${c}, ingested_at) AS ${c}`)
    .join(', ')}
  FROM sampled GROUP BY build_id
)
SELECT project, date, build_id, ${FEATURE_COLUMNS.map((c) => `coalesce(CAST(${c} AS DOUBLE), 0) AS ${c}`).join(', ')},
  project_builds, bucket < forest_below AS in_forest
FROM latest
ORDER BY project, date, build_id`;
}

/** The sample query over the compacted Parquet files under `root` (a directory or `s3://bucket`), on DuckDB. */
export function duckdbWindowSampleSql(root: string, fromDate: string, plan: WindowSamplePlan): string {
  const glob = `${root.replace(/\/$/, '')}/${COMPACTED_FEATURES_PREFIX}*/*.parquet`;
  return windowSampleSql(
    'duckdb',
    `read_parquet(${sqlString(glob)}, hive_partitioning = true, hive_types = {'date': VARCHAR}, union_by_name = true)`,
    fromDate,
    plan,
  );
}

/** The same sample query on Athena, over the Glue table of the compacted partitions. */
export function athenaWindowSampleSql(table: string, fromDate: string, plan: WindowSamplePlan): string {
  return windowSampleSql('athena', table, fromDate, plan);
}

/** Hive-style partitions of the UNLOADed sample (UNLOAD allows at most 100): projects hashed into buckets. */
export const UNLOAD_PROJECT_BUCKETS = 64;

/**
 * Athena `UNLOAD` of the sample to text files under `location` (an empty prefix: UNLOAD refuses to write
 * into one that has data), for the SageMaker pipeline's window step and the embedded trainer. UNLOAD
 * writes files in parallel with no order between them, so the rows are partitioned by a hash of the
 * project (`project_bucket=<n>/`, the partition column last, written in the path, not the files): a
 * reader takes one bucket at a time, sorts it by project, date and build id, and feeds the
 * accumulator. TEXTFILE output is gzip-compressed by Athena; the columns are those of
 * `parseSampleCsvLine`.
 */
export function athenaUnloadSampleSql(
  table: string,
  fromDate: string,
  plan: WindowSamplePlan,
  location: string,
): string {
  return `UNLOAD (SELECT *, abs(from_big_endian_64(xxhash64(to_utf8(project)))) % ${UNLOAD_PROJECT_BUCKETS} AS project_bucket
FROM (${athenaWindowSampleSql(table, fromDate, plan)}))
TO ${sqlString(location)}
WITH (format = 'TEXTFILE', field_delimiter = ',', partitioned_by = ARRAY['project_bucket'])`;
}

/** One row of the sample query, as an engine returns it. */
export interface SampleRow {
  readonly project: string;
  readonly date: string;
  readonly buildId: string;
  readonly values: readonly number[];
  readonly projectBuilds: number;
  readonly inForest: boolean;
}

/** The training window read from compacted data: forest rows plus baselines from the larger sample. */
export interface WindowSample {
  /** The forest sample's raw rows. */
  readonly rows: FeatureRow[];
  /** Per project with at least `minBuildsPerProject` builds: the baseline from its baseline sample. */
  readonly baselines: Record<string, ProjectBaseline>;
  /** Builds per project in the window (all of them, not the sample). */
  readonly projectBuilds: Record<string, number>;
  readonly malformed: string[];
  /** Rows that crossed from the engine into the trainer (the baseline sample). */
  readonly sampledRows: number;
}

/**
 * Folds sample rows ordered by project into baselines and forest rows, holding one project's baseline
 * sample at a time: memory is O(baselineSampleSize + forestRows), not O(window).
 */
export class WindowSampleAccumulator {
  private readonly rows: FeatureRow[] = [];
  private readonly baselines: Record<string, ProjectBaseline> = {};
  private readonly projectBuilds: Record<string, number> = {};
  private current: { project: string; vectors: (readonly number[])[]; builds: number } | undefined;
  private sampled = 0;
  private readonly done = new Set<string>();

  constructor(private readonly minBuildsPerProject: number) {}

  add(row: SampleRow): void {
    if (this.current?.project !== row.project) {
      this.flush();
      if (this.done.has(row.project)) throw new Error(`sample rows of ${row.project} are not contiguous`);
      this.current = { project: row.project, vectors: [], builds: row.projectBuilds };
    }
    this.sampled++;
    this.current.vectors.push(row.values);
    if (row.inForest) {
      this.rows.push({ projectName: row.project, buildId: row.buildId, date: row.date, values: row.values });
    }
  }

  finish(malformed: string[] = []): WindowSample {
    this.flush();
    return {
      rows: this.rows,
      baselines: this.baselines,
      projectBuilds: this.projectBuilds,
      malformed,
      sampledRows: this.sampled,
    };
  }

  private flush(): void {
    const current = this.current;
    if (!current) return;
    this.done.add(current.project);
    this.projectBuilds[current.project] = current.builds;
    if (current.builds >= this.minBuildsPerProject && current.vectors.length > 0) {
      this.baselines[current.project] = computeBaseline(current.project, current.vectors);
    }
    this.current = undefined;
  }
}

/**
 * Parses one line of the UNLOADed sample CSV (columns of the sample query, no header): Athena writes
 * booleans as `true`/`false` and strings unquoted (build ids have no commas: `<project>:<uuid>`).
 */
export function parseSampleCsvLine(line: string): SampleRow {
  const cells = line.split(',');
  const expected = 3 + FEATURE_COLUMNS.length + 2;
  if (cells.length !== expected)
    throw new Error(`sample row has ${cells.length} columns, expected ${expected}`);
  const [project, date, buildId] = cells as [string, string, string];
  const values = cells.slice(3, 3 + FEATURE_COLUMNS.length).map(Number);
  return {
    project,
    date,
    buildId,
    values,
    projectBuilds: Number(cells[3 + FEATURE_COLUMNS.length]),
    inForest: cells[4 + FEATURE_COLUMNS.length] === 'true',
  };
}
