/**
 * RCF throughput: 8 dimensions, 100 trees, 256 samples per tree, Gaussian noise with a spike every
 * 1,000 points; each point is scored and then inserted, on one thread. Measured twice on the same
 * stream: point by point (`score` then `update`, as a Lambda scoring one build does) and with
 * `scoreAndUpdate` (the same results, computed tree by tree over blocks of points, as `pipemend
 * detect`, training and replays do), in alternating rounds because this machine's speed drifts by
 * tens of percent from one minute to the next. Prints points per second (median and range over the
 * rounds), peak memory and the model's size. `npm run bench:rcf [-- --points N] [-- --rounds N]`.
 */
import * as os from 'node:os';

import { RandomCutForest, SeededRandom } from '../sagemaker/rcf';

const DIMENSIONS = 8;
const SPIKE_EVERY = 1000;
const FOREST = { dimensions: DIMENSIONS, numTrees: 100, sampleSize: 256, seed: 1 };

function integerOption(argv: readonly string[], name: string, fallback: number, minimum: number): number {
  const index = argv.indexOf(name);
  if (index < 0) return fallback;
  const value = Number(argv[index + 1]);
  if (!Number.isInteger(value) || value < minimum)
    throw new Error(`${name} must be an integer of at least ${minimum}, got ${argv[index + 1]}`);
  return value;
}

interface Run {
  readonly scores: Float64Array;
  readonly wallSeconds: number;
  readonly cpuSeconds: number;
  readonly forest: RandomCutForest;
}

function timed(scoreStream: (forest: RandomCutForest) => Float64Array): Run {
  const forest = new RandomCutForest(FOREST);
  const cpuBefore = process.cpuUsage();
  const start = process.hrtime.bigint();
  const scores = scoreStream(forest);
  const wallSeconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  return { scores, wallSeconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, forest };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function main(): void {
  const argv = process.argv.slice(2);
  const points = integerOption(argv, '--points', 100_000, 1000);
  const rounds = integerOption(argv, '--rounds', 3, 1);
  const random = new SeededRandom(2026);
  const gaussian = (): number =>
    Math.sqrt(-2 * Math.log(random.nextOpen())) * Math.cos(2 * Math.PI * random.next());
  const stream = Array.from({ length: points }, (_, i) => {
    const point = Array.from({ length: DIMENSIONS }, gaussian);
    if (i % SPIKE_EVERY === SPIKE_EVERY - 1) point[0] = (point[0] ?? 0) + 20;
    return point;
  });

  const pointByPointRuns: Run[] = [];
  const blockedRuns: Run[] = [];
  for (let round = 0; round < rounds; round++) {
    pointByPointRuns.push(
      timed((forest) =>
        Float64Array.from(stream, (point) => {
          const score = forest.score(point);
          forest.update(point);
          return score;
        }),
      ),
    );
    blockedRuns.push(timed((forest) => forest.scoreAndUpdate(stream)));
  }
  const pointByPoint = pointByPointRuns[0] as Run;
  const blocked = blockedRuns[0] as Run;
  const identical = [...pointByPointRuns, ...blockedRuns].every((run) =>
    run.scores.every((score, i) => score === pointByPoint.scores[i]),
  );

  let spikeScore = 0;
  let otherScore = 0;
  pointByPoint.scores.forEach((score, i) => {
    if (i % SPIKE_EVERY === SPIKE_EVERY - 1) spikeScore += score;
    else otherScore += score;
  });
  const spikes = Math.floor(points / SPIKE_EVERY);
  const serialized = JSON.stringify(blocked.forest.toJSON());
  const loadStart = process.hrtime.bigint();
  RandomCutForest.fromJSON(JSON.parse(serialized));
  const loadMs = Number(process.hrtime.bigint() - loadStart) / 1e6;

  console.log(
    `RCF throughput: ${points} points, ${DIMENSIONS} dimensions, 100 trees, 256 samples/tree, score then update, ${rounds} rounds`,
  );
  // On a shared machine the wall clock includes time the thread waited for a core.
  console.log(`  load average      ${os.loadavg()[0]?.toFixed(1)} on ${os.cpus().length} cores`);
  for (const [name, runs] of [
    ['point by point', pointByPointRuns],
    ['scoreAndUpdate', blockedRuns],
  ] as const) {
    const wall = runs.map((run) => points / run.wallSeconds);
    const cpu = runs.map((run) => points / run.cpuSeconds);
    console.log(
      `  ${name.padEnd(16)}  ${Math.round(median(wall))} points/s wall clock (median; ${Math.round(Math.min(...wall))}-${Math.round(Math.max(...wall))}), ${Math.round(median(cpu))} points/s of CPU time`,
    );
  }
  console.log(`  same scores       ${identical ? 'yes, bit for bit' : 'NO: the two paths disagree'}`);
  console.log(`  peak RSS          ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MiB`);
  console.log(
    `  mean score        spikes ${(spikeScore / spikes).toFixed(2)}, other points ${(otherScore / (points - spikes)).toFixed(2)}`,
  );
  console.log(
    `  serialized model  ${(serialized.length / 2 ** 20).toFixed(2)} MiB JSON, loaded in ${loadMs.toFixed(0)} ms`,
  );
  if (!identical) process.exitCode = 1;
}

main();
