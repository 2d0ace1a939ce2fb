/**
 * RCF throughput: 8 dimensions, 100 trees, 256 samples per tree, Gaussian noise with a spike every
 * 1,000 points; each point is scored and then inserted, on one thread. Prints points per second
 * and peak memory. `npm run bench:rcf [-- --points N]`.
 */
import * as os from 'node:os';

import { RandomCutForest, SeededRandom } from '../sagemaker/rcf';

const DIMENSIONS = 8;
const SPIKE_EVERY = 1000;

function parsePoints(argv: readonly string[]): number {
  const index = argv.indexOf('--points');
  if (index < 0) return 100_000;
  const value = Number(argv[index + 1]);
  if (!Number.isInteger(value) || value < 1000)
    throw new Error(`--points must be an integer of at least 1000, got ${argv[index + 1]}`);
  return value;
}

function main(): void {
  const points = parsePoints(process.argv.slice(2));
  const random = new SeededRandom(2026);
  const gaussian = (): number =>
    Math.sqrt(-2 * Math.log(random.nextOpen())) * Math.cos(2 * Math.PI * random.next());
  const stream = Array.from({ length: points }, (_, i) => {
    const point = Array.from({ length: DIMENSIONS }, gaussian);
    if (i % SPIKE_EVERY === SPIKE_EVERY - 1) point[0] = (point[0] ?? 0) + 20;
    return point;
  });
  const forest = new RandomCutForest({ dimensions: DIMENSIONS, numTrees: 100, sampleSize: 256, seed: 1 });
  let spikeScore = 0;
  let spikes = 0;
  let otherScore = 0;
  const heapBefore = process.memoryUsage().heapUsed;
  const cpuBefore = process.cpuUsage();
  const start = process.hrtime.bigint();
  stream.forEach((point, i) => {
    const score = forest.score(point);
    forest.update(point);
    if (i % SPIKE_EVERY === SPIKE_EVERY - 1) {
      spikeScore += score;
      spikes++;
    } else {
      otherScore += score;
    }
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const memory = process.memoryUsage();
  const serialized = JSON.stringify(forest.toJSON());
  const loadStart = process.hrtime.bigint();
  RandomCutForest.fromJSON(JSON.parse(serialized));
  const loadMs = Number(process.hrtime.bigint() - loadStart) / 1e6;

  console.log(
    `RCF throughput: ${points} points, ${DIMENSIONS} dimensions, 100 trees, 256 samples/tree, score then update`,
  );
  console.log(`  time              ${seconds.toFixed(2)} s wall, ${cpuSeconds.toFixed(2)} s CPU`);
  console.log(`  throughput        ${Math.round(points / seconds)} points/s wall clock`);
  // On a shared machine the wall clock includes time the thread waited for a core.
  console.log(
    `  throughput        ${Math.round(points / cpuSeconds)} points/s of CPU time (load average ${os.loadavg()[0]?.toFixed(1)})`,
  );
  console.log(`  peak RSS          ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MiB`);
  console.log(
    `  heap growth       ${((memory.heapUsed - heapBefore) / 2 ** 20).toFixed(1)} MiB (heap used ${(memory.heapUsed / 2 ** 20).toFixed(1)} MiB)`,
  );
  console.log(
    `  mean score        spikes ${(spikeScore / spikes).toFixed(2)}, other points ${(otherScore / (points - spikes)).toFixed(2)}`,
  );
  console.log(
    `  serialized model  ${(serialized.length / 2 ** 20).toFixed(2)} MiB JSON, loaded in ${loadMs.toFixed(0)} ms`,
  );
}

main();
