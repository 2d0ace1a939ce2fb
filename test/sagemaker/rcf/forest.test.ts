import { InvalidPointError, RandomCutForest, SeededRandom } from '../../../sagemaker/rcf';

function gaussian(random: SeededRandom): number {
  return Math.sqrt(-2 * Math.log(random.nextOpen())) * Math.cos(2 * Math.PI * random.next());
}

function noiseRows(count: number, dimensions: number, seed: number): number[][] {
  const random = new SeededRandom(seed);
  return Array.from({ length: count }, () => Array.from({ length: dimensions }, () => gaussian(random)));
}

function trained(
  options: { seed?: number; shingleSize?: number } = {},
  rows = noiseRows(1000, 3, 7),
): RandomCutForest {
  const forest = new RandomCutForest({
    dimensions: rows[0]?.length ?? 1,
    numTrees: 40,
    sampleSize: 128,
    ...options,
  });
  for (const row of rows) forest.update(row);
  return forest;
}

describe('RandomCutForest', () => {
  it('scores an isolated outlier far above the inliers', () => {
    const forest = trained();
    const inliers = noiseRows(200, 3, 99).map((row) => forest.score(row));
    const meanInlier = inliers.reduce((a, b) => a + b, 0) / inliers.length;
    expect(forest.score([8, -8, 8])).toBeGreaterThan(3 * meanInlier);
    expect(forest.score([8, -8, 8])).toBeGreaterThan(Math.max(...inliers));
  });

  it('scales scores the AWS way: ordinary points average about 1', () => {
    const forest = trained();
    const scores = noiseRows(500, 3, 11).map((row) => forest.score(row));
    const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
    expect(mean).toBeGreaterThan(0.6);
    expect(mean).toBeLessThan(1.6);
  });

  it('gives identical scores for the same seed and different ones for another seed', () => {
    const probe = [0.3, -1.2, 2.5];
    expect(trained({ seed: 5 }).score(probe)).toBe(trained({ seed: 5 }).score(probe));
    expect(trained({ seed: 5 }).score(probe)).not.toBe(trained({ seed: 6 }).score(probe));
  });

  it('splits a score into per-dimension contributions that sum to it and blame the deviating dimension', () => {
    const forest = trained();
    const point = [0.1, 9, -0.2];
    const attribution = forest.attribution(point);
    expect(attribution).toHaveLength(3);
    expect(attribution.reduce((a, b) => a + b, 0)).toBeCloseTo(forest.score(point), 10);
    expect(attribution[1]).toBeGreaterThan(10 * Math.max(attribution[0] ?? 0, attribution[2] ?? 0));
  });

  it('sums attribution over shingle positions to the score with internal shingling', () => {
    const series = Array.from({ length: 800 }, (_, i) => [Math.sin(i / 10), Math.cos(i / 7)]);
    const forest = trained({ shingleSize: 4 }, series);
    const attribution = forest.attribution([3, 0]);
    expect(attribution).toHaveLength(2);
    expect(attribution.reduce((a, b) => a + b, 0)).toBeCloseTo(forest.score([3, 0]), 10);
  });

  it('round-trips through JSON to identical scores and identical future updates', () => {
    const forest = trained({ seed: 3 });
    const restored = RandomCutForest.fromJSON(JSON.parse(JSON.stringify(forest.toJSON())));
    const probes = noiseRows(50, 3, 21);
    expect(probes.map((p) => restored.score(p))).toEqual(probes.map((p) => forest.score(p)));
    for (const row of noiseRows(300, 3, 22)) {
      forest.update(row);
      restored.update(row);
    }
    expect(probes.map((p) => restored.score(p))).toEqual(probes.map((p) => forest.score(p)));
  });

  it('round-trips a shingled forest including the pending shingle', () => {
    const series = Array.from({ length: 600 }, (_, i) => [Math.sin(i / 5)]);
    const forest = trained({ shingleSize: 6 }, series);
    const restored = RandomCutForest.fromJSON(JSON.parse(JSON.stringify(forest.toJSON())));
    expect(restored.score([0.4])).toBe(forest.score([0.4]));
    expect(restored.attribution([2])).toEqual(forest.attribution([2]));
  });

  it('rejects a serialized forest of another format', () => {
    const json = { ...trained().toJSON(), format: 'other' } as unknown as ReturnType<
      RandomCutForest['toJSON']
    >;
    expect(() => RandomCutForest.fromJSON(json)).toThrow(
      'Not a serialized Pipemend forest of version 2 (format other, version 2): retrain the model',
    );
  });

  it('rejects a serialized forest of an older version, asking for a retrain', () => {
    const json = { ...trained().toJSON(), version: 1 } as unknown as ReturnType<RandomCutForest['toJSON']>;
    expect(() => RandomCutForest.fromJSON(json)).toThrow(
      'Not a serialized Pipemend forest of version 2 (format pipemend-rcf, version 1): retrain the model',
    );
  });

  it('scores and updates a stream in blocks exactly as point by point', () => {
    const rows = noiseRows(700, 2, 31).map((row, i) => (i % 97 === 0 ? [row[0] ?? 0, 25] : row));
    const options = { dimensions: 2, numTrees: 12, sampleSize: 32, shingleSize: 3, seed: 9 };
    const pointByPoint = new RandomCutForest(options);
    const expected = rows.map((row) => {
      const score = pointByPoint.score(row);
      pointByPoint.update(row);
      return score;
    });
    const blocked = new RandomCutForest(options);
    expect(Array.from(blocked.scoreAndUpdate(rows))).toEqual(expected);
    expect(blocked.toJSON()).toEqual(pointByPoint.toJSON());
  });

  it('updates exactly as a fresh descent would whatever was scored before', () => {
    const rows = noiseRows(600, 2, 41);
    const options = { dimensions: 2, numTrees: 8, sampleSize: 32, seed: 2 };
    const mixed = new RandomCutForest(options);
    const plain = new RandomCutForest(options);
    rows.forEach((row, i) => {
      const other = [row[1] ?? 0, row[0] ?? 0];
      // Scores of the point itself and of others, attributions and batches in between: the
      // update must not reuse a descent that was not this point's.
      mixed.score(row);
      if (i % 4 === 0) mixed.score(other);
      if (i % 7 === 0) mixed.attribution(other);
      if (i % 5 === 0) {
        mixed.scoreAndUpdate([other]);
        plain.scoreAndUpdate([other]);
      }
      mixed.update(row);
      plain.update(row);
    });
    expect(mixed.toJSON()).toEqual(plain.toJSON());
  });

  it('returns 0 until it has seen outputAfter points', () => {
    const forest = new RandomCutForest({ dimensions: 1, numTrees: 5, sampleSize: 64, outputAfter: 10 });
    for (let i = 0; i < 9; i++) forest.update([i]);
    expect(forest.score([100])).toBe(0);
    forest.update([9]);
    expect(forest.score([100])).toBeGreaterThan(0);
  });

  it('rejects points of the wrong length or with non-finite values', () => {
    const forest = new RandomCutForest({ dimensions: 2 });
    expect(() => forest.update([1])).toThrow(
      new InvalidPointError('Point has 1 values, the forest expects 2'),
    );
    expect(() => forest.score([1, NaN])).toThrow('Point value 1 is NaN, expected a finite number');
  });

  it('rejects values that single precision cannot hold', () => {
    const forest = new RandomCutForest({ dimensions: 1 });
    expect(() => forest.update([1e39])).toThrow(
      'Point value 0 is 1e+39, beyond the single-precision range (±3.4028e+38) trees store',
    );
  });

  it('rejects invalid options with the option named', () => {
    expect(() => new RandomCutForest({ dimensions: 0 })).toThrow(
      'Forest option dimensions must be an integer of at least 1, got 0',
    );
    expect(() => new RandomCutForest({ dimensions: 1, timeDecay: -1 })).toThrow(
      'Forest option timeDecay must be a finite number >= 0, got -1',
    );
  });

  it('adapts to a new regime through time-decayed sampling', () => {
    const forest = new RandomCutForest({ dimensions: 1, numTrees: 30, sampleSize: 64, seed: 1 });
    const random = new SeededRandom(4);
    for (let i = 0; i < 2000; i++) forest.update([gaussian(random)]);
    const before = forest.score([50]);
    for (let i = 0; i < 2000; i++) forest.update([50 + gaussian(random)]);
    expect(forest.score([50])).toBeLessThan(before / 3);
  });
});
