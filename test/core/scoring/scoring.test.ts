import { FEATURE_NAMES, toFeatureVector } from '../../../core/collection/build-record';
import {
  BASELINE_MIN_BUILDS,
  baselineThreshold,
  buildVerdict,
  chiSquareQuantile,
  chooseScorer,
  explainAttribution,
  explainDeviation,
  scoreAgainstBaseline,
  SUCCESS_MARGIN,
} from '../../../core/scoring/scoring';
import { TrendFinding } from '../../../core/scoring/trend';
import { FeatureContribution } from '../../../core/scoring/verdict';
import { buildRecord, manifest, PROJECT, projectBaseline } from '../../lambda/scorer/fixtures';

describe('chooseScorer', () => {
  test('without a model the baseline scorer decides (no-model)', () => {
    expect(chooseScorer(PROJECT, null, 'embedded')).toEqual({ scorer: 'baseline', reason: 'no-model' });
  });

  test('a model trained on another feature schema is not used', () => {
    const old = manifest({ featureSchemaVersion: 0 as unknown as 1 });
    expect(chooseScorer(PROJECT, old, 'endpoint')).toEqual({ scorer: 'baseline', reason: 'schema-mismatch' });
  });

  test('a model trained on inputs normalised another way (no input version) is not used', () => {
    const beforeVersion2 = { ...manifest() };
    delete beforeVersion2.inputVersion;
    expect(chooseScorer(PROJECT, beforeVersion2, 'endpoint')).toEqual({
      scorer: 'baseline',
      reason: 'schema-mismatch',
    });
  });

  test('a model of another kind than configured is not used', () => {
    expect(chooseScorer(PROJECT, manifest({ kind: 'embedded' }), 'endpoint')).toEqual({
      scorer: 'baseline',
      reason: 'model-kind-mismatch',
    });
  });

  test('a project the model has never seen is scored by its baseline', () => {
    expect(chooseScorer('other-project', manifest(), 'endpoint')).toEqual({
      scorer: 'baseline',
      reason: 'project-not-in-model',
    });
  });

  test('a project with fewer builds than minBuildsPerProject is scored by its baseline', () => {
    const few = manifest({ baselines: { [PROJECT]: projectBaseline(10) }, minBuildsPerProject: 20 });
    expect(chooseScorer(PROJECT, few, 'endpoint')).toEqual({
      scorer: 'baseline',
      reason: 'too-few-project-builds',
    });
  });

  test('a model covering the project decides, with the project baseline it normalises with', () => {
    const current = manifest();
    expect(chooseScorer(PROJECT, current, 'endpoint')).toEqual({
      scorer: 'endpoint',
      manifest: current,
      modelBaseline: current.baselines[PROJECT],
    });
  });
});

describe('baseline scorer', () => {
  test('the chi-square 99.9% quantile for 12 features is right within 1%', () => {
    // chi-square(12) 0.999 quantile = 32.909
    expect(Math.abs(chiSquareQuantile(12) - 32.909) / 32.909).toBeLessThan(0.01);
  });

  test('the threshold is the chi quantile raised by the standard error of a MAD from that many builds', () => {
    expect(baselineThreshold(12, 100)).toBeCloseTo(Math.sqrt(chiSquareQuantile(12)) * (1 + 1.17 / 10), 10);
  });

  test('a baseline of fewer builds has a higher threshold', () => {
    expect(baselineThreshold(12, 10)).toBeGreaterThan(baselineThreshold(12, 60));
  });

  test('memory far below the baseline is no deviation (a larger compute type), far above it is', () => {
    const utilization = (memoryUtilizedPercent: number) =>
      toFeatureVector(buildRecord({ utilization: { cpuUtilizedPercent: 60, memoryUtilizedPercent } }));
    const lower = scoreAgainstBaseline(utilization(10), projectBaseline());
    const higher = scoreAgainstBaseline(utilization(90), projectBaseline());
    expect(lower.explanation.map((c) => c.feature)).not.toContain('memoryUtilizedPercent');
    expect(lower.score).toBeLessThan(lower.threshold);
    expect(higher.explanation[0]).toMatchObject({ feature: 'memoryUtilizedPercent', direction: 'high' });
    expect(higher.score).toBeGreaterThan(higher.threshold);
  });

  test('an ordinary build scores below the threshold', () => {
    const result = scoreAgainstBaseline(toFeatureVector(buildRecord({}, 1.02)), projectBaseline());
    expect(result.score).toBeLessThan(result.threshold);
  });

  test('a build twice as slow scores above the threshold, explained by the build phase and duration', () => {
    const result = scoreAgainstBaseline(toFeatureVector(buildRecord({}, 2)), projectBaseline());
    expect(result.score).toBeGreaterThan(result.threshold);
    expect(result.explanation.slice(0, 2).map((c) => c.feature)).toEqual(
      expect.arrayContaining(['buildSeconds', 'durationSeconds']),
    );
    expect(result.explanation[0]).toMatchObject({ direction: 'high' });
    const shares = result.explanation.reduce((sum, c) => sum + c.share, 0);
    expect(shares).toBeLessThanOrEqual(1.0001);
  });

  test('a build far faster than usual is explained as low', () => {
    const result = scoreAgainstBaseline(toFeatureVector(buildRecord({}, 0.2)), projectBaseline());
    expect(result.score).toBeGreaterThan(result.threshold);
    expect(result.explanation.find((c) => c.feature === 'buildSeconds')?.direction).toBe('low');
  });

  test(`with fewer than ${BASELINE_MIN_BUILDS} builds of history nothing is called anomalous`, () => {
    const result = scoreAgainstBaseline(
      toFeatureVector(buildRecord({}, 5)),
      projectBaseline(BASELINE_MIN_BUILDS - 1),
    );
    expect(result).toEqual({
      score: 0,
      threshold: baselineThreshold(12, BASELINE_MIN_BUILDS - 1),
      explanation: [],
    });
  });

  test('without any history the score is 0 and unexplained', () => {
    expect(scoreAgainstBaseline(toFeatureVector(buildRecord()), null).score).toBe(0);
  });

  test('imputed features neither score nor explain, and lower the degrees of freedom', () => {
    const noUtilization = buildRecord({ utilization: null, missing: { tests: false, utilization: true } }, 1);
    const result = scoreAgainstBaseline(toFeatureVector(noUtilization), projectBaseline());
    expect(result.threshold).toBeCloseTo(baselineThreshold(10, 40), 10);
    expect(result.score).toBeLessThan(result.threshold);
    expect(result.explanation.map((c) => c.feature)).not.toContain('cpuUtilizedPercent');
  });

  test('one wild feature is capped so it cannot swamp the others', () => {
    const wild = buildRecord({ phases: { ...buildRecord().phases, QUEUED: 1e9 } });
    const result = scoreAgainstBaseline(toFeatureVector(wild), projectBaseline());
    expect(result.score).toBeLessThan(10.5);
  });
});

describe('explanations', () => {
  test('attribution shares follow the attribution and sum to 1, top first', () => {
    const vector = toFeatureVector(buildRecord({}, 2));
    const attribution = [0.5, 0, 0, 0, 0, 0, 1.5, 0, 0, 0, 0, 0];
    const explanation = explainAttribution(vector, projectBaseline(), attribution);
    expect(explanation).toEqual([
      expect.objectContaining({ feature: 'buildSeconds', share: 0.75, direction: 'high', value: 480 }),
      expect.objectContaining({ feature: 'durationSeconds', share: 0.25, direction: 'high', value: 560 }),
    ]);
  });

  test('an attribution of the wrong length is rejected with the expected length', () => {
    expect(() => explainAttribution(toFeatureVector(buildRecord()), projectBaseline(), [1, 2])).toThrow(
      'attribution has 2 values, expected 12 (one per feature)',
    );
  });

  test('deviation explanations carry the typical value (the baseline median)', () => {
    const baseline = projectBaseline();
    const [top] = explainDeviation(toFeatureVector(buildRecord({}, 3)), baseline);
    expect(top?.typical).toBe(baseline.median[FEATURE_NAMES.indexOf(top!.feature)]);
  });
});

describe('buildVerdict', () => {
  const record = buildRecord({ utilization: null, missing: { tests: false, utilization: true } });
  const vector = toFeatureVector(record);
  const decidedAt = new Date('2026-11-21T20:00:05Z');
  const memoryCreep: TrendFinding = {
    feature: 'memoryUtilizedPercent',
    shift: 2,
    z: 6,
    kendallS: 10,
    builds: 9,
    expected: 50,
    recentMean: 56,
  };

  test('a score above the threshold is ANOMALOUS and the record is complete', () => {
    const verdict = buildVerdict({
      record,
      vector,
      result: { score: 3.2, threshold: 2.5, explanation: [] },
      scorer: 'embedded',
      modelVersion: 'v1',
      decidedAt,
    });
    expect(verdict).toMatchObject({
      schemaVersion: 1,
      buildId: record.buildId,
      buildArn: record.buildArn,
      projectName: PROJECT,
      status: 'SUCCEEDED',
      score: 3.2,
      threshold: 2.5,
      anomalous: true,
      verdict: 'ANOMALOUS',
      scorer: 'embedded',
      modelVersion: 'v1',
      decidedAt: '2026-11-21T20:00:05.000Z',
      missingFeatures: ['cpuUtilizedPercent', 'memoryUtilizedPercent'],
      build: record,
    });
    expect(verdict.features.buildSeconds).toBe(240);
  });

  test('a score equal to the threshold is NORMAL', () => {
    const verdict = buildVerdict({
      record,
      vector,
      result: { score: 2.5, threshold: 2.5, explanation: [] },
      scorer: 'baseline',
      modelVersion: null,
      decidedAt,
    });
    expect(verdict.verdict).toBe('NORMAL');
  });

  test('a non-finite score is refused', () => {
    expect(() =>
      buildVerdict({
        record,
        vector,
        result: { score: Number.NaN, threshold: 2.5, explanation: [] },
        scorer: 'endpoint',
        modelVersion: 'v1',
        decidedAt,
      }),
    ).toThrow(`score of build ${record.buildId} is not a finite number: NaN`);
  });

  test('a trend finding makes a build ANOMALOUS whatever its score, and leads the explanation', () => {
    const verdict = buildVerdict({
      record,
      vector,
      result: {
        score: 1,
        threshold: 2.5,
        explanation: [{ feature: 'buildSeconds', value: 240, share: 1, direction: 'high' }],
      },
      scorer: 'embedded',
      modelVersion: 'v1',
      decidedAt,
      trend: [memoryCreep],
    });
    expect(verdict.anomalous).toBe(true);
    expect(verdict.verdict).toBe('ANOMALOUS');
    expect(verdict.score).toBe(1);
    expect(verdict.explanation.map((c) => [c.feature, c.share, c.direction])).toEqual([
      ['memoryUtilizedPercent', 0.5, 'high'],
      ['buildSeconds', 0.5, 'high'],
    ]);
  });

  test('an empty trend leaves the verdict to the score', () => {
    const verdict = buildVerdict({
      record,
      vector,
      result: { score: 1, threshold: 2.5, explanation: [] },
      scorer: 'baseline',
      modelVersion: null,
      decidedAt,
      trend: [],
    });
    expect(verdict.verdict).toBe('NORMAL');
  });

  describe('a successful build over the threshold', () => {
    const slow: FeatureContribution = {
      feature: 'buildSeconds',
      value: 480,
      typical: 240,
      share: 1,
      direction: 'high',
    };
    const fast: FeatureContribution = { ...slow, value: 60, direction: 'low' };
    const verdictOf = (status: 'SUCCEEDED' | 'FAILED', score: number, explanation = [slow]) =>
      buildVerdict({
        record: { ...record, status },
        vector,
        result: { score, threshold: 2, explanation: [...explanation] },
        scorer: 'embedded',
        modelVersion: 'v1',
        decidedAt,
      });

    test('within SUCCESS_MARGIN of the threshold is NORMAL, and says why', () => {
      const verdict = verdictOf('SUCCEEDED', 2 * SUCCESS_MARGIN);
      expect(verdict).toMatchObject({
        anomalous: false,
        verdict: 'NORMAL',
        dismissed: 'success-within-margin',
      });
    });

    test('beyond SUCCESS_MARGIN of the threshold is ANOMALOUS', () => {
      const verdict = verdictOf('SUCCEEDED', 2 * SUCCESS_MARGIN + 0.01);
      expect(verdict).toMatchObject({ anomalous: true, verdict: 'ANOMALOUS' });
      expect(verdict).not.toHaveProperty('dismissed');
    });

    test('led by a lower-than-usual feature (faster, leaner) is NORMAL however high the score', () => {
      const verdict = verdictOf('SUCCEEDED', 50, [fast]);
      expect(verdict).toMatchObject({ anomalous: false, dismissed: 'success-lower-than-usual' });
    });

    test('a failed build needs no margin and may be lower than usual', () => {
      expect(verdictOf('FAILED', 2.01)).toMatchObject({ anomalous: true });
      expect(verdictOf('FAILED', 50, [fast])).toMatchObject({ anomalous: true });
    });

    const corroboratedBy = (previous: { score: number; threshold: number } | null, status = 'SUCCEEDED') =>
      buildVerdict({
        record: { ...record, status: status as 'SUCCEEDED' },
        vector,
        result: { score: 3, threshold: 2, explanation: [slow] },
        scorer: 'embedded',
        modelVersion: 'v1',
        decidedAt,
        previous,
      });

    test('after an ordinary previous build (ratios multiplying to 1 or less) is NORMAL, and says why', () => {
      // 3 / 2 × 1.3 / 2 = 0.975.
      expect(corroboratedBy({ score: 1.3, threshold: 2 })).toMatchObject({
        anomalous: false,
        verdict: 'NORMAL',
        dismissed: 'success-not-corroborated',
      });
    });

    test('after an unusual previous build (ratios multiplying to more than 1) is ANOMALOUS', () => {
      // 3 / 2 × 1.4 / 2 = 1.05.
      const verdict = corroboratedBy({ score: 1.4, threshold: 2 });
      expect(verdict).toMatchObject({ anomalous: true, verdict: 'ANOMALOUS' });
      expect(verdict).not.toHaveProperty('dismissed');
    });

    test('without a previous build its own score decides', () => {
      const verdict = corroboratedBy(null);
      expect(verdict).toMatchObject({ anomalous: true, verdict: 'ANOMALOUS' });
      expect(verdict).not.toHaveProperty('dismissed');
    });

    test('a failed build needs no corroboration', () => {
      expect(corroboratedBy({ score: 0.1, threshold: 2 }, 'FAILED')).toMatchObject({ anomalous: true });
    });

    test('a trend finding is never dismissed', () => {
      const verdict = buildVerdict({
        record,
        vector,
        result: { score: 2.01, threshold: 2, explanation: [fast] },
        scorer: 'embedded',
        modelVersion: 'v1',
        decidedAt,
        trend: [memoryCreep],
      });
      expect(verdict).toMatchObject({ anomalous: true });
      expect(verdict).not.toHaveProperty('dismissed');
    });
  });
});
