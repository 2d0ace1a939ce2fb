import {
  RandomCutForest,
  sagemakerThreshold,
  SeededRandom,
  StreamingThresholder,
  trainForest,
} from '../../../sagemaker/rcf';

function gaussian(random: SeededRandom): number {
  return Math.sqrt(-2 * Math.log(random.nextOpen())) * Math.cos(2 * Math.PI * random.next());
}

describe('sagemakerThreshold', () => {
  it('is the mean plus three population standard deviations', () => {
    expect(sagemakerThreshold([1, 2, 3, 4])).toEqual({
      mean: 2.5,
      std: Math.sqrt(1.25),
      threshold: 2.5 + 3 * Math.sqrt(1.25),
    });
  });

  it('refuses an empty score list', () => {
    expect(() => sagemakerThreshold([])).toThrow('Cannot derive a threshold from zero training scores');
  });
});

describe('trainForest', () => {
  it('returns the forest, in-sample scores after the warm-up and their SageMaker threshold', () => {
    const random = new SeededRandom(8);
    const rows = Array.from({ length: 400 }, () => [gaussian(random), gaussian(random)]);
    const { forest, scores, warmup, threshold } = trainForest(rows, {
      numTrees: 20,
      sampleSize: 64,
      seed: 1,
    });
    expect(warmup).toBe(16);
    expect(scores).toHaveLength(384);
    expect(threshold).toEqual(sagemakerThreshold(scores));
    expect(forest.score([9, 9])).toBeGreaterThan(threshold.threshold);
  });

  it('names the row holding a non-finite value', () => {
    expect(() => trainForest([[1], [2], [NaN]], {})).toThrow(
      'Training row 2: Point value 0 is NaN, expected a finite number',
    );
  });

  it('names the row with the wrong number of values', () => {
    expect(() => trainForest([[1, 2], [3]], {})).toThrow('Training row 1 has 1 values, row 0 has 2');
  });
});

describe('StreamingThresholder', () => {
  function stream(values: number[]): number[] {
    const forest = new RandomCutForest({
      dimensions: 1,
      numTrees: 40,
      sampleSize: 128,
      shingleSize: 4,
      seed: 2,
    });
    const thresholder = new StreamingThresholder();
    return values.map((value) => {
      const ready = forest.isReady;
      const score = forest.score([value]);
      forest.update([value]);
      return ready ? thresholder.process(score).grade : 0;
    });
  }

  it('raises few false alarms on steady noise', () => {
    // Over several noise streams: one stream's alarm rate varies by a few tenths of a percent.
    const scored = [3, 4, 5, 6, 7].flatMap((seed) => {
      const random = new SeededRandom(seed);
      return stream(Array.from({ length: 3000 }, () => 10 + gaussian(random))).slice(300);
    });
    // Gaussian tails do score high in a shingled forest; strong alarms must stay rare.
    expect(scored.filter((grade) => grade > 0).length / scored.length).toBeLessThan(0.02);
    expect(scored.filter((grade) => grade > 0.5).length / scored.length).toBeLessThan(0.005);
  });

  it('reacts within a few points to a level shift', () => {
    const random = new SeededRandom(6);
    const values = Array.from({ length: 2000 }, (_, i) => (i < 1500 ? 10 : 16) + gaussian(random));
    const grades = stream(values);
    expect(Math.max(...grades.slice(1500, 1505))).toBeGreaterThan(0.5);
  });

  it('grades in [0, 1] and does not grade during warm-up', () => {
    const thresholder = new StreamingThresholder({ warmup: 10 });
    for (let i = 0; i < 9; i++) expect(thresholder.process(100).grade).toBe(0);
    const grades = Array.from(
      { length: 200 },
      (_, i) => thresholder.process(i % 50 === 0 ? 1000 : 1 + (i % 3) * 0.1).grade,
    );
    expect(Math.min(...grades)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...grades)).toBe(1);
  });
});
