/**
 * The data lake at scale: 1k, 10k, 100k and 1M builds a day, per weekly training of a 90-day window, in
 * today's per-object layout and in the compacted (Parquet) layout.
 *
 * Measured on this machine: the compacted layout's embedded trainer (the code the Lambda runs,
 * `trainEmbeddedModel` on the window sample of `sagemaker/training/parquet-window.ts`) on real Parquet
 * files of each scale, pinned to one CPU (`taskset -c 0`, DuckDB with one thread), wall time and peak RSS;
 * the Parquet bytes per build; the JS memory of a feature row; the forest's time per row. Estimated from
 * documented figures: the per-object layout's read time (S3 first-byte latency of 100–200 ms for small
 * objects, 32 concurrent GETs as in `s3-training-data.ts`), and every dollar (list prices, us-east-1; see
 * docs/data-lake.md for the sources).
 *
 *   npm run bench:scale [-- --scales 1000,10000,100000,1000000] [--dir out/bench-scale]
 *
 * The synthetic windows are generated once and kept under --dir (≈ 3 GB at 1M builds a day).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';

import { FEATURE_NAMES } from '../core/collection/build-record';
import { DuckDbLake } from '../local/duckdb-lake';
import { EmbeddedTrainingSettings, trainEmbeddedModel } from '../sagemaker/training/embedded-training';
import {
  compactedPartitionKey,
  DEFAULT_SAMPLE_PLAN,
  featureColumn,
} from '../sagemaker/training/parquet-window';
import { FeatureRow } from '../sagemaker/training/window';

const DAYS = 90;
const BUILDS_PER_PROJECT_PER_DAY = 50;
const NOW = new Date('2026-11-21T03:00:00.000Z');
const WEEKS_PER_MONTH = 4.35;
const DAYS_PER_MONTH = 30;

/** The trainer Lambda's settings (lambda/embedded-trainer defaults). */
const LAMBDA_SETTINGS: EmbeddedTrainingSettings = {
  windowDays: DAYS,
  evaluationDays: 7,
  minTrainingRows: 500,
  minBuildsPerProject: 20,
  numTrees: 100,
  sampleSize: 256,
  seed: 42,
  noWorseTolerance: 0.02,
};

/** List prices, us-east-1 (sources in docs/data-lake.md). */
export const PRICES = {
  s3GbMonth: 0.023,
  s3PutPer1k: 0.005,
  s3GetPer1k: 0.0004,
  s3ListPer1k: 0.005,
  athenaPerTb: 5,
  athenaMinBytes: 10 * 1024 * 1024,
  lambdaArmGbSecond: 0.0000133334,
  lambdaPerMillion: 0.2,
  firehoseIngestGb: 0.029,
  firehoseFormatConversionGb: 0.018,
  firehoseDynamicPartitioningGb: 0.02,
  firehosePer1kObjects: 0.005,
  firehoseRecordRoundingBytes: 5 * 1024,
};

/** Documented S3 first-byte latency for small objects (100–200 ms): the midpoint. */
const S3_GET_SECONDS = 0.15;
/** Concurrent GETs of `S3TrainingData` (READ_CONCURRENCY). */
const GET_CONCURRENCY = 32;
const LAMBDA_SECONDS = 900;
const LAMBDA_GB = 1769 / 1024;
/** Today's retention of per-build objects (DataLake expireAfterDays) and the compacted layout's for per-build CSVs. */
const RETENTION_DAYS = 730;
const PER_BUILD_CSV_DAYS = 14;
/** Sizes measured on the default replay's data lake: a build record (JSON) and a feature row (CSV). */
const RECORD_JSON_BYTES = 1207;
const FEATURE_CSV_BYTES = 38;

interface TrainMeasurement {
  readonly seconds: number;
  readonly readSeconds: number;
  readonly maxRssMb: number;
  readonly sampledRows: number;
  readonly trainingRows: number;
  readonly projects: number;
}

function dates(): string[] {
  return Array.from({ length: DAYS }, (_, i) =>
    new Date(NOW.getTime() - (DAYS - 1 - i) * 86_400_000).toISOString().slice(0, 10),
  );
}

/** Writes the window's Parquet files (one per day, as compaction writes them) unless they exist. */
async function generate(root: string, buildsPerDay: number): Promise<{ seconds: number; bytes: number }> {
  const projects = Math.max(1, Math.round(buildsPerDay / BUILDS_PER_PROJECT_PER_DAY));
  const started = performance.now();
  const lake = await DuckDbLake.open(root, { threads: 2, memoryLimit: '4GB' });
  try {
    for (const date of dates()) {
      const file = path.join(root, ...compactedPartitionKey(date).split('/'));
      if (existsSync(file)) continue;
      mkdirSync(path.dirname(file), { recursive: true });
      const features = FEATURE_NAMES.map((name, f) => {
        const column = featureColumn(name);
        if (name === 'testFailureRate') {
          return `CASE WHEN random() < 0.05 THEN round(random() * 0.2, 3) ELSE 0 END AS ${column}`;
        }
        if (name.endsWith('Percent')) return `round(20 + 60 * random(), 1) AS ${column}`;
        const anomaly = f === 0 ? ' * CASE WHEN random() < 0.01 THEN 4 ELSE 1 END' : '';
        return `round(s * ${(0.2 + 0.1 * f).toFixed(1)} * (0.9 + 0.2 * random())${anomaly}) AS ${column}`;
      });
      await lake.query(`COPY (
  SELECT 'project-' || p AS project, 'project-' || p || ':${date}-' || i AS build_id,
    TIMESTAMP '${date} 12:00:00' AS ingested_at, ${features.join(', ')}
  FROM (SELECT i, i % ${projects} AS p, 60 * (1 + (i % ${projects}) % 20) AS s FROM range(${buildsPerDay}) t(i))
  ORDER BY project, build_id
) TO '${file}' (FORMAT PARQUET, COMPRESSION ZSTD)`);
    }
  } finally {
    lake.close();
  }
  return {
    seconds: (performance.now() - started) / 1000,
    bytes: directoryBytes(path.join(root, 'compacted')),
  };
}

function directoryBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return total;
}

/** Child mode: the embedded trainer on the compacted window, one thread; prints its measurement. */
async function trainChild(root: string): Promise<void> {
  const started = performance.now();
  let readSeconds = 0;
  let sampledRows = 0;
  let projects = 0;
  const objects = new Map<string, unknown>();
  const lake = await DuckDbLake.open(root, { threads: 1, memoryLimit: '1GB' });
  try {
    const result = await trainEmbeddedModel(
      {
        readFeatureRows: () => Promise.reject(new Error('the compacted store reads a sample')),
        readWindowSample: async (fromDate, minBuildsPerProject) => {
          const readStart = performance.now();
          const sample = await lake.readWindowSample(fromDate, {
            ...DEFAULT_SAMPLE_PLAN,
            minBuildsPerProject,
          });
          readSeconds = (performance.now() - readStart) / 1000;
          sampledRows = sample.sampledRows;
          projects = Object.keys(sample.projectBuilds).length;
          return sample;
        },
        readLabelTexts: async () => [],
        readJson: async (key) => objects.get(key) ?? null,
        writeJson: async (key, value) => void objects.set(key, value),
      },
      LAMBDA_SETTINGS,
      NOW,
    );
    const measurement: TrainMeasurement = {
      seconds: (performance.now() - started) / 1000,
      readSeconds,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
      sampledRows,
      trainingRows: result.trainingRows,
      projects,
    };
    process.stdout.write(`${JSON.stringify(measurement)}\n`);
  } finally {
    lake.close();
  }
}

/** Child mode: heap bytes per FeatureRow as the per-object reader holds them (200,000 rows). */
function rowMemoryChild(): void {
  global.gc?.();
  const before = process.memoryUsage().heapUsed;
  const rows: FeatureRow[] = [];
  for (let i = 0; i < 200_000; i++) {
    rows.push({
      projectName: `project-${i % 400}`,
      buildId: `project-${i % 400}:0f6a2c1e-8d4b-4c1a-9a7e-${String(i).padStart(12, '0')}`,
      date: '2026-11-01',
      values: FEATURE_NAMES.map((_, f) => (i * (f + 1)) % 997),
    });
  }
  global.gc?.();
  const bytes = (process.memoryUsage().heapUsed - before) / rows.length;
  process.stdout.write(`${JSON.stringify({ bytesPerRow: bytes, rows: rows.length })}\n`);
}

function runChild(args: string[], pin: boolean): string {
  const tsx = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
  const command = pin && existsSync('/usr/bin/taskset') ? 'taskset' : tsx;
  const commandArgs = command === 'taskset' ? ['-c', '0', tsx, ...args] : args;
  const child = spawnSync(command, commandArgs, {
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
    env: { ...process.env, NODE_OPTIONS: '--expose-gc --max-old-space-size=2560' },
  });
  if (child.status !== 0) throw new Error(`${args.join(' ')} failed:\n${child.stderr}`);
  return child.stdout.trim().split('\n').pop()!;
}

const usd = (value: number): string => (value < 0.01 && value > 0 ? '<$0.01' : `$${value.toFixed(2)}`);
const count = (value: number): string => Math.round(value).toLocaleString('en-US');
const gb = (bytes: number): number => bytes / 1e9;
const athenaQuery = (bytes: number): number =>
  (Math.max(bytes, PRICES.athenaMinBytes) / 1e12) * PRICES.athenaPerTb;

interface ScaleRow {
  readonly buildsPerDay: number;
  readonly projects: number;
  readonly parquetBytes: number;
  readonly generateSeconds: number;
  readonly train: TrainMeasurement;
}

function report(rows: readonly ScaleRow[], bytesPerRow: number, forestSecondsPerRow: number): string {
  const lines: string[] = [];
  const table = (header: string[], body: string[][]): void => {
    lines.push(`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`);
    for (const row of body) lines.push(`| ${row.join(' | ')} |`);
    lines.push('');
  };
  lines.push('## Per weekly training (90-day window)', '');
  table(
    [
      'builds/day',
      'projects',
      'per-object: GETs + LISTs',
      'per-object: bytes read',
      'per-object: trainer time (est.)',
      'per-object: trainer memory (est.)',
      'compacted: objects read',
      'compacted: Parquet bytes',
      'compacted: trainer time (measured, 1 CPU)',
      'compacted: peak RSS (measured)',
      'rows into trainer / forest rows',
    ],
    rows.map((r) => {
      const window = DAYS * r.buildsPerDay;
      const lists = window / 1000 + r.projects;
      const readSeconds = (window * S3_GET_SECONDS) / GET_CONCURRENCY;
      const perObjectSeconds = readSeconds + window * forestSecondsPerRow;
      const perObjectMb = (window * bytesPerRow) / 1e6 + 150;
      return [
        count(r.buildsPerDay),
        count(r.projects),
        `${count(window)} + ${count(lists)}`,
        `${(gb(window * FEATURE_CSV_BYTES) * 1000).toFixed(0)} MB`,
        `${count(perObjectSeconds)} s${perObjectSeconds > LAMBDA_SECONDS ? ' ✗ > 15 min' : ''}`,
        `${count(perObjectMb)} MB${perObjectMb > 10_240 ? ' ✗ > 10 GB' : ''}`,
        `${DAYS} files`,
        `${(r.parquetBytes / 1e6).toFixed(0)} MB`,
        `${r.train.seconds.toFixed(0)} s (read ${r.train.readSeconds.toFixed(0)} s)`,
        `${count(r.train.maxRssMb)} MB`,
        `${count(r.train.sampledRows)} / ${count(r.train.trainingRows)}`,
      ];
    }),
  );
  const ceiling = LAMBDA_SECONDS / (DAYS * (S3_GET_SECONDS / GET_CONCURRENCY + forestSecondsPerRow));
  lines.push(
    `Per-object ceiling: a 15-minute Lambda reads and trains at most ≈ ${count(ceiling)} builds a day ` +
      `(${S3_GET_SECONDS * 1000} ms per GET, ${GET_CONCURRENCY} concurrent GETs, ` +
      `${(forestSecondsPerRow * 1e6).toFixed(0)} µs of forest per row measured here, ${bytesPerRow.toFixed(0)} B of heap per row).`,
    '',
  );

  lines.push('## Monthly cost of the data lake and training (list prices, us-east-1)', '');
  const costRows = rows.map((r) => {
    const n = r.buildsPerDay;
    const window = DAYS * n;
    const parquetPerBuild = r.parquetBytes / window;
    // Today's layout.
    const todayStorage = gb(n * RETENTION_DAYS * (RECORD_JSON_BYTES + FEATURE_CSV_BYTES)) * PRICES.s3GbMonth;
    const recordPuts = (n * DAYS_PER_MONTH * PRICES.s3PutPer1k) / 1000;
    const featurePuts = recordPuts;
    const todayTraining =
      WEEKS_PER_MONTH *
      ((window * PRICES.s3GetPer1k) / 1000 + ((window / 1000 + r.projects) * PRICES.s3ListPer1k) / 1000);
    const todayDrift = (DAYS_PER_MONTH * 7 * n * PRICES.s3GetPer1k) / 1000;
    const todayAthena =
      WEEKS_PER_MONTH * (athenaQuery(window * RECORD_JSON_BYTES) + (window * PRICES.s3GetPer1k) / 1000);
    // Compacted layout, compaction by Firehose (dynamic partitioning by day + Parquet conversion).
    const ingestedGb = gb(n * DAYS_PER_MONTH * PRICES.firehoseRecordRoundingBytes);
    const firehose =
      ingestedGb *
        (PRICES.firehoseIngestGb + PRICES.firehoseFormatConversionGb + PRICES.firehoseDynamicPartitioningGb) +
      (DAYS_PER_MONTH * 96 * PRICES.firehosePer1kObjects) / 1000;
    const compactedStorage =
      gb(n * RETENTION_DAYS * (RECORD_JSON_BYTES + parquetPerBuild)) * PRICES.s3GbMonth;
    const compactedTraining =
      WEEKS_PER_MONTH * (athenaQuery(r.parquetBytes) + (DAYS * 4 * PRICES.s3GetPer1k) / 1000) +
      WEEKS_PER_MONTH * r.train.seconds * LAMBDA_GB * PRICES.lambdaArmGbSecond;
    const compactedDrift = DAYS_PER_MONTH * athenaQuery((r.parquetBytes * 7) / DAYS);
    const compactedAthena = WEEKS_PER_MONTH * athenaQuery(r.parquetBytes);
    // Compacted layout, compaction by a scheduled job reading the per-build CSVs (no collector change).
    const scheduled =
      (n * DAYS_PER_MONTH * PRICES.s3GetPer1k) / 1000 +
      DAYS_PER_MONTH * athenaQuery(n * FEATURE_CSV_BYTES) +
      gb(n * PER_BUILD_CSV_DAYS * FEATURE_CSV_BYTES) * PRICES.s3GbMonth;
    return {
      n,
      todayStorage,
      recordPuts,
      featurePuts,
      todayTraining,
      todayDrift,
      todayAthena,
      firehose,
      scheduled,
      compactedStorage,
      compactedTraining,
      compactedDrift,
      compactedAthena,
    };
  });
  table(
    ['item (per month)', ...costRows.map((c) => `${count(c.n)}/day`)],
    [
      ['**today** storage (records + feature CSVs, 730 days)', ...costRows.map((c) => usd(c.todayStorage))],
      [
        'collector PUT of the build record (online path; both layouts)',
        ...costRows.map((c) => usd(c.recordPuts)),
      ],
      ['collector PUT of the feature CSV', ...costRows.map((c) => usd(c.featurePuts))],
      ['weekly training: GETs + LISTs', ...costRows.map((c) => usd(c.todayTraining))],
      ['daily drift check: 7 days of GETs', ...costRows.map((c) => usd(c.todayDrift))],
      ['one 90-day Athena query a week over the JSON', ...costRows.map((c) => usd(c.todayAthena))],
      [
        '**today: requests of data lake + training** (PUTs + GETs + Athena)',
        ...costRows.map((c) =>
          usd(c.recordPuts + c.featurePuts + c.todayTraining + c.todayDrift + c.todayAthena),
        ),
      ],
      [
        '**compacted** storage (records + Parquet, 730 days)',
        ...costRows.map((c) => usd(c.compactedStorage)),
      ],
      ['compaction: Firehose (5 KB/record, Parquet, by day)', ...costRows.map((c) => usd(c.firehose))],
      [
        '  or compaction: scheduled job over per-build CSVs (+ their PUT above)',
        ...costRows.map((c) => usd(c.scheduled)),
      ],
      [
        'weekly training: Athena UNLOAD of the sample + Lambda',
        ...costRows.map((c) => usd(c.compactedTraining)),
      ],
      ['daily drift check on Athena (7 days)', ...costRows.map((c) => usd(c.compactedDrift))],
      ['one 90-day Athena query a week over Parquet', ...costRows.map((c) => usd(c.compactedAthena))],
      [
        '**compacted (Firehose): compaction + training + Athena**',
        ...costRows.map((c) => usd(c.firehose + c.compactedTraining + c.compactedDrift + c.compactedAthena)),
      ],
      [
        '**compacted (Firehose): the same + the record PUT**',
        ...costRows.map((c) =>
          usd(c.recordPuts + c.firehose + c.compactedTraining + c.compactedDrift + c.compactedAthena),
        ),
      ],
    ],
  );
  return lines.join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--train') return trainChild(args[1]!);
  if (args[0] === '--row-memory') return rowMemoryChild();
  const option = (name: string, fallback: string): string => {
    const index = args.indexOf(name);
    return index >= 0 && args[index + 1] ? args[index + 1]! : fallback;
  };
  const scales = option('--scales', '1000,10000,100000,1000000').split(',').map(Number);
  const dir = path.resolve(option('--dir', 'out/bench-scale'));
  const rows: ScaleRow[] = [];
  for (const buildsPerDay of scales) {
    const root = path.join(dir, `builds-${buildsPerDay}`);
    const generated = await generate(root, buildsPerDay);
    const train = JSON.parse(runChild([__filename, '--train', root], true)) as TrainMeasurement;
    rows.push({
      buildsPerDay,
      projects: Math.max(1, Math.round(buildsPerDay / BUILDS_PER_PROJECT_PER_DAY)),
      parquetBytes: generated.bytes,
      generateSeconds: generated.seconds,
      train,
    });
    console.error(`${buildsPerDay}/day: ${JSON.stringify(rows[rows.length - 1])}`);
  }
  const { bytesPerRow } = JSON.parse(runChild([__filename, '--row-memory'], false)) as {
    bytesPerRow: number;
  };
  // The forest's cost per row: the smallest scale trains on every row of its window.
  const smallest = rows[0]!;
  const forestSecondsPerRow =
    (smallest.train.seconds - smallest.train.readSeconds) / smallest.train.trainingRows;
  console.log(report(rows, bytesPerRow, forestSecondsPerRow));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
