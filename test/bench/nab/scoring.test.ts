import {
  bestThreshold,
  NAB_PROFILES,
  probationaryLength,
  scaledSigmoid,
  scoreAtThreshold,
  scoreCorpus,
  ScoredFile,
  sweepScores,
} from '../../../bench/nab/scoring';

const standard = NAB_PROFILES[0] as (typeof NAB_PROFILES)[number];
const lowFn = NAB_PROFILES[2] as (typeof NAB_PROFILES)[number];

/** 1,000 rows one minute apart with one labelled window over rows 500-599. */
function file(detections: number[], name = 'cat/file.csv'): ScoredFile {
  const timestamps = Array.from({ length: 1000 }, (_, i) => i * 60_000);
  const scores = timestamps.map((_, i) => (detections.includes(i) ? 1 : 0));
  return { name, timestamps, scores, windows: [[500 * 60_000, 599 * 60_000]] };
}

function scoreOf(detections: number[]): number {
  return scoreAtThreshold(sweepScores(file(detections), standard), standard, 0.5).score;
}

describe('NAB scoring rules', () => {
  it('uses the published scaled sigmoid', () => {
    expect(scaledSigmoid(-1)).toBeCloseTo(0.98661, 5);
    expect(scaledSigmoid(-0.5)).toBeCloseTo(0.84828, 5);
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(1)).toBeCloseTo(-0.98661, 5);
    expect(scaledSigmoid(3)).toBe(-1);
  });

  it('leaves the first 15% of a file, at most 750 rows, unscored', () => {
    expect(probationaryLength(1000)).toBe(150);
    expect(probationaryLength(10_000)).toBe(750);
    expect(sweepScores(file([]), standard)).toHaveLength(850);
    expect(scoreOf([10])).toBe(scoreOf([]));
  });

  it('rewards a detection at the left edge of a window with exactly tpWeight', () => {
    expect(scoreOf([500])).toBeCloseTo(1, 12);
  });

  it('rewards a later detection less and counts only the best one per window', () => {
    expect(scoreOf([590])).toBeLessThan(scoreOf([550]));
    expect(scoreOf([550, 590])).toBe(scoreOf([550]));
  });

  it('costs fnWeight for a missed window', () => {
    expect(scoreOf([])).toBe(-1);
    expect(scoreAtThreshold(sweepScores(file([]), lowFn), lowFn, 0.5).score).toBe(-2);
  });

  it('costs a false positive before any window the full fpWeight, and one just after a window less', () => {
    expect(scoreOf([500, 300]) - scoreOf([500])).toBeCloseTo(-0.11, 12);
    const justAfter = scoreOf([500, 600]) - scoreOf([500]);
    expect(justAfter).toBeLessThan(0);
    expect(justAfter).toBeCloseTo(0.11 * scaledSigmoid(1 / 99), 12);
  });

  it('chooses the threshold that maximises the summed score', () => {
    const points = sweepScores(
      { ...file([]), scores: file([]).scores.map((_, i) => (i === 510 ? 0.9 : i === 300 ? 0.8 : 0.1)) },
      standard,
    );
    expect(bestThreshold(points, standard).threshold).toBe(0.9);
  });

  it('normalises a perfect detector to 100 and the null detector to 0', () => {
    const labels = (): number => 1;
    expect(
      scoreCorpus([file([500], 'a/x.csv'), file([500], 'b/y.csv')], labels, standard).normalized,
    ).toBeCloseTo(100, 10);
    const constant = { ...file([]), scores: file([]).scores.map(() => 0.5) };
    expect(scoreCorpus([constant], labels, standard).normalized).toBeCloseTo(0, 10);
  });

  it('counts detections per category at the corpus threshold', () => {
    const labels = (): number => 1;
    const result = scoreCorpus([file([500, 300, 320], 'a/x.csv'), file([], 'b/y.csv')], labels, standard);
    expect(result.categoryStats).toEqual({ a: { tp: 1, fp: 2, fn: 0 }, b: { tp: 0, fp: 0, fn: 1 } });
    expect(result.tp).toBe(1);
    expect(result.fp).toBe(2);
    expect(result.fn).toBe(1);
  });
});
