import { FEATURE_NAMES, toFeatureVector } from '../../../core/collection/build-record';
import { normalize } from '../../../core/scoring/baseline';
import { ModelScorer, ProjectHistory, scoreBuild, ScoringPorts } from '../../../core/scoring/score-build';
import { TrendPoint, trendPointOf } from '../../../core/scoring/trend';
import { BUILD_ID, buildRecord, manifest, PROJECT, projectBaseline } from '../../lambda/scorer/fixtures';

const decidedAt = new Date('2026-11-21T20:00:05Z');
const HOUR = 3_600_000;
const MEMORY = FEATURE_NAMES.indexOf('memoryUtilizedPercent');

/**
 * Two weeks of builds every 4 h before the scored build (END_TIME) with memory 40 ± 1, the last day's at
 * 40 + `lastDayRise`: a leak creeping in, each build inside the project's normal range.
 */
function memoryHistory(lastDayRise: number): TrendPoint[] {
  const end = Date.parse(buildRecord().endTime);
  return Array.from({ length: 14 * 6 }, (_, i) => {
    const at = end - (14 * 24 - 4 * i) * HOUR + HOUR;
    const values = toFeatureVector(buildRecord()).values.slice();
    values[MEMORY] = 40 + (i % 3) - 1 + (end - at < 24 * HOUR ? lastDayRise : 0);
    return { at, values, succeeded: true };
  });
}

/** The project's previous build, as slow as the scored one: it corroborates a slow successful build. */
function slowPrevious(): TrendPoint {
  const record = buildRecord({}, 2);
  return { ...trendPointOf(record), at: Date.parse(record.endTime) - HOUR };
}

function historyOf(recent: TrendPoint[]): jest.Mocked<ProjectHistory> {
  return {
    baseline: jest.fn().mockResolvedValue(projectBaseline()),
    recent: jest.fn().mockResolvedValue(recent),
  };
}

function ports(
  overrides: Partial<ScoringPorts> = {},
): ScoringPorts & { modelScorer: jest.Mocked<ModelScorer> } {
  return {
    manifests: { current: jest.fn().mockResolvedValue(manifest()) },
    history: historyOf([]),
    modelKind: 'endpoint',
    modelScorer: { score: jest.fn().mockResolvedValue({ score: 1.1 }) },
    now: () => decidedAt,
    ...overrides,
  } as ScoringPorts & { modelScorer: jest.Mocked<ModelScorer> };
}

describe('scoreBuild', () => {
  test('cold start: without a model the project history baseline decides and the verdict says so', async () => {
    const p = ports({
      manifests: { current: jest.fn().mockResolvedValue(null) },
      history: historyOf([slowPrevious()]),
    });
    const { verdict, baselineReason } = await scoreBuild(buildRecord({}, 2), p);
    expect(p.history.baseline).toHaveBeenCalledWith(PROJECT, BUILD_ID);
    expect(p.modelScorer.score).not.toHaveBeenCalled();
    expect(baselineReason).toBe('no-model');
    expect(verdict).toMatchObject({ scorer: 'baseline', modelVersion: null, verdict: 'ANOMALOUS' });
    expect(verdict.explanation[0]?.feature).toMatch(/^(buildSeconds|durationSeconds)$/);
  });

  test('cold start: a project with too few builds in the model falls back to its baseline', async () => {
    const p = ports({
      manifests: { current: jest.fn().mockResolvedValue(manifest({ minBuildsPerProject: 1000 })) },
    });
    const { verdict, baselineReason } = await scoreBuild(buildRecord(), p);
    expect(baselineReason).toBe('too-few-project-builds');
    expect(verdict).toMatchObject({ scorer: 'baseline', verdict: 'NORMAL' });
  });

  test('the model scores the project-normalised features, against the manifest threshold', async () => {
    const p = ports();
    const record = buildRecord();
    const { verdict } = await scoreBuild(record, p);
    const current = manifest();
    expect(p.modelScorer.score).toHaveBeenCalledWith(
      current,
      normalize(toFeatureVector(record).values, current.baselines[PROJECT]!),
    );
    expect(p.history.baseline).not.toHaveBeenCalled();
    expect(verdict).toMatchObject({
      scorer: 'endpoint',
      score: 1.1,
      threshold: 2.5,
      modelVersion: current.modelVersion,
      verdict: 'NORMAL',
      decidedAt: decidedAt.toISOString(),
    });
  });

  test('an embedded model explains with its attribution', async () => {
    const attribution = [1, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0];
    const p = ports({
      modelKind: 'embedded',
      manifests: {
        current: jest.fn().mockResolvedValue(manifest({ kind: 'embedded', artifactKey: 'm/f.json' })),
      },
      modelScorer: { score: jest.fn().mockResolvedValue({ score: 4, attribution }) },
      history: historyOf([slowPrevious()]),
    });
    const { verdict } = await scoreBuild(buildRecord({}, 2), p);
    expect(verdict).toMatchObject({ scorer: 'embedded', anomalous: true });
    expect(verdict.explanation.map((c) => [c.feature, c.share])).toEqual([
      ['buildSeconds', 0.75],
      ['durationSeconds', 0.25],
    ]);
  });

  test('a model failure propagates to the caller (which decides how the pipeline answers)', async () => {
    const p = ports({ modelScorer: { score: jest.fn().mockRejectedValue(new Error('throttled')) } });
    await expect(scoreBuild(buildRecord(), p)).rejects.toThrow('throttled');
  });

  test('a creep in the recent builds flags a build the model finds normal, led by the creeping feature', async () => {
    const p = ports({ history: historyOf(memoryHistory(6)) });
    const record = buildRecord({ utilization: { cpuUtilizedPercent: 60, memoryUtilizedPercent: 47 } });
    const { verdict } = await scoreBuild(record, p);
    expect(p.history.recent).toHaveBeenCalledWith(PROJECT, BUILD_ID, new Date(record.endTime));
    expect(verdict).toMatchObject({ scorer: 'endpoint', score: 1.1, threshold: 2.5, anomalous: true });
    expect(verdict.explanation[0]).toMatchObject({ feature: 'memoryUtilizedPercent', value: 47 });
  });

  test("the installation's trend settings reach the test: with no features a creep is not flagged", async () => {
    const p = ports({ history: historyOf(memoryHistory(6)), trend: { features: [] } });
    const record = buildRecord({ utilization: { cpuUtilizedPercent: 60, memoryUtilizedPercent: 47 } });
    const { verdict } = await scoreBuild(record, p);
    expect(verdict).toMatchObject({ anomalous: false, verdict: 'NORMAL' });
  });

  test("the installation's trend settings reach the test: a higher minShift waits for a larger rise", async () => {
    // The last day's builds are 6 points over a reference whose robust scale is 1.48: 4 scales.
    const p = ports({ history: historyOf(memoryHistory(6)), trend: { minShift: 5 } });
    const record = buildRecord({ utilization: { cpuUtilizedPercent: 60, memoryUtilizedPercent: 47 } });
    const { verdict } = await scoreBuild(record, p);
    expect(verdict).toMatchObject({ anomalous: false });
  });

  test('the cold-start baseline path runs the trend test too', async () => {
    const p = ports({
      manifests: { current: jest.fn().mockResolvedValue(null) },
      history: historyOf(memoryHistory(6)),
    });
    const record = buildRecord({ utilization: { cpuUtilizedPercent: 60, memoryUtilizedPercent: 47 } });
    const { verdict } = await scoreBuild(record, p);
    expect(verdict).toMatchObject({ scorer: 'baseline', anomalous: true });
    expect(verdict.explanation[0]?.feature).toBe('memoryUtilizedPercent');
  });

  test('steady recent builds add nothing: the model alone decides', async () => {
    const p = ports({ history: historyOf(memoryHistory(0)) });
    const { verdict } = await scoreBuild(buildRecord(), p);
    expect(verdict).toMatchObject({ anomalous: false, verdict: 'NORMAL' });
  });

  test("a successful build over the threshold is scored with the project's previous build, which corroborates it", async () => {
    const previous = memoryHistory(0)[memoryHistory(0).length - 1]!;
    const score = jest.fn().mockResolvedValueOnce({ score: 4 }).mockResolvedValueOnce({ score: 2 });
    const p = ports({ history: historyOf(memoryHistory(0)), modelScorer: { score } });
    const { verdict } = await scoreBuild(buildRecord(), p);
    const current = manifest();
    expect(score).toHaveBeenLastCalledWith(current, normalize(previous.values, current.baselines[PROJECT]!));
    // 4 / 2.5 × 2 / 2.5 = 1.28.
    expect(verdict).toMatchObject({ score: 4, anomalous: true });
  });

  test('a successful build over the threshold after an ordinary build is NORMAL', async () => {
    const score = jest.fn().mockResolvedValueOnce({ score: 4 }).mockResolvedValueOnce({ score: 1 });
    const p = ports({ history: historyOf(memoryHistory(0)), modelScorer: { score } });
    const { verdict } = await scoreBuild(buildRecord(), p);
    expect(verdict).toMatchObject({ anomalous: false, dismissed: 'success-not-corroborated' });
  });

  test('a build under the threshold costs no second scoring', async () => {
    const p = ports({ history: historyOf(memoryHistory(0)) });
    await scoreBuild(buildRecord(), p);
    expect(p.modelScorer.score).toHaveBeenCalledTimes(1);
  });

  test('a failure to read the recent builds propagates, like any other history read', async () => {
    const history = historyOf([]);
    history.recent.mockRejectedValue(new Error('SlowDown'));
    await expect(scoreBuild(buildRecord(), ports({ history }))).rejects.toThrow('SlowDown');
  });
});
