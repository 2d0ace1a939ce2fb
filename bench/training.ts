/**
 * Embedded training at production scale: a 90-day window of 1,000 builds a day (90,000 feature rows over
 * 20 projects) through the same code the embedded-trainer Lambda runs (`trainEmbeddedModel`), in memory.
 * Prints wall time, peak RSS and the stored forest's size: the figures the Lambda's 15-minute limit,
 * its memory size and the cost estimate in the README depend on.
 *
 *   npm run bench:training [-- <buildsPerDay> <days>]
 */
import { FEATURE_DIMENSION } from '../core/collection/build-record';
import {
  EmbeddedTrainingSettings,
  TrainingStore,
  trainEmbeddedModel,
} from '../sagemaker/training/embedded-training';
import { FeatureRow } from '../sagemaker/training/window';

const buildsPerDay = Number(process.argv[2] ?? 1000);
const days = Number(process.argv[3] ?? 90);
const projects = 20;
const now = new Date('2026-11-21T03:00:00.000Z');

/** Deterministic pseudo-random numbers (mulberry32), so every run trains on the same history. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function history(): FeatureRow[] {
  const next = random(42);
  const rows: FeatureRow[] = [];
  for (let d = days - 1; d >= 0; d--) {
    const date = new Date(now.getTime() - d * 86_400_000).toISOString().slice(0, 10);
    for (let b = 0; b < buildsPerDay; b++) {
      const project = b % projects;
      const scale = 60 * (1 + project);
      const values = Array.from({ length: FEATURE_DIMENSION }, (_, f) =>
        f === 9 ? (next() < 0.05 ? next() * 0.2 : 0) : scale * (0.2 + 0.1 * f) * (0.9 + 0.2 * next()),
      );
      if (next() < 0.01) values[0] = values[0]! * 4;
      rows.push({
        projectName: `project-${project}`,
        buildId: `project-${project}:${date}-${b}`,
        date,
        values,
      });
    }
  }
  return rows;
}

async function main(): Promise<void> {
  const rows = history();
  let forestBytes = 0;
  const store: TrainingStore = {
    readFeatureRows: async (fromDate) => ({ rows: rows.filter((r) => r.date >= fromDate), malformed: [] }),
    readLabelTexts: async () => [],
    readJson: async () => null,
    writeJson: async (key, value) => {
      if (key.endsWith('forest.json')) forestBytes = JSON.stringify(value).length;
    },
  };
  const settings: EmbeddedTrainingSettings = {
    windowDays: days,
    evaluationDays: 7,
    minTrainingRows: 500,
    minBuildsPerProject: 20,
    numTrees: 100,
    sampleSize: 256,
    seed: 42,
    noWorseTolerance: 0.02,
  };
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const started = process.hrtime.bigint();
  const result = await trainEmbeddedModel(store, settings, now);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  console.log(
    `window: ${days} days x ${buildsPerDay} builds/day = ${rows.length} rows, ${projects} projects`,
  );
  console.log(`forest: ${settings.numTrees} trees x ${settings.sampleSize} samples`);
  console.log(`training + evaluation: ${seconds.toFixed(1)} s (${Math.round(rows.length / seconds)} rows/s)`);
  console.log(`evaluation rows: ${result.evaluationRows}, threshold: ${result.threshold.toFixed(3)}`);
  console.log(
    `peak RSS: ${(peakRss / 2 ** 20).toFixed(0)} MiB, forest.json: ${(forestBytes / 2 ** 20).toFixed(1)} MiB`,
  );
}

void main();
