import { computeBaseline, normalize, onlyHarmfulDeviations } from '../../../lambda/core/baseline';
import { FEATURE_NAMES } from '../../../lambda/core/build-record';

const CPU = FEATURE_NAMES.indexOf('cpuUtilizedPercent');
const MEMORY = FEATURE_NAMES.indexOf('memoryUtilizedPercent');
const BUILD = FEATURE_NAMES.indexOf('buildSeconds');

/** 20 builds: every feature 100 ± 10. */
const baseline = computeBaseline(
  'app',
  Array.from({ length: 20 }, (_, i) => FEATURE_NAMES.map(() => 100 + (i % 2 === 0 ? 10 : -10))),
);

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
    expect(normalize(withFeature(MEMORY, 130), baseline)[MEMORY]).toBeCloseTo(30 / (10 * 1.4826), 10);
  });

  test('a phase much shorter than usual (or missing: 0) stays a negative deviation', () => {
    expect(normalize(withFeature(BUILD, 0), baseline)[BUILD]).toBeCloseTo(-100 / (10 * 1.4826), 10);
  });
});

test('onlyHarmfulDeviations keeps every other feature as it is', () => {
  const deviations = FEATURE_NAMES.map(() => -3);
  const kept = onlyHarmfulDeviations(deviations);
  expect(kept.filter((z) => z === -3)).toHaveLength(FEATURE_NAMES.length - 2);
});
