/**
 * NAB benchmark: streams every series of the NAB subset in ../shared/data/nab through Pipemend's
 * detector (one configuration for all series) and scores the results with NAB's rules.
 * `npm run bench:nab [-- --seeds N --trees N --samples N --shingle N --data DIR --labels DIR]`:
 * `--data` and `--labels` score another corpus in NAB's layout, e.g. a checkout of NAB itself
 * (`--data NAB/data --labels NAB/labels`: the full corpus, comparable with the published scores).
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';

import { loadNabCorpus } from './corpus';
import { PUBLISHED_NAB_SCORES } from './published';
import { CategoryStats, CorpusResult, NAB_PROFILES, scoreCorpus, ScoredFile } from './scoring';
import { DETECTOR_DEFAULTS, DetectorOptions, StreamingDetector } from '../../sagemaker/rcf';
import { sharedDataPath } from '../shared-data';

function option(argv: readonly string[], name: string, fallback: number): number {
  const index = argv.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const value = Number(argv[index + 1]);
  if (!Number.isInteger(value) || value < 0)
    throw new Error(`--${name} must be a non-negative integer, got ${argv[index + 1]}`);
  return value;
}

/** Series in NAB v1.1's corpus, which the published scores are measured on. */
const NAB_FULL_CORPUS_SERIES = 58;

function directoryOption(argv: readonly string[], name: string): string | undefined {
  const index = argv.indexOf(`--${name}`);
  if (index < 0) return undefined;
  const value = argv[index + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`--${name} needs a directory`);
  if (!existsSync(value)) throw new Error(`--${name}: no directory at ${path.resolve(value)}`);
  return path.resolve(value);
}

function main(): void {
  const argv = process.argv.slice(2);
  const dataOption = directoryOption(argv, 'data');
  const dataDir = dataOption ?? sharedDataPath('nab');
  const labelsDir = directoryOption(argv, 'labels') ?? dataDir;
  if (dataOption === undefined && !existsSync(path.join(dataDir, 'combined_windows.json'))) {
    console.log(`NAB benchmark skipped: no NAB data at ${dataDir} (see /work/shared/data/README.md)`);
    return;
  }
  const seeds = option(argv, 'seeds', 3);
  const options: DetectorOptions = {
    numTrees: option(argv, 'trees', DETECTOR_DEFAULTS.numTrees),
    sampleSize: option(argv, 'samples', DETECTOR_DEFAULTS.sampleSize),
    shingleSize: option(argv, 'shingle', DETECTOR_DEFAULTS.shingleSize),
  };
  const corpus = loadNabCorpus(dataDir, labelsDir);
  const rows = corpus.reduce((sum, series) => sum + series.values.length, 0);
  const labels = new Map(corpus.map((series) => [series.name, series.labels]));
  console.log(
    `NAB corpus ${path.relative(process.cwd(), dataDir) || '.'}: ${corpus.length} series, ${rows} rows, ${[...labels.values()].reduce((a, b) => a + b, 0)} labelled anomalies; ` +
      `detector ${JSON.stringify(options)}, seeds 0-${seeds - 1}`,
  );
  const start = process.hrtime.bigint();
  // The forest is random: report each profile over several seeds rather than one lucky run.
  const runs = Array.from({ length: seeds }, (_, seed) => {
    const files: ScoredFile[] = corpus.map((series) => {
      const detector = new StreamingDetector(1, { ...options, seed });
      return {
        name: series.name,
        timestamps: series.timestamps,
        scores: detector.processAll(
          series.values.map((value) => [value]),
          series.timestamps,
        ),
        windows: series.windows,
      };
    });
    return NAB_PROFILES.map((profile) => scoreCorpus(files, (name) => labels.get(name) ?? 0, profile));
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
  NAB_PROFILES.forEach((profile, index) => {
    const results = runs.map((run) => run[index] as CorpusResult);
    const scores = results.map((result) => result.normalized);
    console.log(
      `${profile.name.padEnd(20)} score ${mean(scores).toFixed(1).padStart(5)} (seeds: ${scores.map((score) => score.toFixed(1)).join(', ')})  ` +
        `mean TP ${mean(results.map((r) => r.tp)).toFixed(1)} FN ${mean(results.map((r) => r.fn)).toFixed(1)} FP ${mean(results.map((r) => r.fp)).toFixed(1)}  ` +
        `threshold ${results.map((r) => r.threshold.toFixed(3)).join('/')}`,
    );
    for (const category of Object.keys(results[0]?.categories ?? {})) {
      const stats = results.map((r) => r.categoryStats[category] as CategoryStats);
      console.log(
        `${''.padEnd(20)}   ${category.padEnd(24)} ${mean(results.map((r) => r.categories[category] ?? 0))
          .toFixed(1)
          .padStart(
            6,
          )}  TP ${mean(stats.map((c) => c.tp)).toFixed(1)} FN ${mean(stats.map((c) => c.fn)).toFixed(1)} FP ${mean(stats.map((c) => c.fp)).toFixed(1)}`,
      );
    }
  });
  console.log(
    'Categories without labelled anomalies show their raw score (false-positive cost only; 0 is best).',
  );
  console.log(
    corpus.length === NAB_FULL_CORPUS_SERIES
      ? `\nPublished NAB scores on the full corpus (${NAB_FULL_CORPUS_SERIES} series, the corpus above), not re-runs:`
      : `\nPublished NAB scores on the full corpus (${NAB_FULL_CORPUS_SERIES} series), not re-runs and not comparable one to one with the ${corpus.length} series above:`,
  );
  console.log(
    `${'detector'.padEnd(34)} ${'standard'.padStart(9)} ${'low FP'.padStart(9)} ${'low FN'.padStart(9)}  source`,
  );
  for (const entry of PUBLISHED_NAB_SCORES) {
    console.log(
      `${entry.detector.padEnd(34)} ${entry.standard.padStart(9)} ${entry.lowFp.padStart(9)} ${entry.lowFn.padStart(9)}  ${entry.source}`,
    );
  }
  console.log(`Detection and scoring took ${seconds.toFixed(1)} s.`);
}

try {
  main();
} catch (error) {
  console.error(`bench:nab: ${(error as Error).message}`);
  process.exitCode = 1;
}
