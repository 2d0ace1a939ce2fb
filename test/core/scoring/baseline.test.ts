import { FEATURE_NAMES } from '../../../core/collection/build-record';
import { computeBaseline, normalize, robustDeviations } from '../../../core/scoring/baseline';

const CPU = FEATURE_NAMES.indexOf('cpuUtilizedPercent');
const MEMORY = FEATURE_NAMES.indexOf('memoryUtilizedPercent');
const BUILD = FEATURE_NAMES.indexOf('buildSeconds');
const FAILURE_RATE = FEATURE_NAMES.indexOf('testFailureRate');

/** 20 builds: every feature 100 ± 10 (MAD 10, robust scale 14.826). */
const baseline = computeBaseline(
  'app',
  Array.from({ length: 20 }, (_, i) => FEATURE_NAMES.map(() => 100 + (i % 2 === 0 ? 10 : -10))),
);
const SCALE = 10 * 1.4826;

function withFeature(index: number, value: number): number[] {
  return FEATURE_NAMES.map((_, f) => (f === index ? value : 100));
}

describe('normalize', () => {
  test('a fall of memory utilisation is no deviation (what a larger compute type looks like)', () => {
    expect(normalize(withFeature(MEMORY, 20), baseline)[MEMORY]).toBe(0);
  });

  test('a fall of CPU utilisation is no deviation', () => {
    expect(normalize(withFeature(CPU, 20), baseline)[CPU]).toBe(0);
  });

  test('a rise of memory utilisation is a deviation in robust standard deviations', () => {
    expect(normalize(withFeature(MEMORY, 130), baseline)[MEMORY]).toBeCloseTo(30 / SCALE, 10);
  });

  test('a non-duration feature deviates linearly, both ways', () => {
    expect(normalize(withFeature(FAILURE_RATE, 70), baseline)[FAILURE_RATE]).toBeCloseTo(-30 / SCALE, 10);
  });

  test('a duration deviates on a log scale: log of the ratio over the relative scale', () => {
    const z = normalize(withFeature(BUILD, 200), baseline)[BUILD]!;
    expect(z).toBeCloseTo(Math.log(201 / 101) / (SCALE / 101), 10);
    expect(z).toBeLessThan(100 / SCALE);
  });

  test('a small duration change deviates about as much as on the linear scale', () => {
    expect(normalize(withFeature(BUILD, 102), baseline)[BUILD]).toBeCloseTo(2 / SCALE, 2);
  });

  test('a phase that did not run (0) is a large, finite fall', () => {
    const z = normalize(withFeature(BUILD, 0), baseline)[BUILD]!;
    expect(z).toBeCloseTo(Math.log(1 / 101) / (SCALE / 101), 10);
    expect(z).toBeLessThan(-30);
  });
});

test('robustDeviations keeps each scale at least the relative floor of the typical value', () => {
  expect(robustDeviations(withFeature(FAILURE_RATE, 150), baseline, 0.5)[FAILURE_RATE]).toBeCloseTo(1, 10);
});
