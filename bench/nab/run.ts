/**
 * NAB benchmark: streams every series of the NAB subset in ../shared/data/nab through Pipemend's
 * detector (one configuration for all series) and scores the results with NAB's rules.
 * `npm run bench:nab [-- --trees N --samples N --shingle N --seed N]`.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';

import { DETECTOR_DEFAULTS, DetectorOptions, StreamingDetector } from '../../sagemaker/rcf';
import { loadNabCorpus } from './corpus';
import { NAB_PROFILES, scoreCorpus, ScoredFile } from './scoring';

function option(argv: readonly string[], name: string, fallback: number): number {
  const index = argv.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const value = Number(argv[index + 1]);
  if (!Number.isInteger(value) || value < 0)
    throw new Error(`--${name} must be a non-negative integer, got ${argv[index + 1]}`);
  return value;
}

function main(): void {
  const dataDir = path.resolve(__dirname, '../../../shared/data/nab');
  if (!existsSync(path.join(dataDir, 'combined_windows.json'))) {
    console.log(`NAB benchmark skipped: no NAB data at ${dataDir} (see /work/shared/data/README.md)`);
    return;
  }
  const argv = process.argv.slice(2);
  const options: DetectorOptions = {
    numTrees: option(argv, 'trees', DETECTOR_DEFAULTS.numTrees),
    sampleSize: option(argv, 'samples', DETECTOR_DEFAULTS.sampleSize),
    shingleSize: option(argv, 'shingle', DETECTOR_DEFAULTS.shingleSize),
    seed: option(argv, 'seed', 0),
  };
  const corpus = loadNabCorpus(dataDir);
  const start = process.hrtime.bigint();
  const files: ScoredFile[] = corpus.map((series) => {
    const detector = new StreamingDetector(1, options);
    return {
      name: series.name,
      timestamps: series.timestamps,
      scores: series.values.map((value) => detector.process([value])),
      windows: series.windows,
    };
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const rows = corpus.reduce((sum, series) => sum + series.values.length, 0);
  const labels = new Map(corpus.map((series) => [series.name, series.labels]));
  console.log(
    `NAB subset: ${corpus.length} series, ${rows} rows, ${[...labels.values()].reduce((a, b) => a + b, 0)} labelled anomalies; ` +
      `detector ${JSON.stringify(options)} ran in ${seconds.toFixed(1)} s`,
  );
  for (const profile of NAB_PROFILES) {
    const result = scoreCorpus(files, (name) => labels.get(name) ?? 0, profile);
    const categories = Object.entries(result.categories)
      .map(([category, score]) => `${category} ${score.toFixed(1)}`)
      .join(', ');
    console.log(
      `${profile.name.padEnd(20)} score ${result.normalized.toFixed(1).padStart(6)}  threshold ${result.threshold.toFixed(4)}  ` +
        `TP ${result.tp} FN ${result.fn} FP ${result.fp}  (raw ${result.rawScore.toFixed(2)}, null ${result.nullScore.toFixed(2)}, perfect ${result.perfectScore})`,
    );
    console.log(`${''.padEnd(20)} by category: ${categories}`);
  }
  console.log(
    'Categories without labelled anomalies show their raw score (false-positive cost only; 0 is best).',
  );
}

main();
